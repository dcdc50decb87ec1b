"""Statistics the notebooks and helpers share: exact confidence bounds for a binomial proportion.

Every claim a notebook makes about a rate (an attack's success, a certified accuracy, the share
of released values inside a band) comes from a finite number of trials; :func:`clopper_pearson`
turns ``k`` successes in ``n`` trials into an interval that covers the true rate with the stated
confidence, whatever that rate is. The privacy audit, randomized-smoothing certificates and
the notebooks' claim checks all use this one function.

Examples
--------
>>> lo, hi = clopper_pearson(50, 100)
>>> round(lo, 3), round(hi, 3)
(0.398, 0.602)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as _stats

from .validation import check_choice, check_probability

__all__ = ["clopper_pearson"]

_SIDES = ("two-sided", "lower", "upper")


def _counts(k: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    k_arr, n_arr = np.asarray(k), np.asarray(n)
    if np.any(n_arr < 1) or np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError(
            f"clopper_pearson: need 0 <= count <= n and n >= 1, got count={k!r}, n={n!r}"
        )
    return k_arr.astype(float), n_arr.astype(float)


def clopper_pearson(
    k: Any, n: Any, *, confidence: float = 0.95, side: str = "two-sided"
) -> tuple[Any, Any]:
    """Exact (Clopper-Pearson) confidence interval for a binomial proportion ``k / n``.

    Parameters
    ----------
    k, n : int or array_like
        Successes and trials (``0 <= k <= n``, ``n >= 1``); arrays broadcast.
    confidence : float, default 0.95
        Probability that the interval covers the true proportion, in (0, 1).
    side : {"two-sided", "lower", "upper"}
        ``"two-sided"`` leaves ``(1 - confidence) / 2`` in each tail. ``"lower"`` is a one-sided
        lower bound (the upper end is 1): "the rate is at least ..." with probability
        ``confidence``, as randomized smoothing needs. ``"upper"`` is the mirror image.

    Returns
    -------
    (lower, upper)
        Floats, or arrays when ``k`` or ``n`` is an array (the convention of scipy's
        ``binomtest(...).proportion_ci``).

    Examples
    --------
    >>> clopper_pearson(0, 10)[0], clopper_pearson(10, 10)[1]
    (0.0, 1.0)
    >>> lower, upper = clopper_pearson(100, 100, confidence=0.999, side="lower")
    >>> round(lower, 4), upper               # all successes: alpha ** (1 / n)
    (0.9333, 1.0)
    """
    confidence = check_probability(confidence, "confidence")
    check_choice(side, "side", _SIDES)
    k, n = _counts(k, n)
    tail = 1.0 - confidence
    if side == "two-sided":
        tail = tail / 2
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, _stats.beta.ppf(tail, k, n - k + 1), 0.0)
        hi = np.where(k < n, _stats.beta.ppf(1 - tail, k + 1, n - k), 1.0)
    if side == "lower":
        hi = np.ones_like(lo)
    elif side == "upper":
        lo = np.zeros_like(hi)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi
