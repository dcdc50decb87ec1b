"""attack_epsilon_lower_bound: hand-computed values, both directions, validity, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from course_utils.privacy.audit import attack_epsilon_lower_bound, epsilon_lower_bound


def _cp(k: int, n: int, level: float) -> tuple[float, float]:
    """One-sided Clopper-Pearson bounds at ``level``, from scipy (an independent computation)."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=2 * level - 1, method="exact")
    return ci.low, ci.high


def test_perfect_attack_matches_the_closed_form() -> None:
    # k = n: the lower bound is (alpha/2)^(1/n); k = 0: the upper bound is 1 - (alpha/2)^(1/n)
    lo = 0.025 ** (1 / 10)
    want = math.log(lo / (1 - lo))
    assert attack_epsilon_lower_bound(10, 0, 10, 10) == pytest.approx(want, rel=1e-12)
    assert round(want, 4) == 0.8072


def test_delta_is_subtracted_from_the_rate_bound() -> None:
    lo = 0.025 ** (1 / 10)
    want = math.log((lo - 0.1) / (1 - lo))
    assert attack_epsilon_lower_bound(10, 0, 10, 10, delta=0.1) == pytest.approx(want, rel=1e-12)


def test_the_second_direction_counts() -> None:
    # says "member" for everyone but 100 non-members: TPR/FPR = 1/0.9, TNR/FNR = 0.1/0
    forward = math.log(_cp(1000, 1000, 0.975)[0] / _cp(900, 1000, 0.975)[1])
    backward = math.log(_cp(100, 1000, 0.975)[0] / (1 - 0.025 ** (1 / 1000)))
    assert forward < 0.1 < 3 < backward
    got = attack_epsilon_lower_bound(1000, 900, 1000, 1000)
    assert got == pytest.approx(backward, rel=1e-9)
    assert got == pytest.approx(epsilon_lower_bound(100, 1000, 0, 1000), rel=1e-12)


def test_general_counts_against_scipy() -> None:
    tp, fp, n_pos, n_neg = 120, 7, 400, 600
    want = max(
        math.log((_cp(tp, n_pos, 0.975)[0] - 1e-3) / _cp(fp, n_neg, 0.975)[1]),
        math.log((_cp(n_neg - fp, n_neg, 0.975)[0] - 1e-3) / _cp(n_pos - tp, n_pos, 0.975)[1]),
    )
    got = attack_epsilon_lower_bound(tp, fp, n_pos, n_neg, delta=1e-3)
    assert got == pytest.approx(want, rel=1e-9)


def test_no_evidence_gives_zero() -> None:
    assert attack_epsilon_lower_bound(0, 0, 50, 50) == 0.0
    assert attack_epsilon_lower_bound(25, 25, 50, 50) == 0.0
    assert attack_epsilon_lower_bound(50, 50, 50, 50) == 0.0


def test_relabelling_the_attack_gives_the_same_bound() -> None:
    # the same test read the other way round (members <-> non-members, yes <-> no)
    tp, fp, p, n = 37, 4, 200, 300
    assert attack_epsilon_lower_bound(tp, fp, p, n) == pytest.approx(
        attack_epsilon_lower_bound(n - fp, p - tp, n, p), rel=1e-12
    )


def test_monotone_in_evidence_and_confidence() -> None:
    base = attack_epsilon_lower_bound(60, 10, 200, 200)
    assert attack_epsilon_lower_bound(80, 10, 200, 200) > base
    assert attack_epsilon_lower_bound(60, 5, 200, 200) > base
    assert attack_epsilon_lower_bound(60, 10, 200, 200, confidence=0.99) < base
    assert attack_epsilon_lower_bound(60, 10, 200, 200, confidence=0.5) > base


def test_arrays_broadcast() -> None:
    out = attack_epsilon_lower_bound(np.array([10, 5, 0]), np.array([0, 5, 0]), 10, 10)
    assert out.shape == (3,)
    assert out[0] == pytest.approx(attack_epsilon_lower_bound(10, 0, 10, 10)) and out[1] == 0.0


def test_valid_for_randomized_response() -> None:
    """epsilon-DP randomized response: the bound exceeds the true epsilon in <= 5 % of audits."""
    eps, n = 1.0, 300
    g = np.random.default_rng(0)
    p = math.exp(eps) / (1 + math.exp(eps))
    tp, fp = g.binomial(n, p, size=4000), g.binomial(n, 1 - p, size=4000)
    bounds = attack_epsilon_lower_bound(tp, fp, n, n)
    assert np.mean(bounds > eps) <= 0.05
    assert np.median(bounds) > 0.5  # and not useless


@pytest.mark.parametrize(
    "args, kwargs, word",
    [
        ((11, 0, 10, 10), {}, "tp"),
        ((0, 11, 10, 10), {}, "fp"),
        ((-1, 0, 10, 10), {}, "tp"),
        ((2.5, 0, 10, 10), {}, "tp"),
        ((True, 0, 10, 10), {}, "tp"),
        ((0, 0, 0, 10), {}, "n_pos"),
        ((0, 0, 10, 0), {}, "n_neg"),
        ((1, 0, 10, 10), {"delta": -0.1}, "delta"),
        ((1, 0, 10, 10), {"confidence": 1.0}, "confidence"),
        (("a", 0, 10, 10), {}, "tp"),
    ],
)
def test_bad_input(args, kwargs, word) -> None:
    with pytest.raises(ValueError, match=word):
        attack_epsilon_lower_bound(*args, **kwargs)
