"""Exercise set 07: the reference answers pass, unfinished answers are "not implemented", and
7.1's last case tells the closed form from a refit. The wrong and unusual-but-correct answers are
in ``tests/wrong_answers/ex07.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks import REGISTRY
from course_utils.checks.ex07_unlearning import _closed_form, _pen, _ridge, _ridge_problem
from tests.check_support import solution_namespace

SOL = solution_namespace("07_unlearning", np=np)
ANSWERS = {
    "7.1": "remove_ridge_row",
    "7.2": "newton_unlearn_logistic",
    "7.3": "reconstruct_from_update",
    "7.4": "attack_cosine_under_noise",
}


def test_set07_is_registered_with_points_and_references() -> None:
    assert [REGISTRY[q].points for q in ANSWERS] == [3, 2, 3, 2]
    assert {q: REGISTRY[q].answer for q in ANSWERS} == ANSWERS
    assert all(REGISTRY[q].reference for q in ANSWERS)


def test_7_1_closed_form_is_exact_at_the_fit_and_not_elsewhere() -> None:
    """At the exact fit the task's update equals refitting; from a nudged theta it does not, which
    is how the check tells the closed form (asked for) from a refit."""
    X, y = _ridge_problem(4, 20, 3)
    P = _pen(4, 1.0)
    refit = _ridge(np.delete(X, 6, 0), np.delete(y, 6), 1.0)
    theta = _ridge(X, y, 1.0)
    assert np.allclose(_closed_form(theta, X, y, 6, P), refit)
    nudged = theta + 0.05 * np.random.default_rng(4).normal(size=4)
    assert np.abs(_closed_form(nudged, X, y, 6, P) - refit).max() > 1e-2
