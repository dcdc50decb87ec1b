"""Each mechanism's output distribution, calibration, and argument checks (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from course_utils.privacy.mechanisms import (
    EpsilonDial,
    exponential_mechanism,
    exponential_probabilities,
    gaussian_delta,
    gaussian_mechanism,
    gaussian_sigma,
    laplace_mechanism,
    neighbour_densities,
    randomized_response,
    rr_estimate,
    rr_keep_probability,
    rr_standard_error,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- Laplace
@pytest.mark.parametrize("sensitivity, epsilon", [(1.0, 0.5), (1.0, 1.0), (2.0, 2.0), (0.1, 0.3)])
def test_laplace_noise_has_the_intended_scale(sensitivity, epsilon) -> None:
    noise = laplace_mechanism(
        np.zeros(20_000), sensitivity=sensitivity, epsilon=epsilon, rng=rng(1)
    )
    assert stats.kstest(noise, stats.laplace(0, sensitivity / epsilon).cdf).pvalue > 0.01
    if not math.isclose(epsilon, 1.0):  # the inverted scale (sensitivity * epsilon) is rejected
        assert stats.kstest(noise, stats.laplace(0, sensitivity * epsilon).cdf).pvalue < 1e-6


def test_laplace_is_centred_on_the_value_and_keeps_shape() -> None:
    value = np.arange(12.0).reshape(3, 4)
    draws = np.stack(
        [laplace_mechanism(value, sensitivity=1, epsilon=1, rng=rng(s)) for s in range(400)]
    )
    assert draws.shape == (400, 3, 4)
    assert np.all(np.abs(draws.mean(axis=0) - value) < 0.35)  # 5 standard errors
    assert value[0, 0] == 0.0  # input untouched


def test_laplace_scalar_in_float_out_and_seeded() -> None:
    assert laplace_mechanism(5, sensitivity=1, epsilon=1, rng=3) == laplace_mechanism(
        5, sensitivity=1, epsilon=1, rng=rng(3)
    )
    a = laplace_mechanism(5, sensitivity=1, epsilon=1, rng=rng(3))
    b = laplace_mechanism(np.float64(5), sensitivity=1, epsilon=1, rng=rng(3))
    assert isinstance(a, float) and a == b
    assert laplace_mechanism(5.0, sensitivity=0.0, epsilon=1.0, rng=rng()) == 5.0


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"epsilon": 0.0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": float("nan")}, "epsilon"),
        ({"epsilon": "big"}, "epsilon"),
        ({"sensitivity": -1.0}, "sensitivity"),
        ({"rng": -1}, "rng"),
        ({"rng": np.random.RandomState(0)}, "rng"),
        ({"value": float("nan")}, "value"),
        ({"value": [1.0, float("inf")]}, "value"),
    ],
)
def test_laplace_bad_input(kwargs, word) -> None:
    args = {"value": 1.0, "sensitivity": 1.0, "epsilon": 1.0, "rng": rng()} | kwargs
    with pytest.raises(ValueError, match=word):
        laplace_mechanism(args.pop("value"), **args)


# --------------------------------------------------------------------------- Gaussian
def test_classic_sigma_formula_and_range() -> None:
    got = gaussian_sigma(sensitivity=2.0, epsilon=0.5, delta=1e-6, analytic=False)
    assert got == pytest.approx(math.sqrt(2 * math.log(1.25 / 1e-6)) * 2.0 / 0.5)
    with pytest.raises(ValueError, match="epsilon"):
        gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-5, analytic=False)


def test_analytic_sigma_known_value_and_smaller_than_classic() -> None:
    # Balle & Wang (2018): epsilon = 1, delta = 1e-5, sensitivity 1 -> sigma about 3.73
    assert gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-5) == pytest.approx(3.73, abs=0.01)
    for eps in (0.05, 0.3, 0.9):
        for delta in (1e-3, 1e-6, 1e-9):
            classic = gaussian_sigma(sensitivity=1.0, epsilon=eps, delta=delta, analytic=False)
            assert gaussian_sigma(sensitivity=1.0, epsilon=eps, delta=delta) < classic


def test_analytic_sigma_is_the_smallest_private_sigma() -> None:
    for eps, delta in [(0.1, 1e-5), (1.0, 1e-5), (8.0, 1e-8), (0.5, 0.3)]:
        s = gaussian_sigma(sensitivity=1.0, epsilon=eps, delta=delta)
        assert gaussian_delta(epsilon=eps, noise_multiplier=s) <= delta
        assert gaussian_delta(epsilon=eps, noise_multiplier=s * 0.999) > delta


def test_analytic_sigma_scales_and_moves_the_right_way() -> None:
    s = gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-5)
    assert gaussian_sigma(sensitivity=3.0, epsilon=1.0, delta=1e-5) == pytest.approx(3 * s)
    assert gaussian_sigma(sensitivity=1.0, epsilon=2.0, delta=1e-5) < s
    assert gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-3) < s
    assert gaussian_sigma(sensitivity=0.0, epsilon=1.0, delta=1e-5) == 0.0


@pytest.mark.parametrize("eps, s", [(0.5, 1.0), (1.0, 3.0), (3.0, 0.7)])
def test_gaussian_delta_matches_the_hockey_stick_integral(eps, s) -> None:
    """delta(eps) = integral of max(0, p(x) - e^eps p'(x)) for N(0, s^2) vs N(1, s^2)."""
    p, q = stats.norm(0, s), stats.norm(1, s)
    cross = 0.5 - eps * s**2  # p(x) > e^eps q(x) exactly for x < cross
    numeric, _ = integrate.quad(lambda x: p.pdf(x) - math.exp(eps) * q.pdf(x), -np.inf, cross)
    assert gaussian_delta(epsilon=eps, noise_multiplier=s) == pytest.approx(
        numeric, rel=1e-6, abs=1e-12
    )


def test_gaussian_mechanism_distribution() -> None:
    sigma = gaussian_sigma(sensitivity=1.0, epsilon=0.5, delta=1e-5)
    out = gaussian_mechanism(
        np.full(20_000, 7.0), sensitivity=1.0, epsilon=0.5, delta=1e-5, rng=rng(2)
    )
    assert stats.kstest(out - 7.0, stats.norm(0, sigma).cdf).pvalue > 0.01
    classic = gaussian_mechanism(
        0.0, sensitivity=1.0, epsilon=0.5, delta=1e-5, rng=rng(2), analytic=False
    )
    assert isinstance(classic, float)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.0}, "delta"),
        ({"delta": -0.1}, "delta"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"sensitivity": -2.0}, "sensitivity"),
    ],
)
def test_gaussian_bad_input(kwargs, word) -> None:
    args = {"sensitivity": 1.0, "epsilon": 1.0, "delta": 1e-5} | kwargs
    with pytest.raises(ValueError, match=word):
        gaussian_sigma(**args)
    with pytest.raises(ValueError, match=word):
        gaussian_mechanism(0.0, rng=rng(), **args)


