"""Fixtures for the real-browser tests: JupyterLab on 127.0.0.1, driven by Chromium + Playwright.

* ``jupyter_lab`` (session): a JupyterLab server on 127.0.0.1 with a random free port and a random
  token. It serves a temp copy of the course (``notebooks/``, ``exercises/``), so nothing the
  browser does (autosave, checkpoints) can touch the repository. Settings and workspaces live in
  temp dirs: no news pop-up, no update check, no autosave, every cell kept in the DOM. Teardown
  asks the server to shut down (which stops its kernels), then terminates whatever is left of its
  process tree, even when a test failed or was interrupted.
* ``browser`` (session): Debian's Chromium (``/usr/bin/chromium`` or ``$CHROMIUM``) launched by
  Python Playwright. Without Chromium (or Playwright) the browser tests SKIP with an install hint;
  with ``CI=true`` they FAIL instead, so CI can never silently skip them.
* ``lab`` (module): a :class:`Lab` - one browser page logged into the server, with helpers to open
  and run a notebook, find a cell's output and read a value from the kernel.
* every browser test that fails leaves a full-page screenshot of each open page under a temp dir
  (``$BROWSER_SCREENSHOTS`` or a fresh ``/tmp/course-browser-screenshots-*``); the path is printed in
  the failure report.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """True when the environment says CI (``CI=true``, as GitHub Actions and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "the browser tests need Debian's Chromium: `sudo apt-get install -y chromium` "
    "(or set CHROMIUM=/path/to/chromium); Python Playwright comes with `pip install -e '.[dev]'`. "
    "Run `pytest -m 'not browser'` to leave them out."
)
#: Folders of the repository copied into the server's temp root.
SERVED = ("notebooks", "exercises")
#: JupyterLab user settings: quiet, deterministic, nothing written back to the notebooks.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # keep every cell in the DOM (the default windowing may detach cells scrolled out of view)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_path() -> str | None:
    """The Chromium executable to drive: ``$CHROMIUM``, ``/usr/bin/chromium`` or one on PATH."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}; {INSTALL_HINT}", pytrace=False)
    pytest.skip(f"{reason}; {INSTALL_HINT}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# =============================================================================================
# the JupyterLab server
# =============================================================================================
@dataclass
class LabServer:
    """A running JupyterLab server; use as a context manager (start on enter, stop on exit)."""

    base: Path
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, path: str = "") -> str:
        """URL opening ``path`` (relative to the served root) in JupyterLab, logged in."""
        return f"{self.url}/lab/tree/{path}?token={self.token}&reset"

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 90.0) -> LabServer:
        self.root.mkdir(parents=True)
        for folder in SERVED:
            if (ROOT / folder).is_dir():
                shutil.copytree(
                    ROOT / folder,
                    self.root / folder,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
                )
        settings = self.base / "settings"
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        env.pop("MPLBACKEND", None)  # the notebooks pick their own backend (%matplotlib widget)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.base / "config"),
            JUPYTER_DATA_DIR=str(self.base / "data"),
            JUPYTER_RUNTIME_DIR=str(self.base / "runtime"),
            JUPYTER_PLATFORM_DIRS="1",
            IPYTHONDIR=str(self.base / "ipython"),
            MPLCONFIGDIR=str(self.base / "mpl"),
            PYTHONUNBUFFERED="1",
        )
        self.port = self.port or free_port()
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={self.base / 'workspaces'}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
            "--ServerApp.terminals_enabled=False",
            "--ServerApp.open_browser=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        self.log_path = self.base / "jupyterlab.log"
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed by the process' exit
        self.process = subprocess.Popen(
            cmd,
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 5.0, body: Any = None) -> Any:
        """Call the server's REST API with the token; JSON in, JSON out."""
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - local server
            body = resp.read()
        return json.loads(body) if body else None

    def stop_kernels(self, paths: list[str]) -> None:
        """Shut down the sessions (and kernels) of the notebooks at ``paths``."""
        try:
            for session in self.api("GET", "/api/sessions"):
                if session.get("path") in paths:
                    self.api("DELETE", f"/api/sessions/{session['id']}", timeout=15.0)
        except (urllib.error.URLError, ConnectionError, OSError):
            pass  # the server is gone already; stop() cleans up what is left

    def descendants(self) -> list[Any]:
        """Live processes started by the server (kernels and their children)."""
        import psutil

        if self.process is None:
            return []
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 15.0) -> list[int]:
        """Shut down kernels and server; kill leftovers. Returns pids that had to be killed."""
        import psutil

        if self.process is None:
            return []
        children = self.descendants()
        if self.process.poll() is None:
            try:  # the polite way: the server stops its kernels, then exits
                self.api("POST", "/api/shutdown", timeout=5.0)
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                for sig in (signal.SIGTERM, signal.SIGKILL):
                    try:
                        os.killpg(self.process.pid, sig)
                    except ProcessLookupError:
                        break
                    try:
                        self.process.wait(5)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        _, alive = psutil.wait_procs(children, timeout=5)
        killed = []
        for proc in alive:  # kernels run in their own sessions; make sure none is left behind
            try:
                proc.kill()
                killed.append(proc.pid)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        self.process = None
        return killed

    def log_tail(self, n: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# =============================================================================================
# the page helper
# =============================================================================================
_JS_PANEL = """
(path) => {
  const app = window.jupyterapp;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path) return w;
  }
  return null;
}
"""


class Lab:
    """One browser page on the server plus the helpers the tests share."""

    def __init__(self, page: Any, server: LabServer) -> None:
        self.page = page
        self.server = server
        self.path = ""
        self.opened: list[str] = []
        self.console: list[str] = []

    # ------------------------------------------------------------ notebooks
    def open(self, path: str, timeout: float = 60.0) -> None:
        """Open notebook ``path`` and wait until its kernel is idle."""
        self.path = path
        self.opened.append(path)
        self.page.goto(self.server.lab_url(path))
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
        self.page.wait_for_function(
            f"""() => {{
              const w = ({_JS_PANEL})({json.dumps(path)});
              if (!w || !w.sessionContext || !w.sessionContext.session) return false;
              const k = w.sessionContext.session.kernel;
              return k !== null && k.status === 'idle' && w.content.widgets.length > 0;
            }}""",
            timeout=timeout * 1000,
            polling=250,
        )

    def run_all(self, timeout: float = 180.0) -> float:
        """Run every cell (JupyterLab's "Run All Cells"), wait for the end, return the seconds."""
        start = time.perf_counter()
        ok = self.page.evaluate(
            f"""async () => {{
              const w = ({_JS_PANEL})({json.dumps(self.path)});
              w.content.activate();
              const run = window.jupyterapp.commands.execute('notebook:run-all-cells');
              const late = new Promise(r => setTimeout(() => r('timeout'), {int(timeout * 1000)}));
              return await Promise.race([run, late]);
            }}"""
        )
        assert ok is True, (
            f"Run All Cells did not finish cleanly in {timeout:.0f} s (got {ok!r}); errors: {self.errors()}"
        )
        self.wait_idle(timeout)
        return time.perf_counter() - start

    def run_cells(self, *source_starts: str, timeout: float = 120.0) -> None:
        """Run only the code cells whose sources start with ``source_starts``, in that order
        (JupyterLab's "Run Selected Cell"); fail on an error output. ``"<setup>"`` names the
        notebook's setup cell (the one calling ``setup(seed=...)``)."""
        for start in source_starts:
            ok = self.page.evaluate(
                f"""async (start) => {{
                  const w = ({_JS_PANEL})({json.dumps(self.path)});
                  const src = c => c.model.sharedModel.getSource();
                  const i = start === '<setup>'  // the setup cell, whatever its imports begin with
                    ? w.content.widgets.findIndex(c => src(c).includes('setup(seed='))
                    : w.content.widgets.findIndex(c => src(c).startsWith(start));
                  if (i < 0) return 'missing';
                  w.content.activeCellIndex = i;
                  w.content.deselectAll();
                  const run = window.jupyterapp.commands.execute('notebook:run-cell');
                  const late = new Promise(r => setTimeout(() => r('timeout'), {int(timeout * 1000)}));
                  return await Promise.race([run, late]);
                }}""",
                start,
            )
            assert ok is True, f"running the cell {start!r} gave {ok!r}; errors: {self.errors()}"

    def wait_idle(self, timeout: float = 60.0) -> None:
        self.page.wait_for_function(
            f"""() => {{
              const w = ({_JS_PANEL})({json.dumps(self.path)});
              return w.sessionContext.session.kernel.status === 'idle';
            }}""",
            timeout=timeout * 1000,
            polling=200,
        )

    def errors(self) -> list[str]:
        """``ename: evalue`` of every error output in the open notebook."""
        return self.page.evaluate(
            f"""() => {{
              const w = ({_JS_PANEL})({json.dumps(self.path)});
              const out = [];
              for (const cell of w.content.widgets) {{
                if (cell.model.type !== 'code') continue;
                for (const o of cell.model.outputs.toJSON())
                  if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue);
              }}
              return out;
            }}"""
        )

    def cell(self, source_start: str) -> Any:
        """Locator of the code cell whose source starts with ``source_start``."""
        index = self.page.evaluate(
            f"""(start) => {{
              const w = ({_JS_PANEL})({json.dumps(self.path)});
              return w.content.widgets.findIndex(c => c.model.sharedModel.getSource().startsWith(start));
            }}""",
            source_start,
        )
        assert index >= 0, f"no cell of {self.path} starts with {source_start!r}"
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def set_source(self, cell: Any, text: str) -> None:
        """Replace a cell's code by typing it: click into the editor, select all, insert."""
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.insert_text(text)

    # --------------------------------------------------------------- kernel
    def kernel(self, code: str, timeout: float = 30.0) -> Any:
        """Run ``code`` in the notebook's kernel (outside any cell); return what it printed, as
        JSON when the code printed ``json.dumps(...)``. Errors raise AssertionError."""
        res = self.page.evaluate(
            f"""async (code) => {{
              const w = ({_JS_PANEL})({json.dumps(self.path)});
              const future = w.sessionContext.session.kernel.requestExecute(
                {{code, silent: false, store_history: false}});
              let out = '', err = null;
              future.onIOPub = (msg) => {{
                const t = msg.header.msg_type;
                if (t === 'stream') out += msg.content.text;
                if (t === 'error') err = msg.content.ename + ': ' + msg.content.evalue;
              }};
              const late = new Promise(r => setTimeout(() => r('timeout'), {int(timeout * 1000)}));
              const done = await Promise.race([future.done.then(() => 'done'), late]);
              return {{out, err, done}};
            }}""",
            code,
        )
        assert res["done"] == "done", f"kernel code timed out after {timeout} s: {code!r}"
        assert res["err"] is None, f"kernel code failed: {res['err']}\n{code}"
        text = res["out"].strip()
        try:
            return json.loads(text)
        except ValueError:
            return text

    def wait_until(
        self, predicate: Any, what: str, timeout: float = 15.0, every: float = 0.2
    ) -> Any:
        """Poll ``predicate()`` until it returns something truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(every)
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what} (last value {last!r})"
        )


# =============================================================================================
# fixtures
# =============================================================================================
@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the Chromium executable (skip locally / fail in CI when missing)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the Python package `playwright` is not installed")
    path = chromium_path()
    if path is None:
        _missing("Chromium was not found (/usr/bin/chromium, $CHROMIUM or `chromium` on PATH)")
    return path


@pytest.fixture(scope="session")
def jupyter_lab(chromium: str, tmp_path_factory: pytest.TempPathFactory):
    """A running JupyterLab server (see :class:`LabServer`); stopped at the end of the session."""
    base = Path(tempfile.mkdtemp(prefix="lab-", dir=tmp_path_factory.getbasetemp()))
    server = LabServer(base)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium: str):
    """A headless Chromium driven by Playwright; closed at the end of the session."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        try:
            b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # a broken install: same rule as a missing one
            _missing(f"Chromium at {chromium} did not start ({type(exc).__name__}: {exc})")
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def lab(browser: Any, jupyter_lab: LabServer):
    """A fresh browser page (own context: no shared storage) on the server, for one test module."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(30_000)
    page = context.new_page()
    helper = Lab(page, jupyter_lab)
    page.on("pageerror", lambda exc: helper.console.append(f"page error: {exc}"))
    try:
        yield helper
    finally:
        context.close()
        jupyter_lab.stop_kernels(helper.opened)  # free the memory before the next module


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


_SHOTS: list[Path] = []


def _screenshot_dir() -> Path:
    """``$BROWSER_SCREENSHOTS``, or one fresh temp dir per session (outside pytest's basetemp,
    which a later pytest run may clean up)."""
    if not _SHOTS:
        env = os.environ.get("BROWSER_SCREENSHOTS")
        if env:
            Path(env).mkdir(parents=True, exist_ok=True)
        _SHOTS.append(
            Path(env) if env else Path(tempfile.mkdtemp(prefix="course-browser-screenshots-"))
        )
    return _SHOTS[0]


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request: pytest.FixtureRequest):
    """Save a screenshot of every open page when a browser test fails."""
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed or "browser" not in request.fixturenames:
        return
    browser = request.getfixturevalue("browser")
    folder = _screenshot_dir()
    saved = []
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            target = folder / f"{request.node.name}-{c}-{p}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
                saved.append(str(target))
            except Exception as exc:  # a crashed page must not hide the real failure
                saved.append(f"(screenshot failed: {exc})")
    rep.sections.append(("browser screenshots", "\n".join(saved) or "(no open page)"))
    print("browser screenshots:", *saved, sep="\n  ", file=sys.stderr)
