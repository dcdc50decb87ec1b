"""Committed notebooks are stripped, carry the standard shape, and have fresh footers."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.nav import COURSE, FOOTER_MARK, footer, present_notebooks
from tests.repo_support import ROOT, load_tool, notebooks

ALL_NOTEBOOKS = sorted(
    p for folder in ("notebooks", "solutions", "exercises") for p in notebooks(folder)
)
COURSE_NOTEBOOKS = notebooks("notebooks")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_no_outputs_and_no_widget_state(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    with_outputs = [
        i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c.get("outputs")
    ]
    counted = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and c.get("execution_count")
    ]
    assert not with_outputs, (
        f"{path.name}: cells {with_outputs} carry outputs; clear them before committing"
    )
    assert not counted, f"{path.name}: cells {counted} carry execution counts"
    assert "widgets" not in nb.get("metadata", {}), (
        f"{path.name}: notebook metadata holds widget state"
    )


@pytest.mark.parametrize("path", COURSE_NOTEBOOKS, ids=_ids(COURSE_NOTEBOOKS))
def test_notebook_shape(path: Path) -> None:
    """Title, objectives, one setup cell seeding once, takeaways, glossary, quiz, footer."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert path.name in {n for n, _, _ in COURSE}, f"{path.name} is not in course_utils.nav.COURSE"
    assert md[0].startswith("# "), "the first cell is the title"
    text = "\n".join(md)
    for needle in ("You will be able to", "Key takeaways", "Glossary", "Check yourself"):
        assert needle in text, f"{path.name} lacks a '{needle}' section"
    setup_cells = [c for c in code if "setup(seed=" in c]
    assert len(setup_cells) == 1, (
        f"{path.name}: exactly one setup(seed=...) cell, found {len(setup_cells)}"
    )
    assert any("assert " in c for c in code), f"{path.name}: no claim-check assert cells"
    assert any("quiz(" in c for c in code), f"{path.name}: no check-yourself quiz"
    # the setup cell holds the imports, one name per helper used (no import *): it may run longer
    # (an import that ruff's isort wraps over several lines counts as one)
    limits = [30 if "setup(seed=" in c else 20 for c in code]
    long_cells = [i for i, c in enumerate(code) if _lines(c) > limits[i]]
    assert not long_cells, (
        f"{path.name}: code cells {long_cells} exceed 20 lines (the setup cell 30) as ruff formats "
        "them; split them at a natural seam, write them more simply or move code to course_utils"
    )


def test_footers_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "footers.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_footer_skips_missing_neighbours() -> None:
    text = footer(
        "03_dp_mechanisms.ipynb", present={"01_motivation.ipynb", "03_dp_mechanisms.ipynb"}
    )
    assert text.startswith(FOOTER_MARK)
    assert "01_motivation.ipynb" in text and "02_" not in text and "04_" not in text


def test_footer_numbers_with_a_letter() -> None:
    """A notebook numbered like "05b" keeps its whole number in the neighbours' links."""
    from course_utils.nav import notebook_number

    assert notebook_number("05b_flower.ipynb") == "05b"
    assert "[05b " in footer("05_federated_learning.ipynb")
    assert "[&larr; 05b " in footer("06_robustness.ipynb")
    for bad in ("flower.ipynb", "ab_x.ipynb"):
        with pytest.raises(ValueError, match="name must look like"):
            notebook_number(bad)


def test_footer_check_detects_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    footers = load_tool("footers")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("01_motivation.ipynb", "02_threat_models.ipynb"):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T")])
        nbformat.write(nb, folder / name)
    monkeypatch.setattr(footers, "NOTEBOOKS", folder)
    assert footers.main(["--check"]) == 1
    assert footers.main(["--write"]) == 0
    assert footers.main(["--check"]) == 0
    assert present_notebooks(folder) == {"01_motivation.ipynb", "02_threat_models.ipynb"}
    # a hand edit of the footer makes it stale again
    path = folder / "01_motivation.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += " edited"
    nbformat.write(nb, path)
    assert footers.main(["--check"]) == 1


def _lines(source: str) -> int:
    r"""Lines of a code cell, a parenthesised ``from x import (...)`` counted as one line.

    >>> _lines("from a import (\n    b,\n    c,\n)\nx = 1")
    2
    """
    return len(
        re.sub(r"^(from \S+ import )\((?:[^)]*)\)", r"\1...", source, flags=re.M).splitlines()
    )


#: Methods of matplotlib's Axes/pyplot that return an artist (or a list of them): as a cell's last
#: line they print a repr such as ``<matplotlib.legend.Legend at 0x...>`` under the figure.
ARTIST_RETURNING = {
    "annotate", "axhline", "axvline", "bar", "barh", "colorbar", "errorbar", "fill_between",
    "hist", "imshow", "legend", "loglog", "plot", "scatter", "semilogx", "semilogy", "set",
    "set_title", "set_xlabel", "set_ylabel", "step", "suptitle", "text",
}  # fmt: skip


def _prints_an_artist(source: str) -> bool:
    """Does the cell end in a call like ``ax.legend(...)`` whose repr Jupyter would print?"""
    if source.rstrip().endswith(";"):
        return False
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    body = ast.parse("\n".join(lines)).body
    last = body[-1].value if body and isinstance(body[-1], ast.Expr) else None
    return (
        isinstance(last, ast.Call)
        and isinstance(last.func, ast.Attribute)
        and last.func.attr in ARTIST_RETURNING
    )


def test_artist_rule_can_fail() -> None:
    assert _prints_an_artist("ax.plot(x)\nax.legend(fontsize=8)")
    assert _prints_an_artist("plt.title('a')\nplt.legend(\n    loc='upper left',\n)")
    assert not _prints_an_artist("ax.legend(fontsize=8);")
    assert not _prints_an_artist("ax.legend()\nplt.show()")
    assert not _prints_an_artist("table.round(3)")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_ids(ALL_NOTEBOOKS))
def test_no_cell_prints_a_matplotlib_repr(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and _prints_an_artist("".join(c["source"]))
    ]
    assert not bad, f"{path.name}: cells {bad} end in a plotting call; end the line with ';'"
