"""Auditing a mechanism: a statistical lower bound on its epsilon from samples.

If a mechanism M is (epsilon, delta)-DP then for *every* set of outputs S and neighbours D, D'
``P[M(D) in S] <= exp(epsilon) * P[M(D') in S] + delta``. Run M many times on D and on D',
pick a set S (here a threshold test ``output > t`` or ``output <= t``), and bound the two
probabilities with Clopper-Pearson intervals: any epsilon below
``ln((p_lower - delta) / p_prime_upper)`` is ruled out with the stated confidence.

An audit can only ever *refute* a claimed epsilon (catch a bug); passing an audit does not prove
a mechanism private. To keep the bound honest, half the samples choose the test and the other
half, unseen during the choice, evaluate it.

Examples
--------
>>> from course_utils.privacy.mechanisms import laplace_mechanism
>>> def mech(data, rng):  # a count with Laplace noise, claimed epsilon = 1
...     return laplace_mechanism(float(sum(data)), sensitivity=1.0, epsilon=1.0, rng=rng)
>>> rng = np.random.default_rng(0)
>>> lb = empirical_epsilon(mech, [1, 1, 0], [1, 1, 1], n_samples=20_000, rng=rng)
>>> 0.8 < lb <= 1.0
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..results import Result
from ..stats import clopper_pearson
from ..validation import RNGLike, as_rng, check_int, check_non_negative, check_probability

__all__ = [
    "clopper_pearson",
    "epsilon_lower_bound",
    "AuditResult",
    "audit_samples",
    "holdout_thresholds",
    "empirical_epsilon",
    "plot_audit",
    "attack_epsilon_lower_bound",
]


def epsilon_lower_bound(
    count: Any,
    n: Any,
    count_prime: Any,
    n_prime: Any,
    *,
    confidence: float = 0.95,
    delta: float = 0.0,
) -> Any:
    """Epsilon ruled out by one test: ``ln((p_lower - delta) / p_prime_upper)``, at least 0.

    ``count`` of ``n`` runs on D and ``count_prime`` of ``n_prime`` runs on D' landed in the
    test's set S. Each probability gets a one-sided Clopper-Pearson bound at level
    ``1 - (1 - confidence) / 2``, so both hold together with probability ``confidence``.

    Examples
    --------
    >>> round(epsilon_lower_bound(5000, 10_000, 1839, 10_000), 2)  # ratio e, minus sampling slack
    0.94
    >>> epsilon_lower_bound(10, 100, 50, 100)  # the set is likelier under D': nothing ruled out
    0.0
    """
    confidence = check_probability(confidence, "confidence")
    delta = check_non_negative(delta, "delta")
    # a two-sided interval at `confidence` leaves (1 - confidence) / 2 in each tail: exactly the
    # one-sided level each of the two bounds needs for a union bound at `confidence`
    p_lo, _ = clopper_pearson(count, n, confidence=confidence)
    _, p_hi = clopper_pearson(count_prime, n_prime, confidence=confidence)
    num = np.asarray(p_lo) - delta
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = np.where(num > 0, np.log(np.maximum(num, 1e-300) / np.asarray(p_hi)), 0.0)
    eps = np.maximum(eps, 0.0)
    return float(eps) if eps.ndim == 0 else eps


@dataclass(frozen=True)
class AuditResult(Result):
    """What :func:`audit_samples` found.

    Attributes
    ----------
    epsilon_lower : float
        Lower bound on epsilon, valid with probability ``confidence``.
    threshold : float
        The chosen test's threshold ``t``.
    side : str
        ``"above"`` (S = {output > t}) or ``"below"`` (S = {output <= t}).
    first : str
        ``"D"`` when the bound is on ``P[M(D) in S] / P[M(D') in S]``, ``"D'"`` when swapped.
    counts : tuple of int
        (count on the first dataset, its n, count on the second, its n) in the evaluation half.
    thresholds, selection_bound : ndarray
        Candidate thresholds and the best bound each reached on the selection half (for plots).
    """

    epsilon_lower: float
    threshold: float
    side: str
    first: str
    counts: tuple[int, int, int, int]
    confidence: float
    thresholds: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))
    selection_bound: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))


def _test_counts(
    sorted_a: np.ndarray, sorted_b: np.ndarray, t: np.ndarray
) -> dict[tuple[str, str], tuple]:
    """Counts of each (side, first) test at thresholds t: (count_first, n_first, count_second, n_second)."""
    na, nb = sorted_a.size, sorted_b.size
    below_a = np.searchsorted(sorted_a, t, side="right")
    below_b = np.searchsorted(sorted_b, t, side="right")
    above_a, above_b = na - below_a, nb - below_b
    return {
        ("above", "D"): (above_a, na, above_b, nb),
        ("above", "D'"): (above_b, nb, above_a, na),
        ("below", "D"): (below_a, na, below_b, nb),
        ("below", "D'"): (below_b, nb, below_a, na),
    }


def holdout_thresholds(
    first: np.ndarray, second: np.ndarray, *, n_thresholds: int
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Split two samples for an honest threshold audit, and the thresholds to choose among.

    The first half of each sample *selects* the test, the second half *evaluates* it; the
    candidate thresholds are ``n_thresholds`` evenly spaced quantiles (ends excluded, repeats
    dropped) of the pooled selection halves, so they never depend on the evaluation data.
    Used by :func:`audit_samples` and :func:`course_utils.privacy.canaries.threshold_audit`.

    Returns
    -------
    (selection_first, selection_second), (evaluation_first, evaluation_second), thresholds
        The halves sorted, and the sorted unique thresholds.

    Examples
    --------
    >>> sel, ev, t = holdout_thresholds(np.array([4.0, 3, 2, 1]), np.arange(6.0), n_thresholds=3)
    >>> [h.tolist() for h in sel], [h.tolist() for h in ev], t.tolist()
    ([[3.0, 4.0], [0.0, 1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0, 5.0]], [1.0, 2.0, 3.0])
    """
    n_thresholds = check_int(n_thresholds, "n_thresholds", min_val=1)
    half_a, half_b = first.size // 2, second.size // 2
    selection = np.sort(first[:half_a]), np.sort(second[:half_b])
    evaluation = np.sort(first[half_a:]), np.sort(second[half_b:])
    quantiles = np.linspace(0.0, 1.0, n_thresholds + 2)[1:-1]
    thresholds = np.unique(np.quantile(np.concatenate(selection), quantiles))
    return selection, evaluation, thresholds


def audit_samples(
    samples: Any,
    samples_prime: Any,
    *,
    confidence: float = 0.95,
    delta: float = 0.0,
    n_thresholds: int = 200,
) -> AuditResult:
    """Lower-bound epsilon from outputs of a mechanism on D (``samples``) and D' (``samples_prime``).

    The first half of each array chooses the best threshold test (among ``n_thresholds``
    quantiles of the pooled first halves, both sides, both orders, scored by a stricter 99.9 %
    bound); the second half evaluates that one test with :func:`epsilon_lower_bound`. Because
    the evaluation half played no part in the choice, the bound holds with probability
    ``confidence``. The samples must be independent draws.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> res = audit_samples(rng.laplace(0, 1, 40_000), rng.laplace(1, 1, 40_000))
    >>> 0.85 < res.epsilon_lower <= 1.0, res.side, res.first
    (True, 'above', "D'")
    """
    a = np.asarray(samples, dtype=float).ravel()
    b = np.asarray(samples_prime, dtype=float).ravel()
    for name, arr in (("samples", a), ("samples_prime", b)):
        if arr.size < 4:
            raise ValueError(
                f"{name} needs at least 4 outputs (half choose the test, half evaluate it)"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite numbers")
    confidence = check_probability(confidence, "confidence")
    delta = check_non_negative(delta, "delta")
    n_thresholds = check_int(n_thresholds, "n_thresholds", min_val=1)
    (sel_a, sel_b), (ev_a, ev_b), thresholds = holdout_thresholds(a, b, n_thresholds=n_thresholds)
    best_per_t = np.zeros(thresholds.size)
    best = (-1.0, 0, "above", "D")
    # Choose with a stricter confidence than we report: it steers the choice away from far-tail
    # thresholds whose few counts only look good by luck (the evaluation half would disagree).
    select_confidence = max(confidence, 0.999)
    for (side, first), counts in _test_counts(sel_a, sel_b, thresholds).items():
        bound = epsilon_lower_bound(*counts, confidence=select_confidence, delta=delta)
        best_per_t = np.maximum(best_per_t, bound)
        i = int(np.argmax(bound))
        if bound[i] > best[0]:
            best = (float(bound[i]), i, side, first)
    _, i, side, first = best
    t = thresholds[i : i + 1]
    count, n, count_prime, n_prime = (
        int(np.asarray(c).ravel()[0]) for c in _test_counts(ev_a, ev_b, t)[(side, first)]
    )
    eps = epsilon_lower_bound(count, n, count_prime, n_prime, confidence=confidence, delta=delta)
    return AuditResult(
        epsilon_lower=float(eps),
        threshold=float(t[0]),
        side=side,
        first=first,
        counts=(count, n, count_prime, n_prime),
        confidence=confidence,
        thresholds=thresholds,
        selection_bound=best_per_t,
    )


def empirical_epsilon(
    mechanism: Callable[[Any, np.random.Generator], float],
    d: Any,
    d_prime: Any,
    *,
    n_samples: int,
    rng: RNGLike,
    confidence: float = 0.95,
    delta: float = 0.0,
) -> float:
    """Lower bound on the epsilon of ``mechanism``, valid with probability ``confidence``.

    Calls ``mechanism(d, rng)`` and ``mechanism(d_prime, rng)`` ``n_samples`` times each and
    runs :func:`audit_samples` on the outputs. A result above the claimed epsilon means the
    mechanism does not keep its promise (up to the ``1 - confidence`` chance of a false alarm).

    Parameters
    ----------
    mechanism : callable
        ``mechanism(dataset, rng) -> float``.
    d, d_prime : any
        Two neighbouring datasets, passed to ``mechanism`` unchanged.
    n_samples : int
        Runs per dataset (>= 4); tens of thousands give tight bounds for epsilon around 1.
    rng : numpy.random.Generator, int seed or None
    confidence : float, default 0.95
    delta : float, default 0.0
        Audit an (epsilon, delta) claim instead of pure epsilon-DP.

    Returns
    -------
    float
        Lower bound on epsilon (>= 0).

    Examples
    --------
    >>> from course_utils.privacy.mechanisms import laplace_mechanism
    >>> def buggy(data, rng):  # scale sensitivity * epsilon instead of sensitivity / epsilon
    ...     return float(np.sum(data) + rng.laplace(0, 1.0 * 0.5))
    >>> lb = empirical_epsilon(buggy, [0, 1], [1, 1], n_samples=10_000, rng=np.random.default_rng(0))
    >>> lb > 0.5  # claimed epsilon 0.5, true epsilon 2: caught
    True
    """
    n_samples = check_int(n_samples, "n_samples", min_val=4)
    if not callable(mechanism):
        raise ValueError(
            f"mechanism must be callable as mechanism(dataset, rng), got {type(mechanism).__name__}"
        )
    rng = as_rng(rng)
    outputs = []
    for data in (d, d_prime):
        out = np.empty(int(n_samples))
        for i in range(int(n_samples)):
            value = mechanism(data, rng)
            try:
                out[i] = value  # a number or a numpy scalar
            except (TypeError, ValueError):
                try:  # a size-1 array
                    out[i] = np.asarray(value, dtype=float).reshape(())
                    continue
                except (TypeError, ValueError):
                    pass
                raise ValueError(
                    f"mechanism must return one number per call, got {type(value).__name__} {value!r:.60}"
                ) from None
        outputs.append(out)
    return audit_samples(outputs[0], outputs[1], confidence=confidence, delta=delta).epsilon_lower


def plot_audit(result: AuditResult, *, claimed: float | None = None, ax: Any = None) -> Any:
    """Bound reached by each threshold on the selection half, the final bound, and the claim.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> rng = np.random.default_rng(0)
    >>> ax = plot_audit(audit_samples(rng.laplace(0, 1, 2000), rng.laplace(1, 1, 2000)), claimed=1.0)
    >>> len(ax.lines)
    3
    >>> plt.close("all")
    """
    from course_utils.plotting import OKABE_ITO, get_ax

    ax = get_ax(ax)
    ax.plot(
        result.thresholds,
        result.selection_bound,
        color=OKABE_ITO["blue"],
        label="bound per threshold (selection half)",
    )
    ax.axhline(
        result.epsilon_lower,
        color=OKABE_ITO["green"],
        label=f"audit lower bound {result.epsilon_lower:.2f}",
    )
    if claimed is not None:
        ax.axhline(
            claimed, color=OKABE_ITO["vermillion"], ls="--", label=f"claimed epsilon {claimed:g}"
        )
    top = max(
        [result.epsilon_lower, claimed or 0.0, float(np.max(result.selection_bound, initial=0.0))]
    )
    ax.set_ylim(0.0, 1.5 * top if top > 0 else 1.0)  # head room for the legend
    ax.set(xlabel="threshold t", ylabel="epsilon ruled out")
    ax.legend(fontsize=8, loc="upper right")
    return ax


def attack_epsilon_lower_bound(
    tp: Any,
    fp: Any,
    n_pos: Any,
    n_neg: Any,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> Any:
    """Smallest epsilon an (epsilon, delta)-DP training could have, given a membership attack's
    true and false positives (Jagielski et al. 2020).

    The attack said "member" for ``tp`` of ``n_pos`` members and for ``fp`` of ``n_neg``
    non-members. DP bounds a test in both directions (Kairouz et al. 2015):
    ``TPR <= e^eps FPR + delta`` and ``TNR <= e^eps FNR + delta``. This returns the larger of
    ``epsilon_lower_bound(tp, n_pos, fp, n_neg)`` and
    ``epsilon_lower_bound(n_neg - fp, n_neg, n_pos - tp, n_pos)``. Both rest on the same two
    one-sided Clopper-Pearson bounds (a lower bound on the TPR, an upper bound on the FPR, each at
    level ``1 - (1 - confidence) / 2``; the bounds on TNR and FNR are their complements), so both
    directions hold together, and so does their maximum, with probability ``confidence``.

    Parameters
    ----------
    tp, fp : int or array of int
        True and false positives, ``0 <= tp <= n_pos`` and ``0 <= fp <= n_neg``.
    n_pos, n_neg : int or array of int
        Members and non-members the attack was tried on (>= 1). Arrays broadcast, so a whole
        ROC curve of thresholds can be scored at once.
    delta : float, default 0.0
        The delta of the (epsilon, delta) claim being audited.
    confidence : float, default 0.95
        Probability that the bound is valid, in (0, 1).

    Returns
    -------
    float (or array)
        A lower bound on epsilon, >= 0 (0 when the counts rule nothing out).

    Examples
    --------
    A perfect attack on 10 members and 10 non-members: the one-sided 97.5 % bounds are
    ``TPR >= 0.025 ** (1 / 10) = 0.6915`` and ``FPR <= 0.3085``, so
    ``epsilon >= ln(0.6915 / 0.3085) = 0.8072``.

    >>> round(attack_epsilon_lower_bound(10, 0, 10, 10), 4)
    0.8072
    >>> attack_epsilon_lower_bound(5, 5, 10, 10)  # no better than a coin: nothing ruled out
    0.0

    An attack that calls almost everyone a member: its TPR / FPR is only 1 / 0.9, but its
    TNR / FNR is 0.1 / 0, so the second direction gives the bound.

    >>> round(attack_epsilon_lower_bound(1000, 900, 1000, 1000, delta=1e-5), 2)
    3.1
    """
    counts = [np.asarray(v) for v in (tp, fp, n_pos, n_neg)]
    for name, arr in zip(("tp", "fp", "n_pos", "n_neg"), counts, strict=True):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must be a count (a non-negative integer), got {arr!r:.60}")
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be a count (a non-negative integer), got {arr!r:.60}")
    t, f, p, n = counts
    if np.any(p < 1) or np.any(n < 1):
        raise ValueError(f"n_pos and n_neg must be >= 1, got n_pos={n_pos!r}, n_neg={n_neg!r}")
    if np.any(t > p):
        raise ValueError(f"tp must be at most n_pos, got tp={tp!r}, n_pos={n_pos!r}")
    if np.any(f > n):
        raise ValueError(f"fp must be at most n_neg, got fp={fp!r}, n_neg={n_neg!r}")
    # epsilon_lower_bound checks delta and confidence, with the same one-sided levels
    forward = epsilon_lower_bound(t, p, f, n, confidence=confidence, delta=delta)
    backward = epsilon_lower_bound(n - f, n, p - t, p, confidence=confidence, delta=delta)
    out = np.maximum(forward, backward)
    return float(out) if np.ndim(out) == 0 else out
