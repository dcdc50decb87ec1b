"""Privacy accounting: what several releases cost together.

From loosest to tightest for repeated Gaussian releases:

* :func:`basic_composition` - epsilons and deltas add up (valid for any mechanisms).
* :func:`advanced_composition` - ``k`` runs of an (epsilon, delta) mechanism cost about
  ``sqrt(k)`` times epsilon, for an extra ``delta_prime``.
* :func:`gaussian_epsilon_textbook_rdp` - Renyi DP of the Gaussian with the textbook conversion
  ``epsilon = rdp(alpha) + ln(1/delta) / (alpha - 1)``, minimised over alpha in closed form.
* :func:`gaussian_epsilon` with ``accountant="rdp"`` - Opacus's ``RDPAccountant`` (a sharper
  RDP-to-DP conversion, and Poisson subsampling for DP-SGD).
* :func:`gaussian_epsilon` with ``accountant="prv"`` - Opacus's ``PRVAccountant``: numerical
  composition of privacy loss distributions, an upper bound within ``eps_error`` of the truth.
* :func:`gaussian_epsilon_exact` - full-batch only: ``k`` Gaussian releases with noise
  multiplier ``s`` are exactly one Gaussian release with ``s / sqrt(k)``, so the tight epsilon
  comes from the Gaussian's privacy profile.

All of these are valid upper bounds on the privacy loss; they differ in how much slack they
leave. :func:`epsilon_ledger` puts them in one table.

Examples
--------
>>> basic_composition([0.5, 0.5, 1.0], [0.0, 0.0, 1e-6])
(2.0, 1e-06)
>>> eps_rdp = gaussian_epsilon(noise_multiplier=2.0, steps=10, delta=1e-5)
>>> eps_exact = gaussian_epsilon_exact(noise_multiplier=2.0, steps=10, delta=1e-5)
>>> eps_exact < eps_rdp
True
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize

from ..validation import check_choice, check_int, check_positive, check_probability, check_scalar
from .mechanisms import gaussian_delta

__all__ = [
    "basic_composition",
    "advanced_composition",
    "gaussian_epsilon",
    "gaussian_epsilon_exact",
    "gaussian_epsilon_textbook_rdp",
    "gaussian_noise_multiplier",
    "epsilon_ledger",
    "dp_fedavg_epsilon",
]

ACCOUNTANTS = ("rdp", "prv")


def _steps(name: str, value: Any) -> int:
    return check_int(value, name, min_val=1)


def _delta_or_zero(name: str, value: Any) -> float:
    """A delta that may be 0 (pure DP) but must be < 1."""
    return check_scalar(value, name, min_val=0.0, max_val=1.0, include_max=False)


def basic_composition(
    epsilons: Sequence[float], deltas: Sequence[float] | float | None = None
) -> tuple[float, float]:
    """Sequential composition: running mechanisms one after another adds their budgets.

    Parameters
    ----------
    epsilons : sequence of float
        Epsilon of each release (each > 0), at least one.
    deltas : sequence of float, float, or None
        Delta of each release (each in [0, 1)); a single number is used for every release;
        None means pure DP (all zero).

    Returns
    -------
    (epsilon, delta) : tuple of float
        ``(sum(epsilons), sum(deltas))``.

    Examples
    --------
    >>> basic_composition([1.0, 1.0, 1.0], 1e-6)
    (3.0, 3e-06)
    >>> basic_composition([0.1] * 10)[0]  # doctest: +ELLIPSIS
    1.0...
    """
    eps = [check_positive(e, "epsilons") for e in np.atleast_1d(np.asarray(epsilons, dtype=object))]
    if not eps:
        raise ValueError("epsilons must contain at least one release")
    if deltas is None:
        dels = [0.0] * len(eps)
    elif np.ndim(deltas) == 0:
        dels = [_delta_or_zero("deltas", deltas)] * len(eps)
    else:
        dels = [_delta_or_zero("deltas", d) for d in deltas]
        if len(dels) != len(eps):
            raise ValueError(
                f"deltas must have one entry per epsilon: {len(eps)} epsilons, {len(dels)} deltas"
            )
    return float(math.fsum(eps)), float(math.fsum(dels))


def advanced_composition(
    *, epsilon: float, delta: float, k: int, delta_prime: float
) -> tuple[float, float]:
    """Advanced composition (Dwork, Rothblum & Vadhan 2010) of ``k`` (epsilon, delta)-DP releases.

    ``epsilon_total = sqrt(2 k ln(1/delta_prime)) * epsilon + k * epsilon * (e^epsilon - 1)``
    and ``delta_total = k * delta + delta_prime``. For small epsilon and large ``k`` this grows
    like ``sqrt(k)`` instead of ``k``; for few releases it can be *worse* than basic
    composition (take the smaller of the two: both are valid).

    Parameters
    ----------
    epsilon : float
        Per-release epsilon (> 0).
    delta : float
        Per-release delta in [0, 1) (0 for pure-DP mechanisms such as Laplace).
    k : int
        Number of releases (>= 1).
    delta_prime : float
        Extra failure probability paid for the sqrt(k) behaviour, in (0, 1).

    Returns
    -------
    (epsilon, delta) : tuple of float

    Examples
    --------
    >>> eps, dlt = advanced_composition(epsilon=0.1, delta=0.0, k=100, delta_prime=1e-6)
    >>> round(eps, 3), dlt
    (6.308, 1e-06)
    >>> eps < basic_composition([0.1] * 100)[0]  # 6.3 < 10
    True
    """
    epsilon = check_positive(epsilon, "epsilon")
    delta = _delta_or_zero("delta", delta)
    k = _steps("k", k)
    delta_prime = check_probability(delta_prime, "delta_prime")
    eps_total = math.sqrt(
        2.0 * k * math.log(1.0 / delta_prime)
    ) * epsilon + k * epsilon * math.expm1(epsilon)
    return float(eps_total), float(k * delta + delta_prime)


def _check_gaussian_args(noise_multiplier: Any, steps: Any, delta: Any) -> tuple[float, int, float]:
    return (
        check_positive(noise_multiplier, "noise_multiplier"),
        _steps("steps", steps),
        check_probability(delta, "delta"),
    )


def gaussian_epsilon(
    *,
    noise_multiplier: float,
    steps: int,
    delta: float,
    sample_rate: float = 1.0,
    accountant: str = "rdp",
) -> float:
    """Epsilon of ``steps`` (subsampled) Gaussian releases, from Opacus's accountants.

    Returns exactly what Opacus's ``RDPAccountant`` (``accountant="rdp"``) or ``PRVAccountant``
    (``"prv"``) report for the history ``[(noise_multiplier, sample_rate, steps)]``: the same
    accounting DP-SGD uses, with ``sample_rate`` the Poisson sampling probability per step
    (1.0 = every record in every step, i.e. repeated releases of the same query).

    Parameters
    ----------
    noise_multiplier : float
        Noise standard deviation / L2 sensitivity (> 0).
    steps : int
        Number of releases / optimiser steps (>= 1).
    delta : float
        Target delta in (0, 1).
    sample_rate : float, default 1.0
        In (0, 1].
    accountant : {"rdp", "prv"}

    Returns
    -------
    float

    Examples
    --------
    >>> round(gaussian_epsilon(noise_multiplier=1.0, steps=1000, delta=1e-5, sample_rate=0.01), 2)
    2.1
    >>> prv = gaussian_epsilon(noise_multiplier=1.0, steps=1000, delta=1e-5, sample_rate=0.01,
    ...                        accountant="prv")
    >>> prv < 2.1  # the PRV accountant is tighter
    True
    """
    noise_multiplier, steps, delta = _check_gaussian_args(noise_multiplier, steps, delta)
    sample_rate = check_scalar(
        sample_rate, "sample_rate", min_val=0.0, max_val=1.0, include_min=False
    )
    check_choice(accountant, "accountant", ACCOUNTANTS)
    return _gaussian_epsilon(noise_multiplier, sample_rate, steps, delta, accountant)


@functools.lru_cache(maxsize=1024)
def _gaussian_epsilon(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str
) -> float:
    """Opacus's epsilon for validated arguments (cached: the noise search asks again and again)."""
    from opacus.accountants import create_accountant

    acct = create_accountant(mechanism=accountant)
    acct.history = [(noise_multiplier, sample_rate, steps)]
    # PRV at sample_rate=1 evaluates log(1 - q) = log(0) internally (harmlessly), and sizes its
    # grid with an internal RDP bound that may warn about its alphas; keep both quiet. A warning
    # from the RDP accountant itself is left visible: it means that bound is loose.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        if accountant == "prv":
            warnings.filterwarnings("ignore", message="Optimal order is the", category=UserWarning)
        return float(acct.get_epsilon(delta=delta))


