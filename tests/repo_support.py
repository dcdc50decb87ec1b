"""The repository as the tests see it: where it is, its notebooks, its developer tools, its project
metadata and the files git tracks.

Test modules import these instead of working each one out again from their own ``__file__``.
(``tests/browser/conftest.py`` keeps its own ``ROOT``: ``benchmarks/bench_browser.py`` loads that
file by path, where the ``tests`` package is not importable.)
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = [
    "ROOT",
    "load_tool",
    "notebooks",
    "pyproject",
    "set_notebook",
    "tracked_copy",
    "tracked_files",
]

ROOT = Path(__file__).resolve().parents[1]


def notebooks(folder: str) -> list[Path]:
    """The ``.ipynb`` files directly in ``ROOT / folder``, sorted by name.

    Examples
    --------
    >>> notebooks("notebooks")[0].name
    '01_motivation.ipynb'
    """
    return sorted((ROOT / folder).glob("*.ipynb"))


def set_notebook(set_number: int, folder: str = "solutions") -> Path:
    """Exercise set ``set_number``'s notebook in ``ROOT / folder`` (``solutions`` or ``exercises``).

    Examples
    --------
    >>> set_notebook(1).name, set_notebook(1, "exercises").parent.name
    ('01_motivation.ipynb', 'exercises')
    """
    (path,) = (ROOT / folder).glob(f"{set_number:02d}_*.ipynb")
    return path


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` imported as the module ``name`` (the tools are scripts, not a package).

    One copy per process: the module is registered in ``sys.modules`` (dataclasses and doctest look
    a function's module up there) and a later call returns that same copy, whichever test module
    asked first.

    Examples
    --------
    >>> load_tool("footers") is load_tool("footers")
    True
    """
    path = ROOT / "tools" / f"{name}.py"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"no tool {path}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def pyproject() -> dict:
    """``pyproject.toml``, parsed.

    Examples
    --------
    >>> pyproject()["project"]["name"]
    'course_utils'
    """
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def tracked_files() -> list[Path]:
    """The files git tracks, relative to ``ROOT`` (a tracked file deleted in the working tree is
    left out).

    Examples
    --------
    >>> Path("pyproject.toml") in tracked_files()
    True
    """
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    names = [Path(name.decode()) for name in listed.stdout.split(b"\0") if name]
    return [rel for rel in names if (ROOT / rel).is_file()]


def tracked_copy(dest: Path) -> Path:
    """Copy the git-tracked files to ``dest`` (what a fresh clone gets, with local edits); return
    ``dest``."""
    for rel in tracked_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest
