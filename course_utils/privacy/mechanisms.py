"""Differential privacy mechanisms: Laplace, Gaussian, exponential and randomized response.

Each mechanism is a few lines that mirror its formula; the rest of the module checks arguments
(bad input raises ``ValueError`` naming the argument) and calibrates noise.

Conventions
-----------
* Privacy knobs are keyword-only and named as in Opacus: ``epsilon``, ``delta``,
  ``noise_multiplier``; ``sensitivity`` is the query's L1 (Laplace, exponential) or L2
  (Gaussian) sensitivity.
* Every random function takes ``rng``: a ``numpy.random.Generator``, an int seed or None
  (:func:`course_utils.validation.as_rng`).
* A scalar ``value`` gives a Python float back; an array gives an array of the same shape.

The "epsilon dial" that shows a mechanism on two neighbouring datasets is in
:mod:`course_utils.privacy.epsilon_dial`.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> noisy = laplace_mechanism(42.0, sensitivity=1.0, epsilon=1.0, rng=rng)
>>> isinstance(noisy, float)
True
>>> gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-5) < 4.0  # analytic calibration
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, special

from ..validation import (
    RNGLike,
    as_rng,
    check_bool,
    check_int,
    check_non_negative,
    check_positive,
    check_probability,
)
from .interactive import report_noisy_max, sparse_vector

__all__ = [
    "laplace_mechanism",
    "gaussian_sigma",
    "gaussian_delta",
    "gaussian_mechanism",
    "exponential_probabilities",
    "exponential_mechanism",
    "rr_keep_probability",
    "randomized_response",
    "rr_estimate",
    "rr_standard_error",
    "report_noisy_max",
    "sparse_vector",
]


def _add_noise(value: Any, noise_fn: Any) -> Any:
    """``value + noise_fn(shape)`` with the shape and scalar-ness of ``value`` kept."""
    if isinstance(value, (float, int)) and not isinstance(value, bool):  # fast path: audits call
        if not math.isfinite(value):  # mechanisms hundreds of thousands of times
            raise ValueError("value must be finite (no NaN or inf)")
        return float(value + noise_fn(None))
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("value must be finite (no NaN or inf)")
    noisy = arr + noise_fn(arr.shape)
    if arr.ndim == 0:
        return float(noisy)
    return noisy


# --------------------------------------------------------------------------- Laplace
def laplace_mechanism(value: Any, *, sensitivity: float, epsilon: float, rng: RNGLike) -> Any:
    """Release ``value`` with Laplace noise of scale ``sensitivity / epsilon`` (epsilon-DP).

    Parameters
    ----------
    value : float or array_like
        The true query answer(s). Each entry gets independent noise; ``sensitivity`` must bound
        the L1 distance between the whole answer vectors on neighbouring datasets.
    sensitivity : float
        L1 sensitivity of the query (>= 0; 0 means the answer does not depend on any person).
    epsilon : float
        Privacy parameter (> 0). Smaller means more noise.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    float or ndarray
        Noisy answer, a float for a scalar ``value``, else an array of the same shape.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out = laplace_mechanism(np.zeros(100_000), sensitivity=2.0, epsilon=0.5, rng=rng)
    >>> out.shape, round(float(np.mean(np.abs(out))), 1)  # mean |noise| = scale = 2 / 0.5
    ((100000,), 4.0)
    """
    sensitivity = check_non_negative(sensitivity, "sensitivity")
    epsilon = check_positive(epsilon, "epsilon")
    rng = as_rng(rng)
    scale = sensitivity / epsilon
    return _add_noise(value, lambda shape: rng.laplace(0.0, scale, size=shape))


# --------------------------------------------------------------------------- Gaussian
def _log_delta_terms(s: float, epsilon: float) -> tuple[float, float]:
    """log Phi(1/(2s) - eps*s) and eps + log Phi(-1/(2s) - eps*s), s = sigma / sensitivity."""
    a = 0.5 / s - epsilon * s
    b = -0.5 / s - epsilon * s
    return float(special.log_ndtr(a)), float(epsilon + special.log_ndtr(b))


def gaussian_delta(*, epsilon: float, noise_multiplier: float) -> float:
    """Smallest delta for which the Gaussian mechanism is (epsilon, delta)-DP (tight profile).

    For noise of standard deviation ``noise_multiplier * sensitivity`` the exact trade-off
    (Balle & Wang 2018, Theorem 8) is
    ``delta = Phi(1/(2s) - epsilon*s) - exp(epsilon) * Phi(-1/(2s) - epsilon*s)`` with
    ``s = noise_multiplier``.

    Parameters
    ----------
    epsilon : float
        Target epsilon (>= 0).
    noise_multiplier : float
        Noise standard deviation divided by the L2 sensitivity (> 0).

    Returns
    -------
    float
        delta in [0, 1].

    Examples
    --------
    >>> round(gaussian_delta(epsilon=1.0, noise_multiplier=1.0), 4)
    0.1269
    >>> gaussian_delta(epsilon=1.0, noise_multiplier=5.0) < 1e-5
    True
    """
    epsilon = check_non_negative(epsilon, "epsilon")
    s = check_positive(noise_multiplier, "noise_multiplier")
    log_a, log_b = _log_delta_terms(s, epsilon)
    if log_b >= log_a:  # only rounding can make the (non-negative) difference negative
        return 0.0
    return float(math.exp(log_a) * -math.expm1(log_b - log_a))


def gaussian_sigma(
    *, sensitivity: float, epsilon: float, delta: float, analytic: bool = True
) -> float:
    """Noise standard deviation that makes the Gaussian mechanism (epsilon, delta)-DP.

    Parameters
    ----------
    sensitivity : float
        L2 sensitivity of the query (>= 0).
    epsilon : float
        > 0. The classic formula (``analytic=False``) is only proven for ``epsilon < 1``.
    delta : float
        In (0, 1).
    analytic : bool, default True
        True: the analytic Gaussian mechanism (Balle & Wang 2018), the smallest sigma that
        satisfies the definition, found by solving :func:`gaussian_delta` ``= delta``.
        False: the classic calibration ``sqrt(2 ln(1.25 / delta)) * sensitivity / epsilon``
        (Dwork & Roth 2014, Theorem A.1).

    Returns
    -------
    float
        sigma (0 when ``sensitivity`` is 0).

    Examples
    --------
    >>> classic = gaussian_sigma(sensitivity=1.0, epsilon=0.5, delta=1e-5, analytic=False)
    >>> analytic = gaussian_sigma(sensitivity=1.0, epsilon=0.5, delta=1e-5)
    >>> round(classic, 2), round(analytic, 2)
    (9.69, 7.03)
    >>> gaussian_sigma(sensitivity=1.0, epsilon=2.0, delta=1e-5, analytic=False)
    Traceback (most recent call last):
    ...
    ValueError: epsilon must be < 1 for the classic Gaussian calibration (analytic=False), got 2.0; use analytic=True
    """
    sensitivity = check_non_negative(sensitivity, "sensitivity")
    epsilon = check_positive(epsilon, "epsilon")
    delta = check_probability(delta, "delta")
    if not analytic:
        if epsilon >= 1.0:
            raise ValueError(
                f"epsilon must be < 1 for the classic Gaussian calibration (analytic=False), "
                f"got {epsilon!r}; use analytic=True"
            )
        return math.sqrt(2.0 * math.log(1.25 / delta)) * sensitivity / epsilon
    if sensitivity == 0.0:
        return 0.0
    return _analytic_noise_multiplier(epsilon, delta) * sensitivity


@functools.lru_cache(maxsize=1024)
def _analytic_noise_multiplier(epsilon: float, delta: float) -> float:
    """Smallest s with gaussian_delta(epsilon, s) <= delta (delta is decreasing in s).

    Cached: a mechanism called in a loop with the same budget solves the equation once.
    """

    def excess(log_s: float) -> float:
        return gaussian_delta(epsilon=epsilon, noise_multiplier=math.exp(log_s)) - delta

    lo, hi = -10.0, 1.0
    while excess(hi) > 0:  # grow the bracket until the mechanism is private enough
        lo, hi = hi, hi + 2.0
    while excess(lo) <= 0:  # (only for delta close to 1)
        lo, hi = lo - 10.0, lo
    log_s = optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-14)
    s = math.exp(log_s)
    while gaussian_delta(epsilon=epsilon, noise_multiplier=s) > delta:  # round up, never down
        s *= 1.0 + 1e-12
    return s


def gaussian_mechanism(
    value: Any,
    *,
    sensitivity: float,
    epsilon: float,
    delta: float,
    rng: RNGLike,
    analytic: bool = True,
) -> Any:
    """Release ``value`` with Gaussian noise calibrated by :func:`gaussian_sigma`.

    Parameters
    ----------
    value : float or array_like
        True answer(s); ``sensitivity`` bounds the L2 distance between neighbouring answers.
    sensitivity, epsilon, delta, analytic
        As in :func:`gaussian_sigma`.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> out = gaussian_mechanism(np.zeros(50_000), sensitivity=1.0, epsilon=1.0, delta=1e-5, rng=rng)
    >>> sigma = gaussian_sigma(sensitivity=1.0, epsilon=1.0, delta=1e-5)
    >>> bool(abs(out.std() / sigma - 1) < 0.02)
    True
    """
    sigma = gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta, analytic=analytic)
    rng = as_rng(rng)
    return _add_noise(value, lambda shape: rng.normal(0.0, sigma, size=shape))


# --------------------------------------------------------------------------- exponential
def exponential_probabilities(
    utilities: Sequence[float] | np.ndarray,
    *,
    sensitivity: float,
    epsilon: float,
    monotonic: bool = False,
) -> np.ndarray:
    """Selection probabilities of the exponential mechanism, ``p_i ~ exp(eps * u_i / (2 * sensitivity))``.

    Parameters
    ----------
    utilities : sequence of float
        Utility of each candidate on the private data (higher is better), at least one.
    sensitivity : float
        Largest change of any utility between neighbouring datasets (> 0).
    epsilon : float
        > 0.
    monotonic : bool, default False
        False: the general mechanism, ``exp(eps * u / (2 * sensitivity))``. The factor 2 covers
        utilities that can move in *opposite* directions between neighbours (one rises while
        another falls, as two diagnosis counts do when a patient's record is *replaced*).
        True: ``exp(eps * u / sensitivity)``, which is already epsilon-DP when, for every pair
        of neighbours, all utilities move in the same direction (McSherry & Talwar 2007), as
        counts do when one person is *added or removed*. With such utilities the general
        mechanism is (epsilon / 2)-DP: it spends twice the budget it needs.

    Returns
    -------
    ndarray
        Probabilities (sum to 1), in the order of ``utilities``.

    Examples
    --------
    >>> exponential_probabilities([0, 0], sensitivity=1, epsilon=1).tolist()
    [0.5, 0.5]
    >>> p = exponential_probabilities([0.0, 2.0], sensitivity=1.0, epsilon=1.0)
    >>> round(float(p[1] / p[0]), 4) == round(math.e, 4)  # ratio exp(eps * 2 / 2)
    True
    >>> q = exponential_probabilities([0.0, 2.0], sensitivity=1.0, epsilon=1.0, monotonic=True)
    >>> round(float(q[1] / q[0]), 4) == round(math.e**2, 4)  # ratio exp(eps * 2)
    True
    """
    u = np.asarray(utilities, dtype=float)
    if u.ndim != 1 or u.size == 0:
        raise ValueError(f"utilities must be a non-empty 1-D sequence, got shape {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("utilities must be finite (no NaN or inf)")
    sensitivity = check_positive(sensitivity, "sensitivity")
    epsilon = check_positive(epsilon, "epsilon")
    monotonic = check_bool(monotonic, "monotonic")
    return special.softmax(epsilon * u / ((1.0 if monotonic else 2.0) * sensitivity))


def exponential_mechanism(
    candidates: Sequence[Any],
    utilities: Sequence[float] | np.ndarray,
    *,
    sensitivity: float,
    epsilon: float,
    rng: RNGLike,
    monotonic: bool = False,
) -> Any:
    """Pick one candidate with probability proportional to ``exp(eps * utility / (2 * sensitivity))``.

    Parameters
    ----------
    candidates : sequence
        The possible outputs (non-empty), e.g. diagnoses or prices.
    utilities : sequence of float
        One utility per candidate; see :func:`exponential_probabilities`.
    sensitivity, epsilon
        As in :func:`exponential_probabilities`.
    rng : numpy.random.Generator, int seed or None
    monotonic : bool, default False
        True drops the factor 2 (``exp(eps * utility / sensitivity)``), valid when all
        utilities move in the same direction between neighbours; see
        :func:`exponential_probabilities`.

    Returns
    -------
    object
        One element of ``candidates``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> picks = [exponential_mechanism(["flu", "cold"], [30, 10], sensitivity=1, epsilon=1, rng=rng)
    ...          for _ in range(200)]
    >>> picks.count("flu") > 190  # utility gap 20 -> odds exp(10) : 1
    True
    """
    candidates = list(candidates)
    if not candidates:
        raise ValueError("candidates must be a non-empty sequence")
    probs = exponential_probabilities(
        utilities, sensitivity=sensitivity, epsilon=epsilon, monotonic=monotonic
    )
    if probs.size != len(candidates):
        raise ValueError(
            f"utilities must have one entry per candidate: {len(candidates)} candidates, "
            f"{probs.size} utilities"
        )
    rng = as_rng(rng)
    return candidates[int(rng.choice(len(candidates), p=probs))]


# --------------------------------------------------------------------------- randomized response
def rr_keep_probability(*, epsilon: float) -> float:
    """Probability that randomized response reports the true bit: ``e^eps / (1 + e^eps)``.

    Examples
    --------
    >>> round(rr_keep_probability(epsilon=math.log(3)), 6)  # the two-coin survey
    0.75
    """
    epsilon = check_positive(epsilon, "epsilon")
    return float(special.expit(epsilon))


def _bits(name: str, bits: Any) -> np.ndarray:
    arr = np.asarray(bits)
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty")
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only 0/1 (or False/True) values")
    return arr.astype(np.int8)


def randomized_response(bits: Any, *, epsilon: float, rng: RNGLike) -> np.ndarray:
    """Local DP for one bit per person: report the truth with probability ``e^eps / (1 + e^eps)``.

    Each person flips their own bit with probability ``1 / (1 + e^eps)``, so the collector never
    sees a true answer it can be sure of: the likelihood ratio of any report is at most ``e^eps``.

    Parameters
    ----------
    bits : array_like of 0/1 or bool
        True answers, one per person.
    epsilon : float
        > 0. ``epsilon = ln 3`` is the classic two-coin survey (truth with probability 3/4).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray of int8
        The reported bits, same shape as ``bits``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> reports = randomized_response(np.ones(10_000, dtype=int), epsilon=math.log(3), rng=rng)
    >>> round(float(reports.mean()), 2)
    0.75
    """
    arr = _bits("bits", bits)
    keep = rr_keep_probability(epsilon=epsilon)
    rng = as_rng(rng)
    flip = rng.random(arr.shape) >= keep
    return (arr ^ flip).astype(np.int8)


def rr_estimate(responses: Any, *, epsilon: float) -> float:
    """Unbiased estimate of the true fraction of 1s from randomized-response reports.

    With keep probability ``p``, ``E[report] = p * pi + (1 - p) * (1 - pi)``; solving for ``pi``
    gives ``(mean - (1 - p)) / (2p - 1)``. The estimate is not clipped to [0, 1] (clipping would
    bias it), so small samples can give values slightly outside.

    Parameters
    ----------
    responses : array_like of 0/1 or bool
        Reports from :func:`randomized_response`.
    epsilon : float
        The epsilon the reports were made with.

    Returns
    -------
    float

    Examples
    --------
    >>> rr_estimate([1, 1, 1, 0], epsilon=math.log(3))  # mean 0.75 -> everyone said yes
    1.0
    """
    arr = _bits("responses", responses)
    p = rr_keep_probability(epsilon=epsilon)
    return float((arr.mean() - (1.0 - p)) / (2.0 * p - 1.0))


def rr_standard_error(n: int, *, epsilon: float, proportion: float = 0.5) -> float:
    """Standard error of :func:`rr_estimate` as an estimate of a population's rate ``proportion``.

    The ``n`` respondents are a random sample of a population in which a fraction
    ``proportion`` would answer 1, so the error includes the sampling noise of an honest survey
    and the coin flips: ``Var = q (1 - q) / (n (2p - 1)^2)`` with
    ``q = p * proportion + (1 - p)(1 - proportion)``. It shrinks like ``1 / sqrt(n)`` and blows
    up as epsilon -> 0 (``2p - 1 ~ epsilon / 2``). (For a fixed group of people, whose own
    fraction is the target, the coin flips alone give ``p (1 - p)`` instead of ``q (1 - q)``.)

    Examples
    --------
    >>> round(rr_standard_error(10_000, epsilon=math.log(3)), 4)  # 0.005 / (2 * 0.75 - 1)
    0.01
    """
    n = check_int(n, "n", min_val=1)
    proportion = check_probability(proportion, "proportion", closed=True)
    p = rr_keep_probability(epsilon=epsilon)
    q = p * proportion + (1.0 - p) * (1.0 - proportion)
    return float(math.sqrt(q * (1.0 - q) / n) / (2.0 * p - 1.0))


_DIAL = ("neighbour_densities", "plot_neighbour_densities", "EpsilonDial")


def __getattr__(name: str) -> object:
    """The epsilon dial lives in :mod:`course_utils.privacy.epsilon_dial`; old imports still work."""
    if name in _DIAL:
        from . import epsilon_dial

        return getattr(epsilon_dial, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
