"""Where a submission's kernel runs: inside bubblewrap (``bwrap``), or unsandboxed.

``--sandbox bwrap`` (the default where it works) starts each kernel with

* the system (``/usr``...), the Python environment and the ``course_utils`` package mounted
  **read-only**; nothing else of the machine: not ``solutions/``, not the other submissions, not
  the gradebook, not your home directory;
* one private writable folder (its ``home/`` holds a copy of this submission) and a small
  private ``/tmp``;
* its own network namespace (no network at all, not even ``127.0.0.1`` of the host), PID
  namespace (``/proc`` shows only the sandbox; every process the submission starts, ``setsid``
  daemons included, is killed with it), IPC and UTS namespaces; all capabilities dropped, no
  nested user namespaces;
* resource limits set by a tiny launcher before the kernel starts: memory per process
  (``RLIMIT_DATA``, ``--memory``, default 2 GiB: a larger allocation fails with ``MemoryError``
  in the cell that tried it), CPU seconds, file size, and (when the grader does not run as root)
  the number of processes.

``--sandbox none`` gives no isolation: the kernel runs as you, can read and write what you can
and open network connections. The grader still runs it in a private temporary folder from a
copy of the submission, applies the same resource limits, and kills the kernel's process group
and every process carrying its marker afterwards (a process that scrubs its environment and
leaves the group can survive). ``auto`` picks ``bwrap`` when a test run of it succeeds.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_MEMORY",
    "SANDBOXES",
    "Limits",
    "bwrap_problem",
    "kernel_command",
    "kernel_env",
    "parse_memory",
    "resolve_sandbox",
]

SANDBOXES = ("auto", "bwrap", "none")
DEFAULT_MEMORY = 2 * 2**30
PACKAGE_DIR = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = PACKAGE_DIR.parent / "solutions"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/ssl",
    "/etc/mime.types",
)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 2**10,
    "kb": 10**3,
    "kib": 2**10,
    "m": 2**20,
    "mb": 10**6,
    "mib": 2**20,
    "g": 2**30,
    "gb": 10**9,
    "gib": 2**30,
    "t": 2**40,
    "tb": 10**12,
    "tib": 2**40,
}

# Runs first in the sandbox: set the resource limits, then become the kernel (same process).
_LAUNCHER = """
import json, os, resource, sys
for name, value in json.loads(sys.argv[1]).items():
    which = getattr(resource, name)
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    extra = 10 if name == "RLIMIT_CPU" and hard == resource.RLIM_INFINITY else 0
    resource.setrlimit(which, (value, value + extra))
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[2]])
"""


def parse_memory(text: str | int | None) -> int | None:
    """Bytes of a memory size: ``"2GiB"``, ``"1500M"``, ``2147483648``; ``"none"`` -> no limit.

    Examples
    --------
    >>> parse_memory("2GiB"), parse_memory("512m"), parse_memory("none")
    (2147483648, 536870912, None)
    >>> parse_memory("lots")
    Traceback (most recent call last):
    ...
    ValueError: memory must be a size like 2GiB, 1500M or 'none', got 'lots'
    """
    if text is None or (isinstance(text, str) and text.strip().lower() in ("none", "0", "")):
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise ValueError(f"memory must be positive, got {text}")
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"memory must be a size like 2GiB, 1500M or 'none', got {text!r}")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value < 64 * 2**20:
        raise ValueError(f"memory must be at least 64 MiB (a kernel needs more), got {text!r}")
    return value


@dataclass(frozen=True)
class Limits:
    """Resource limits of one kernel (``None``: no limit). ``processes`` is only applied when the
    grader is not root (the kernel ignores ``RLIMIT_NPROC`` for root)."""

    memory: int | None = DEFAULT_MEMORY
    cpu_seconds: int = 3_600
    file_bytes: int = 2**30
    processes: int | None = 1_024

    def rlimits(self, sandbox: str) -> dict[str, int]:
        out = {"RLIMIT_CPU": int(self.cpu_seconds), "RLIMIT_FSIZE": int(self.file_bytes)}
        out["RLIMIT_CORE"] = 0
        if self.memory is not None:
            out["RLIMIT_DATA"] = int(self.memory)
        if self.processes is not None and sandbox == "bwrap" and os.geteuid() != 0:
            out["RLIMIT_NPROC"] = int(self.processes)
        return out


def _python_roots() -> list[str]:
    """Folders holding the interpreter, the standard library and the installed packages."""
    exe = os.path.realpath(sys.executable)
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots |= {os.path.realpath(r) for r in list(roots)}
    roots.add(os.path.dirname(os.path.dirname(exe)))
    try:
        roots |= set(site.getsitepackages()) | {site.getusersitepackages()}
    except AttributeError:  # some embedded Pythons
        pass
    keep: list[str] = []
    for r in sorted(r for r in roots if r and os.path.isdir(r)):
        if r in _SYSTEM_DIRS or any(r.startswith(d + os.sep) for d in _SYSTEM_DIRS):
            continue  # mounted with the system already
        if not any(r.startswith(k.rstrip(os.sep) + os.sep) for k in keep):
            keep.append(r)
    return keep


def bwrap_args(
    workdir: Path, *, tmp_bytes: int = 512 * 2**20, extra: tuple[str, ...] = ()
) -> list[str]:
    """The ``bwrap`` options (without the command) for a kernel whose private folder is
    ``workdir``."""
    args = ["bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc"]
    args += ["--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    args += ["--cap-drop", "ALL", "--hostname", "course-grade", *extra]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for p in _ETC:
        args += ["--ro-bind-try", p, p]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    roots = _python_roots()
    for root in roots:
        args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(PACKAGE_DIR), str(PACKAGE_DIR)]
    mounted = [*_SYSTEM_DIRS, *roots, str(PACKAGE_DIR)]
    if SOLUTIONS_DIR.is_dir() and any(str(SOLUTIONS_DIR).startswith(m + os.sep) for m in mounted):
        args += ["--tmpfs", str(SOLUTIONS_DIR)]  # never visible, even under a mounted folder
    args += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir / "home")]
    return args


@functools.lru_cache(maxsize=1)
def _bwrap_extra() -> tuple[str, ...] | str:
    """Options this bwrap supports beyond the basics, or the reason it cannot run."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap (bwrap) is not installed"
    import tempfile

    last = ""
    for extra in (("--disable-userns",), ()):
        with tempfile.TemporaryDirectory(prefix="cg-probe-") as tmp:
            (Path(tmp) / "home").mkdir()
            cmd = bwrap_args(Path(tmp), extra=extra) + ["--", sys.executable, "-c", "pass"]
            try:
                run = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"bwrap could not start: {exc}"
            if run.returncode == 0:
                return extra
            last = run.stderr.decode(errors="replace").strip()[:300]
    return f"bwrap cannot run here ({last or 'no message'})"


