"""The install kit: README's commands without make, the Makefile's two installs, environment.yml
and the Python check that runs before anything is installed.

The slow test at the end runs the README's macOS/Linux commands in order on this machine and
opens an exercise and the footer-linked files through the JupyterLab server they start.
"""

from __future__ import annotations

import ast
import json
import os
import posixpath
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from course_utils import doctor
from course_utils.nav import FOOTER_MARK
from tests.repo_support import ROOT, load_tool, pyproject, tracked_copy

README = ROOT / "README.md"
#: Developer tools: in the `dev` extra only, never in what a learner installs.
DEV_TOOLS = {"pytest", "nbval", "playwright", "ruff", "pytest-xdist", "latex2mathml"}


def readme_commands(kind: str) -> list[str]:
    """The commands of the README block marked ``<!-- install-commands: KIND -->``, in order."""
    text = README.read_text(encoding="utf-8")
    marker = f"<!-- install-commands: {kind} -->"
    assert text.count(marker) == 1, f"README.md must mark exactly one block with {marker!r}"
    block = re.match(r"\s*```[a-z]*\n(.*?)\n```", text.split(marker, 1)[1], re.S)
    assert block, f"a fenced code block must follow {marker!r} in README.md"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def pip_arguments(args: list[str]) -> set[tuple[str, ...]]:
    """pip install arguments as a set of units: ("-c", "constraints.txt"), ("torch==2.13.0",)."""
    units, it = set(), iter(args)
    for arg in it:
        units.add((arg, next(it)) if arg in ("-c", "-e", "-r", "--extra-index-url") else (arg,))
    return units


# -------------------------------------------------------------------------------- README / conda
def test_windows_and_posix_commands_are_the_same_steps() -> None:
    windows, posix = readme_commands("windows"), readme_commands("posix")
    translated = [
        c.replace("py -3.11 ", "python3.11 ")
        .replace(".venv\\Scripts\\python", ".venv/bin/python")
        .replace("tools\\", "tools/")
        for c in windows
    ]
    assert translated == posix, "the Windows and macOS/Linux blocks of README.md have drifted"


def test_readme_commands_install_the_learner_set_and_start_at_the_root() -> None:
    cmds = readme_commands("posix")
    # the Python version and the machine are checked before anything is created or downloaded
    assert cmds[:2] == ["python3.11 tools/check_python.py", "python3.11 -m venv .venv"]
    pip = [shlex.split(c) for c in cmds if " -m pip install " in c]
    torch_line = next(c for c in pip if any(a.startswith("torch==") for a in c))
    pinned = next(a for a in torch_line if a.startswith("torch=="))
    constraints = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    assert re.search(rf"^{re.escape(pinned)}$", constraints, re.M), "torch pin != constraints.txt"
    project = [c for c in pip if "-e" in c]
    assert len(project) == 1 and project[0][project[0].index("-e") + 1] == ".[lab]"
    assert all(
        "-c" in c and c[c.index("-c") + 1] == "constraints.txt" for c in project + [torch_line]
    )
    assert not any("[dev]" in c for c in cmds), (
        "the learner's install must not pull developer tools"
    )
    # JupyterLab starts in the current folder (the repository root), not in notebooks/
    assert shlex.split(cmds[-1]) == [".venv/bin/python", "-m", "jupyterlab"]


def test_environment_yml_runs_the_readme_pip_installs() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    assert SpecifierSet(pyproject()["project"]["requires-python"]).contains(version + ".0")
    assert "pip" in deps
    pip_lines = next(d["pip"] for d in deps if isinstance(d, dict))
    # the same arguments as the README's pip installs (the pip upgrade aside), in one file
    want = set()
    for c in readme_commands("posix"):
        args = shlex.split(c)
        if args[1:4] == ["-m", "pip", "install"] and "--upgrade" not in args:
            want |= pip_arguments(args[4:])
    got = pip_arguments([a for line in pip_lines for a in shlex.split(line)])
    assert got == want, f"environment.yml's pip section {got} != README's {want}"
    assert env["name"] in README.read_text(encoding="utf-8")
    assert env["name"] in (ROOT / "tools" / "check_python.py").read_text(encoding="utf-8")


# -------------------------------------------------------------------------------- extras
def test_the_learner_install_has_no_developer_tools() -> None:
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    assert not names(project["dependencies"]) & DEV_TOOLS
    assert not names(extras["lab"]) & DEV_TOOLS
    assert "jupyterlab" in names(extras["lab"])
    assert DEV_TOOLS <= names(extras["dev"])
    assert "course_utils[lab]" in extras["dev"], "make test must also have what make lab has"


def test_the_package_never_imports_a_developer_tool() -> None:
    """course_utils runs in the learner's install, which has no pytest, Playwright, ..."""
    dev_modules = {"pytest", "nbval", "playwright", "ruff", "xdist", "latex2mathml"}
    offenders = []
    for path in (ROOT / "course_utils").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {m}" for m in mods if m.split(".")[0] in dev_modules]
    assert not offenders