def test_gaussian_delta_bad_input() -> None:
    with pytest.raises(ValueError, match="noise_multiplier"):
        gaussian_delta(epsilon=1.0, noise_multiplier=0.0)
    with pytest.raises(ValueError, match="epsilon"):
        gaussian_delta(epsilon=-1.0, noise_multiplier=1.0)


# --------------------------------------------------------------------------- exponential
def test_exponential_probabilities_formula() -> None:
    u = np.array([3.0, 1.0, 0.0, 2.5])
    p = exponential_probabilities(u, sensitivity=2.0, epsilon=1.5)
    w = np.exp(1.5 * u / (2 * 2.0))
    np.testing.assert_allclose(p, w / w.sum())
    assert exponential_probabilities([5.0], sensitivity=1, epsilon=1).tolist() == [1.0]


def test_exponential_probabilities_are_stable_and_shift_invariant() -> None:
    u = np.array([1000.0, 999.0, 0.0])
    p = exponential_probabilities(u, sensitivity=1.0, epsilon=10.0)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(
        p, exponential_probabilities(u - 1000, sensitivity=1.0, epsilon=10.0)
    )


def test_exponential_mechanism_is_epsilon_dp_on_neighbours() -> None:
    """Utilities that move by at most the sensitivity change every probability by <= e^eps."""
    eps, sens = 0.8, 1.0
    u = np.array([10.0, 12.0, 9.0, 11.0])
    neighbour = u + np.array([1.0, -1.0, 0.0, 1.0])
    ratio = exponential_probabilities(u, sensitivity=sens, epsilon=eps) / exponential_probabilities(
        neighbour, sensitivity=sens, epsilon=eps
    )
    assert np.all(np.abs(np.log(ratio)) <= eps + 1e-12)


