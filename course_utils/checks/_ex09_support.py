"""Simulators behind the checks of exercise set 09 (the expected behaviour, in plain numpy).

Kept apart from :mod:`course_utils.checks.ex09_dp_in_the_wild` (the checks themselves) so each
file stays short; the leading underscore keeps the checks' auto-discovery from importing it as a set.
"""

from __future__ import annotations

import math

import numpy as np


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _instance(n: int, m: int, noise: float, seed: int, share: float = 0.5):
    rng = _rng(seed)
    bits = (rng.random(n) < share).astype(int)
    Q = rng.integers(0, 2, size=(m, n)).astype(float)
    answers = Q @ bits + rng.uniform(-noise, noise, size=m)
    return bits, Q, answers


def _grr(values: np.ndarray, k: int, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    keep = math.exp(epsilon) / (math.exp(epsilon) + k - 1)
    other = rng.integers(0, k - 1, size=values.size)
    other = other + (other >= values)
    return np.where(rng.random(values.size) < keep, values, other)


def _grr_truth(reports: np.ndarray, k: int, epsilon: float) -> np.ndarray:
    e = math.exp(epsilon)
    p, q = e / (e + k - 1), 1 / (e + k - 1)
    return (np.bincount(reports, minlength=k) - reports.size * q) / (p - q)


def _above_threshold_law(
    answers: np.ndarray,
    threshold_scale: float,
    answer_scale: float,
    *,
    redraw: bool = False,
    n: int = 400_000,
    seed: int = 12345,
) -> np.ndarray:
    """P[first index above = i] for i < k and P[None] (last entry), by Monte Carlo (threshold 0)."""
    rng = _rng(seed)
    k = answers.size
    shape = (n, k) if redraw else (n, 1)
    rho = rng.laplace(0.0, threshold_scale, size=shape) if threshold_scale > 0 else np.zeros(shape)
    nu = rng.laplace(0.0, answer_scale, size=(n, k)) if answer_scale > 0 else np.zeros((n, k))
    above = answers[None, :] + nu >= rho
    first = np.where(above.any(axis=1), above.argmax(axis=1), k)
    return np.bincount(first, minlength=k + 1) / n