def gaussian_epsilon_exact(*, noise_multiplier: float, steps: int, delta: float) -> float:
    """Tight epsilon of ``steps`` full-batch Gaussian releases (no subsampling).

    Composing ``k`` Gaussian mechanisms with noise multiplier ``s`` on the same person is the
    same as one Gaussian mechanism with noise multiplier ``s / sqrt(k)``; its exact
    (epsilon, delta) curve is :func:`~course_utils.privacy.mechanisms.gaussian_delta`, which
    this function inverts. No valid accountant can report less.

    Examples
    --------
    >>> eps = gaussian_epsilon_exact(noise_multiplier=4.0, steps=16, delta=1e-5)
    >>> eps == gaussian_epsilon_exact(noise_multiplier=1.0, steps=1, delta=1e-5)
    True
    >>> round(eps, 3)
    4.377
    """
    noise_multiplier, steps, delta = _check_gaussian_args(noise_multiplier, steps, delta)
    s = noise_multiplier / math.sqrt(steps)
    if gaussian_delta(epsilon=0.0, noise_multiplier=s) <= delta:
        return 0.0

    def excess(eps: float) -> float:
        return gaussian_delta(epsilon=eps, noise_multiplier=s) - delta

    hi = 1.0
    while excess(hi) > 0:
        hi *= 2.0
    eps = optimize.brentq(excess, 0.0, hi, xtol=1e-12, rtol=1e-12)
    while excess(eps) > 0:  # round up: report a valid bound, never slightly below it
        eps = eps * (1.0 + 1e-12) + 1e-15
    return float(eps)


