"""Apple's count-mean sketch (CMS; Apple Differential Privacy Team, "Learning with Privacy at
Scale", 2017), a local-DP frequency oracle for large domains: each user sends one +-1 vector of
length ``m`` (the one-hot hashed value, every entry flipped with probability
``1 / (1 + e^(eps/2))``) and the index of one of ``hashes`` public hash functions; the collector
adds the de-biased vectors into a ``hashes x m`` sketch and averages a value's cells.

The estimate is unbiased over the users' coins and the choice of the public hash functions
(``hash_seed``). Re-exported by :mod:`course_utils.privacy.local`, whose GRR and OLH oracles
share its conventions (values in ``range(k)``, estimates are counts).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from course_utils.validation import RNGLike, as_rng, check_int, check_positive

from ._ldp_inputs import _CHUNK, _counts, _k, _values

__all__ = ["CMSReports", "cms_hash", "cms_perturb", "cms_estimate", "cms_variance"]


class CMSReports(NamedTuple):
    """What count-mean-sketch users send: a hash index and a flipped +-1 vector each.

    Attributes
    ----------
    rows : ndarray of int64, shape (n,)
        Index of the public hash function each user picked.
    bits : ndarray of uint8, shape (n, ceil(m / 8))
        The +-1 vectors as packed bits (1 for +1), ``numpy.packbits`` along each row.
    m : int
        Sketch width (length of each vector).
    """

    rows: np.ndarray
    bits: np.ndarray
    m: int


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a fast 64-bit mixing function (wrapping uint64 arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def cms_hash(values: Any, rows: Any, *, m: int, hash_seed: int = 0) -> np.ndarray:
    """The public hash functions of the sketch: ``h_row(value)`` in ``range(m)``.

    Hash function ``row`` mixes the value with a key derived from ``(hash_seed, row)``; for a
    fixed seed the family is fixed and public (Apple uses SHA-256 variants), and over random
    seeds it behaves like independent random functions.

    Parameters
    ----------
    values, rows : array_like of int
        Broadcast against each other.
    m : int
        Hash range (>= 2).
    hash_seed : int, default 0
        Chooses the family (non-negative).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> cms_hash([7, 7], [0, 0], m=16).tolist() == cms_hash([7, 7], [0, 0], m=16).tolist()
    True
    """
    m = check_int(m, "m", min_val=2)
    hash_seed = check_int(hash_seed, "hash_seed", min_val=0)
    v = np.asarray(values).astype(np.uint64)
    r = np.asarray(rows).astype(np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps around on purpose
        key = _mix64(np.uint64(hash_seed) * np.uint64(0x9E3779B97F4A7C15) + r + np.uint64(1))
        return (_mix64(_mix64(key ^ v) + key) % np.uint64(m)).astype(np.int64)


def _cms_flip_probability(epsilon: float) -> float:
    return 1.0 / (1.0 + math.exp(epsilon / 2.0))


def cms_perturb(
    values: Any, *, epsilon: float, m: int, hashes: int, rng: RNGLike, hash_seed: int = 0
) -> CMSReports:
    """Apple's count-mean-sketch client: one-hot the hashed value in +-1, flip each entry.

    Each entry flips with probability ``1 / (1 + e^(eps/2))``; two different values differ in
    at most two entries, so the report is epsilon-LDP.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        One non-negative value per user (any range below 2^31).
    epsilon : float
        Local privacy parameter (> 0).
    m : int
        Sketch width (>= 2).
    hashes : int
        Number of public hash functions (>= 1); each user picks one at random.
    rng : numpy.random.Generator, int seed or None
    hash_seed : int, default 0
        Chooses the public hash family (see :func:`cms_hash`).

    Returns
    -------
    CMSReports

    Examples
    --------
    >>> rep = cms_perturb([3, 1, 4], epsilon=2.0, m=32, hashes=8, rng=0)
    >>> rep.rows.shape, rep.bits.shape, rep.m
    ((3,), (3, 4), 32)
    """
    x = _values(values, None)
    epsilon = check_positive(epsilon, "epsilon")
    m = check_int(m, "m", min_val=2)
    hashes = check_int(hashes, "hashes", min_val=1)
    rng = as_rng(rng)
    flip = _cms_flip_probability(epsilon)
    rows = rng.integers(0, hashes, size=x.size)
    buckets = cms_hash(x, rows, m=m, hash_seed=hash_seed)
    packed = np.empty((x.size, (m + 7) // 8), dtype=np.uint8)
    for start in range(0, x.size, _CHUNK):
        stop = min(x.size, start + _CHUNK)
        one_hot = np.zeros((stop - start, m), dtype=bool)
        one_hot[np.arange(stop - start), buckets[start:stop]] = True
        flipped = rng.random((stop - start, m), dtype=np.float32) < flip
        packed[start:stop] = np.packbits(one_hot ^ flipped, axis=1)
    return CMSReports(rows, packed, m)


def _cms_constant(epsilon: float) -> float:
    e = math.exp(epsilon / 2.0)
    return (e + 1.0) / (e - 1.0)


def cms_estimate(
    reports: CMSReports, k: int, *, epsilon: float, m: int, hashes: int, hash_seed: int = 0
) -> np.ndarray:
    """Count estimates for ``range(k)`` from count-mean-sketch reports.

    The server de-biases each vector, ``x = hashes * (c_eps * v + 1) / 2`` with
    ``c_eps = (e^(eps/2) + 1) / (e^(eps/2) - 1)``, adds it into row ``j`` of a ``hashes x m``
    sketch ``M``, and estimates ``n_d = m / (m - 1) * (mean_j M[j, h_j(d)] - n / m)``.

    Parameters
    ----------
    reports : CMSReports
        From :func:`cms_perturb` with the same ``epsilon``, ``m``, ``hashes`` and ``hash_seed``.
    k : int
        Estimates are returned for values ``range(k)``.
    epsilon, m, hashes, hash_seed
        As in :func:`cms_perturb`.

    Returns
    -------
    ndarray of float, shape (k,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = rng.choice(4, size=50_000, p=[0.4, 0.3, 0.2, 0.1])
    >>> rep = cms_perturb(values, epsilon=4.0, m=64, hashes=32, rng=rng)
    >>> (cms_estimate(rep, 4, epsilon=4.0, m=64, hashes=32) / 50_000).round(1).tolist()
    [0.4, 0.3, 0.2, 0.1]
    """
    k = _k(k)
    epsilon = check_positive(epsilon, "epsilon")
    m = check_int(m, "m", min_val=2)
    hashes = check_int(hashes, "hashes", min_val=1)
    if not isinstance(reports, CMSReports) or reports.m != m:
        raise ValueError(f"reports must be the CMSReports of cms_perturb with m={m}")
    rows = np.asarray(reports.rows)
    if rows.size and (rows.min() < 0 or rows.max() >= hashes):
        raise ValueError(f"reports use hash rows outside range(hashes={hashes})")
    n = rows.size
    plus = np.zeros((hashes, m))  # number of +1 entries per sketch cell
    order = np.argsort(rows, kind="stable")  # users grouped by hash row
    for start in range(0, n, _CHUNK):
        idx = order[start : start + _CHUNK]
        block_rows = rows[idx]
        starts = np.r_[0, np.flatnonzero(np.diff(block_rows)) + 1]
        signs = np.unpackbits(reports.bits[idx], axis=1, count=m)
        plus[block_rows[starts]] += np.add.reduceat(signs, starts, axis=0, dtype=np.int64)
    users_per_row = np.bincount(rows, minlength=hashes).astype(float)
    c = _cms_constant(epsilon)
    # sum over users of hashes * (c * v + 1) / 2 with v = 2 * plus - 1
    sketch = hashes * (c * (2.0 * plus - users_per_row[:, None]) + users_per_row[:, None]) / 2.0
    cells = cms_hash(np.arange(k)[None, :], np.arange(hashes)[:, None], m=m, hash_seed=hash_seed)
    mean_cell = sketch[np.arange(hashes)[:, None], cells].mean(axis=0)
    return m / (m - 1.0) * (mean_cell - n / m)


def cms_variance(counts: Any, *, epsilon: float, m: int, hashes: int) -> np.ndarray:
    """Variance of each :func:`cms_estimate` count, over the users' coins and the hash family.

    With ``n = sum(counts)``, ``K = hashes`` and ``c = c_eps``:
    ``Var_d = (m / (m - 1))^2 [ n (c^2 - 1) / 4 + (n - n_d)(m - 1) / m^2
    + (m - 1) / (K m^2) * sum_{d' != d} n_d' (n_d' - 1) ]``.
    The first term is the privacy noise; the other two are hash collisions (the last one, from
    users who share a value and therefore a collision, shrinks with more hash functions).

    Examples
    --------
    >>> v = cms_variance([50_000, 50_000], epsilon=4.0, m=1024, hashes=256)
    >>> round(float(np.sqrt(v[0])))  # privacy noise and collisions with the other value
    167
    """
    c_vec = _counts(counts)
    epsilon = check_positive(epsilon, "epsilon")
    m = check_int(m, "m", min_val=2)
    hashes = check_int(hashes, "hashes", min_val=1)
    c = _cms_constant(epsilon)
    n = c_vec.sum()
    pairs = c_vec * (c_vec - 1.0)
    collisions = (m - 1.0) / (hashes * m**2) * (pairs.sum() - pairs)
    inner = n * (c**2 - 1.0) / 4.0 + (n - c_vec) * (m - 1.0) / m**2 + collisions
    return (m / (m - 1.0)) ** 2 * inner
