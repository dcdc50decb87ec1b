"""Exercise set 02: the course's own functions pass and the checks' inputs tell the wrong
definitions apart. Registration, the reference answers and unfinished ones are tested for every
set in ``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex02.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks import run_check
from course_utils.checks.ex02_threat_models import (
    _TPR_HINTS,
    _ranking_case,
    _same_order,
    _score_mistakes,
    _tpr_cases,
    _tpr_variants,
)
from tests.check_support import passes


def test_the_course_implementations_pass() -> None:
    from course_utils.attacks.membership import loss_threshold_scores
    from course_utils.attacks.membership import tpr_at_fpr as lib_tpr

    passes(
        "2.1",
        lambda p, y: loss_threshold_scores(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))),
    )
    # the exercise asks for the library's own signature, scikit-learn's (y_true, y_score) order
    passes("2.2", lib_tpr)


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
