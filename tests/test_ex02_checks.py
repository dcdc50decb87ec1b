"""Exercise set 02: the reference answers (and the course's own functions) pass, unfinished
answers are "not implemented", and the checks' inputs tell the wrong definitions apart. The wrong
and unusual-but-correct answers are in ``tests/wrong_answers/ex02.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.checks import REGISTRY, run_check
from course_utils.checks.ex02_threat_models import (
    _TPR_HINTS,
    _ranking_case,
    _same_order,
    _score_mistakes,
    _tpr_cases,
    _tpr_variants,
)
from tests.check_support import passes, solution_namespace

SOL = solution_namespace("02_threat_models", np=np, pd=pd)
ANSWERS = {
    "2.1": "membership_scores",
    "2.2": "tpr_at_fpr",
    "2.3": "k_anonymity",
    "2.4": "rules_for_k5",
}


def test_set02_is_registered_with_points() -> None:
    assert [REGISTRY[q].points for q in ANSWERS] == [2, 3, 2, 2]
    assert {q: REGISTRY[q].answer for q in ANSWERS} == ANSWERS
    assert all(REGISTRY[q].reference for q in ("2.1", "2.2", "2.3"))


def test_the_course_implementations_pass() -> None:
    from course_utils.attacks.membership import loss_threshold_scores
    from course_utils.attacks.membership import tpr_at_fpr as lib_tpr

    passes(
        "2.1",
        lambda p, y: loss_threshold_scores(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))),
    )
    # the exercise asks for the library's own signature, scikit-learn's (y_true, y_score) order
    passes("2.2", lib_tpr)


@pytest.mark.parametrize("qid", list(ANSWERS))
def test_unfinished_answers_are_not_implemented(qid) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}")

    assert run_check(qid, unfinished).status == "not implemented"


def test_2_1_ranking_case_orders_every_mistake_differently() -> None:
    probs, labels = _ranking_case()
    p_true = probs[np.arange(len(labels)), labels]
    for wrong, hint in _score_mistakes(probs, labels):
        assert not _same_order(wrong, p_true), hint


def test_2_2_each_mistake_is_caught_by_some_case() -> None:
    variants = [_tpr_variants(s, y, f) for s, y, f, _, _ in _tpr_cases()]
    for name in _TPR_HINTS:
        assert any(abs(v[name] - v["right"]) > 1e-9 for v in variants), name


def test_2_3_integer_answer_is_shown_as_an_integer() -> None:
    """Issue #28: k returned as a float (the average class size, 5.0) is shown as 5, not 5.0."""
    r = run_check("2.3", lambda t, q: t.groupby(q, dropna=False).size().mean())
    assert r.got == "5" and "average class size" in r.hint
