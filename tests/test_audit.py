"""The audit gives valid lower bounds, is tight for Laplace, and catches buggy mechanisms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from course_utils.privacy.audit import (
    AuditResult,
    audit_samples,
    clopper_pearson,
    empirical_epsilon,
    epsilon_lower_bound,
    plot_audit,
)
from course_utils.privacy.mechanisms import (
    gaussian_mechanism,
    laplace_mechanism,
    randomized_response,
)


def laplace_count(epsilon: float):
    def mech(data, rng):
        return laplace_mechanism(float(np.sum(data)), sensitivity=1.0, epsilon=epsilon, rng=rng)

    return mech


def inverted_laplace_count(epsilon: float):
    """The classic bug: scale = sensitivity * epsilon instead of sensitivity / epsilon."""

    def mech(data, rng):
        return float(np.sum(data) + rng.laplace(0.0, 1.0 * epsilon))

    return mech


# --------------------------------------------------------------------------- Clopper-Pearson
@pytest.mark.parametrize("k, n", [(0, 20), (3, 20), (20, 20), (512, 1000)])
def test_clopper_pearson_matches_scipy(k, n) -> None:
    lo, hi = clopper_pearson(k, n, confidence=0.9)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.9, method="exact")
    assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_clopper_pearson_vectorised_and_covers() -> None:
    g = np.random.default_rng(0)
    k = g.binomial(50, 0.3, size=2000)
    lo, hi = clopper_pearson(k, 50, confidence=0.95)
    assert lo.shape == (2000,)
    assert np.mean((lo <= 0.3) & (0.3 <= hi)) >= 0.95  # exact intervals are conservative


@pytest.mark.parametrize("k, n, word", [(5, 0, "n"), (-1, 10, "count"), (11, 10, "count")])
def test_clopper_pearson_bad_counts(k, n, word) -> None:
    with pytest.raises(ValueError, match=word):
        clopper_pearson(k, n)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson(1, 10, confidence=1.0)


def test_epsilon_lower_bound_behaviour() -> None:
    base = epsilon_lower_bound(5000, 10_000, 1839, 10_000)
    assert 0.9 < base < 1.0  # true ratio e
    assert epsilon_lower_bound(50_000, 100_000, 18_394, 100_000) > base  # more data, tighter
    assert epsilon_lower_bound(5000, 10_000, 1839, 10_000, confidence=0.5) > base
    assert epsilon_lower_bound(5000, 10_000, 1839, 10_000, delta=0.05) < base
    assert epsilon_lower_bound(1839, 10_000, 5000, 10_000) == 0.0
    with pytest.raises(ValueError, match="delta"):
        epsilon_lower_bound(1, 2, 1, 2, delta=-0.1)


# --------------------------------------------------------------------------- validity and tightness
def test_audit_rarely_exceeds_the_true_epsilon() -> None:
    """With 95 % confidence, at most ~5 % of audits of a correct mechanism may overshoot."""
    g = np.random.default_rng(42)
    lbs = np.array(
        [
            audit_samples(g.laplace(0, 1, 400), g.laplace(1, 1, 400)).epsilon_lower
            for _ in range(200)
        ]
    )
    assert np.mean(lbs > 1.0) <= 0.05
    assert lbs.mean() > 0.3  # and it is not trivially zero


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0])
def test_correct_laplace_passes_and_the_audit_is_tight(epsilon) -> None:
    lb = empirical_epsilon(
        laplace_count(epsilon), [1, 0, 1], [1, 1, 1], n_samples=40_000, rng=np.random.default_rng(1)
    )
    assert 0.85 * epsilon < lb <= epsilon


def test_audit_flags_the_inverted_scale() -> None:
    claimed = 0.5  # the buggy scale is 0.5 instead of 2: true epsilon 2
    lb = empirical_epsilon(
        inverted_laplace_count(claimed),
        [0, 1],
        [1, 1],
        n_samples=20_000,
        rng=np.random.default_rng(2),
    )
    assert lb > 3 * claimed


def test_audit_flags_a_missing_clip() -> None:
    """A mean of values promised to lie in [0, 1], noised for sensitivity 1/n, but never clipped."""

    def unclipped_mean(data, rng):
        data = np.asarray(data, dtype=float)
        return laplace_mechanism(
            float(data.mean()), sensitivity=1.0 / data.size, epsilon=1.0, rng=rng
        )

    d = np.full(10, 0.5)
    d_prime = d.copy()
    d_prime[0] = 5.0  # an outlier nobody clipped
    lb = empirical_epsilon(unclipped_mean, d, d_prime, n_samples=5000, rng=np.random.default_rng(3))
    assert lb > 2.0

    def clipped_mean(data, rng):
        data = np.clip(np.asarray(data, dtype=float), 0.0, 1.0)
        return laplace_mechanism(
            float(data.mean()), sensitivity=1.0 / data.size, epsilon=1.0, rng=rng
        )

    assert (
        empirical_epsilon(clipped_mean, d, d_prime, n_samples=5000, rng=np.random.default_rng(3))
        <= 1.0
    )


def test_audit_of_discrete_outputs_randomized_response() -> None:
    eps = math.log(3)

    def rr_one(bit, rng):
        return float(randomized_response([bit], epsilon=eps, rng=rng)[0])

    lb = empirical_epsilon(rr_one, 1, 0, n_samples=20_000, rng=np.random.default_rng(4))
    assert 0.8 * eps < lb <= eps


def test_audit_with_delta_for_the_gaussian_mechanism() -> None:
    eps, delta = 1.0, 1e-5

    def gauss(data, rng):
        return gaussian_mechanism(
            float(np.sum(data)), sensitivity=1.0, epsilon=eps, delta=delta, rng=rng
        )

    lb = empirical_epsilon(
        gauss, [0], [1], n_samples=20_000, rng=np.random.default_rng(5), delta=delta
    )
    assert 0.2 < lb <= eps


def test_audit_result_details_and_determinism() -> None:
    g = np.random.default_rng(6)
    a, b = g.laplace(0, 1, 10_000), g.laplace(1, 1, 10_000)
    res = audit_samples(a, b)
    assert isinstance(res, AuditResult)
    assert res.side in ("above", "below") and res.first in ("D", "D'")
    assert res.counts[1] == res.counts[3] == 5000
    assert res.thresholds.shape == res.selection_bound.shape
    assert audit_samples(a, b).epsilon_lower == res.epsilon_lower
    one = empirical_epsilon(
        laplace_count(1.0), [0], [1], n_samples=500, rng=np.random.default_rng(7)
    )
    two = empirical_epsilon(
        laplace_count(1.0), [0], [1], n_samples=500, rng=np.random.default_rng(7)
    )
    assert one == two


def test_mechanism_outputs_may_be_numpy_scalars_but_not_vectors() -> None:
    g = np.random.default_rng(10)
    lb = empirical_epsilon(
        lambda d, rng: np.array([d + rng.laplace()]), 0.0, 1.0, n_samples=2000, rng=g
    )
    assert 0.0 <= lb <= 1.0
    with pytest.raises(ValueError, match="one number"):
        empirical_epsilon(lambda d, rng: np.array([d, d]), 0.0, 1.0, n_samples=10, rng=g)


def test_identical_mechanisms_give_zero_or_tiny_bound() -> None:
    g = np.random.default_rng(8)
    assert audit_samples(g.normal(size=5000), g.normal(size=5000)).epsilon_lower < 0.1


@pytest.mark.parametrize(
    "call, word",
    [
        (
            lambda: empirical_epsilon(
                laplace_count(1.0), [0], [1], n_samples=2, rng=np.random.default_rng()
            ),
            "n_samples",
        ),
        (
            lambda: empirical_epsilon(
                "laplace", [0], [1], n_samples=100, rng=np.random.default_rng()
            ),
            "mechanism",
        ),
        (lambda: empirical_epsilon(laplace_count(1.0), [0], [1], n_samples=100, rng=1.5), "rng"),
        (
            lambda: empirical_epsilon(
                laplace_count(1.0),
                [0],
                [1],
                n_samples=100,
                rng=np.random.default_rng(),
                confidence=1.5,
            ),
            "confidence",
        ),
        (lambda: audit_samples([1.0, 2.0], [1.0, 2.0, 3.0, 4.0]), "samples"),
        (lambda: audit_samples([1.0, 2.0, np.nan, 3.0], [1.0, 2.0, 3.0, 4.0]), "samples"),
        (lambda: audit_samples(np.zeros(10), np.zeros(10), n_thresholds=0), "n_thresholds"),
    ],
)
def test_audit_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()


def test_plot_audit_returns_axes() -> None:
    import matplotlib.pyplot as plt

    g = np.random.default_rng(9)
    ax = plot_audit(audit_samples(g.laplace(0, 1, 2000), g.laplace(1, 1, 2000)), claimed=1.0)
    assert ax.get_xlabel() == "threshold t" and len(ax.lines) == 3
    plt.close("all")


def test_holdout_thresholds_choose_only_from_the_selection_halves():
    from course_utils.privacy.audit import holdout_thresholds

    g = np.random.default_rng(3)
    a, b = g.normal(size=101), g.normal(1.0, 1.0, size=60)
    (sel_a, sel_b), (ev_a, ev_b), t = holdout_thresholds(a, b, n_thresholds=20)
    assert (sel_a.size, ev_a.size, sel_b.size, ev_b.size) == (50, 51, 30, 30)
    assert np.array_equal(np.sort(np.r_[sel_a, ev_a]), np.sort(a))
    assert np.all(np.diff(sel_a) >= 0) and np.all(np.diff(ev_b) >= 0)
    assert 1 <= t.size <= 20 and np.all(np.diff(t) > 0)
    # changing the evaluation halves cannot move the thresholds
    a2, b2 = a.copy(), b.copy()
    a2[50:], b2[30:] = 100.0, -100.0
    assert np.array_equal(holdout_thresholds(a2, b2, n_thresholds=20)[2], t)
    pooled = np.r_[sel_a, sel_b]
    assert pooled.min() <= t.min() and t.max() <= pooled.max()
    with pytest.raises(ValueError, match="n_thresholds"):
        holdout_thresholds(a, b, n_thresholds=0)
