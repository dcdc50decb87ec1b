"""course_utils.stats: the one Clopper-Pearson interval (two-sided and one-sided)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_utils.stats import clopper_pearson


@pytest.mark.parametrize("k, n", [(0, 20), (3, 20), (20, 20), (512, 1000)])
@pytest.mark.parametrize("confidence", [0.9, 0.999])
def test_matches_scipy_binomtest(k, n, confidence):
    lo, hi = clopper_pearson(k, n, confidence=confidence)
    want = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    assert lo == pytest.approx(want.low, abs=1e-12) and hi == pytest.approx(want.high, abs=1e-12)
    for side, alternative in (("lower", "greater"), ("upper", "less")):
        got = clopper_pearson(k, n, confidence=confidence, side=side)
        want = stats.binomtest(k, n, alternative=alternative).proportion_ci(
            confidence_level=confidence, method="exact"
        )
        assert got == pytest.approx((want.low, want.high), abs=1e-12)


def test_one_sided_lower_bound_is_the_certificate_formula():
    lower, upper = clopper_pearson(100, 100, confidence=0.999, side="lower")
    assert lower == pytest.approx(0.001 ** (1 / 100)) and upper == 1.0
    assert clopper_pearson(0, 100, confidence=0.99, side="lower") == (0.0, 1.0)


def test_vectorised_and_covers_the_truth():
    rng = np.random.default_rng(0)
    k = rng.binomial(50, 0.3, size=2000)
    lo, hi = clopper_pearson(k, 50, confidence=0.95)
    assert lo.shape == (2000,) and np.all(lo <= hi)
    assert ((lo <= 0.3) & (0.3 <= hi)).mean() >= 0.95  # exact intervals over-cover
    lower, _ = clopper_pearson(k, 50, confidence=0.95, side="lower")
    assert (lower <= 0.3).mean() >= 0.95


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(k=5, n=0), "n >= 1"),
        (dict(k=-1, n=10), "count"),
        (dict(k=11, n=10), "count"),
        (dict(k=1, n=10, confidence=1.0), "confidence"),
        (dict(k=1, n=10, confidence=0), "confidence"),
        (dict(k=1, n=10, side="left"), "side"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        clopper_pearson(**kwargs)
