"""Every exercise set in solutions/: exercises/ is exactly the generator's output, no solution line
leaks, the solutions score full marks through the autograder, and the exercises run top to bottom
(answers raise NotImplementedError, self-checks say "not implemented yet") and score 0.

Parametrized over ``solutions/*.ipynb``, so a new exercise set is covered as soon as it lands.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from course_utils import checks
from course_utils.grading import (
    BEGIN,
    END,
    _dump,
    _set_number_from_name,
    exercise_notebook,
    grade_paths,
)
from tests.repo_support import ROOT, notebooks

SOLUTIONS = notebooks("solutions")
IDS = [p.name for p in SOLUTIONS]

pytestmark = pytest.mark.skipif(not SOLUTIONS, reason="no exercise sets yet")


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _solution_lines(src: str) -> tuple[list[str], list[str]]:
    """(lines inside solution blocks, lines outside them) of one cell, stripped."""
    inside, outside, on = [], [], False
    for line in src.splitlines():
        s = line.strip()
        if s == BEGIN:
            on = True
        elif s == END:
            on = False
        elif s:
            (inside if on else outside).append(s)
    return inside, outside


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_exercises_are_the_generators_output(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    want = _dump(exercise_notebook(nb, set_number=_set_number_from_name(path), name=path.name))
    target = ROOT / "exercises" / path.name
    assert target.exists(), f"exercises/{path.name} is missing: run `make exercises`"
    assert target.read_text(encoding="utf-8") == want, (
        f"exercises/{path.name} differs from the generator's output: run `make exercises` "
        "(never edit exercises/ by hand)"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_no_solution_line_leaks(path: Path) -> None:
    sol = nbformat.read(path, as_version=4)
    ex = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    inside, outside = [], []
    for src in _code(sol):
        i, o = _solution_lines(src)
        inside += i
        outside += o
    assert inside, f"{path.name} has no solution blocks"
    ex_lines = {line.strip() for src in _code(ex) for line in src.splitlines()}
    ex_lines |= {
        line.strip()
        for c in ex.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
    }
    leaked = [line for line in inside if line in ex_lines and line not in outside]
    assert not leaked, f"solution lines visible in exercises/{path.name}: {leaked[:5]}"
    assert not any(BEGIN in s or END in s for s in _code(ex))


@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_every_registered_question_has_an_answer_and_a_self_check(path: Path) -> None:
    n = _set_number_from_name(path)
    qs = checks.questions(n)
    # 3-6 core questions, plus at most one challenge question (issue 23)
    assert 3 <= len(qs) <= 7, f"set {n:02d} registers {len(qs)} questions; 3-7 expected"
    text = "\n".join(_code(nbformat.read(path, as_version=4)))
    for q in qs:
        assert f"def {q.answer}(" in text or f"{q.answer} =" in text, (
            f"{path.name}: no `{q.answer}`"
        )
        assert f'check("{q.qid}", {q.answer})' in text, (
            f"{path.name}: no self-check cell for {q.qid}"
        )
    assert not checks.LOAD_ERRORS, checks.LOAD_ERRORS


def _only_unfinished_errors(enames: list[str], context: str) -> None:
    """An exercise notebook may only fail with NotImplementedError (an answer not written yet).

    A NameError would mean a demo cell uses the result of an unfinished answer: the student would
    meet a confusing traceback, so such cells must check first and say what to finish."""
    assert all(e == "NotImplementedError" for e in enames), (enames, context)


@pytest.fixture(scope="module")
def graded() -> dict[tuple[str, str], object]:
    """Grade solutions/NN and exercises/NN of every set in one batch, two kernels in parallel."""
    pairs = [p for path in SOLUTIONS for p in (path, ROOT / "exercises" / path.name)]
    grades = grade_paths(pairs, any_set=True, timeout=120, jobs=2)
    return {(Path(g.path).parent.name, Path(g.path).name): g for g in grades}


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_solutions_score_full_marks(graded, path: Path) -> None:
    g = graded[("solutions", path.name)]
    assert g.total == g.max_total > 0, g.table()
    assert not g.errors and not g.flags, g.table()


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_exercises_score_zero_without_crashing(graded, path: Path) -> None:
    g = graded[("exercises", path.name)]
    assert g.total == 0 and g.max_total > 0, g.table()
    assert {q.status for q in g.questions} == {"not implemented"}, g.table()
    _only_unfinished_errors([e.split(": ", 1)[-1].split(":")[0] for e in g.errors], g.path)
    assert not g.flags, g.table()


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=IDS)
def test_exercise_self_checks_say_not_implemented(path: Path) -> None:
    """Run exercises/NN top to bottom like a student: every self-check cell shows its box."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    enames = [
        o.ename
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    _only_unfinished_errors(enames, path.name)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.source.startswith("check("):
            text = json.dumps([o.get("data", o.get("text", "")) for o in cell.outputs])
            assert "not implemented yet" in text, (cell.source, text[:300])