def bwrap_problem() -> str | None:
    """``None`` when bubblewrap works here, else why not (not installed, no user namespaces...)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    found = _bwrap_extra()
    return found if isinstance(found, str) else None


def resolve_sandbox(choice: str) -> tuple[str, str | None]:
    """``(sandbox used, note)`` for ``--sandbox choice``: ``auto`` falls back to ``none`` with a
    note saying why; ``bwrap`` raises ``ValueError`` when bubblewrap cannot run."""
    if choice not in SANDBOXES:
        raise ValueError(f"sandbox must be one of {SANDBOXES}, got {choice!r}")
    if choice == "none":
        return "none", None
    problem = bwrap_problem()
    if problem is None:
        return "bwrap", None
    if choice == "bwrap":
        raise ValueError(f"--sandbox bwrap: {problem}")
    return "none", f"{problem}; grading WITHOUT a sandbox (--sandbox none)"


def kernel_command(sandbox: str, workdir: Path, connection_file: Path, limits: Limits) -> list[str]:
    """The command starting one kernel: ``[bwrap ... --] python -c LAUNCHER limits conn``."""
    if sys.platform == "win32":
        return [sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file)]
    cmd = [
        sys.executable,
        "-c",
        _LAUNCHER,
        json.dumps(limits.rlimits(sandbox)),
        str(connection_file),
    ]
    if sandbox == "bwrap":
        extra = _bwrap_extra()
        cmd = bwrap_args(workdir, extra=extra if isinstance(extra, tuple) else ()) + ["--", *cmd]
    return cmd


def _font_cache(target: Path) -> None:
    """Copy matplotlib's font list into the kernel's config folder (it takes seconds to rebuild)."""
    base = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "matplotlib"
    )
    target.mkdir(parents=True, exist_ok=True)
    for src in Path(base).glob("fontlist-v*.json") if os.path.isdir(base) else ():
        try:
            shutil.copyfile(src, target / src.name)
        except OSError:
            pass


def kernel_env(sandbox: str, workdir: Path, *, set_number: int, marker: str) -> dict[str, str]:
    """A small, explicit environment for the kernel (the grader's own variables - tokens,
    credentials - are not passed on)."""
    home = workdir / "home"
    tmp = "/tmp" if sandbox == "bwrap" else str(workdir / "tmp")
    mpl = home / ".config" / "matplotlib"
    _font_cache(mpl)
    path = [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
    env = {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "TMPDIR": tmp,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "PYTHONPATH": str(PACKAGE_DIR.parent),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(mpl),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".local" / "share" / "jupyter" / "runtime"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "COURSE_CHECKS_SET": str(int(set_number)),
        "COURSE_GRADE_KERNEL": marker,
    }
    for name in ("LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "CONDA_PREFIX", "SYSTEMROOT"):
        if name in os.environ:
            env[name] = os.environ[name]
    if sandbox != "bwrap":
        Path(tmp).mkdir(parents=True, exist_ok=True)
    return env
