"""Local differential privacy at scale: frequency oracles for one categorical value per user.

Each user holds a value in ``range(k)`` (an emoji, a word id) and sends one randomized report;
the collector only sees reports and estimates how many users hold each value. Three oracles:

* **GRR**, generalized randomized response (Warner 1965 for k = 2; Kairouz et al. 2016):
  report the true value with probability ``p = e^eps / (e^eps + k - 1)``, else one of the other
  ``k - 1`` values uniformly. Good for small ``k``; its variance grows with ``k``.
* **OLH**, optimal local hashing (Wang, Blocki, Li & Jha, USENIX Security 2017): each user draws
  a hash function ``H`` from a universal family mapping ``range(k)`` to ``range(g)``
  (``g = round(e^eps) + 1``), applies GRR over ``g`` values to ``H(value)`` and sends the
  hash function with the result. Its variance does not depend on ``k``. Hashes here are
  ``((a x + b) mod P) mod g`` with ``P = 2^31 - 1`` and per-user ``(a, b)``.
* **CMS**, Apple's count-mean sketch (Apple Differential Privacy Team, "Learning with Privacy
  at Scale", 2017): a user picks one of ``hashes`` public hash functions at random, one-hot
  encodes the hashed value as a +-1 vector of length ``m``, flips each entry with probability
  ``1 / (1 + e^(eps/2))`` and sends the vector and the hash index. The collector adds the
  de-biased vectors into a ``hashes x m`` sketch and averages a value's cells.

Every estimator returns **counts** (not frequencies) and is unbiased: for GRR and OLH over the
users' coins, for CMS over the coins and the random choice of the public hash functions
(``hash_seed``). CMS lives in :mod:`course_utils.privacy.local_cms` and is re-exported here.
The ``*_variance`` functions give the exact variance of each count estimate for
a given vector of true counts; the notebook checks them against simulations. Every report is
epsilon-LDP: changing a user's value changes the probability of any report by at most ``e^eps``.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> values = rng.integers(0, 4, size=50_000)
>>> est = grr_estimate(grr_perturb(values, 4, epsilon=1.0, rng=rng), 4, epsilon=1.0)
>>> bool(np.all(np.abs(est - np.bincount(values, minlength=4)) < 5 * np.sqrt(grr_variance(np.bincount(values), epsilon=1.0))))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from course_utils.validation import RNGLike, as_rng, check_int, check_positive

from ._ldp_inputs import OLH_PRIME, _counts, _k, _values
from .local_cms import CMSReports, cms_estimate, cms_hash, cms_perturb, cms_variance

__all__ = [
    "grr_perturb",
    "grr_estimate",
    "grr_variance",
    "olh_perturb",
    "olh_estimate",
    "olh_variance",
    "olh_g",
    "CMSReports",
    "cms_hash",
    "cms_perturb",
    "cms_estimate",
    "cms_variance",
]


# --------------------------------------------------------------------------- GRR
def _grr_probabilities(k: int, epsilon: float) -> tuple[float, float]:
    """(p, q): probability of reporting the true value, and each particular other value."""
    e = math.exp(epsilon)
    return e / (e + k - 1), 1.0 / (e + k - 1)


def grr_perturb(values: Any, k: int, *, epsilon: float, rng: RNGLike) -> np.ndarray:
    """Generalized randomized response: keep each value w.p. ``e^eps / (e^eps + k - 1)``.

    Otherwise the report is one of the other ``k - 1`` values, uniformly.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        One value in ``range(k)`` per user.
    k : int
        Domain size (>= 2).
    epsilon : float
        Local privacy parameter (> 0).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray of int64, shape (n,)
        The reports.

    Examples
    --------
    >>> reports = grr_perturb(np.zeros(10_000, dtype=int), 3, epsilon=math.log(2), rng=0)
    >>> round(float(np.mean(reports == 0)), 2)  # p = 2 / (2 + 2)
    0.5
    """
    k = _k(k)
    x = _values(values, k)
    epsilon = check_positive(epsilon, "epsilon")
    rng = as_rng(rng)
    p, _ = _grr_probabilities(k, epsilon)
    other = rng.integers(0, k - 1, size=x.size)
    other += other >= x  # skip the true value: uniform over the k - 1 others
    return np.where(rng.random(x.size) < p, x, other)


def grr_estimate(reports: Any, k: int, *, epsilon: float) -> np.ndarray:
    """Unbiased estimate of how many users hold each value, from GRR reports.

    ``E[count_v] = n_v p + (n - n_v) q``, so ``n_v = (count_v - n q) / (p - q)``. Estimates
    are not clipped at 0 (clipping would bias them).

    Parameters
    ----------
    reports : array_like of int, shape (n,)
        Output of :func:`grr_perturb`.
    k : int
    epsilon : float
        The epsilon the reports were made with.

    Returns
    -------
    ndarray of float, shape (k,)

    Examples
    --------
    >>> grr_estimate([0, 0, 1, 2], 3, epsilon=math.log(2)).round(3).tolist()
    [4.0, 0.0, 0.0]
    """
    k = _k(k)
    r = _values(reports, k, "reports")
    epsilon = check_positive(epsilon, "epsilon")
    p, q = _grr_probabilities(k, epsilon)
    counts = np.bincount(r, minlength=k).astype(float)
    return (counts - r.size * q) / (p - q)


def grr_variance(counts: Any, *, epsilon: float) -> np.ndarray:
    """Exact variance of each :func:`grr_estimate` count for the true counts ``counts``.

    ``Var = n q (1 - q) / (p - q)^2 + n_v (1 - p - q) / (p - q)`` (Wang et al. 2017), with
    ``n = sum(counts)`` users and ``k = len(counts)`` values.

    Examples
    --------
    >>> grr_variance([100, 0], epsilon=math.log(3)).round(1).tolist()  # k = 2: classic RR
    [75.0, 75.0]
    """
    c = _counts(counts)
    epsilon = check_positive(epsilon, "epsilon")
    p, q = _grr_probabilities(c.size, epsilon)
    n = c.sum()
    return n * q * (1 - q) / (p - q) ** 2 + c * (1 - p - q) / (p - q)


# --------------------------------------------------------------------------- OLH
def olh_g(epsilon: float) -> int:
    """OLH's hash range ``g = round(e^eps) + 1`` (the variance-minimising choice, at least 2).

    Examples
    --------
    >>> olh_g(1.0), olh_g(4.0)
    (4, 56)
    """
    epsilon = check_positive(epsilon, "epsilon")
    return max(2, int(round(math.exp(epsilon))) + 1)


def _olh_hash(a: np.ndarray, b: np.ndarray, x: Any, g: int) -> np.ndarray:
    return ((a * x + b) % OLH_PRIME) % g  # a, x < 2^31: the product fits in int64


def _g(g: Any, epsilon: float) -> int:
    return olh_g(epsilon) if g is None else check_int(g, "g", min_val=2)


def olh_perturb(
    values: Any, k: int, *, epsilon: float, rng: RNGLike, g: int | None = None
) -> np.ndarray:
    """Optimal local hashing: hash each value to ``range(g)``, then GRR over the ``g`` buckets.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        One value in ``range(k)`` per user.
    k : int
        Domain size (>= 2); only checked here, the report does not depend on it.
    epsilon : float
        Local privacy parameter (> 0).
    rng : numpy.random.Generator, int seed or None
    g : int, optional
        Hash range; default :func:`olh_g`. Use the same ``g`` in :func:`olh_estimate`.

    Returns
    -------
    ndarray of int64, shape (n, 3)
        One report per user: the hash function's ``(a, b)`` and the perturbed bucket ``y``.

    Examples
    --------
    >>> olh_perturb([0, 1, 2], 3, epsilon=1.0, rng=0).shape
    (3, 3)
    """
    k = _k(k)
    x = _values(values, k)
    epsilon = check_positive(epsilon, "epsilon")
    g = _g(g, epsilon)
    rng = as_rng(rng)
    a = rng.integers(1, OLH_PRIME, size=x.size, dtype=np.int64)
    b = rng.integers(0, OLH_PRIME, size=x.size, dtype=np.int64)
    y = grr_perturb(_olh_hash(a, b, x, g), g, epsilon=epsilon, rng=rng)
    return np.column_stack([a, b, y])


def olh_estimate(reports: Any, k: int, *, epsilon: float, g: int | None = None) -> np.ndarray:
    """Unbiased count estimates from OLH reports.

    A report *supports* value ``v`` when its hash of ``v`` equals its bucket. A user holding
    ``v`` supports it with probability ``p = e^eps / (e^eps + g - 1)``, any other user with
    probability ``1/g``, so ``n_v = (support_v - n / g) / (p - 1/g)``.

    Parameters
    ----------
    reports : array_like of int, shape (n, 3)
        Output of :func:`olh_perturb`.
    k : int
        Domain size: estimates are returned for ``range(k)``.
    epsilon : float
    g : int, optional
        As in :func:`olh_perturb`.

    Returns
    -------
    ndarray of float, shape (k,)

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> values = rng.choice(5, size=40_000, p=[0.5, 0.2, 0.2, 0.1, 0.0])
    >>> est = olh_estimate(olh_perturb(values, 5, epsilon=2.0, rng=rng), 5, epsilon=2.0)
    >>> (est / 40_000).round(1).tolist()
    [0.5, 0.2, 0.2, 0.1, 0.0]
    """
    k = _k(k)
    r = np.asarray(reports)
    if r.ndim != 2 or r.shape[1] != 3 or r.shape[0] == 0 or not np.issubdtype(r.dtype, np.integer):
        raise ValueError(
            f"reports must be an (n, 3) integer array from olh_perturb, got shape {r.shape}"
        )
    epsilon = check_positive(epsilon, "epsilon")
    g = _g(g, epsilon)
    a, b, y = (r[:, i].astype(np.int64) for i in range(3))
    support = np.empty(k)
    block = max(1, 2_000_000 // r.shape[0])  # values per step: bounded memory
    for start in range(0, k, block):
        v = np.arange(start, min(k, start + block), dtype=np.int64)
        hashed = _olh_hash(a[:, None], b[:, None], v[None, :], g)
        support[start : start + v.size] = (hashed == y[:, None]).sum(axis=0)
    p, _ = _grr_probabilities(g, epsilon)
    return (support - r.shape[0] / g) / (p - 1.0 / g)


def olh_variance(counts: Any, *, epsilon: float, g: int | None = None) -> np.ndarray:
    """Variance of each :func:`olh_estimate` count (hash buckets treated as uniform).

    ``Var = n q (1 - q) / (p - q)^2 + n_v (1 - p - q) / (p - q)`` with ``q = 1/g`` and
    ``p = e^eps / (e^eps + g - 1)``: GRR's formula with ``k`` replaced by the hash range.

    Examples
    --------
    >>> v = olh_variance([0, 100_000], epsilon=4.0)  # a value nobody holds ...
    >>> round(float(v[0] / 100_000), 3)  # ... about 4 e^eps / (e^eps - 1)^2 per user
    0.076
    """
    c = _counts(counts)
    epsilon = check_positive(epsilon, "epsilon")
    g = _g(g, epsilon)
    p, q = _grr_probabilities(g, epsilon)[0], 1.0 / g
    n = c.sum()
    return n * q * (1 - q) / (p - q) ** 2 + c * (1 - p - q) / (p - q)
