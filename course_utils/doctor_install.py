"""Install checks of ``make doctor``: the ``lab`` extra, the developer tools, and which checkout
Python imports the course from. Re-exported by :mod:`course_utils.doctor`, which runs them."""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

from .doctor import DISTRIBUTION, Check, check_requirement

__all__ = ["check_extra", "check_dev_tools", "check_checkout"]


def _checkout() -> Path | None:
    """The repository folder the course package is imported from (an editable install), if any."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def _extra_requirements(extra: str) -> list[str]:
    """Requirements of an extra (``lab``, ``dev``): from the checkout's pyproject.toml when the
    package is imported from one (the truth even before a reinstall), else from its metadata."""
    root = _checkout()
    if root is not None:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        reqs = project.get("optional-dependencies", {}).get(extra, [])
    else:
        marker = f'extra == "{extra}"'
        try:
            reqs = [r.split(";")[0] for r in metadata.requires(DISTRIBUTION) or [] if marker in r]
        except metadata.PackageNotFoundError:
            reqs = []
    return [r for r in reqs if not r.startswith(DISTRIBUTION)]  # dev includes course_utils[lab]


def check_extra(extra: str = "lab") -> list[Check]:
    """One :class:`Check` per requirement of an extra; ``lab`` is what ``make lab`` installs.

    Examples
    --------
    >>> [row.name for row in check_extra("lab")]
    ['jupyterlab']
    """
    fix = f'from the repository folder run: pip install -c constraints.txt -e ".[{extra}]"'
    rows = [check_requirement(r) for r in _extra_requirements(extra)]
    return [r if r.ok else Check(r.name, False, r.detail, fix) for r in rows]


def check_dev_tools() -> Check:
    """The developer tools (``.[dev]``: pytest, Playwright, ...) and Chromium: a warning only,
    since a learner needs none of them."""
    import shutil

    missing = [r.name for r in check_extra("dev") if not r.ok]
    browser = any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome"))
    if missing:
        return Check(
            "developer tools",
            True,
            f"not installed: {', '.join(missing)} (not needed to work through the course)",
            'for make test: pip install -c constraints.txt -e ".[dev]"',
            warning=True,
        )
    if not browser:
        return Check(
            "developer tools",
            True,
            "installed, but no Chromium for the browser tests (they are skipped)",
            "sudo apt-get install chromium, or set CHROMIUM=/path/to/chromium",
            warning=True,
        )
    return Check("developer tools", True, "installed, Chromium found")


def check_checkout(cwd: Path | None = None) -> Check:
    """Python imports the course package from this folder's checkout (a second, older clone is a
    classic), and the folder has the notebooks and exercises JupyterLab must serve."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    root = _checkout()
    here = next(
        (p for p in (cwd, *cwd.parents) if (p / "course_utils" / "__init__.py").is_file()), None
    )
    if root is None:  # Binder, a hub image: a wheel, the notebooks live elsewhere
        return Check("repository", True, f"course_utils installed as a package ({__file__})")
    if here is not None and here.resolve() != root:
        return Check(
            "repository",
            False,
            f"this folder is the checkout {here}, but Python imports course_utils from {root}",
            f'reinstall from here: cd "{here}" and pip install -c constraints.txt -e ".[lab]"',
        )
    missing = [d for d in ("notebooks", "exercises") if not (root / d).is_dir()]
    if missing:
        return Check("repository", False, f"{root} has no {missing}", "git clone the course again")
    return Check("repository", True, f"{root} (start JupyterLab here: exercises/ and links work)")