def test_exponential_mechanism_frequencies() -> None:
    cands = ["flu", "cold", "covid", "allergy"]
    u = [40.0, 38.0, 30.0, 36.0]
    p = exponential_probabilities(u, sensitivity=1.0, epsilon=1.0)
    g = rng(5)
    picks = [
        exponential_mechanism(cands, u, sensitivity=1.0, epsilon=1.0, rng=g) for _ in range(6000)
    ]
    observed = np.array([picks.count(c) for c in cands])
    assert stats.chisquare(observed, 6000 * p).pvalue > 0.01
    # forgetting the factor 2 (p ~ exp(eps u / sensitivity)) would be rejected
    wrong = exponential_probabilities(u, sensitivity=0.5, epsilon=1.0)
    assert stats.chisquare(observed, 6000 * wrong).pvalue < 1e-6


def _max_log_ratio(u, neighbours, **kwargs) -> float:
    p = exponential_probabilities(u, **kwargs)
    return max(
        float(np.max(np.abs(np.log(p / exponential_probabilities(v, **kwargs)))))
        for v in neighbours
    )


def test_monotonic_exponential_is_epsilon_dp_for_add_remove_counts() -> None:
    """Counts under add/remove-one: exp(eps u / sens) is eps-DP; the general form spends eps/2."""
    eps = 0.7
    u = np.array([158.0, 152.0, 90.0, 60.0])
    add_remove = [u + np.eye(4)[j] for j in range(4)] + [u - np.eye(4)[j] for j in range(4)]
    mono = _max_log_ratio(u, add_remove, sensitivity=1.0, epsilon=eps, monotonic=True)
    general = _max_log_ratio(u, add_remove, sensitivity=1.0, epsilon=eps)
    assert mono <= eps + 1e-12 and mono > 0.9 * eps  # valid, and close to the bound
    assert general <= eps / 2 + 1e-12
    # the same probabilities: the general mechanism at 2 eps is the monotonic one at eps
    np.testing.assert_allclose(
        exponential_probabilities(u, sensitivity=1.0, epsilon=2 * eps),
        exponential_probabilities(u, sensitivity=1.0, epsilon=eps, monotonic=True),
    )


def test_monotonic_exponential_breaks_under_replace_one() -> None:
    """Replacing one record moves two counts in opposite directions: the factor 2 is needed."""
    eps = 0.7
    u = np.array([158.0, 152.0, 90.0, 60.0])
    replace = [u + np.eye(4)[i] - np.eye(4)[j] for i in range(4) for j in range(4) if i != j]
    assert _max_log_ratio(u, replace, sensitivity=1.0, epsilon=eps, monotonic=True) > 1.5 * eps
    assert _max_log_ratio(u, replace, sensitivity=1.0, epsilon=eps) <= eps + 1e-12


