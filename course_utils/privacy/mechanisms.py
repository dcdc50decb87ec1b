"""Differential privacy mechanisms: Laplace, Gaussian, exponential and randomized response.

Each mechanism is a few lines that mirror its formula; the rest of the module checks arguments
(bad input raises ``ValueError`` naming the argument) and calibrates noise.

Conventions
-----------
* Privacy knobs are keyword-only and named as in Opacus: ``epsilon``, ``delta``,
  ``noise_multiplier``; ``sensitivity`` is the query's L1 (Laplace, exponential) or L2
  (Gaussian) sensitivity.
* Every random function takes ``rng: numpy.random.Generator``.
* A scalar ``value`` gives a Python float back; an array gives an array of the same shape.

The last part of the module is the "epsilon dial": :func:`neighbour_densities` (a pure function)
computes the output densities of a mechanism on two neighbouring datasets and their log ratio,
:func:`plot_neighbour_densities` draws them, and :class:`EpsilonDial` wires a slider to both.

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
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, special, stats

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
    "neighbour_densities",
    "plot_neighbour_densities",
    "EpsilonDial",
]


# --------------------------------------------------------------------------- argument checks
def _positive(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless it is a finite number > 0."""
    if type(value) is float and 0.0 < value < math.inf:  # fast path
        return value
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return out


