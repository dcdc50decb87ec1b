"""Tests for course_utils.privacy.regression (DP ridge by sufficient statistics perturbation)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_utils.privacy.mechanisms import gaussian_sigma
from course_utils.privacy.regression import (
    ridge_from_statistics,
    ssp_release,
    ssp_sensitivity,
    ssp_statistics,
)

KW = dict(feature_bound=3.0, target_center=150.0, target_scale=100.0, target_bound=2.0)


def _data(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, 4)) * r.uniform(0.5, 2.0, size=(n, 1))  # some rows beyond the clip
    y = 150 + X @ np.array([20.0, -10.0, 5.0, 0.0]) + r.normal(0, 30, n)
    return X, y


def test_sensitivity_bounds_every_add_remove_neighbour() -> None:
    """Adding one row, however extreme, moves the statistics by at most the sensitivity."""
    X, y = _data()
    base = ssp_statistics(X, y, **KW)
    bound = ssp_sensitivity(feature_bound=3.0, target_bound=2.0)
    r = np.random.default_rng(1)
    extremes = [(np.full(4, 100.0), 1e6), (np.zeros(4), -1e6), (r.normal(size=4), 150.0)]
    moves = []
    for x, t in extremes + [(r.normal(size=4) * 5, r.normal(150, 300)) for _ in range(200)]:
        moved = ssp_statistics(np.vstack([X, x]), np.r_[y, t], **KW)
        moves.append(np.linalg.norm(moved - base))
    assert max(moves) <= bound + 1e-9
    assert max(moves) > 0.95 * bound  # the bound is reached by a row on the clipping boundary


def test_one_row_contribution_is_the_difference() -> None:
    X, y = _data(50)
    full = ssp_statistics(X, y, **KW)
    rest = ssp_statistics(X[1:], y[1:], **KW)
    np.testing.assert_allclose(full - rest, ssp_statistics(X[:1], y[:1], **KW), atol=1e-9)


def test_exact_statistics_give_ordinary_ridge_on_the_clipped_data() -> None:
    X, y = _data()
    Xc = X * np.minimum(1, 3.0 / np.linalg.norm(X, axis=1))[:, None]
    t = np.clip((y - 150.0) / 100.0, -2.0, 2.0)
    A = np.column_stack([np.ones(len(X)), Xc])
    direct = np.linalg.solve(A.T @ A + 7.0 * np.eye(5), A.T @ t) * 100.0
    direct[0] += 150.0
    theta = ridge_from_statistics(ssp_statistics(X, y, **KW), lam=7.0, n_features=4, **KW)
    np.testing.assert_allclose(theta, direct, rtol=1e-10, atol=1e-9)


def test_release_noise_has_the_calibrated_scale() -> None:
    X, y = _data()
    exact = ssp_statistics(X, y, **KW)
    releases = [ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=s, **KW) for s in range(40)]
    noise = np.concatenate([r.statistics - exact for r in releases])
    sigma = gaussian_sigma(
        sensitivity=ssp_sensitivity(feature_bound=3.0, target_bound=2.0), epsilon=1.0, delta=1e-5
    )
    assert releases[0].sigma == pytest.approx(sigma)
    assert stats.kstest(noise / sigma, "norm").pvalue > 0.01
    assert releases[0].epsilon == 1.0 and releases[0].delta == 1e-5
    again = ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=3, **KW)
    np.testing.assert_array_equal(again.statistics, releases[3].statistics)  # seeded


def test_useful_model_at_epsilon_one() -> None:
    """On 2,000 rows the DP model predicts much better than the mean (a negative control: 0 rows)."""
    X, y = _data(2_000)
    release = ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=0, **KW)
    theta = ridge_from_statistics(release.statistics, lam=100.0, n_features=4, **KW)
    pred = np.column_stack([np.ones(len(X)), X]) @ theta
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.85 * np.std(y)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"feature_bound": 0.0}, "feature_bound"),
        ({"target_scale": -1.0}, "target_scale"),
        ({"target_bound": float("nan")}, "target_bound"),
        ({"target_center": "mid"}, "target_center"),
        ({"target_center": float("inf")}, "target_center"),
    ],
)
def test_statistics_bad_bounds(kwargs, word) -> None:
    with pytest.raises(ValueError, match=word):
        ssp_statistics(np.zeros((2, 2)), np.zeros(2), **(KW | kwargs))


def test_bad_data_and_privacy_knobs() -> None:
    with pytest.raises(ValueError, match="X must be"):
        ssp_statistics(np.zeros(3), np.zeros(3), **KW)
    with pytest.raises(ValueError, match="finite"):
        ssp_statistics(np.array([[np.nan, 0.0]]), np.zeros(1), **KW)
    with pytest.raises(ValueError, match="epsilon"):
        ssp_release(np.zeros((2, 2)), np.zeros(2), epsilon=0.0, delta=1e-5, rng=0, **KW)
    with pytest.raises(ValueError, match="delta"):
        ssp_release(np.zeros((2, 2)), np.zeros(2), epsilon=1.0, delta=1.0, rng=0, **KW)
    with pytest.raises(ValueError, match="rng"):
        ssp_release(np.zeros((2, 2)), np.zeros(2), epsilon=1.0, delta=1e-5, rng="seed", **KW)


def test_ridge_from_statistics_bad_input() -> None:
    good = ssp_statistics(np.zeros((2, 2)), np.zeros(2), **KW)
    with pytest.raises(ValueError, match="n_features"):
        ridge_from_statistics(good, lam=1.0, n_features=0, **KW)
    with pytest.raises(ValueError, match="statistics must have"):
        ridge_from_statistics(good, lam=1.0, n_features=3, **KW)
    with pytest.raises(ValueError, match="lam"):
        ridge_from_statistics(good, lam=-1.0, n_features=2, **KW)
