"""The static site offline in a real browser: Chromium opens built pages with the network cut off.

Three pages are built without running their notebooks (``build(..., execute_notebooks=False)``,
a few seconds): notebook 03 (over a hundred formulas), notebook 06 (display formulas with
``\\mathbb``, limits under ``\\max``, ``\\underline``) and exercise set 06. Every request that is
not a ``file://`` URL is aborted by Playwright routing and recorded; a page passes when nothing
was blocked, every ``<math>`` element is laid out by the browser's MathML engine (computed
``display`` is ``math`` / ``block math``) with a non-zero size, superscripts sit above their
base and limits below their operator (real two-dimensional layout), and no raw TeX shows. A negative
control injects a CDN script and a font stylesheet into a copy of a page and checks they are caught,
so "zero blocked" cannot pass because the blocking never ran.

On failure, a full-page screenshot is saved in the test's tmp dir (path in the report).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.repo_support import load_tool

pytestmark = pytest.mark.browser
PAGES = ("03_dp_mechanisms.html", "06_robustness.html", "exercises-06_robustness.html")

_MATH_STATE = """() => Array.from(document.querySelectorAll('math'), (m) => {
  const r = m.getBoundingClientRect();
  return {display: getComputedStyle(m).display, width: r.width, height: r.height,
          tex: (m.querySelector('annotation') || {}).textContent || ''};
})"""
#: Two-dimensional layout: superscripts sit higher than their base, limits below their operator.
_SCRIPTS = """() => {
  const box = (e) => e.getBoundingClientRect();
  const sups = Array.from(document.querySelectorAll('msup'), (e) =>
    box(e.children[1]).top < box(e.children[0]).top);
  // inline, a limit under \\max is a subscript (movablelimits), as in TeX: check display ones
  const unders = Array.from(document.querySelectorAll('math[display="block"] munder'), (e) =>
    box(e.children[1]).top >= box(e.children[0]).bottom - 1);
  return {checked: sups.length + unders.length, wrong: [...sups, ...unders].filter((ok) => !ok).length};
}"""
_VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('code, pre, math, style, script').forEach((e) => e.remove());
  return copy.innerText;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build_site = load_tool("build_site")  # the copy tests/test_site.py loaded, if it ran here
    out = tmp_path_factory.mktemp("site")
    log = sys.modules["site_math"].MathLog()
    names = ["03_dp_mechanisms.ipynb", "06_robustness.ipynb"]
    build_site.build(out, names, execute_notebooks=False, math_log=log, log=lambda *_: None)
    assert log.problems == [] and log.converted > 100
    return out


class Offline:
    """A page in its own browser context where only ``file://`` requests go through."""

    def __init__(self, browser: Any) -> None:
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.set_default_timeout(30_000)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: Path) -> None:
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_load_state("networkidle")


@pytest.fixture()
def offline(browser: Any, request: pytest.FixtureRequest, tmp_path: Path):
    view = Offline(browser)
    try:
        yield view
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            shot = tmp_path / f"{request.node.name}.png".replace("/", "_")
            try:
                view.page.screenshot(path=str(shot), full_page=True)
                rep.sections.append(("site screenshot", str(shot)))
                print(f"site screenshot: {shot}", file=sys.stderr)
            except Exception as exc:  # a crashed page must not hide the real failure
                print(f"site screenshot failed: {exc}", file=sys.stderr)
        view.context.close()


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_its_math_with_the_network_cut_off(site: Path, offline: Offline, name) -> None:
    page = site / name
    offline.open(page)
    assert offline.blocked == [], f"{name} tried to load from outside the site: {offline.blocked}"
    maths = offline.page.evaluate(_MATH_STATE)
    expected = page.read_text(encoding="utf-8").count("<math")
    assert len(maths) == expected and len(maths) >= 10, (len(maths), expected)
    not_mathml = [m for m in maths if m["display"] not in ("math", "block math")]
    assert not not_mathml, f"not laid out as MathML: {not_mathml[:3]}"
    empty = [m["tex"] for m in maths if m["width"] <= 0 or m["height"] <= 0]
    assert not empty, f"{len(empty)} formulas have no size, e.g. {empty[:3]}"
    assert any(m["display"] == "block math" for m in maths), "expected display formulas"
    scripts = offline.page.evaluate(_SCRIPTS)
    assert scripts["checked"] > 0 and scripts["wrong"] == 0, scripts
    text = offline.page.evaluate(_VISIBLE_TEXT)
    for raw in ("\\varepsilon", "\\sigma", "\\frac", "\\mathbb", "$$"):
        assert raw not in text, f"raw TeX {raw!r} shows on {name}"


def test_blocking_catches_a_cdn_script_and_stylesheet(site: Path, offline: Offline) -> None:
    """Negative control: what the old pages did (a CDN script, a web font's stylesheet) is seen
    and blocked."""
    html = (site / PAGES[0]).read_text(encoding="utf-8")
    bad = (
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"></script>'
        '<link rel="stylesheet" href="https://fonts.example.com/css?family=w.woff2"></head>'
    )
    copy = site / "negative-control.html"
    copy.write_text(html.replace("</head>", bad, 1), encoding="utf-8")
    try:
        offline.open(copy)
    finally:
        copy.unlink()
    assert any("mathjax" in u for u in offline.blocked), offline.blocked
    assert any("w.woff2" in u for u in offline.blocked), offline.blocked
