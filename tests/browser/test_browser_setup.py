"""The browser fixtures themselves (no browser needed): skip vs fail, and a clean server shutdown."""

from __future__ import annotations

import importlib.util
import sys
import urllib.error
from pathlib import Path

import psutil
import pytest


def _fixtures_module():
    """tests/browser/conftest.py as a plain module (the name `conftest` is ambiguous here)."""
    path = Path(__file__).with_name("conftest.py")
    spec = importlib.util.spec_from_file_location("browser_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["browser_fixtures"] = module
    spec.loader.exec_module(module)
    return module


_f = _fixtures_module()
INSTALL_HINT, LabServer, _missing, chromium_path = (
    _f.INSTALL_HINT,
    _f.LabServer,
    _f._missing,
    _f.chromium_path,
)


def test_missing_browser_skips_locally_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        _missing("Chromium was not found")


def test_missing_browser_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but Chromium was not found"):
        _missing("Chromium was not found")
    assert "pytest -m 'not browser'" in INSTALL_HINT


def test_chromium_path_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert chromium_path() == str(fake)


@pytest.mark.slow
def test_server_starts_on_loopback_and_leaves_nothing_behind(tmp_path) -> None:
    server = LabServer(tmp_path).start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and len(server.token) == 32
        assert "started" in server.api("GET", "/api/status")
        kernel = server.api("POST", "/api/kernels", body={"name": "python3"}, timeout=60)
        assert kernel["name"] == "python3"
        assert server.descendants(), "the kernel should run as a child of the server"
        # the served copy is a temp folder, not the repository
        assert (server.root / "notebooks" / "01_motivation.ipynb").exists()
    finally:
        pid = server.process.pid
        children = server.descendants()
        killed = server.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert killed == [], f"these processes had to be killed: {killed}"
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        server.api("GET", "/api/status", timeout=2)
