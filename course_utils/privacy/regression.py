"""Differentially private ridge regression by sufficient statistics perturbation (SSP).

A ridge model needs only two sums over the rows: ``A = sum a a^T`` and ``b = sum t a``, with
``a = [1, x]`` a row with its intercept entry and ``t`` its target. Bound every row's contribution
with public constants - clip ``x`` to L2 norm ``feature_bound`` and map the target to
``t = clip((y - target_center) / target_scale, -target_bound, target_bound)`` - and adding or
removing one person moves the pair ``(A, b)`` by at most

``sensitivity = ||a||_max * sqrt(||a||_max^2 + target_bound^2)``, ``||a||_max^2 = 1 + feature_bound^2``

in L2 norm (the upper triangle of ``a a^T`` has norm at most ``||a||^2``). :func:`ssp_release`
adds Gaussian noise calibrated to that bound once (analytic Gaussian mechanism); any model
computed from the noisy sums, for any ridge penalty, is post-processing and costs no further
privacy (:func:`ridge_from_statistics`). The bound depends only on public constants, never on the
data, which is what makes the release differentially private (add/remove-one neighbours).

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X, y = rng.normal(size=(500, 3)), rng.normal(150, 50, size=500)
>>> kw = dict(feature_bound=3.0, target_center=150.0, target_scale=100.0, target_bound=2.0)
>>> release = ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=rng, **kw)
>>> round(release.sensitivity, 3), release.statistics.shape  # 10 + 4 numbers for d = 3
(11.832, (14,))
>>> theta = ridge_from_statistics(release.statistics, lam=300.0, n_features=3, **kw)
>>> theta.shape
(4,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.privacy.mechanisms import gaussian_sigma
from course_utils.validation import RNGLike, as_rng, check_non_negative, check_positive

__all__ = [
    "SSPRelease",
    "ssp_sensitivity",
    "ssp_statistics",
    "ssp_release",
    "ridge_from_statistics",
]


def _center(target_center: Any) -> float:
    try:
        value = float(target_center)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(target_center, bool) or not math.isfinite(value):
        raise ValueError(f"target_center must be a finite number, got {target_center!r}")
    return value


def _bounds(feature_bound: Any, target_scale: Any, target_bound: Any) -> tuple[float, float, float]:
    return (
        check_positive(feature_bound, "feature_bound"),
        check_positive(target_scale, "target_scale"),
        check_positive(target_bound, "target_bound"),
    )


def ssp_sensitivity(*, feature_bound: float, target_bound: float) -> float:
    """L2 sensitivity of the statistics of :func:`ssp_statistics` (add/remove one row).

    Examples
    --------
    >>> round(ssp_sensitivity(feature_bound=3.0, target_bound=2.0), 4)  # sqrt(10) * sqrt(14)
    11.8322
    """
    feature_bound, _, target_bound = _bounds(feature_bound, 1.0, target_bound)
    a2 = 1.0 + feature_bound**2
    return math.sqrt(a2 * (a2 + target_bound**2))


def _rows(
    X: Any,
    y: Any,
    feature_bound: float,
    target_center: float,
    target_scale: float,
    target_bound: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Clipped rows with their intercept entry, and clipped scaled targets."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or y.shape != (X.shape[0],):
        raise ValueError(
            f"X must be (n, d) with n >= 1 and y of shape (n,), got {X.shape} and {y.shape}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite numbers")
    norms = np.linalg.norm(X, axis=1)
    X = X * np.minimum(1.0, feature_bound / np.maximum(norms, 1e-300))[:, None]
    t = np.clip((y - target_center) / target_scale, -target_bound, target_bound)
    return np.column_stack([np.ones(len(X)), X]), t


def ssp_statistics(
    X: Any,
    y: Any,
    *,
    feature_bound: float,
    target_center: float,
    target_scale: float,
    target_bound: float,
) -> np.ndarray:
    """The exact (noise-free) statistics: the upper triangle of ``A = sum a a^T``, then ``b = sum t a``.

    Called on a single row it returns that person's contribution, whose L2 norm is at most
    :func:`ssp_sensitivity`.

    Returns
    -------
    ndarray of shape ((d + 1)(d + 2) / 2 + d + 1,)

    Examples
    --------
    >>> s = ssp_statistics([[3.0, 4.0]], [250.0], feature_bound=1.0, target_center=150.0,
    ...                    target_scale=100.0, target_bound=2.0)
    >>> s.round(2).tolist()  # a = [1, 0.6, 0.8], t = 1
    [1.0, 0.6, 0.8, 0.36, 0.48, 0.64, 1.0, 0.6, 0.8]
    >>> bool(np.linalg.norm(s) <= ssp_sensitivity(feature_bound=1.0, target_bound=2.0))
    True
    """
    feature_bound, target_scale, target_bound = _bounds(feature_bound, target_scale, target_bound)
    A, t = _rows(X, y, feature_bound, _center(target_center), target_scale, target_bound)
    gram = A.T @ A
    upper = np.triu_indices(gram.shape[0])
    return np.concatenate([gram[upper], A.T @ t])


@dataclass
class SSPRelease:
    """One noisy release of the statistics.

    Attributes
    ----------
    statistics : ndarray
        The noisy statistics (same layout as :func:`ssp_statistics`).
    sigma : float
        Standard deviation of the Gaussian noise on every entry.
    sensitivity : float
        The L2 sensitivity the noise was calibrated to.
    epsilon, delta : float
        The guarantee of this release (add/remove-one neighbours).
    """

    statistics: np.ndarray
    sigma: float
    sensitivity: float
    epsilon: float
    delta: float


def ssp_release(
    X: Any,
    y: Any,
    *,
    epsilon: float,
    delta: float,
    feature_bound: float,
    target_center: float,
    target_scale: float,
    target_bound: float,
    rng: RNGLike,
) -> SSPRelease:
    """Release the statistics of ``(X, y)`` with the analytic Gaussian mechanism.

    The release is ``(epsilon, delta)``-DP for add/remove-one neighbours: the noise is calibrated
    to :func:`ssp_sensitivity`, a bound that depends only on the public clipping constants.

    Examples
    --------
    >>> X, y = np.zeros((4, 2)), np.full(4, 150.0)
    >>> kw = dict(feature_bound=1.0, target_center=150.0, target_scale=100.0, target_bound=1.0)
    >>> r = ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=0, **kw)
    >>> round(r.sigma / r.sensitivity, 3)  # the analytic Gaussian's noise multiplier at (1, 1e-5)
    3.731
    """
    epsilon = check_positive(epsilon, "epsilon")
    delta = check_positive(delta, "delta")
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    exact = ssp_statistics(
        X,
        y,
        feature_bound=feature_bound,
        target_center=target_center,
        target_scale=target_scale,
        target_bound=target_bound,
    )
    sensitivity = ssp_sensitivity(feature_bound=feature_bound, target_bound=target_bound)
    sigma = gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)
    noisy = exact + as_rng(rng).normal(0.0, sigma, size=exact.shape)
    return SSPRelease(noisy, sigma, sensitivity, epsilon, delta)


def ridge_from_statistics(
    statistics: Any,
    *,
    lam: float,
    n_features: int,
    target_center: float,
    target_scale: float,
    **_ignored: Any,
) -> np.ndarray:
    """Ridge parameters ``[intercept, w]`` (in the target's own units) from (noisy) statistics.

    Solves ``(A + lam I) theta = b`` on the scaled targets, penalising the intercept too (noisy
    statistics need the penalty in every direction), then undoes the target scaling. Extra
    keywords (e.g. the clipping bounds passed along with the others) are accepted and ignored.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(200, 2)); y = 100 + 30 * X[:, 0] + rng.normal(0, 1, 200)
    >>> kw = dict(feature_bound=10.0, target_center=100.0, target_scale=100.0, target_bound=5.0)
    >>> theta = ridge_from_statistics(ssp_statistics(X, y, **kw), lam=1e-6, n_features=2, **kw)
    >>> bool(np.allclose(theta, [100.0, 30.0, 0.0], atol=0.5))  # the exact statistics: ordinary ridge
    True
    """
    lam = check_non_negative(lam, "lam")
    target_scale = check_positive(target_scale, "target_scale")
    if (
        isinstance(n_features, bool)
        or not isinstance(n_features, (int, np.integer))
        or n_features < 1
    ):
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    dim = int(n_features) + 1
    stats = np.asarray(statistics, dtype=float)
    if stats.shape != (dim * (dim + 1) // 2 + dim,):
        raise ValueError(
            f"statistics must have {dim * (dim + 1) // 2 + dim} entries for n_features={n_features}, "
            f"got shape {stats.shape}"
        )
    gram = np.zeros((dim, dim))
    gram[np.triu_indices(dim)] = stats[: dim * (dim + 1) // 2]
    gram = gram + np.triu(gram, 1).T
    theta = np.linalg.solve(gram + lam * np.eye(dim), stats[dim * (dim + 1) // 2 :]) * target_scale
    theta[0] += _center(target_center)
    return theta
