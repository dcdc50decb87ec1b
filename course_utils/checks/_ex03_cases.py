"""Reference computations of the exercise-set-03 checks: the exact delta of the Gaussian
mechanism and the usual miscalibrations, softmax probabilities, randomized response, the
total noise variance of a budget split and the shape of a wrong split.

Private to :mod:`course_utils.checks.ex03_dp_mechanisms` (kept apart so that each module stays short).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["gaussian_delta", "rr", "sigma_mistakes", "softmax", "split_shape", "total_variance"]


def gaussian_delta(epsilon: float, s: float) -> float:
    """Exact delta of a Gaussian with noise multiplier s at epsilon (Balle & Wang 2018)."""
    a = special.log_ndtr(0.5 / s - epsilon * s)
    b = epsilon + special.log_ndtr(-0.5 / s - epsilon * s)
    return float(max(0.0, math.exp(a) - math.exp(b)))


def sigma_mistakes(sensitivity: float, epsilon: float, delta: float) -> list[tuple[float, str]]:
    root = math.sqrt(2.0 * math.log(1.25 / delta))
    classic = root * sensitivity / epsilon
    return [
        (
            root * sensitivity * epsilon,
            "Divide by epsilon: a smaller epsilon must give more noise.",
        ),
        (
            2.0 * math.log(1.25 / delta) * sensitivity / epsilon,
            "Take the square root of 2 ln(1.25 / delta).",
        ),
        (root / epsilon, "Multiply by the sensitivity: sigma grows in proportion to it."),
        (
            math.sqrt(2.0 * math.log10(1.25 / delta)) * sensitivity / epsilon,
            "Use the natural logarithm (math.log), not log10.",
        ),
        (
            math.sqrt(2.0 * math.log(1.25 / epsilon)) * sensitivity / delta,
            "You swapped epsilon and delta: ln(1.25 / delta) inside the root, / epsilon outside.",
        ),
        (classic**2, "Return the standard deviation sigma, not the variance sigma^2."),
    ]


def softmax(u: np.ndarray, factor: float) -> np.ndarray:
    return special.softmax(factor * np.asarray(u, dtype=float))


def rr(bits: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    keep = math.exp(epsilon) / (1.0 + math.exp(epsilon))
    return np.where(rng.random(bits.shape) < keep, bits, 1 - bits).astype(int)


def total_variance(sensitivities: np.ndarray, epsilons: np.ndarray) -> float:
    return float(np.sum(2.0 * (sensitivities / epsilons) ** 2))


def split_shape(s: np.ndarray, got: np.ndarray, epsilon: float) -> tuple[str, float]:
    """What a non-optimal budget split looks like: ``("equal" | "proportional" | "unspent" |
    "power" | "", k)``, with ``k`` the power of ``eps_i ~ s_i^k`` for ``"power"``."""
    if np.allclose(got, epsilon / s.size):
        return "equal", 0.0
    if np.allclose(got, s / s.sum() * epsilon):
        return "proportional", 1.0
    if got.sum() < epsilon * 0.999:
        return "unspent", 0.0
    if np.ptp(s) > 0:
        k = float(np.polyfit(np.log(s), np.log(got), 1)[0])
        if np.allclose(got, s**k / np.sum(s**k) * epsilon, rtol=1e-3):
            return "power", k
    return "", 0.0