def gaussian_epsilon_textbook_rdp(*, noise_multiplier: float, steps: int, delta: float) -> float:
    """Full-batch Gaussian epsilon via RDP and the textbook conversion (Mironov 2017).

    The Gaussian mechanism has RDP ``alpha / (2 s^2)`` per release at every order alpha > 1;
    ``k`` releases add up to ``k alpha / (2 s^2)``; converting with
    ``epsilon = rdp + ln(1/delta) / (alpha - 1)`` and minimising over alpha gives
    ``epsilon = k / (2 s^2) + sqrt(2 k ln(1/delta)) / s``. Opacus's RDP accountant uses a
    sharper conversion (Balle et al. 2020), so it reports less.

    Examples
    --------
    >>> round(gaussian_epsilon_textbook_rdp(noise_multiplier=2.0, steps=10, delta=1e-5), 3)
    8.837
    """
    noise_multiplier, steps, delta = _check_gaussian_args(noise_multiplier, steps, delta)
    s2 = noise_multiplier**2
    return float(steps / (2.0 * s2) + math.sqrt(2.0 * steps * math.log(1.0 / delta) / s2))


def gaussian_noise_multiplier(
    *,
    epsilon: float,
    delta: float,
    steps: int,
    sample_rate: float = 1.0,
    accountant: str = "rdp",
    rtol: float = 0.005,
) -> float:
    """Noise multiplier that makes ``steps`` (subsampled) Gaussian releases spend between
    ``epsilon * (1 - rtol)`` and ``epsilon``.

    The inverse of :func:`gaussian_epsilon`: DP-SGD and DP-FedAvg calibrate their noise with it.
    Unlike Opacus's ``get_noise_multiplier`` (an absolute tolerance of 0.01, which is 2% at
    epsilon = 0.5) the tolerance is relative. The search brackets the root of
    ``log(epsilon(sigma)) - log(epsilon)`` in ``log(sigma)`` and closes in with regula falsi
    (Illinois variant), so a handful of accountant calls suffice; results are cached.

    Parameters
    ----------
    epsilon : float
        Target epsilon (> 0).
    delta : float
        Target delta in (0, 1).
    steps : int
        Number of releases / optimiser steps (>= 1).
    sample_rate : float, default 1.0
        Poisson sampling probability per step, in (0, 1].
    accountant : {"rdp", "prv"}
    rtol : float, default 0.005
        Relative tolerance on the epsilon spent, in (0, 1).

    Returns
    -------
    float
        A valid noise multiplier: its epsilon never exceeds the target.

    Examples
    --------
    >>> s = gaussian_noise_multiplier(epsilon=2.0, delta=1e-5, steps=1000, sample_rate=0.01)
    >>> eps = gaussian_epsilon(noise_multiplier=s, steps=1000, delta=1e-5, sample_rate=0.01)
    >>> 0.995 * 2.0 <= eps <= 2.0
    True
    """
    epsilon = check_positive(epsilon, "epsilon")
    delta = check_probability(delta, "delta")
    steps = check_int(steps, "steps", min_val=1)
    sample_rate = check_scalar(
        sample_rate, "sample_rate", min_val=0.0, max_val=1.0, include_min=False
    )
    check_choice(accountant, "accountant", ACCOUNTANTS)
    rtol = check_probability(rtol, "rtol")
    return _noise_multiplier(epsilon, delta, sample_rate, steps, accountant, rtol)


