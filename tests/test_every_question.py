"""Every registered exercise question, of every set: its reference answer in ``solutions/``
passes with full points, and an unfinished answer is reported "not implemented" (never a crash
or a failure). The per-set test files hold what is particular to each question."""

from __future__ import annotations

import functools

import pytest

from course_utils.checks import questions, run_check
from tests.check_support import ROOT, solution_namespace


@functools.cache
def _solutions(set_number: int) -> dict:
    (path,) = (ROOT / "solutions").glob(f"{set_number:02d}_*.ipynb")
    return solution_namespace(path, with_imports=True)


@pytest.mark.parametrize("q", questions(), ids=lambda q: q.qid)
def test_reference_answer_earns_full_points(q) -> None:
    result = run_check(q.qid, _solutions(q.set_number)[q.answer])
    assert result.passed and result.points == q.points, str(result)


@pytest.mark.parametrize("q", questions(), ids=lambda q: q.qid)
def test_unfinished_answer_is_reported_not_implemented(q) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {q.qid}: {q.task}")

    result = run_check(q.qid, unfinished)
    assert result.status == "not implemented" and result.points == 0, str(result)
