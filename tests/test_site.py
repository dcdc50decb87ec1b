"""The static site builder (tools/build_site.py, site_html.py, site_math.py).

One real notebook is built end to end (executed); the whole course is rendered without running
it, to check that every formula becomes MathML and that no page loads anything from outside the
site. Small made-up notebooks cover the index, the navigation bar and the failure reports.
"""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils import nav
from tests.repo_support import ROOT, load_tool, notebooks

build_site = load_tool("build_site")  # it puts tools/ on sys.path for its two helpers
import site_html  # noqa: E402
import site_math  # noqa: E402

QUIET = {"log": lambda *_: None}


def visible_text(page: str) -> str:
    """What a reader sees as text: no code, scripts, styles or TeX annotations."""
    soup = BeautifulSoup(page, "html.parser")
    for tag in soup.find_all(["code", "pre", "script", "style", "annotation"]):
        tag.decompose()
    return soup.get_text(" ")


def tiny_notebook(title: str, *cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell(f"# {title}"), *cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def course_of_one(tmp_path: Path, monkeypatch, name: str, title: str, *cells) -> Path:
    """Write ``tmp_path/notebooks/<name>``, titled "01. <title>", and make it the whole course map
    (5 minutes); return the notebooks folder."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(tiny_notebook(f"01. {title}", *cells), nbdir / name)
    monkeypatch.setattr(nav, "COURSE", [(name, title, 5)])
    return nbdir


def displaying(source: str, data: dict) -> nbformat.NotebookNode:
    """A code cell whose saved output displays ``data`` (mime type -> content)."""
    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data=data)]
    return cell


@pytest.mark.parametrize("module", [build_site, site_html, site_math], ids=lambda m: m.__name__)
def test_doctests(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# ============================================================================ one real notebook
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    rows = build_site.build(out, ["01_motivation.ipynb"], **QUIET)
    assert [r["page"] for r in rows] == ["01_motivation.html"]
    return out


@pytest.mark.slow
def test_page_has_figures_and_no_errors(site: Path) -> None:
    page = (site / "01_motivation.html").read_text(encoding="utf-8")
    figures = re.findall(r'<img [^>]*src="data:image/png;base64,', page)
    assert len(figures) >= 8, (
        f"expected the notebook's figures as embedded PNGs, found {len(figures)}"
    )
    assert "Traceback" not in page and 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    # toys became pictures plus a note; the quiz printed as text with its answers
    assert "course-static-note" in page
    assert "Answers: Q1" in page
    assert "application/vnd.jupyter.widget-view+json" not in page
    # links point at site pages, not at notebooks or the README
    assert 'href="index.html"' in page and 'href="exercises-01_motivation.html"' in page
    assert not re.search(r'href="[^"]*\.ipynb', page)


@pytest.mark.slow
def test_figures_are_described_by_their_labels(site: Path) -> None:
    soup = BeautifulSoup((site / "01_motivation.html").read_text(encoding="utf-8"), "html.parser")
    alts = [img.get("alt") for img in soup.find_all("img")]
    assert alts and all(alts), f"an image has no alt text: {alts}"
    assert site_html.NBCONVERT_DEFAULT_ALT not in alts
    # the salary figures say what they plot: their axis labels and legend
    assert any("y axis: salary (USD)" in a and "legend: men, women" in a for a in alts), alts
    # nothing of the build's kernel hook reaches the page
    assert "course_site_figure" not in str(soup)


@pytest.mark.slow
def test_index_and_exercise_page(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="01_motivation.html">Why models leak data</a>' in index
    assert "45 min" in index
    assert "(not built yet)" in index  # the other notebooks were not part of this build
    exercises = (site / "exercises-01_motivation.html").read_text(encoding="utf-8")
    assert "Exercise 1.1" in exercises and 'href="01_motivation.html"' in exercises


# ============================================================================ the whole course, offline
@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, site_math.MathLog]:
    """Every notebook and exercise set rendered (not executed)."""
    out = tmp_path_factory.mktemp("course")
    log = site_math.MathLog()
    build_site.build(out, execute_notebooks=False, math_log=log, **QUIET)
    return out, log


@pytest.mark.slow
def test_every_formula_of_the_course_is_mathml(course) -> None:
    out, log = course
    assert log.problems == [], "formulas left as TeX:\n" + "\n".join(map(str, log.problems))
    assert log.converted > 300  # 428 formulas in notebooks and exercises when this was written
    for page in sorted(out.glob("*.html")):
        text = visible_text(page.read_text(encoding="utf-8"))
        raw = re.findall(r"\$[^$]{0,40}\\[A-Za-z]+", text)
        assert not raw, f"{page.name} shows raw TeX: {raw[:3]}"
    page = (out / "03_dp_mechanisms.html").read_text(encoding="utf-8")
    assert page.count("<math") > 50 and 'display="block"' in page


@pytest.mark.slow
def test_no_page_loads_anything_from_outside(course) -> None:
    out, _ = course
    pages = sorted(out.glob("*.html"))
    assert len(pages) >= 2 * 7 + 1  # notebooks, their exercise sets, the index
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert site_html.external_references(html) == [], page.name
        assert "<script" not in html, f"{page.name} has a script; a static page needs none"


@pytest.mark.slow
def test_index_lists_every_notebook_of_the_course_map(course) -> None:
    out, _ = course
    index = (out / "index.html").read_text(encoding="utf-8")
    present = [n for n, _, _ in nav.COURSE if (ROOT / "notebooks" / n).exists()]
    for name in present:
        assert f'href="{Path(name).stem}.html"' in index, name
        assert (out / f"{Path(name).stem}.html").exists()
    for ex in notebooks("exercises"):
        assert f'href="exercises-{ex.stem}.html"' in index, ex.name
    # the 05b page links both ways (its number has a letter)
    page = (out / "05b_flower.html").read_text(encoding="utf-8")
    assert 'href="05_federated_learning.html"' in page and 'href="06_robustness.html"' in page
    assert not re.search(r'href="[^"]*\.ipynb', page)


def test_external_references_finds_every_kind() -> None:
    page = """<html><head>
    <script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>
    <link rel="stylesheet" href="http://fonts.example.com/a.css">
    <link rel="icon" href="/favicon.ico">
    <style>/* url(https://in.a/comment) */ @import url("https://x.example/b.css");
    @font-face { font-family: F; src: url(//fonts.example.com/f.woff2); }</style>
    <script type="module">const m = await import("https://cdn.example/mermaid.mjs");</script>
    </head><body>
    <img src="https://example.com/i.png" srcset="a.png 1x, https://example.com/i2.png 2x">
    <iframe src="file:///etc/passwd"></iframe><div style="background: url('../../up.png')"></div>
    <svg><image href="http://example.com/s.png"/></svg>
    </body></html>"""
    found = site_html.external_references(page)
    for needle in [
        "require.min.js",
        "fonts.example.com/a.css",
        "/favicon.ico",
        "x.example/b.css",
        "f.woff2",
        "mermaid.mjs",
        "example.com/i.png",
        "i2.png",
        "/etc/passwd",
        "../../up.png",
        "s.png",
    ]:
        assert any(needle in f for f in found), f"{needle} not reported in {found}"
    assert not any("comment" in f for f in found)
    fine = """<a href="https://opacus.ai/">Opacus</a><img src="data:image/png;base64,AAAA">
    <img src="figure.png"><a href="#top">top</a><style>.x { background: url(data:image/svg+xml;base64,AA) }</style>
    <math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math>
    <svg xmlns="http://www.w3.org/2000/svg"><use href="#icon"/></svg>"""
    assert site_html.external_references(fine) == []


def test_a_page_that_would_load_a_cdn_script_fails_the_build(tmp_path: Path, monkeypatch) -> None:
    script = '<script src="https://cdn.plot.ly/plotly.min.js"></script>'
    cell = displaying("show()", {"text/html": script})
    nbdir = course_of_one(tmp_path, monkeypatch, "01_cdn.ipynb", "CDN", cell)
    with pytest.raises(RuntimeError, match="plotly.min.js"):
        build_site.build(
            tmp_path / "site",
            execute_notebooks=False,
            notebooks_dir=nbdir,
            exercises_dir=tmp_path,
            **QUIET,
        )
    assert not (tmp_path / "site" / "01_cdn.html").exists()


# ============================================================================ math
def test_dollars_that_are_not_math_stay_text() -> None:
    log = site_math.MathLog()
    source = (
        "It costs $5 and $10. Escaped \\$3 and \\$4. Code `$x$` stays.\n\n"
        '```python\nprice = "$$ not math $$"\n```\n\n'
        "<div>raw HTML $y$</div>\n\n"
        "Math: $\\varepsilon$ and\n\n$$\\sum_i x_i$$\n"
    )
    out = site_math.markdown_to_html(source, log=log)
    assert log.converted == 2 and log.problems == []
    assert "It costs $5 and $10." in out and "Escaped $3 and $4." in out
    assert "<code>$x$</code>" in out and "$$ not math $$" in out and "raw HTML $y$" in out
    assert out.count('display="inline"') == 1 and out.count('display="block"') == 1


@pytest.mark.parametrize(
    "tex, needle",
    [
        (r"\text{RMSE}^2", "<mtext>RMSE</mtext>"),
        (r"\mathbb{E}_{x}", "\U0001d53c"),
        (r"\mathcal N(0, 1)", "\U0001d4a9"),
        (r"\operatorname{clip}(x)", "<mo>clip</mo>"),
        (r"\tfrac{1}{2}", "<mfrac>"),
        (r"\lvert x \rvert", "<mo>|</mo>"),
        (r"a\,b", 'width="0.167em"'),
        (r"\exp\!\big(x\big)", 'width="-0.1667em"'),
        (r"\arg\max_{x} f(x)", 'movablelimits="true"'),
        (r"\underline{p_A}", "border-bottom"),
        (r"\bar u", "border-top"),
        (r"D'", '<mo lspace="0" rspace="0">\u2032</mo>'),
        (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "<mtable"),
        (r"\begin{gather} a \\ b \end{gather}", "<mtable"),
        (r"x \label{eq:x} \nonumber", "<mi>x</mi>"),
    ],
)
def test_tex_constructs_the_notebooks_use(tex: str, needle: str) -> None:
    mathml = site_math.tex_to_mathml(tex, display=True)
    assert needle in mathml, mathml
    assert "\\" not in mathml.split("<annotation")[0], f"a command was left as text: {mathml}"
    assert "mathvariant=" not in mathml.replace('mathvariant="normal"', "")


@pytest.mark.parametrize(
    "tex, reason",
    [
        (r"\frac{a", "never closed"),
        (r"a}", "closes no"),
        (r"\frobnicate x", "unknown command"),
        ("x^", "latex2mathml"),
        ("a & b", "well-formed"),
        ("  ", "empty"),
    ],
)
def test_bad_tex_raises_math_error(tex: str, reason: str) -> None:
    with pytest.raises(site_math.MathError, match=reason):
        site_math.tex_to_mathml(tex)


def test_a_bad_formula_is_reported_and_kept_readable(tmp_path: Path, monkeypatch, capsys) -> None:
    cell = new_markdown_cell("Good $\\varepsilon$, bad $\\frac{a$ and $$\\frobnicate{x}$$")
    nbdir = course_of_one(tmp_path, monkeypatch, "01_bad.ipynb", "Bad math", cell)
    out = tmp_path / "site"
    args = ["--out", str(out), "--no-execute", "--notebooks", str(nbdir)]
    assert build_site.main([*args, "--exercises", str(tmp_path)]) == 0
    report = capsys.readouterr().out
    assert "1 formula(s) rendered as MathML, 2 left as TeX" in report
    assert "notebooks/01_bad.ipynb cells[1]: '\\\\frac{a'" in report
    assert "notebooks/01_bad.ipynb cells[1]: '\\\\frobnicate{x}' (unknown command" in report
    page = (out / "01_bad.html").read_text(encoding="utf-8")
    assert "$\\frac{a$</code>" in page and "$$\\frobnicate{x}$$</code>" in page
    assert page.count("<math") == 1
    # --strict turns the report into a failure
    assert build_site.main([*args, "--exercises", str(tmp_path), "--strict"]) == 1


def test_text_latex_outputs_become_mathml(tmp_path: Path, monkeypatch) -> None:
    latex = {"text/latex": "$\\displaystyle \\sigma^2$", "text/plain": "<M>"}
    cell = displaying("Math(r'\\sigma^2')", latex)
    nbdir = course_of_one(tmp_path, monkeypatch, "01_latex.ipynb", "Latex", cell)
    build_site.build(
        tmp_path / "s",
        execute_notebooks=False,
        notebooks_dir=nbdir,
        exercises_dir=tmp_path,
        **QUIET,
    )
    page = (tmp_path / "s" / "01_latex.html").read_text(encoding="utf-8")
    assert "<msup><mi>σ</mi><mn>2</mn></msup>" in page


# ============================================================================ index, navigation, alt text
def test_a_notebook_added_to_the_course_map_gets_a_page_and_an_index_row(
    tmp_path: Path, monkeypatch
) -> None:
    nbdir, exdir = tmp_path / "notebooks", tmp_path / "exercises"
    nbdir.mkdir()
    exdir.mkdir()
    nbformat.write(tiny_notebook("01. First"), nbdir / "01_first.ipynb")
    nbformat.write(
        tiny_notebook("08. Crypto", new_markdown_cell("$a+b$")), nbdir / "08_crypto.ipynb"
    )
    nbformat.write(tiny_notebook("Exercises 08"), exdir / "08_crypto.ipynb")
    nbformat.write(tiny_notebook("Exercises 09"), exdir / "09_orphan.ipynb")
    monkeypatch.setattr(
        nav, "COURSE", [("01_first.ipynb", "First", 30), ("08_crypto.ipynb", "Cryptography", 50)]
    )
    rows = build_site.build(
        tmp_path / "site",
        execute_notebooks=False,
        notebooks_dir=nbdir,
        exercises_dir=exdir,
        **QUIET,
    )
    assert [r["page"] for r in rows] == ["01_first.html", "08_crypto.html"]
    out = tmp_path / "site"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="08_crypto.html">Cryptography</a>' in index and "50 min" in index
    assert 'href="exercises-08_crypto.html"' in index
    assert "Other exercise sets" in index and 'href="exercises-09_orphan.html"' in index
    assert (out / "exercises-09_orphan.html").exists()
    first = (out / "01_first.html").read_text(encoding="utf-8")
    last = (out / "08_crypto.html").read_text(encoding="utf-8")
    assert 'href="08_crypto.html"' in first and 'href="index.html"' in first
    assert 'href="01_first.html"' in last and 'href="index.html"' in last
    assert "08 Cryptography" in first and "01 First" in last


def test_exercise_sets_by_number(tmp_path: Path) -> None:
    for name in ("03_dp.ipynb", "05b_flower.ipynb", "README.ipynb", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert {k: p.name for k, p in build_site.exercise_sets(tmp_path).items()} == {
        "03": "03_dp.ipynb",
        "05b": "05b_flower.ipynb",
    }


@pytest.mark.slow
def test_figures_show_and_are_described_whatever_the_backend(tmp_path: Path, monkeypatch) -> None:
    """No %matplotlib line and MPLBACKEND=Agg (as in the tests): the figures still reach the
    page, each described by its own labels, and the kernel's hook leaves no trace."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = (
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\n"
        "ax.plot([1, 2], label='Laplace'); ax.legend()\n"
        "ax.set(title=r'Noise at $\\varepsilon = 1$', xlabel='noise', ylabel='density')"
    )
    show = "plt.subplots()[1].plot([0, 1]); plt.show()\n"
    show += "print(sorted(k for k in globals() if 'course' in k.lower()))"
    cells = new_markdown_cell("## 2. Noise"), new_code_cell(code), new_code_cell(show)
    nbdir = course_of_one(tmp_path, monkeypatch, "01_figures.ipynb", "Figures", *cells)
    build_site.build(tmp_path / "s", notebooks_dir=nbdir, exercises_dir=tmp_path, **QUIET)
    soup = BeautifulSoup((tmp_path / "s" / "01_figures.html").read_text("utf-8"), "html.parser")
    alts = [img.get("alt") for img in soup.find_all("img")]
    assert alts == [
        "Noise at ε = 1 (x axis: noise; y axis: density; legend: Laplace)",
        "Figure 2 of the section '2. Noise' (no titles or axis labels)",
    ]
    assert "[]" in soup.get_text(), "the build's prelude left names in the kernel"


def test_figure_info_and_alt_text() -> None:
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    fig.suptitle(r"Noise at $\varepsilon = 1$")
    a.plot([0, 1], label="Laplace")
    a.legend()
    a.set(title="before", xlabel="noise", ylabel="density")
    image = b.imshow([[0, 1]])
    fig.colorbar(image, ax=b, label="share of team 0")
    hidden = fig.add_axes([0, 0, 0.1, 0.1])
    hidden.set_visible(False)
    info = site_html.figure_info(fig)
    plt.close(fig)
    json.dumps(info)  # plain data: it travels in the output's metadata
    assert [ax["colorbar"] for ax in info["axes"]] == [False, False, True]
    alt = site_html.alt_text(info, fallback="unused")
    assert alt == (
        "Noise at ε = 1. 2 panels: (1) before (x axis: noise; y axis: density; legend: Laplace). "
        "Colour scale: share of team 0"
    )
    assert site_html.alt_text(None, fallback="Figure 1") == "Figure 1"


def test_images_without_a_record_are_described_by_their_section() -> None:
    soup = BeautifulSoup(
        '<h2>3. Laplace<a class="anchor-link">¶</a></h2><img src="data:,">'
        f'<img alt="{site_html.NBCONVERT_DEFAULT_ALT}" src="data:,"><img alt="kept" src="data:,">',
        "html.parser",
    )
    assert site_html.describe_unlabelled_images(soup) == 2
    alts = [img["alt"] for img in soup.find_all("img")]
    assert alts == ["Image in the section '3. Laplace'"] * 2 + ["kept"]


# ============================================================================ failures
def test_error_cell_fails_the_build(tmp_path: Path, monkeypatch) -> None:
    """A notebook that raises never reaches the site."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(
        tiny_notebook("01. Broken", new_code_cell("1 / 0")), nbdir / "01_motivation.ipynb"
    )
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        build_site.build(tmp_path / "site", notebooks_dir=nbdir, exercises_dir=tmp_path, **QUIET)
    assert not (tmp_path / "site" / "01_motivation.html").exists()


def test_unrendered_build_and_bad_names(tmp_path: Path) -> None:
    rows = build_site.build(tmp_path, ["01_motivation.ipynb"], execute_notebooks=False, **QUIET)
    assert rows[0]["seconds"] is None and (tmp_path / "01_motivation.html").exists()
    with pytest.raises(ValueError, match="names must be notebooks of the course map"):
        build_site.build(tmp_path, ["99_nope.ipynb"], **QUIET)
    with pytest.raises(ValueError, match="kind must be"):
        build_site.rewrite_links("x", kind="solutions")