def _quiet_epsilon(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str
) -> float:
    with warnings.catch_warnings():
        # at large epsilon RDP says "optimal order is the largest alpha": still a valid upper bound
        warnings.filterwarnings("ignore", message="Optimal order is the", category=UserWarning)
        return _gaussian_epsilon(noise_multiplier, sample_rate, steps, delta, accountant)


@functools.lru_cache(maxsize=256)
def _noise_multiplier(
    epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str, rtol: float
) -> float:
    def f(log_sigma: float) -> float:  # decreasing in sigma; root where epsilon is met
        eps = _quiet_epsilon(math.exp(log_sigma), sample_rate, steps, delta, accountant)
        return math.log(eps) - math.log(epsilon)

    if accountant == "rdp":
        start, step = 0.0, math.log(2.0)  # log sigma; bracket by doubling from sigma = 1
    else:
        # PRV calls cost up to seconds each (most at small sigma); RDP's answer is a few
        # milliseconds away and PRV's is a little below it, so bracket from there in small steps
        start = math.log(_noise_multiplier(epsilon, delta, sample_rate, steps, "rdp", rtol))
        step = math.log(1.15)
    lo, hi = start, start  # f(lo) > 0 >= f(hi) once bracketed
    f_lo = f_hi = f(start)
    while f_hi > 0:
        lo, f_lo = hi, f_hi
        hi += step
        if hi > math.log(1e6):
            raise ValueError(f"epsilon={epsilon} is out of reach with delta={delta}")
        f_hi = f(hi)
    while f_lo <= 0:
        hi, f_hi = lo, f_lo
        lo -= step
        if lo < math.log(1e-3):
            return math.exp(hi)
        f_lo = f(lo)
    target = math.log(1.0 - rtol)  # accept hi once f(hi) >= log(1 - rtol)
    side = 0
    for _ in range(100):
        if f_hi >= target:
            break
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)  # regula falsi in log-log space
        f_mid = f(mid)
        if f_mid > 0:
            lo, f_lo = mid, f_mid
            if side == -1:
                f_hi /= 2  # Illinois step: avoid one end getting stuck
            side = -1
        else:
            hi, f_hi = mid, f_mid
            if side == 1:
                f_lo /= 2
            side = 1
    return math.exp(hi)


