"""Install the course's JupyterLab defaults into the running Python environment.

    .venv/bin/python tools/lab_settings.py        (Windows: .venv\\Scripts\\python tools\\lab_settings.py)

Copies ``jupyter/overrides.json`` (no "notified about official Jupyter news?" pop-up, no update
check) to ``<prefix>/share/jupyter/lab/settings/overrides.json``, where JupyterLab reads an
environment's default settings. ``make lab`` does the same with a plain copy; this script is the
step for the README's path without ``make`` (any operating system). A learner can still change
both settings in Settings > Notifications.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "jupyter" / "overrides.json"


def install(prefix: str | Path = sys.prefix) -> Path:
    """Copy the overrides into ``prefix``'s JupyterLab settings folder and return the new path."""
    target = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SOURCE, target)
    return target


if __name__ == "__main__":
    print(f"JupyterLab settings installed: {install()}")
