"""The audit report in a real browser: one offline HTML file, opened by Chromium.

A small :class:`course_utils.report.AuditReport` (two models, numbers with intervals, a verdict, two
matplotlib figures and text that needs escaping) is written with ``to_html()`` into a temp dir and
opened from ``file://`` in Debian's Chromium (Playwright, the ``browser`` fixture), with the
network switched off. The page must show the title, every section heading and the table cells
with their intervals, decode both embedded PNG figures (``naturalWidth > 0``), request nothing but
the file itself and ``data:`` URIs, log no console error, run no script, and fit an 800 px wide
window without horizontal scrolling.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt  # headless: tests/conftest.py selects the Agg backend
import pytest

from course_utils.report import AuditReport

pytestmark = pytest.mark.browser


def _report() -> AuditReport:
    report = AuditReport(
        "Audit of two digit classifiers",
        models=["non-private", "DP-SGD"],
        summary="Intervals are 95 % Clopper-Pearson.",
        context={"DP claim": "epsilon = 2, delta = 1e-5, add/remove-one, RDP accountant"},
    )
    sec = report.section(
        "Membership inference",
        tested="RMIA with 4 reference models",
        shows="members found at 1 % FPR",
        does_not_show="what a stronger attack could do",
    )
    sec.add("RMIA TPR at 1 % FPR", "non-private", 0.024, interval=(0.012, 0.042), fmt="{:.1%}")
    sec.add("RMIA TPR at 1 % FPR", "DP-SGD", 0.008, interval=(0.002, 0.020), fmt="{:.1%}")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog([1e-3, 1e-2, 1], [2e-3, 3e-2, 1], label="RMIA")
    ax.legend()
    sec.add_figure(fig, caption="Log-log ROC")
    plt.close(fig)
    sec = report.section(
        "DP audit <canaries> & bugs",
        tested="2,000 runs per implementation",
        shows="a lower bound above the claim refutes it",
        does_not_show="that the claim is true",
    )
    sec.add("epsilon lower bound: clip after averaging", "DP-SGD", 4.68, fmt="{:.2f}")
    sec.add("verdict", "DP-SGD", "caught")
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.hist([0, 1, 1, 2, 2, 2, 3], bins=4)
    sec.add_figure(fig, caption="Audit scores")
    plt.close(fig)
    return report


def test_report_opens_offline_in_chromium(browser: Any, tmp_path) -> None:
    report = _report()
    path = report.to_html(tmp_path / "audit_report.html")
    context = browser.new_context(viewport={"width": 800, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(path.as_uri(), wait_until="load")
        assert page.title() == "Audit of two digit classifiers"
        assert page.locator("h1").inner_text() == "Audit of two digit classifiers"
        assert page.locator("h2").all_inner_texts() == [
            "Membership inference",
            "DP audit <canaries> & bugs",  # escaped in the file, shown as text
        ]
        cells = page.locator("td.num").all_inner_texts()
        assert "2.4% [1.2%, 4.2%]" in cells and "0.8% [0.2%, 2.0%]" in cells
        assert "4.68" in cells and "caught" in cells
        assert page.locator("dl.context dd").inner_text().startswith("epsilon = 2, delta = 1e-5")
        images = page.evaluate(
            "() => Array.from(document.images).map(i => "
            "({ok: i.complete, w: i.naturalWidth, h: i.naturalHeight, src: i.src.slice(0, 22), alt: i.alt}))"
        )
        assert [i["alt"] for i in images] == ["Log-log ROC", "Audit scores"]
        assert all(i["ok"] and i["w"] > 100 and i["h"] > 100 for i in images), images
        assert all(i["src"] == "data:image/png;base64," for i in images)
        shown = page.evaluate(
            "() => Array.from(document.images).map(i => i.getBoundingClientRect().width)"
        )
        assert all(0 < w <= 800 for w in shown), shown  # scaled into the window
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("() => document.scripts.length") == 0
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        assert not problems, problems
    finally:
        context.close()
