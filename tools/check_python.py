"""Refuse an unsupported Python *before* anything is installed, and say what to do instead.

    python3 tools/check_python.py            # exit 0 if this Python can run the course
    python3 tools/check_python.py 3.13       # the message another version would get

`make lab` / `make test` run it with the Python they are about to build `.venv` from. The range
is the `requires-python` of pyproject.toml (read from the file, so the two cannot drift). The file
is kept runnable by very old Pythons (no f-strings, no walrus), since those are exactly the ones
it has to turn away with a readable message rather than a SyntaxError.
"""

import os
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


def main(argv):
    lo, hi = supported_range()
    if argv:
        version = tuple(int(p) for p in argv[0].split(".")[:2])
    else:
        version = tuple(sys.version_info[:2])
    text = message(version, lo, hi)
    if text is None:
        return 0
    sys.stderr.write(text + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
