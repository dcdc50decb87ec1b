"""Report noisy max and the sparse vector technique (course_utils.privacy.mechanisms)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from course_utils.privacy.audit import empirical_epsilon
from course_utils.privacy.mechanisms import report_noisy_max, sparse_vector


def _pick_rate(scores, runs, seed, **kw) -> float:
    rng = np.random.default_rng(seed)
    return float(np.mean([report_noisy_max(scores, rng=rng, **kw) == 0 for _ in range(runs)]))


def _laplace_diff_sf(t: float, b: float) -> float:
    """P[X - Y > t] for independent Laplace(0, b) X, Y and t >= 0."""
    return 0.5 * math.exp(-t / b) * (1 + t / (2 * b))


def test_report_noisy_max_returns_an_index_and_follows_rng() -> None:
    out = report_noisy_max([3.0, 9.0, 1.0], epsilon=1.0, rng=0)
    assert isinstance(out, int) and 0 <= out < 3
    same = [
        report_noisy_max([0, 0, 0, 0], epsilon=1.0, rng=np.random.default_rng(4)) for _ in range(2)
    ]
    assert same[0] == same[1]
    rng = np.random.default_rng(0)
    assert sum(report_noisy_max([10, 40, 12], epsilon=1.0, rng=rng) == 1 for _ in range(300)) > 290


@pytest.mark.parametrize("monotonic, factor", [(False, 2.0), (True, 1.0)])
def test_report_noisy_max_noise_scale(monotonic: bool, factor: float) -> None:
    """Two candidates, gap g: the runner-up wins with P[X - Y > g] for Laplace scale b."""
    epsilon, sensitivity, gap = 0.5, 2.0, 6.0
    b = factor * sensitivity / epsilon
    want = _laplace_diff_sf(gap, b)
    got = _pick_rate(
        [0.0, gap], 4000, 1, epsilon=epsilon, sensitivity=sensitivity, monotonic=monotonic
    )
    assert abs(got - want) < 4.5 * math.sqrt(want * (1 - want) / 4000), (got, want)


def test_report_noisy_max_is_private_for_scores_moving_both_ways() -> None:
    """All zeros vs (+s, -s, ..., -s): P[pick 0] may grow by at most e^eps (k = 10)."""
    k, epsilon = 10, 1.0
    moved = np.r_[1.0, -np.ones(k - 1)]
    general = _pick_rate(moved, 4000, 2, epsilon=epsilon)
    assert general * k / math.exp(epsilon) < 1.15  # true value about 0.95
    monotone_rate = _pick_rate(moved, 4000, 3, epsilon=epsilon, monotonic=True)
    assert (
        monotone_rate * k / math.exp(epsilon) > 1.5
    )  # negative control: half the noise is not enough
    equal = _pick_rate(np.zeros(k), 4000, 4, epsilon=epsilon)
    assert abs(equal - 1 / k) < 4.5 * math.sqrt(0.09 / 4000)


def test_sparse_vector_stops_after_max_above() -> None:
    assert sparse_vector([1, 2, 3, 100, 2, 200], 50, epsilon=1.0, rng=0) == [
        False,
        False,
        False,
        True,
    ]
    out = sparse_vector([100, 0, 100, 0, 100], 50, epsilon=5.0, rng=0, max_above=2)
    assert out == [True, False, True]
    assert sparse_vector([0.0, 0.0], 100, epsilon=1.0, rng=0) == [False, False]
    assert all(isinstance(f, bool) for f in sparse_vector([0, 60, 0], 50, epsilon=1.0, rng=1))


def _svt_law(answers, t_scale, a_scale, n=400_000, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rho = rng.laplace(0, t_scale, size=(n, 1))
    above = np.asarray(answers)[None, :] + rng.laplace(0, a_scale, size=(n, len(answers))) >= rho
    first = np.where(above.any(1), above.argmax(1), len(answers))
    return np.bincount(first, minlength=len(answers) + 1) / n


@pytest.mark.parametrize("monotonic, a_scale", [(False, 4.0), (True, 2.0)])
def test_sparse_vector_output_distribution(monotonic: bool, a_scale: float) -> None:
    """epsilon = 1: threshold noise scale 2, answer noise 4 (general) or 2 (monotonic)."""
    answers = [0.0, 0.0, 0.0, 1.0]
    rng = np.random.default_rng(6)
    outs = []
    for _ in range(4000):
        flags = sparse_vector(answers, 0.0, epsilon=1.0, rng=rng, monotonic=monotonic)
        outs.append(len(flags) - 1 if flags[-1] else len(answers))
    counts = np.bincount(outs, minlength=5)
    law = _svt_law(answers, 2.0, a_scale)
    assert stats.chisquare(counts, 4000 * law).pvalue > 1e-4


def test_sparse_vector_audit_passes_and_the_broken_variant_fails() -> None:
    T = 10.0

    def threshold_noise_only(answers, threshold, *, epsilon, rng):
        noisy = threshold + rng.laplace(0.0, 2.0 / epsilon)
        flags = []
        for a in answers:
            flags.append(bool(a >= noisy))
            if flags[-1]:
                break
        return flags

    def test(svt):
        return lambda answers, rng: float(svt(answers, T, epsilon=1.0, rng=rng) == [False, True])

    ok = empirical_epsilon(
        test(sparse_vector), [T, T + 1], [T, T], n_samples=5000, rng=np.random.default_rng(0)
    )
    bad = empirical_epsilon(
        test(threshold_noise_only), [T, T + 1], [T, T], n_samples=5000, rng=np.random.default_rng(0)
    )
    assert ok <= 1.0 < 4.0 < bad


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: report_noisy_max([], epsilon=1.0, rng=0), "scores must be a non-empty 1-D"),
        (lambda: report_noisy_max([[1, 2]], epsilon=1.0, rng=0), "scores must be a non-empty 1-D"),
        (
            lambda: report_noisy_max([1, np.nan], epsilon=1.0, rng=0),
            "scores must be a non-empty 1-D",
        ),
        (lambda: report_noisy_max([1, 2], epsilon=0.0, rng=0), "epsilon must be a positive"),
        (
            lambda: report_noisy_max([1, 2], epsilon=1.0, sensitivity=-1, rng=0),
            "sensitivity must be a positive",
        ),
        (
            lambda: report_noisy_max([1, 2], epsilon=1.0, rng=0, monotonic=1),
            "monotonic must be True or False",
        ),
        (lambda: report_noisy_max([1, 2], epsilon=1.0, rng=1.5), "rng must be"),
        (lambda: sparse_vector([], 1.0, epsilon=1.0, rng=0), "answers must be a non-empty 1-D"),
        (
            lambda: sparse_vector([1, np.inf], 1.0, epsilon=1.0, rng=0),
            "answers must be a non-empty 1-D",
        ),
        (lambda: sparse_vector([1, 2], np.nan, epsilon=1.0, rng=0), "threshold must be a number"),
        (lambda: sparse_vector([1, 2], 1.0, epsilon=-1.0, rng=0), "epsilon must be a positive"),
        (
            lambda: sparse_vector([1, 2], 1.0, epsilon=1.0, rng=0, max_above=0),
            "max_above must be an integer >= 1",
        ),
        (
            lambda: sparse_vector([1, 2], 1.0, epsilon=1.0, rng=0, sensitivity=0),
            "sensitivity must be a positive",
        ),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