def epsilon_ledger(*, noise_multiplier: float, steps: int, delta: float) -> Any:
    """One table: the epsilon of ``steps`` full-batch Gaussian releases under every accountant.

    Every row spends the same total ``delta``. Basic composition gives each release
    ``delta / k``; advanced composition gives each release ``delta / (2k)`` and keeps
    ``delta / 2`` as its ``delta_prime``; a single release's epsilon at its per-release delta
    is the tight one from :func:`gaussian_epsilon_exact`.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``epsilon``, ``delta``, ``upper_bound`` (all True: every row is a
        valid guarantee; the ``exact`` row is also the smallest valid one) and ``note``;
        sorted from loosest to tightest as listed in the module docstring.

    Examples
    --------
    >>> ledger = epsilon_ledger(noise_multiplier=25.0, steps=400, delta=1e-5)
    >>> list(ledger["method"])
    ['basic', 'advanced', 'RDP (textbook)', 'RDP (Opacus)', 'PRV (Opacus)', 'exact']
    >>> bool(ledger["epsilon"].is_monotonic_decreasing)
    True
    """
    import pandas as pd

    noise_multiplier, steps, delta = _check_gaussian_args(noise_multiplier, steps, delta)
    k = steps
    eps_basic_one = gaussian_epsilon_exact(
        noise_multiplier=noise_multiplier, steps=1, delta=delta / k
    )
    eps_basic, _ = basic_composition([eps_basic_one] * k, delta / k)
    eps_adv_one = gaussian_epsilon_exact(
        noise_multiplier=noise_multiplier, steps=1, delta=delta / (2 * k)
    )
    eps_adv, _ = advanced_composition(
        epsilon=eps_adv_one, delta=delta / (2 * k), k=k, delta_prime=delta / 2
    )
    kw = {"noise_multiplier": noise_multiplier, "steps": k, "delta": delta}
    rows = [
        ("basic", eps_basic, f"k x epsilon of one release at delta/k ({eps_basic_one:.3g})"),
        (
            "advanced",
            eps_adv,
            f"sqrt(k) scaling, per-release epsilon {eps_adv_one:.3g} at delta/(2k)",
        ),
        (
            "RDP (textbook)",
            gaussian_epsilon_textbook_rdp(**kw),
            "k alpha/(2 s^2) + ln(1/delta)/(alpha-1)",
        ),
        ("RDP (Opacus)", gaussian_epsilon(**kw, accountant="rdp"), "same RDP, sharper conversion"),
        (
            "PRV (Opacus)",
            gaussian_epsilon(**kw, accountant="prv"),
            "numerical composition, upper end of its error bar",
        ),
        ("exact", gaussian_epsilon_exact(**kw), "k releases = one Gaussian with s/sqrt(k)"),
    ]
    return pd.DataFrame(
        [
            {"method": m, "epsilon": e, "delta": delta, "upper_bound": True, "note": n}
            for m, e, n in rows
        ]
    )


def dp_fedavg_epsilon(
    *, noise_multiplier: float, sample_rate: float, rounds: int, delta: float
) -> float:
    """User-level epsilon of DP-FedAvg after ``rounds`` rounds (add/remove one client, RDP).

    Each round is a Poisson-subsampled Gaussian mechanism on the clipped client updates, the same
    analysis as DP-SGD with "example" replaced by "client": :func:`gaussian_epsilon` with
    ``steps=rounds`` (Opacus's RDP accountant).

    Examples
    --------
    >>> eps = dp_fedavg_epsilon(noise_multiplier=1.0, sample_rate=0.2, rounds=50, delta=1e-3)
    >>> 3 < eps < 30
    True
    """
    return gaussian_epsilon(
        noise_multiplier=noise_multiplier, steps=rounds, delta=delta, sample_rate=sample_rate
    )
