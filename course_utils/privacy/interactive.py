"""Interactive mechanisms: report noisy max and the sparse vector technique.

Both answer a *stream* (or a set) of questions and pay only for what they reveal: report noisy max
releases the index of the largest noisy score, the sparse vector technique (AboveThreshold) says
which queries exceed a noisy threshold, paying for the first ``max_above`` "yes" answers only.
They are re-exported by :mod:`course_utils.privacy.mechanisms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_bool, check_int, check_positive, check_scalar

__all__ = ["report_noisy_max", "sparse_vector"]


def _finite_vector(values: Any, name: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float array of finite numbers, else a ValueError naming it."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of finite numbers, got shape {arr.shape}"
        )
    return arr


def report_noisy_max(
    scores: Sequence[float] | np.ndarray,
    *,
    epsilon: float,
    sensitivity: float = 1.0,
    rng: RNGLike,
    monotonic: bool = False,
) -> int:
    """Index of the largest score after adding Laplace noise to every score (epsilon-DP).

    Only the index is released, never the noisy scores. When neighbouring datasets may move
    every score by up to ``sensitivity`` in either direction the noise scale is
    ``2 * sensitivity / epsilon``; for counts (``monotonic=True``: all scores move in the same
    direction) ``sensitivity / epsilon`` suffices (Dwork & Roth 2014, Claim 3.9).

    Parameters
    ----------
    scores : sequence of float
        One score per candidate (non-empty, finite), e.g. the count of each diagnosis.
    epsilon : float
        > 0.
    sensitivity : float, default 1.0
        Largest change of any one score between neighbouring datasets (> 0).
    rng : numpy.random.Generator, int seed or None
    monotonic : bool, default False
        True when a neighbour moves all scores in the same direction (counting queries).

    Returns
    -------
    int
        Index of the noisy winner.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> picks = [report_noisy_max([10, 40, 12], epsilon=1.0, rng=rng) for _ in range(200)]
    >>> picks.count(1) > 195  # a gap of 28 against noise of scale 2
    True
    """
    s = _finite_vector(scores, "scores")
    epsilon = check_positive(epsilon, "epsilon")
    sensitivity = check_positive(sensitivity, "sensitivity")
    factor = 1.0 if check_bool(monotonic, "monotonic") else 2.0
    noisy = s + as_rng(rng).laplace(0.0, factor * sensitivity / epsilon, size=s.size)
    return int(np.argmax(noisy))


def sparse_vector(
    answers: Sequence[float] | np.ndarray,
    threshold: float,
    *,
    epsilon: float,
    rng: RNGLike,
    sensitivity: float = 1.0,
    max_above: int = 1,
    monotonic: bool = False,
) -> list[bool]:
    """Sparse vector technique: which answers are above ``threshold``, paying only for the "yes"es.

    The threshold gets Laplace noise of scale ``sensitivity / eps1`` once, every answer gets fresh
    noise of scale ``2 * max_above * sensitivity / eps2`` (``max_above * sensitivity / eps2``
    when ``monotonic``), with ``eps1 = eps2 = epsilon / 2``. The answers are compared in order and
    the mechanism stops after the ``max_above``-th True. The whole output is epsilon-DP however
    many answers are False (Lyu, Su & Li 2017, Algorithm 1).

    Parameters
    ----------
    answers : sequence of float
        True answers of the queries, in the order they are asked (non-empty, finite).
    threshold : float
        Public threshold.
    epsilon : float
        Total budget (> 0).
    rng : numpy.random.Generator, int seed or None
    sensitivity : float, default 1.0
        Largest change of any one answer between neighbouring datasets (> 0).
    max_above : int, default 1
        Stop after this many True answers (>= 1).
    monotonic : bool, default False
        True when a neighbour moves all answers in the same direction (counting queries).

    Returns
    -------
    list of bool
        One entry per answered query; it ends at the ``max_above``-th True, so it is shorter
        than ``answers`` when the mechanism stopped early.

    Examples
    --------
    >>> out = sparse_vector([1, 2, 3, 100, 2, 200], 50, epsilon=1.0, rng=0)
    >>> out
    [False, False, False, True]
    """
    a = _finite_vector(answers, "answers")
    threshold = check_scalar(threshold, "threshold")
    epsilon = check_positive(epsilon, "epsilon")
    sensitivity = check_positive(sensitivity, "sensitivity")
    max_above = check_int(max_above, "max_above", min_val=1)
    factor = 1.0 if check_bool(monotonic, "monotonic") else 2.0
    rng = as_rng(rng)
    eps1 = eps2 = epsilon / 2.0
    noisy_threshold = threshold + rng.laplace(0.0, sensitivity / eps1)
    above = (
        a + rng.laplace(0.0, factor * max_above * sensitivity / eps2, size=a.size)
        >= noisy_threshold
    )
    hits = np.flatnonzero(above)
    stop = a.size if hits.size < max_above else int(hits[max_above - 1]) + 1
    return above[:stop].tolist()
