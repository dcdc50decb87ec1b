"""Refuse an unsupported Python or platform *before* anything is installed, and say what to do.

    python3 tools/check_python.py            # exit 0 if this Python and machine can run the course
    python3 tools/check_python.py 3.13       # the message another Python version would get

`make lab` / `make test` and the README's commands without make run it with the Python they are
about to build `.venv` from. The range is the `requires-python` of pyproject.toml (read from the
file, so the two cannot drift). The platform check knows one gap: the pinned torch 2.13, ray 2.55
and tenseal 0.3.18 publish macOS wheels only for Apple silicon on macOS 14 or later (PyPI,
checked 2026-12-02: Intel Macs stop at torch 2.2.2, ray 2.49.2, tenseal 0.3.16), so pip would
fail there after downloading a lot, or try to compile. The file is kept runnable by very old
Pythons (no f-strings, no walrus), since those are exactly the ones it has to turn away with a
readable message rather than a SyntaxError.
"""

import os
import platform
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYPROJECT = os.path.join(ROOT, "pyproject.toml")


def supported_range(pyproject=PYPROJECT):
    """(lowest, first unsupported) as (major, minor) tuples, from requires-python."""
    with open(pyproject) as f:
        text = f.read()
    match = re.search(r'requires-python\s*=\s*"([^"]+)"', text)
    if match is None:
        raise ValueError("pyproject.toml has no requires-python")
    lo = re.search(r">=\s*(\d+)\.(\d+)", match.group(1))
    hi = re.search(r"<\s*(\d+)\.(\d+)", match.group(1))
    if lo is None or hi is None:
        raise ValueError("requires-python must look like '>=3.10,<3.13', got " + match.group(1))
    return (int(lo.group(1)), int(lo.group(2))), (int(hi.group(1)), int(hi.group(2)))


def message(version, lo, hi):
    """None when ``version`` is supported, else the text telling the learner what to do."""
    if lo <= tuple(version) < hi:
        return None
    have = "%d.%d" % tuple(version[:2])
    top = "%d.%d" % (hi[0], hi[1] - 1)
    why = (
        "is newer than the versions the course is tested with"
        if tuple(version) >= hi
        else "is too old for the course's packages (numpy 2, torch 2.13, JupyterLab 4)"
    )
    return "\n".join(
        [
            "",
            "Python %s %s." % (have, why),
            "The course runs on Python %d.%d to %s (CI uses 3.11); pip would refuse it, but only"
            % (lo[0], lo[1], top),
            "after downloading torch. Nothing has been installed.",
            "",
            "Do one of these, then run the same command again:",
            "  * Install Python 3.11 or %s next to this one (python.org installers, or" % top,
            "    `brew install python@3.11` on macOS, `sudo apt install python3.11-venv` on",
            "    Debian/Ubuntu, `winget install Python.Python.3.11` on Windows), then",
            "      make lab PYTHON=python3.11",
            "    or, without make, create the environment with that Python:",
            "      python3.11 -m venv .venv         (Windows: py -3.11 -m venv .venv)",
            "  * Or use conda, which brings its own Python 3.11:",
            "      conda env create -f environment.yml && conda activate private-robust-ml",
            "      python -m jupyterlab",
            "",
            "If .venv was already made with this Python, delete it first (make clean).",
            "",
        ]
    )


def platform_message(system=None, release=None, machine=None):
    """None on a platform the pinned packages have wheels for, else what to do instead.

    ``system`` / ``release`` / ``machine`` default to this machine (``platform.system()``, the
    macOS version, ``platform.machine()``).
    """
    system = platform.system() if system is None else system
    if system != "Darwin":
        return None
    release = platform.mac_ver()[0] if release is None else release
    machine = platform.machine() if machine is None else machine
    try:
        major = int(str(release).split(".")[0])
    except ValueError:
        return None  # unknown version: let pip try
    if machine == "arm64" and major >= 14:
        return None
    what = "an Intel Mac" if machine != "arm64" else "macOS %s" % release
    return "\n".join(
        [
            "",
            "This is %s: the course's pinned torch 2.13, ray 2.55 and tenseal 0.3.18 publish"
            % what,
            "macOS installers only for Apple silicon (M1 or later) on macOS 14 or later, so the",
            "install would fail after a long download. Nothing has been installed.",
            "",
            "Do one of these instead:",
            "  * On Apple silicon, update macOS to 14 (Sonoma) or later, then run the same command.",
            "  * Use the class's JupyterHub, or Binder (see INSTRUCTORS.md, section 5).",
            "  * Use a Linux or Windows machine (x86-64).",
            "",
        ]
    )


def main(argv):
    lo, hi = supported_range()
    if argv:
        version = tuple(int(p) for p in argv[0].split(".")[:2])
    else:
        version = tuple(sys.version_info[:2])
    text = message(version, lo, hi) or (None if argv else platform_message())
    if text is None:
        return 0
    sys.stderr.write(text + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