# -------------------------------------------------------------------------------- Makefile
@pytest.fixture()
def make_copy(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in (
        "Makefile",
        "pyproject.toml",
        "constraints.txt",
        "tools/check_python.py",
        "jupyter/overrides.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def dry_run(folder: Path, target: str) -> list[str]:
    # a clean environment for make: under `make test` (CI) the parent's MAKEFLAGS and MAKELEVEL
    # would make the child print "Entering directory" lines and inherit its options
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


def step(lines: list[str], needle: str) -> int:
    hits = [i for i, line in enumerate(lines) if needle in line]
    assert hits, f"{needle!r} not in make's plan:\n" + "\n".join(lines)
    return hits[0]


def test_make_lab_checks_python_first_and_installs_only_the_lab_extra(make_copy: Path) -> None:
    plan = dry_run(make_copy, "lab")
    order = [
        step(plan, "tools/check_python.py"),
        step(plan, "-m venv .venv"),
        step(plan, "torch==2.13.0"),
        step(plan, '-e ".[lab]"'),
        step(plan, "jupyter"),
    ]
    assert order == sorted(order)
    assert not any("[dev]" in line for line in plan)
    installs = [line for line in plan if "pip install" in line and "--upgrade pip" not in line]
    assert installs and not any("--quiet" in line or " -q" in line for line in installs)
    # each big install is announced with its size first
    assert "MB" in plan[order[2] - 1] and "MB" in plan[order[3] - 1]


def test_make_test_after_make_lab_only_adds_the_dev_extra(make_copy: Path) -> None:
    fresh = dry_run(make_copy, "test")
    assert step(fresh, '".[lab]"') < step(fresh, '".[dev]"') < step(fresh, "-m pytest")
    venv = make_copy / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text("#!/bin/sh\n")
    (venv / "python").chmod(0o755)
    (make_copy / ".venv" / ".installed-lab").touch()
    after_lab = dry_run(make_copy, "test")
    assert not any("torch" in line or '".[lab]"' in line for line in after_lab)
    assert step(after_lab, '".[dev]"') < step(after_lab, "-m pytest")
    (make_copy / ".venv" / ".installed-dev").touch()
    assert dry_run(make_copy, "test") == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/python -m pytest -n 2 --dist loadfile",
    ]
    # changed dependencies: both installs again
    future = time.time() + 5
    os.utime(make_copy / "constraints.txt", (future, future))
    again = dry_run(make_copy, "test")
    assert step(again, '".[lab]"') < step(again, '".[dev]"')


# -------------------------------------------------------------------------------- Python check
def test_check_python_reads_the_range_from_pyproject() -> None:
    tool = load_tool("check_python")
    lo, hi = tool.supported_range()
    assert (lo, hi) == doctor.PYTHON_RANGE
    spec = SpecifierSet(pyproject()["project"]["requires-python"])
    assert spec.contains(f"{lo[0]}.{lo[1]}.0") and not spec.contains(f"{hi[0]}.{hi[1]}.0")
    assert tool.message((3, 11), lo, hi) is None and tool.message((3, 12), lo, hi) is None


@pytest.mark.parametrize("version", ["3.13", "3.14", "3.9", "2.7"])
def test_unsupported_python_is_told_what_to_do_before_installing(version: str) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_python.py"), version],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stdout == ""
    text = run.stderr
    assert f"Python {version} is too" in text or f"Python {version} is newer" in text
    for advice in ("Nothing has been installed", "make lab PYTHON=python3.11", "environment.yml"):
        assert advice in text


@pytest.mark.parametrize(
    "system, release, machine, refused",
    [
        ("Darwin", "14.4", "arm64", False),
        ("Darwin", "15.1", "arm64", False),
        ("Darwin", "13.6", "arm64", True),  # torch 2.13, ray 2.55, tenseal 0.3.18: macOS 14+ only
        ("Darwin", "14.4", "x86_64", True),  # Intel Macs stop at torch 2.2.2
        ("Linux", "6.1", "x86_64", False),
        ("Windows", "10", "AMD64", False),
    ],
)
def test_machines_without_installers_are_told_before_installing(
    system: str, release: str, machine: str, refused: bool
) -> None:
    text = load_tool("check_python").platform_message(system, release, machine)
    assert (text is not None) == refused
    if refused:
        assert "Nothing has been installed" in text and "JupyterHub" in text


# -------------------------------------------------------------------------------- the real thing
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def footer_targets() -> list[str]:
    """Repository paths the footer and the exercise pointer of notebook 01 link to."""
    nb = nbformat.read(ROOT / "notebooks" / "01_motivation.ipynb", as_version=4)
    text = "\n".join(
        c.source
        for c in nb.cells
        if c.cell_type == "markdown" and (FOOTER_MARK in c.source or "../exercises/" in c.source)
    )
    links = {urllib.parse.urlsplit(m).path for m in re.findall(r"\]\(([^)\s]+)\)", text)}
    return sorted(posixpath.normpath(posixpath.join("notebooks", link)) for link in links)


@pytest.mark.slow
def test_readme_commands_install_and_serve_the_exercises(tmp_path: Path) -> None:
    """Run README's macOS/Linux commands in order, then fetch files through the lab they start.

    What is the same as on a learner's machine: a copy of the git-tracked files (a fresh clone),
    each README line run as written from that folder - a new venv, the pip installs, the editable
    install of the course - and JupyterLab started with the README's last line, so the server's
    root is whatever folder that line runs in. Through the server's contents API the test then
    opens ``exercises/01_motivation.ipynb`` and every file notebook 01's footer and exercise
    pointer link to (``../README.md``, ``02_threat_models.ipynb``, ...).

    What is changed to stay fast and offline (no download, ~1 min on 2 busy cores):

    - ``python3.11`` is the interpreter this test's own venv was made from.
    - The new venv sees this project's installed packages: a ``.pth`` file puts the project
      venv's site-packages *first* on its path (as ``--system-site-packages`` would on top of the
      project's venv; plain ``--system-site-packages`` would expose the base interpreter's
      packages instead). So pip finds every requirement already installed, and the fresh venv's
      bundled pip and setuptools do not shadow the project's newer ones.
    - Every ``pip install`` gets ``--no-index`` (nothing is downloaded: a requirement that is not
      already installed fails the test) and ``--no-build-isolation`` (the editable build uses the
      installed setuptools instead of downloading one); pip's machine-wide configuration is
      ignored (``PIP_CONFIG_FILE`` set to the null device, no ``PIP_*`` variables).
    - JupyterLab gets a port, a token, ``--no-browser`` and (as root in CI) ``--allow-root``;
      its root directory is not set, so it is the folder the command runs in, as for a learner.
    """
    repo = tracked_copy(tmp_path / "clone")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "PYTHON", "JUPYTER", "JPY_", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        JUPYTER_PLATFORM_DIRS="1",
        IPYTHONDIR=str(home / "ipython"),
    )
    base_python = getattr(sys, "_base_executable", sys.executable)
    project_site = sysconfig.get_paths()["purelib"]
    venv_python = repo / ".venv" / "bin" / "python"
    *installs, start = readme_commands("posix")
    log = []
    for line in installs:
        args = shlex.split(line)
        if args[0] == "python3.11":
            args[0] = base_python
        if args[0] == ".venv/bin/python":
            args[0] = str(venv_python)
        if args[1:4] == ["-m", "pip", "install"]:
            args += ["--no-index", "--no-build-isolation"]
        started = time.monotonic()
        run = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
        log.append(f"{time.monotonic() - started:5.1f} s  {line}")
        assert run.returncode == 0, f"README command failed: {line}\n{run.stdout}\n{run.stderr}"
        if args[1:3] == ["-m", "venv"]:
            site = Path(
                subprocess.check_output(
                    [
                        str(venv_python),
                        "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    ],
                    env=env,
                    text=True,
                ).strip()
            )
            (site / "_project_packages.pth").write_text(
                f"import sys; sys.path.insert(sys.path.index({str(site)!r}), {project_site!r})\n",
                encoding="utf-8",
            )
    overrides = repo / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert overrides.is_file(), "README's commands must install the lab settings (no news pop-up)"
    where = subprocess.check_output(
        [str(venv_python), "-c", "import course_utils; print(course_utils.__file__)"],
        cwd=tmp_path,
        env=env,
        text=True,
    )
    assert Path(where.strip()).is_relative_to(repo), "the editable install must be the clone's"

    port, token = free_port(), secrets.token_hex(16)
    args = shlex.split(start)
    args[0] = str(venv_python)
    args += [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    server_log = tmp_path / "jupyterlab.log"
    with open(server_log, "wb") as out:
        server = subprocess.Popen(
            args, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def get(path: str) -> dict:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local server
            return json.loads(resp.read())

    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server_log.read_text(errors="replace")
            try:
                get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert time.monotonic() < deadline, server_log.read_text(errors="replace")
                time.sleep(0.3)
        root = {item["name"] for item in get("/api/contents/")["content"]}
        assert {"README.md", "notebooks", "exercises"} <= root, f"server root lists {root}"
        exercise = get("/api/contents/exercises/01_motivation.ipynb")
        assert exercise["type"] == "notebook" and exercise["content"]["cells"]
        targets = footer_targets()
        assert "exercises/01_motivation.ipynb" in targets and "README.md" in targets
        for target in targets:
            item = get(f"/api/contents/{urllib.parse.quote(target)}")
            assert item["path"] == target and item["content"], target
    finally:
        try:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/shutdown",
                method="POST",
                headers={"Authorization": f"token {token}"},
            )
            urllib.request.urlopen(req, timeout=5)  # noqa: S310 - local server
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
    print("\n".join(log))