def _non_negative(name: str, value: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not math.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return out


def _probability(name: str, value: float) -> float:
    """``value`` as a float; ValueError unless 0 < value < 1 (open interval)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < out < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}")
    return out


def _rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


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
def laplace_mechanism(
    value: Any, *, sensitivity: float, epsilon: float, rng: np.random.Generator
) -> Any:
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
    rng : numpy.random.Generator

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
    sensitivity = _non_negative("sensitivity", sensitivity)
    epsilon = _positive("epsilon", epsilon)
    rng = _rng(rng)
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
    epsilon = _non_negative("epsilon", epsilon)
    s = _positive("noise_multiplier", noise_multiplier)
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
    sensitivity = _non_negative("sensitivity", sensitivity)
    epsilon = _positive("epsilon", epsilon)
    delta = _probability("delta", delta)
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
    rng: np.random.Generator,
    analytic: bool = True,
) -> Any:
    """Release ``value`` with Gaussian noise calibrated by :func:`gaussian_sigma`.

    Parameters
    ----------
    value : float or array_like
        True answer(s); ``sensitivity`` bounds the L2 distance between neighbouring answers.
    sensitivity, epsilon, delta, analytic
        As in :func:`gaussian_sigma`.
    rng : numpy.random.Generator

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
    rng = _rng(rng)
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
    sensitivity = _positive("sensitivity", sensitivity)
    epsilon = _positive("epsilon", epsilon)
    if not isinstance(monotonic, (bool, np.bool_)):
        raise ValueError(f"monotonic must be True or False, got {monotonic!r}")
    return special.softmax(epsilon * u / ((1.0 if monotonic else 2.0) * sensitivity))


def exponential_mechanism(
    candidates: Sequence[Any],
    utilities: Sequence[float] | np.ndarray,
    *,
    sensitivity: float,
    epsilon: float,
    rng: np.random.Generator,
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
    rng : numpy.random.Generator
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
    rng = _rng(rng)
    return candidates[int(rng.choice(len(candidates), p=probs))]


# --------------------------------------------------------------------------- randomized response
def rr_keep_probability(*, epsilon: float) -> float:
    """Probability that randomized response reports the true bit: ``e^eps / (1 + e^eps)``.

    Examples
    --------
    >>> round(rr_keep_probability(epsilon=math.log(3)), 6)  # the two-coin survey
    0.75
    """
    epsilon = _positive("epsilon", epsilon)
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


def randomized_response(bits: Any, *, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Local DP for one bit per person: report the truth with probability ``e^eps / (1 + e^eps)``.

    Each person flips their own bit with probability ``1 / (1 + e^eps)``, so the collector never
    sees a true answer it can be sure of: the likelihood ratio of any report is at most ``e^eps``.

    Parameters
    ----------
    bits : array_like of 0/1 or bool
        True answers, one per person.
    epsilon : float
        > 0. ``epsilon = ln 3`` is the classic two-coin survey (truth with probability 3/4).
    rng : numpy.random.Generator

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
    rng = _rng(rng)
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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 0.0 <= float(proportion) <= 1.0:
        raise ValueError(f"proportion must be in [0, 1], got {proportion!r}")
    p = rr_keep_probability(epsilon=epsilon)
    q = p * proportion + (1.0 - p) * (1.0 - proportion)
    return float(math.sqrt(q * (1.0 - q) / n) / (2.0 * p - 1.0))


# --------------------------------------------------------------------------- the epsilon dial
def neighbour_densities(
    grid: Any,
    *,
    value: float,
    value_prime: float,
    sensitivity: float,
    epsilon: float,
    delta: float = 1e-5,
    mechanism: str = "laplace",
) -> dict[str, Any]:
    """Output densities of a mechanism on two neighbouring datasets, and their log ratio.

    A pure function behind the notebook's epsilon slider. The query answers ``value`` (on D)
    and ``value_prime`` (on the neighbour D') must differ by at most ``sensitivity``.

    Parameters
    ----------
    grid : array_like
        Output values at which to evaluate the densities.
    value, value_prime : float
        True answers on D and D'.
    sensitivity, epsilon
        Mechanism calibration (the noise does not depend on the data).
    delta : float, default 1e-5
        Used by the Gaussian mechanism only.
    mechanism : {"laplace", "gaussian"}

    Returns
    -------
    dict
        ``density``, ``density_prime`` and ``log_ratio`` (ln of density / density_prime) on the
        grid, ``scale`` (Laplace b or Gaussian sigma), ``max_abs_log_ratio`` over the grid, and
        ``ratio_exceeds`` = P_D[|log ratio| > epsilon] (0 for Laplace; for Gaussian, the mass
        delta has to pay for).

    Examples
    --------
    >>> out = neighbour_densities(np.linspace(-5, 6, 101), value=0, value_prime=1,
    ...                           sensitivity=1, epsilon=0.5)
    >>> round(out["max_abs_log_ratio"], 6)  # Laplace: never more than epsilon
    0.5
    >>> g = neighbour_densities(np.linspace(-60, 60, 2001), value=0, value_prime=1, sensitivity=1,
    ...                         epsilon=0.5, mechanism="gaussian")
    >>> g["max_abs_log_ratio"] > 0.5  # Gaussian: unbounded in the tails ...
    True
    >>> g["ratio_exceeds"] < 1e-3     # ... but only where it is very unlikely
    True
    """
    if mechanism not in ("laplace", "gaussian"):
        raise ValueError(f"mechanism must be 'laplace' or 'gaussian', got {mechanism!r}")
    x = np.asarray(grid, dtype=float)
    sensitivity = _positive("sensitivity", sensitivity)
    if abs(float(value) - float(value_prime)) > sensitivity + 1e-12:
        raise ValueError(
            f"value and value_prime differ by {abs(float(value) - float(value_prime))}, "
            f"more than sensitivity={sensitivity}: they are not neighbouring answers"
        )
    if mechanism == "laplace":
        scale = sensitivity / _positive("epsilon", epsilon)
        dist, dist_prime = stats.laplace(value, scale), stats.laplace(value_prime, scale)
    else:
        scale = gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)
        dist, dist_prime = stats.norm(value, scale), stats.norm(value_prime, scale)
    log_ratio = dist.logpdf(x) - dist_prime.logpdf(x)
    exceeds = 0.0
    if mechanism == "gaussian" and value != value_prime:
        # log ratio is linear in x: |ratio| > eps outside [x_lo, x_hi]
        gap = float(value_prime) - float(value)
        mid = (float(value) + float(value_prime)) / 2.0
        half = epsilon * scale**2 / abs(gap)
        exceeds = float(dist.cdf(mid - half) + dist.sf(mid + half))
    return {
        "grid": x,
        "density": dist.pdf(x),
        "density_prime": dist_prime.pdf(x),
        "log_ratio": log_ratio,
        "scale": float(scale),
        "max_abs_log_ratio": float(np.max(np.abs(log_ratio))) if x.size else 0.0,
        "ratio_exceeds": exceeds,
    }


def plot_neighbour_densities(result: dict[str, Any], *, epsilon: float, axes: Any = None) -> Any:
    """Draw :func:`neighbour_densities` output: the two densities (left), the log ratio (right).

    Parameters
    ----------
    result : dict
        Output of :func:`neighbour_densities`.
    epsilon : float
        Drawn as the +-epsilon band on the ratio panel.
    axes : pair of matplotlib Axes, optional
        Created (side by side) when None.

    Returns
    -------
    pair of matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> res = neighbour_densities(np.linspace(-4, 5, 50), value=0, value_prime=1, sensitivity=1, epsilon=1)
    >>> ax1, ax2 = plot_neighbour_densities(res, epsilon=1)
    >>> len(ax1.lines), len(ax2.lines)
    (2, 3)
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    from course_utils.plotting import OKABE_ITO

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    ax1, ax2 = axes
    for ax in axes:
        ax.clear()
    x = result["grid"]
    ax1.plot(x, result["density"], color=OKABE_ITO["blue"], label="output density on D")
    ax1.plot(x, result["density_prime"], color=OKABE_ITO["orange"], ls="--", label="on neighbour D'")
    ax1.set(xlabel="released value", ylabel="density")
    ax1.legend(loc="upper right", fontsize=8)
    ax2.plot(x, result["log_ratio"], color=OKABE_ITO["green"], label="ln(density / density')")
    for sign in (1, -1):
        ax2.axhline(sign * epsilon, color=OKABE_ITO["vermillion"], ls=":", label="+-epsilon" if sign > 0 else None)
    ax2.set(xlabel="released value", ylabel="log likelihood ratio")
    lim = max(1.5 * epsilon, 1.2 * min(result["max_abs_log_ratio"], 4 * epsilon))
    ax2.set_ylim(-lim, lim)
    ax2.legend(loc="lower right", fontsize=8)
    return ax1, ax2


class EpsilonDial:
    """Slider over epsilon showing a mechanism's outputs on two neighbours and their ratio.

    The widget is thin: :meth:`update` recomputes with :func:`neighbour_densities` and redraws;
    the slider only calls it. Drive it headless with ``dial.update(epsilon=...)`` or by setting
    ``dial.slider.value``; :attr:`state` holds the last result and ``dial.image.value`` the PNG
    of the current figure.

    Parameters
    ----------
    value, value_prime : float
        Query answers on D and D' (e.g. a count with and without one person).
    sensitivity : float
    epsilon : float
        Initial epsilon.
    mechanism : {"laplace", "gaussian"}
    delta : float
        For the Gaussian mechanism.

    Examples
    --------
    >>> dial = EpsilonDial(value=10, value_prime=11, sensitivity=1, epsilon=1.0)
    >>> dial.update(epsilon=0.25)["scale"]
    4.0
    >>> dial.slider.value = 2.0           # what dragging the slider does
    >>> dial.state["scale"]
    0.5
    >>> dial.close()
    """

    def __init__(
        self,
        *,
        value: float = 10.0,
        value_prime: float = 11.0,
        sensitivity: float = 1.0,
        epsilon: float = 1.0,
        mechanism: str = "laplace",
        delta: float = 1e-5,
    ) -> None:
        import ipywidgets as w
        import matplotlib.pyplot as plt

        self.value, self.value_prime = float(value), float(value_prime)
        self.sensitivity, self.delta = float(sensitivity), float(delta)
        self.mechanism = mechanism
        self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 3.2))
        plt.close(self.fig)  # shown as a PNG in an Image widget, not by the inline backend
        self.slider = w.FloatLogSlider(
            value=epsilon, base=10, min=-1, max=1, step=0.05, description="epsilon",
            continuous_update=False,
        )
        self.kind = w.ToggleButtons(options=["laplace", "gaussian"], value=mechanism)
        self.image = w.Image(format="png")
        self.label = w.HTML()
        self.slider.observe(lambda change: self.update(epsilon=change["new"]), names="value")
        self.kind.observe(lambda change: self.update(mechanism=change["new"]), names="value")
        self.state: dict[str, Any] = {}
        self._laid_out = False
        self.update(epsilon=epsilon, mechanism=mechanism)

    def update(self, *, epsilon: float | None = None, mechanism: str | None = None) -> dict[str, Any]:
        """Recompute and redraw for a new epsilon and/or mechanism; return the new state."""
        if epsilon is not None:
            self.epsilon = _positive("epsilon", epsilon)
        if mechanism is not None:
            self.mechanism = mechanism
        if self.mechanism == "gaussian":
            scale = gaussian_sigma(sensitivity=self.sensitivity, epsilon=self.epsilon, delta=self.delta)
        else:
            scale = self.sensitivity / self.epsilon
        margin = 7 * scale + self.sensitivity  # wide enough to show the Gaussian's tails leave the band
        lo = min(self.value, self.value_prime) - margin
        hi = max(self.value, self.value_prime) + margin
        self.state = neighbour_densities(
            np.linspace(lo, hi, 801), value=self.value, value_prime=self.value_prime,
            sensitivity=self.sensitivity, epsilon=self.epsilon, delta=self.delta,
            mechanism=self.mechanism,
        )
        plot_neighbour_densities(self.state, epsilon=self.epsilon, axes=self.axes)
        self.axes[0].set_title(f"{self.mechanism}, scale {self.state['scale']:.2f}")
        self.axes[1].set_title(f"max |log ratio| on screen {self.state['max_abs_log_ratio']:.2f}")
        if not self._laid_out:
            self.fig.tight_layout()  # once: the layout hardly changes and it is slow
            self._laid_out = True
        self.label.value = (
            f"P[|log ratio| &gt; epsilon] = {self.state['ratio_exceeds']:.2g}"
        )
        self._redraw()
        return self.state

    def _redraw(self) -> None:
        # A PNG in an Image widget works with any matplotlib backend (inline, Agg, ipympl) and
        # needs no output clearing, so it also renders in static exports of the notebook.
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=72)
        self.image.value = buffer.getvalue()

    def widget(self) -> Any:
        """The ipywidgets box (slider, mechanism switch, figure)."""
        import ipywidgets as w

        return w.VBox([w.HBox([self.slider, self.kind]), self.label, self.image])

    def show(self) -> None:
        """Display the widget in Jupyter, or the static figure elsewhere."""
        from IPython.display import display

        from course_utils.quiz import has_frontend

        display(self.widget() if has_frontend() else self.fig)

    def close(self) -> None:
        """Close the widgets and the figure."""
        import matplotlib.pyplot as plt

        for widget in (self.slider, self.kind, self.image, self.label):
            widget.close()
        plt.close(self.fig)


# --------------------------------------------------------------------------- interactive mechanisms
# Report noisy max and the sparse vector technique answer a *stream* of questions and pay only
# for what they reveal. (Appended as one block; the rest of the module is unchanged.)
__all__ += ["report_noisy_max", "sparse_vector"]


def report_noisy_max(
    scores: Sequence[float] | np.ndarray,
    *,
    epsilon: float,
    sensitivity: float = 1.0,
    rng: Any,
    monotone: bool = False,
) -> int:
    """Index of the largest score after adding Laplace noise to every score (epsilon-DP).

    Only the index is released, never the noisy scores. When neighbouring datasets may move
    every score by up to ``sensitivity`` in either direction the noise scale is
    ``2 * sensitivity / epsilon``; for counts (``monotone=True``: all scores move in the same
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
    monotone : bool, default False
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
    from course_utils.validation import as_rng, check_bool, check_positive

    s = np.asarray(scores, dtype=float)
    if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)):
        raise ValueError(
            f"scores must be a non-empty 1-D sequence of finite numbers, got shape {s.shape}"
        )
    epsilon = check_positive(epsilon, "epsilon")
    sensitivity = check_positive(sensitivity, "sensitivity")
    factor = 1.0 if check_bool(monotone, "monotone") else 2.0
    noisy = s + as_rng(rng).laplace(0.0, factor * sensitivity / epsilon, size=s.size)
    return int(np.argmax(noisy))


def sparse_vector(
    answers: Sequence[float] | np.ndarray,
    threshold: float,
    *,
    epsilon: float,
    rng: Any,
    sensitivity: float = 1.0,
    max_above: int = 1,
    monotone: bool = False,
) -> list[bool]:
    """Sparse vector technique: which answers are above ``threshold``, paying only for the "yes"es.

    The threshold gets Laplace noise of scale ``sensitivity / eps1`` once, every answer gets fresh
    noise of scale ``2 * max_above * sensitivity / eps2`` (``max_above * sensitivity / eps2``
    when ``monotone``), with ``eps1 = eps2 = epsilon / 2``. The answers are compared in order and
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
    monotone : bool, default False
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
    from course_utils.validation import as_rng, check_bool, check_int, check_positive, check_scalar

    a = np.asarray(answers, dtype=float)
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(
            f"answers must be a non-empty 1-D sequence of finite numbers, got shape {a.shape}"
        )
    threshold = check_scalar(threshold, "threshold")
    epsilon = check_positive(epsilon, "epsilon")
    sensitivity = check_positive(sensitivity, "sensitivity")
    max_above = check_int(max_above, "max_above", min_val=1)
    factor = 1.0 if check_bool(monotone, "monotone") else 2.0
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