def test_monotonic_exponential_mechanism_frequencies() -> None:
    cands, u = ["flu", "cold", "covid"], [40.0, 38.0, 37.0]
    p = exponential_probabilities(u, sensitivity=1.0, epsilon=0.5, monotonic=True)
    g = rng(7)
    picks = [
        exponential_mechanism(cands, u, sensitivity=1.0, epsilon=0.5, rng=g, monotonic=True)
        for _ in range(4000)
    ]
    observed = np.array([picks.count(c) for c in cands])
    assert stats.chisquare(observed, 4000 * p).pvalue > 0.01
    general = exponential_probabilities(u, sensitivity=1.0, epsilon=0.5)
    assert stats.chisquare(observed, 4000 * general).pvalue < 1e-6


@pytest.mark.parametrize(
    "candidates, utilities, kwargs, word",
    [
        (["a"], [1.0], {"monotonic": "yes"}, "monotonic"),
        ([], [], {}, "candidates"),
        (["a", "b"], [1.0], {}, "utilities"),
        (["a"], [1.0], {"sensitivity": 0.0}, "sensitivity"),
        (["a"], [1.0], {"sensitivity": -1.0}, "sensitivity"),
        (["a"], [1.0], {"epsilon": 0.0}, "epsilon"),
        (["a"], [float("nan")], {}, "utilities"),
    ],
)
def test_exponential_bad_input(candidates, utilities, kwargs, word) -> None:
    args = {"sensitivity": 1.0, "epsilon": 1.0} | kwargs
    with pytest.raises(ValueError, match=word):
        exponential_mechanism(candidates, utilities, rng=rng(), **args)


# --------------------------------------------------------------------------- randomized response
def test_rr_keep_probability_and_likelihood_ratio() -> None:
    assert rr_keep_probability(epsilon=math.log(3)) == pytest.approx(0.75)
    for eps in (0.1, 1.0, 4.0):
        p = rr_keep_probability(epsilon=eps)
        assert p / (1 - p) == pytest.approx(math.exp(eps))  # P[1 | 1] / P[1 | 0]


def test_rr_reports_flip_at_the_right_rate() -> None:
    bits = np.r_[np.ones(5000, dtype=int), np.zeros(5000, dtype=int)]
    reports = randomized_response(bits, epsilon=1.0, rng=rng(7))
    assert reports.shape == bits.shape and set(np.unique(reports)) <= {0, 1}
    p = rr_keep_probability(epsilon=1.0)
    assert stats.binomtest(int(reports[:5000].sum()), 5000, p).pvalue > 0.01
    assert stats.binomtest(int(reports[5000:].sum()), 5000, 1 - p).pvalue > 0.01
    assert randomized_response(np.array([True, False]), epsilon=1.0, rng=rng()).dtype == np.int8


def test_rr_estimate_is_unbiased_with_the_stated_error() -> None:
    g = rng(11)
    truth, n, eps = 0.3, 2000, 0.7
    bits = (g.random(n) < truth).astype(int)
    estimates = np.array(
        [
            rr_estimate(randomized_response(bits, epsilon=eps, rng=g), epsilon=eps)
            for _ in range(800)
        ]
    )
    se = rr_standard_error(n, epsilon=eps, proportion=bits.mean())
    # unbiased for the group's own fraction: the mean of 800 estimates is within 4 of its SEs
    assert abs(estimates.mean() - bits.mean()) < 4 * se / math.sqrt(800)
    # for a fixed group only the coin flips vary: variance p (1 - p) / (n (2p - 1)^2)
    p = rr_keep_probability(epsilon=eps)
    assert estimates.std() == pytest.approx(math.sqrt(p * (1 - p) / n) / (2 * p - 1), rel=0.1)
    # a fresh random sample each time adds the sampling noise: rr_standard_error
    fresh = [
        rr_estimate(
            randomized_response((g.random(n) < truth).astype(int), epsilon=eps, rng=g), epsilon=eps
        )
        for _ in range(800)
    ]
    assert np.mean(fresh) == pytest.approx(
        truth, abs=4 * rr_standard_error(n, epsilon=eps, proportion=truth) / math.sqrt(800)
    )
    assert np.std(fresh) == pytest.approx(
        rr_standard_error(n, epsilon=eps, proportion=truth), rel=0.1
    )
    # the naive mean of the reports is biased towards 1/2
    naive = randomized_response(bits, epsilon=eps, rng=g).mean()
    assert abs(naive - truth) > 0.05


