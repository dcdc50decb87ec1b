"""The static site builder (tools/build_site.py): one real notebook built end to end."""

from __future__ import annotations

import doctest
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_site"] = module
    spec.loader.exec_module(module)
    return module


build_site = _load()


def test_doctests() -> None:
    result = doctest.testmod(build_site, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    rows = build_site.build(out, ["01_motivation.ipynb"], log=lambda *_: None)
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
def test_index_and_exercise_page(site: Path) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="01_motivation.html">Why models leak data</a>' in index
    assert "45 min" in index
    assert "(not built yet)" in index  # the other notebooks were not part of this build
    exercises = (site / "exercises-01_motivation.html").read_text(encoding="utf-8")
    assert "Exercise 1.1" in exercises and 'href="01_motivation.html"' in exercises


def test_error_cell_fails_the_build(tmp_path: Path) -> None:
    """A notebook that raises never reaches the site."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# 01. Broken"), new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, nbdir / "01_motivation.ipynb")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        build_site.build(
            tmp_path / "site", notebooks_dir=nbdir, exercises_dir=tmp_path, log=lambda *_: None
        )
    assert not (tmp_path / "site" / "01_motivation.html").exists()


def test_unrendered_build_and_bad_names(tmp_path: Path) -> None:
    rows = build_site.build(
        tmp_path, ["01_motivation.ipynb"], execute_notebooks=False, log=lambda *_: None
    )
    assert rows[0]["seconds"] is None and (tmp_path / "01_motivation.html").exists()
    with pytest.raises(ValueError, match="names must be notebooks of the course map"):
        build_site.build(tmp_path, ["99_nope.ipynb"], log=lambda *_: None)
    with pytest.raises(ValueError, match="kind must be"):
        build_site.rewrite_links("x", kind="solutions")
