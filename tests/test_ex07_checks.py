"""Exercise set 07: 7.1's last case tells the closed form from a refit. Registration, the
reference answers and unfinished ones are tested for every set in
``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex07.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks._ex07_cases import _ridge_penalised_intercept
from course_utils.checks.ex07_unlearning import _closed_form, _pen, _ridge, _ridge_problem


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


def test_the_checks_ridge_leaves_the_intercept_unpenalised_and_the_slip_does_not() -> None:
    """The ridge fits of 7.1 and the SISA challenge 7.5: shifting every target by 100 moves only
    the (unpenalised) intercept, by exactly 100; the slip lam * I shrinks that move."""
    X, y = _ridge_problem(4, 20, 3)
    shift = np.r_[100.0, np.zeros(3)]
    assert np.allclose(_ridge(X, y + 100.0, 5.0) - _ridge(X, y, 5.0), shift)
    slip = _ridge_penalised_intercept(X, y + 100.0, 5.0) - _ridge_penalised_intercept(X, y, 5.0)
    assert not np.allclose(slip, shift)
