"""course_utils.privacy.local: GRR, OLH and the count-mean sketch - privacy, bias, variance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from course_utils.privacy import local

POP = np.repeat(np.arange(6), [900, 500, 300, 200, 100, 0])  # 2,000 users, value 5 held by nobody
COUNTS = np.bincount(POP, minlength=6)


def _repeat(run, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([run(rng, i) for i in range(reps)])


# ------------------------------------------------------------------------------------- GRR
def test_grr_keeps_with_the_right_probability_and_spreads_uniformly() -> None:
    k, eps = 5, 1.0
    p = math.exp(eps) / (math.exp(eps) + k - 1)
    reports = local.grr_perturb(np.zeros(20_000, dtype=int), k, epsilon=eps, rng=0)
    kept = np.mean(reports == 0)
    assert abs(kept - p) < 4.5 * math.sqrt(p * (1 - p) / 20_000)
    others = np.bincount(reports[reports != 0], minlength=k)[1:]
    assert stats.chisquare(others).pvalue > 1e-4
    # epsilon-LDP: any report is at most e^eps times likelier under one value than another
    assert math.isclose(p / ((1 - p) / (k - 1)), math.exp(eps))


def test_grr_estimate_exact_on_expected_reports() -> None:
    # epsilon = ln 2, k = 3: p = 1/2, q = 1/4; 40 users holding 0 report (20, 10, 10) on average
    reports = np.r_[np.zeros(20), np.ones(10), np.full(10, 2)].astype(int)
    assert np.allclose(local.grr_estimate(reports, 3, epsilon=math.log(2)), [40, 0, 0])


def test_grr_raw_counts_are_far_from_the_truth() -> None:
    """Negative control for the unbiasedness test below: what the estimator has to correct."""
    raw = np.bincount(local.grr_perturb(POP, 6, epsilon=1.0, rng=2), minlength=6)
    assert raw[5] > 100  # negative control: raw counts are far from the truth (0)


def test_grr_variance_for_two_values_is_randomized_response() -> None:
    p = math.exp(1.5) / (1 + math.exp(1.5))
    v = local.grr_variance([300, 700], epsilon=1.5)
    assert np.allclose(v, 1000 * p * (1 - p) / (2 * p - 1) ** 2)


# ------------------------------------------------------------------------------------- OLH
def test_olh_reports_and_hash_range() -> None:
    eps = 2.0
    g = local.olh_g(eps)
    assert g == round(math.exp(eps)) + 1
    rep = local.olh_perturb(POP, 6, epsilon=eps, rng=0)
    a, b, y = rep.T
    assert rep.shape == (POP.size, 3) and rep.dtype == np.int64
    assert a.min() >= 1 and a.max() < local.OLH_PRIME and b.min() >= 0 and b.max() < local.OLH_PRIME
    assert y.min() >= 0 and y.max() < g
    hashed = ((a * POP + b) % local.OLH_PRIME) % g  # the user's own bucket survives with prob. p
    p = math.exp(eps) / (math.exp(eps) + g - 1)
    assert abs(np.mean(hashed == y) - p) < 4.5 * math.sqrt(p * (1 - p) / POP.size)


def test_olh_hash_buckets_are_uniform_over_users() -> None:
    rep = local.olh_perturb(np.full(20_000, 3), 6, epsilon=1.0, rng=1, g=7)
    a, b, _ = rep.T
    buckets = ((a * 3 + b) % local.OLH_PRIME) % 7
    assert stats.chisquare(np.bincount(buckets, minlength=7)).pvalue > 1e-4


def test_olh_variance_does_not_depend_on_the_domain_but_grr_does() -> None:
    small = local.olh_variance(np.r_[0, 10_000], epsilon=1.0)[0]
    big = local.olh_variance(np.r_[0, 10_000, np.zeros(998)], epsilon=1.0)[0]
    assert math.isclose(small, big)
    assert local.grr_variance(np.r_[0, 10_000, np.zeros(998)], epsilon=1.0)[0] > 50 * small


# ------------------------------------------------------------------------------------- CMS
def test_cms_hash_is_public_deterministic_and_uniform() -> None:
    h = local.cms_hash(np.arange(5000), 3, m=16, hash_seed=7)
    assert np.array_equal(h, local.cms_hash(np.arange(5000), 3, m=16, hash_seed=7))
    assert not np.array_equal(h, local.cms_hash(np.arange(5000), 3, m=16, hash_seed=8))
    assert not np.array_equal(h, local.cms_hash(np.arange(5000), 4, m=16, hash_seed=7))
    assert h.min() >= 0 and h.max() < 16
    assert stats.chisquare(np.bincount(h, minlength=16)).pvalue > 1e-4


def test_cms_flips_each_entry_with_the_right_probability() -> None:
    eps, m = 2.0, 32
    values = np.arange(4000) % 10
    rep = local.cms_perturb(values, epsilon=eps, m=m, hashes=4, rng=0, hash_seed=1)
    assert isinstance(rep, local.CMSReports) and rep.bits.shape == (4000, 4) and rep.m == m
    signs = np.unpackbits(rep.bits, axis=1, count=m).astype(bool)
    one_hot = np.zeros_like(signs)
    one_hot[np.arange(4000), local.cms_hash(values, rep.rows, m=m, hash_seed=1)] = True
    flip = 1 / (1 + math.exp(eps / 2))
    observed = np.mean(signs != one_hot)
    assert abs(observed - flip) < 4.5 * math.sqrt(flip * (1 - flip) / signs.size)
    # two values differ in two entries: the likelihood ratio of any report is at most e^eps
    assert math.isclose(((1 - flip) / flip) ** 2, math.exp(eps))
    assert np.bincount(rep.rows, minlength=4).min() > 900  # rows uniform over the 4 hashes


def test_cms_with_a_fixed_family_is_biased_by_collisions() -> None:
    """Negative control: the hash family must be random for unbiasedness (or K large)."""
    est = _repeat(
        lambda r, _: local.cms_estimate(
            local.cms_perturb(POP, epsilon=2.0, m=8, hashes=1, rng=r), 6, epsilon=2.0, m=8, hashes=1
        ),
        100,
        5,
    )
    z = (est.mean(axis=0) - COUNTS) / (est.std(axis=0) / 10)
    assert np.abs(z).max() > 10


# ------------------------------------------------------------------------- all three oracles
def _grr_counts(r: np.random.Generator, _: int) -> np.ndarray:
    return local.grr_estimate(local.grr_perturb(POP, 6, epsilon=1.0, rng=r), 6, epsilon=1.0)


def _olh_counts(r: np.random.Generator, _: int) -> np.ndarray:
    return local.olh_estimate(local.olh_perturb(POP, 6, epsilon=2.0, rng=r), 6, epsilon=2.0)


def _cms_counts(r: np.random.Generator, i: int) -> np.ndarray:
    """A fresh hash family (hash_seed i) every repetition: unbiased over the family."""
    rep = local.cms_perturb(POP, epsilon=2.0, m=16, hashes=4, rng=r, hash_seed=i)
    return local.cms_estimate(rep, 6, epsilon=2.0, m=16, hashes=4, hash_seed=i)


@pytest.mark.parametrize(
    "counts, variance, seed",
    [
        (_grr_counts, local.grr_variance(COUNTS, epsilon=1.0), 1),
        (_olh_counts, local.olh_variance(COUNTS, epsilon=2.0), 3),
        (_cms_counts, local.cms_variance(COUNTS, epsilon=2.0, m=16, hashes=4), 4),
    ],
    ids=["grr", "olh", "cms"],
)
def test_estimates_are_unbiased_and_their_variance_formula_holds(counts, variance, seed) -> None:
    """300 collections: the mean is within 4.5 standard errors of the truth and the sample
    variance / formula ratio inside its chi-square 99.98 % band."""
    reps = 300
    est = _repeat(counts, reps, seed)
    z = (est.mean(axis=0) - COUNTS) / np.sqrt(variance / reps)
    assert np.all(np.abs(z) < 4.5), z
    band = stats.chi2.ppf([0.0001, 0.9999], reps - 1) / (reps - 1)
    ratio = est.var(axis=0, ddof=1) / variance
    assert np.all((band[0] < ratio) & (ratio < band[1])), ratio


def test_all_oracles_estimate_100k_users() -> None:
    rng = np.random.default_rng(9)
    values = rng.choice(8, size=100_000, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05, 0.0])
    counts = np.bincount(values, minlength=8)
    for est, var in [
        (
            local.grr_estimate(local.grr_perturb(values, 8, epsilon=2.0, rng=rng), 8, epsilon=2.0),
            local.grr_variance(counts, epsilon=2.0),
        ),
        (
            local.olh_estimate(local.olh_perturb(values, 8, epsilon=2.0, rng=rng), 8, epsilon=2.0),
            local.olh_variance(counts, epsilon=2.0),
        ),
        (
            local.cms_estimate(
                local.cms_perturb(values, epsilon=2.0, m=256, hashes=64, rng=rng),
                8,
                epsilon=2.0,
                m=256,
                hashes=64,
            ),
            local.cms_variance(counts, epsilon=2.0, m=256, hashes=64),
        ),
    ]:
        assert np.all(np.abs(est - counts) < 4.5 * np.sqrt(var))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: local.grr_perturb([0, 5], 5, epsilon=1.0, rng=0),
            r"values must lie in range\(5\)",
        ),
        (lambda: local.grr_perturb([-1], 5, epsilon=1.0, rng=0), r"values must lie in range\(5\)"),
        (lambda: local.grr_perturb([0.5], 5, epsilon=1.0, rng=0), "values must hold integers"),
        (lambda: local.grr_perturb([[0]], 5, epsilon=1.0, rng=0), "values must be a non-empty 1-D"),
        (lambda: local.grr_perturb([0], 1, epsilon=1.0, rng=0), "k must be an integer >= 2"),
        (lambda: local.grr_perturb([0], 3, epsilon=0.0, rng=0), "epsilon must be a positive"),
        (lambda: local.grr_perturb([0], 3, epsilon=1.0, rng="x"), "rng must be"),
        (lambda: local.grr_estimate([0, 3], 3, epsilon=1.0), r"reports must lie in range\(3\)"),
        (lambda: local.grr_variance([5], epsilon=1.0), "counts must be a 1-D array"),
        (lambda: local.grr_variance([5, -1], epsilon=1.0), "counts must be a 1-D array"),
        (lambda: local.olh_perturb([0], 3, epsilon=1.0, rng=0, g=1), "g must be an integer >= 2"),
        (
            lambda: local.olh_estimate(np.zeros((4, 2), dtype=int), 3, epsilon=1.0),
            r"reports must be an \(n, 3\)",
        ),
        (
            lambda: local.olh_estimate(np.zeros((4, 3)), 3, epsilon=1.0),
            r"reports must be an \(n, 3\)",
        ),
        (
            lambda: local.cms_perturb([0], epsilon=1.0, m=1, hashes=2, rng=0),
            "m must be an integer >= 2",
        ),
        (
            lambda: local.cms_perturb([0], epsilon=1.0, m=8, hashes=0, rng=0),
            "hashes must be an integer >= 1",
        ),
        (
            lambda: local.cms_estimate(([0], [[0]], 8), 3, epsilon=1.0, m=8, hashes=2),
            "reports must be the CMSReports",
        ),
        (
            lambda: local.cms_estimate(
                local.cms_perturb([0], epsilon=1.0, m=8, hashes=4, rng=0),
                3,
                epsilon=1.0,
                m=16,
                hashes=4,
            ),
            "reports must be the CMSReports of cms_perturb with m=16",
        ),
        (
            lambda: local.cms_estimate(
                local.cms_perturb(np.zeros(50, int), epsilon=1.0, m=8, hashes=4, rng=0),
                3,
                epsilon=1.0,
                m=8,
                hashes=2,
            ),
            r"outside range\(hashes=2\)",
        ),
        (lambda: local.cms_hash([1], [0], m=8, hash_seed=-1), "hash_seed must be an integer >= 0"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
