"""The course's claim rules that a machine can check (CONTRIBUTING, "Saying only what is true").

* No notebook asserts on wall-clock time: a notebook must pass on a loaded laptop, so timings are
  shown and explained, and their targets live in ``benchmarks/`` (``make bench``). The detector
  follows every name whose value comes from a clock or a timing helper (``time.perf_counter``,
  ``*_seconds(...)``, ``.seconds``, a function that reads a clock, ...) through later assignments,
  and fails on an ``assert`` that uses one, or that names a time unit.
* Every notebook states its prerequisites in its title cell.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tests.repo_support import notebooks

NOTEBOOKS = notebooks("notebooks")
#: Source fragments that mean "this value is a wall-clock measurement".
CLOCK = re.compile(
    r"perf_counter|process_time|monotonic\(|time\.time\(|_seconds\(|\.seconds\b|round_seconds|"
    r"\.breakdown\(|timeit"
)
#: Words in an assert that name a time quantity (a column such as "ms per deletion").
TIME_WORDS = re.compile(r"\bseconds?\b|\bms\b|millisecond|wall[- ]?time|\bper step\b|\bper epoch\b")


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code"]


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def timing_asserts(cells: list[str]) -> list[str]:
    """The assert statements (source) that depend on wall-clock time, in cell order."""
    tainted: set[str] = set()
    found = []
    for source in cells:
        lines = source.splitlines()  # IPython magics and shell lines are not Python
        tree = ast.parse(
            "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
        )
        nodes = [n for n in ast.walk(tree) if hasattr(n, "lineno")]
        for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset)):  # in source order
            if isinstance(node, ast.FunctionDef) and CLOCK.search(ast.unparse(node)):
                tainted.add(node.name)  # a function that reads a clock taints what it returns
            elif (
                isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
                and node.value is not None
            ):
                timed = bool(CLOCK.search(ast.unparse(node.value)) or _names(node.value) & tainted)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if timed:
                        tainted |= _names(target)
                    elif isinstance(target, ast.Name) and not isinstance(node, ast.AugAssign):
                        tainted.discard(target.id)  # the name now holds something else
            elif isinstance(node, ast.Assert):
                text = ast.unparse(node)
                if _names(node) & tainted or CLOCK.search(text) or TIME_WORDS.search(text):
                    found.append(text)
    return found


@pytest.mark.parametrize(
    "cells",
    [
        [
            "import time\nstart = time.perf_counter()\nx = 1\nsecs = time.perf_counter() - start",
            "assert secs < 20",
        ],
        [
            "s = {m: gradient_step_seconds(m) for m in 'ab'}\nratios = s['a'] / s['b']",
            "assert ratios < 2",
        ],
        [
            "def seconds(f):\n    t = time.perf_counter(); f()\n    return time.perf_counter() - t",
            "t = seconds(g)\nassert t < 1",
        ],
        [
            "rows = []\nfor S in (1, 20):\n    t0 = time.perf_counter()\n    rows.append({'ms': t0})\nsisa = make(rows)",
            "assert sisa.loc[20, 'ms per deletion'] < 0.7 * sisa.loc[1, 'ms per deletion']",
        ],
        ["b = flower.breakdown()", "assert b['start'] > 2 * b['rounds']"],
        ["%time x = 1\nassert flower.seconds > 5"],
    ],
)
def test_the_detector_catches_timing_asserts(cells: list[str]) -> None:
    """Negative controls: each of these (most of them from the notebooks before issue 16) is caught."""
    assert timing_asserts(cells)


def test_the_detector_leaves_other_asserts_alone() -> None:
    cells = ["acc = evaluate(model)\nratio = acc / base\nassert 0.8 < acc < 0.9 and ratio > 1",
             "import time\nt = time.perf_counter()\nprint(t)", "assert abs(state['max_abs_log_ratio'] - eps) < 1e-9"]  # fmt: skip
    assert timing_asserts(cells) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_notebook_asserts_on_wall_clock_time(path: Path) -> None:
    found = timing_asserts(_code_cells(path))
    assert not found, (
        f"{path.name} asserts on wall-clock time: {found}. Show and explain timings; put targets "
        "in benchmarks/ (make bench) - a notebook must pass on a loaded laptop."
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_states_its_prerequisites(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    title = "".join(nb["cells"][0]["source"])
    assert "Prerequisites:" in title, f"{path.name}: state the prerequisites in the title cell"
