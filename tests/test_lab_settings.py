"""JupyterLab opens on the course undisturbed: no "official Jupyter news?" pop-up, no update check.

``jupyter/overrides.json`` sets the defaults of JupyterLab's notification plugin; ``make lab`` (and
``make install``) copy it to ``.venv/share/jupyter/lab/settings/overrides.json``, where JupyterLab
reads the defaults of the environment it runs from, and Binder's ``postBuild`` does the same.
Tested here: the file matches the installed JupyterLab's settings schema, ``make lab-settings``
installs it into a given environment, and a JupyterLab server started on those settings (and no
user settings) reports news fetching and update checks as off.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.repo_support import ROOT, load_tool

OVERRIDES = ROOT / "jupyter" / "overrides.json"
PLUGIN = "@jupyterlab/apputils-extension:notification"


def _schema() -> dict:
    from jupyterlab.commands import get_app_dir

    path = (
        Path(get_app_dir()) / "schemas" / "@jupyterlab" / "apputils-extension" / "notification.json"
    )
    return json.loads(path.read_text(encoding="utf-8"))


def test_overrides_turn_news_and_update_checks_off() -> None:
    settings = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    assert settings == {PLUGIN: {"fetchNews": "false", "checkForUpdates": False}}
    properties = _schema()["properties"]  # the installed JupyterLab knows both settings...
    allowed = {choice["const"] for choice in properties["fetchNews"]["oneOf"]}
    assert (
        "false" in allowed and properties["fetchNews"]["default"] == "none"
    )  # ... and asks by default
    assert properties["checkForUpdates"]["type"] == "boolean"


def test_binder_post_build_installs_the_same_file() -> None:
    script = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert (
        "jupyter/overrides.json" in script and "share/jupyter/lab/settings/overrides.json" in script
    )
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_settings_installs_the_overrides(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    out = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "lab-settings", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    installed = venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_text(encoding="utf-8") == OVERRIDES.read_text(encoding="utf-8")
    assert not (
        venv / ".installed-lab"
    ).exists()  # installing the settings does not install packages
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "lab: $(LAB_STAMP) lab-settings" in makefile
    assert "install: $(LAB_STAMP) lab-settings" in makefile


def _defaults(app_settings_dir: Path, user_settings_dir: Path) -> dict:
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import get_settings

    found, _ = get_settings(
        str(app_settings_dir),
        str(Path(get_app_dir()) / "schemas"),
        str(user_settings_dir),
        schema_name=PLUGIN,
    )
    return {k: v["default"] for k, v in found["schema"]["properties"].items()}


def test_overrides_change_the_defaults_jupyterlab_serves(tmp_path: Path) -> None:
    """Without the file JupyterLab asks about news ("none"); with it, news and updates are off."""
    plain = _defaults(tmp_path / "empty", tmp_path / "user")
    assert plain["fetchNews"] == "none" and plain["checkForUpdates"] is True
    (tmp_path / "course").mkdir()
    shutil.copy(OVERRIDES, tmp_path / "course" / "overrides.json")
    course = _defaults(tmp_path / "course", tmp_path / "user")
    assert course["fetchNews"] == "false" and course["checkForUpdates"] is False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def lab_server(tmp_path: Path, app_settings_dir: Path) -> Iterator[tuple[str, str]]:
    """A JupyterLab on 127.0.0.1 reading ``app_settings_dir`` (and no user settings): (url, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTER_PLATFORM_DIRS="1",
    )
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.app_settings_dir={app_settings_dir}",  # where make lab-settings puts the file
        f"--LabApp.user_settings_dir={tmp_path / 'user-settings'}",  # a learner who changed nothing
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp_path / "lab.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):  # noqa: S310
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.3)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def app_settings(tmp_path: Path, *, with_overrides: bool) -> Path:
    """An application settings folder as ``make lab-settings`` leaves it (or an empty one)."""
    folder = tmp_path / ("course-settings" if with_overrides else "no-settings")
    folder.mkdir()
    if with_overrides:
        shutil.copy(OVERRIDES, folder / "overrides.json")
    return folder


@pytest.mark.slow
def test_lab_started_on_the_installed_overrides_does_not_fetch_news(tmp_path: Path) -> None:
    with lab_server(tmp_path, app_settings(tmp_path, with_overrides=True)) as (url, token):
        request = urllib.request.Request(
            f"{url}/lab/api/settings/{PLUGIN}", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310 - local server
            answer = json.loads(resp.read())
    # the server folds the overrides into the schema's defaults; with no user settings ("raw")
    # those defaults are what the page uses
    assert answer["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert answer["schema"]["properties"]["checkForUpdates"]["default"] is False
    assert json.loads(answer["raw"] or "{}") == {}


def test_the_no_make_step_installs_the_same_overrides(tmp_path: Path) -> None:
    """README's path without make runs tools/lab_settings.py: same file, same place."""
    target = load_tool("lab_settings").install(tmp_path)
    assert target == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert target.read_text(encoding="utf-8") == OVERRIDES.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("tools/lab_settings.py") >= 2 and "tools\\lab_settings.py" in readme
