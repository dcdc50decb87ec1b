"""Browser benchmark: what a learner waits for in JupyterLab (Chromium + Playwright).

Rows: JupyterLab start-up, opening notebook 01 (kernel ready), "Run All" until the soccer toy's
live canvas is drawn, and the round trip of one mouse drag step (mouse move on the canvas ->
kernel updates the model -> the x slider in the browser shows the new position). Uses the
fixtures' helpers from ``tests/browser/conftest.py``; without Chromium it returns one row saying
so.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _helpers():
    spec = importlib.util.spec_from_file_location(
        "browser_conftest", ROOT / "tests" / "browser" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["browser_conftest"] = module
    spec.loader.exec_module(module)
    return module


def run() -> list[dict]:
    h = _helpers()
    chromium = h.chromium_path()
    if chromium is None:
        return [
            {
                "name": "browser",
                "value": float("nan"),
                "unit": "s",
                "note": "Chromium not found: skipped",
            }
        ]
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        t0 = time.perf_counter()
        server = h.LabServer(Path(tmp)).start()
        try:
            rows.append(
                {
                    "name": "browser: JupyterLab start",
                    "value": time.perf_counter() - t0,
                    "unit": "s",
                    "note": "until /api/status answers",
                }
            )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=h.CHROMIUM_ARGS)
                try:
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    lab = h.Lab(page, server)
                    t0 = time.perf_counter()
                    lab.open("notebooks/01_motivation.ipynb")
                    rows.append(
                        {
                            "name": "browser: open notebook 01",
                            "value": time.perf_counter() - t0,
                            "unit": "s",
                            "note": "page load until the kernel is idle",
                        }
                    )
                    t0 = time.perf_counter()
                    page.evaluate(
                        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
                    )
                    canvas = (
                        lab.cell("soccer = SoccerToy")
                        .locator(".jupyter-matplotlib-canvas-div canvas")
                        .last
                    )
                    lab.wait_until(
                        lambda: (canvas.bounding_box() or {}).get("width", 0) > 0,
                        "the soccer canvas",
                        timeout=180,
                    )
                    rows.append(
                        {
                            "name": "browser: run all -> soccer toy drawn",
                            "value": time.perf_counter() - t0,
                            "unit": "s",
                            "note": "Run All Cells until the live canvas has a size",
                        }
                    )
                    lab.wait_idle(180)
                    rows.append(_drag_round_trip(lab, canvas))
                finally:
                    browser.close()
        finally:
            server.stop()
    return rows


def _drag_round_trip(lab, canvas) -> dict:
    """Median time from one mouse move while dragging to the x slider showing the new value."""
    cell = lab.cell("soccer = SoccerToy")
    info = lab.kernel(
        "import json\n_p = soccer.ax.transData.transform(soccer.positions[0])\n"
        "print(json.dumps({'px': _p.tolist(), 'w': soccer.fig.bbox.width, 'h': soccer.fig.bbox.height}))"
    )
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    sx, sy = box["width"] / info["w"], box["height"] / info["h"]
    x, y = box["x"] + info["px"][0] * sx, box["y"] + (info["h"] - info["px"][1]) * sy
    readout = cell.locator(".widget-slider").first.locator(".widget-readout")
    page = lab.page
    page.mouse.move(x, y)
    page.mouse.down()
    times = []
    for k in range(1, 11):
        before = readout.inner_text()
        t0 = time.perf_counter()
        page.mouse.move(x + 12 * k, y)
        lab.wait_until(
            lambda b=before: readout.inner_text() != b, "the slider to follow", every=0.005
        )
        times.append(time.perf_counter() - t0)
        page.wait_for_timeout(50)  # ipympl throttles motion events to one per 33 ms
    page.mouse.up()
    times.sort()
    return {
        "name": "browser: drag step round trip",
        "value": 1000 * times[len(times) // 2],
        "unit": "ms",
        "note": f"median of {len(times)} mouse moves -> kernel -> slider read-out",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