def test_rr_estimate_exact_on_expected_reports() -> None:
    p = rr_keep_probability(epsilon=math.log(3))
    # 40 % true yes -> expected report rate 0.4 p + 0.6 (1 - p) = 0.45: 45 ones in 100
    assert p == pytest.approx(0.75)
    assert rr_estimate([1] * 45 + [0] * 55, epsilon=math.log(3)) == pytest.approx(0.4)


def test_rr_standard_error_shrinks_with_n_and_epsilon() -> None:
    se = rr_standard_error(1000, epsilon=1.0)
    assert rr_standard_error(4000, epsilon=1.0) == pytest.approx(se / 2)
    assert rr_standard_error(1000, epsilon=3.0) < se


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: randomized_response([0, 2], epsilon=1.0, rng=rng()), "bits"),
        (lambda: randomized_response([], epsilon=1.0, rng=rng()), "bits"),
        (lambda: randomized_response([0, 1], epsilon=0.0, rng=rng()), "epsilon"),
        (lambda: rr_estimate([0.5], epsilon=1.0), "responses"),
        (lambda: rr_estimate([0, 1], epsilon=-1.0), "epsilon"),
        (lambda: rr_standard_error(0, epsilon=1.0), "n"),
        (lambda: rr_standard_error(10, epsilon=1.0, proportion=1.5), "proportion"),
    ],
)
def test_rr_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()


# --------------------------------------------------------------------------- the epsilon dial
def test_neighbour_densities_laplace_ratio_is_bounded_by_epsilon() -> None:
    grid = np.linspace(-20, 20, 2001)
    for eps in (0.2, 1.0, 3.0):
        out = neighbour_densities(grid, value=3, value_prime=4, sensitivity=1, epsilon=eps)
        assert out["max_abs_log_ratio"] == pytest.approx(eps)
        assert out["ratio_exceeds"] == 0.0
        assert out["scale"] == pytest.approx(1 / eps)
    half = neighbour_densities(grid, value=3, value_prime=3.5, sensitivity=1, epsilon=1.0)
    assert half["max_abs_log_ratio"] == pytest.approx(0.5)  # a smaller change leaks less


def test_neighbour_densities_gaussian_pays_delta_in_the_tails() -> None:
    out = neighbour_densities(
        np.linspace(-40, 40, 801),
        value=0,
        value_prime=1,
        sensitivity=1,
        epsilon=1.0,
        delta=1e-5,
        mechanism="gaussian",
    )
    assert out["max_abs_log_ratio"] > 1.0
    assert 1e-5 <= out["ratio_exceeds"] < 1e-3  # delta = P[L > eps] - e^eps P'[L > eps]


def test_neighbour_densities_bad_input() -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        neighbour_densities([0.0], value=0, value_prime=2, sensitivity=1, epsilon=1)
    with pytest.raises(ValueError, match="mechanism"):
        neighbour_densities(
            [0.0], value=0, value_prime=1, sensitivity=1, epsilon=1, mechanism="cauchy"
        )


def test_epsilon_dial_headless() -> None:
    dial = EpsilonDial(value=10, value_prime=11, sensitivity=1, epsilon=1.0)
    try:
        assert dial.state["scale"] == pytest.approx(1.0)
        dial.slider.value = 0.5
        assert dial.state["scale"] == pytest.approx(2.0) and dial.epsilon == 0.5
        dial.kind.value = "gaussian"
        assert dial.mechanism == "gaussian"
        assert dial.state["scale"] == pytest.approx(
            gaussian_sigma(sensitivity=1, epsilon=0.5, delta=1e-5)
        )
        assert "P[|log ratio|" in dial.label.value
        assert len(dial.axes[0].lines) == 2 and len(dial.axes[1].lines) == 3
        assert dial.widget().children
        assert dial.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        dial.close()
