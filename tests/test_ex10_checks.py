"""Exercise set 10 (the capstone audit): the mystery hands out what it promises and keeps its
hidden settings out of it, and the checks compare with the course's audit functions. Registration,
the reference answers and unfinished ones are tested for every set in
``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex10.py``."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import get_question
from course_utils.checks.ex10_audit import (
    CLAIM,
    ROBUST_EPS,
    Mystery,
    _exact_robust,
    _members,
    mystery,
)


# ------------------------------------------------------------------------------------ the mystery
def test_mystery_hands_out_what_it_promises() -> None:
    m = mystery()
    assert isinstance(m, Mystery) and m is mystery()  # computed once
    assert m.claim == CLAIM and m.claim["epsilon"] == 2.0 and m.claim["delta"] == 1e-5
    assert m.weights.shape == (10, 64) and m.bias.shape == (10,)
    assert m.X_audit.shape == (600, 64) and m.reference_logits.shape == (4, 600, 10)
    assert m.X_population.shape == (400, 64) and m.reference_population_logits.shape == (4, 400, 10)
    assert m.X_test.shape == (450, 64) and m.X_test.min() >= 0 and m.X_test.max() <= 1
    assert not m.weights.flags.writeable  # the learner cannot change the grader's copy
    assert m.logits(m.X_test).shape == (450, 10)
    assert "members" not in repr(m) and not any("member" in f for f in Mystery.__dataclass_fields__)
    members = _members()
    assert members.sum() == 300  # half of the audited records trained the model
    accuracy = (m.logits(m.X_test).argmax(1) == m.y_test).mean()
    assert 0.9 < accuracy < 0.98


def test_canary_runs_refute_the_claim() -> None:
    s_in, s_out = mystery().canary_runs(300, rng=0)
    assert s_in.shape == s_out.shape == (300,)
    assert (
        s_in.mean() > s_out.mean() + 5
    )  # the hidden bug: the canary moves its weight by about C per step
    with pytest.raises(ValueError, match="n_runs"):
        mystery().canary_runs(1)


def test_the_checks_compare_with_the_course_audit_functions() -> None:
    assert "course_utils.privacy.audit.attack_epsilon_lower_bound" in get_question("10.1").reference
    assert "course_utils.attacks.membership.rmia_scores" in get_question("10.3").reference


def test_10_4_the_exact_worst_case_is_never_beaten_by_an_attack() -> None:
    """The check's truth is the exact worst case of the linear model over the box: a step of
    eps along the sign of the margin's gradient (one corner of the box) never finds an error it
    misses."""
    m = mystery()
    W, b, X, y = np.array(m.weights), np.array(m.bias), np.array(m.X_test), np.array(m.y_test)
    robust = _exact_robust(W, b, X, y, ROBUST_EPS)
    logits = X @ W.T + b
    runner = np.where(np.eye(10, dtype=bool)[y], -np.inf, logits).argmax(1)
    X_adv = np.clip(X + ROBUST_EPS * np.sign(W[runner] - W[y]), 0, 1)
    attacked_ok = (X_adv @ W.T + b).argmax(1) == y
    assert np.all(attacked_ok[robust])
    assert 0.05 < robust.mean() < (logits.argmax(1) == y).mean()
