"""How good is a membership attack? ROC analysis, and the best any attack can do against DP.

An attack gives each example a score (higher = more likely a member). Every threshold on the
score flags some examples; the **ROC curve** plots the true-positive rate (members flagged)
against the false-positive rate (non-members flagged) over all thresholds. :func:`roc_auc`
summarises it (:func:`roc_auc_interval` with a bootstrap interval); :func:`tpr_at_fpr` reads it at a small false-positive rate, the number that
matters for privacy (Carlini et al. 2022). :func:`dp_tpr_bound` is the curve no attack can
cross against an (epsilon, delta)-DP model.

The metrics take scikit-learn's ``(y_true, y_score)`` order and give the same points as
``sklearn.metrics.roc_curve`` (ties share a threshold), so :func:`roc_auc` equals
``sklearn.metrics.roc_auc_score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as _stats

from ..validation import (
    RNGLike,
    as_rng,
    check_int,
    check_non_negative,
    check_probability,
    check_scalar,
    check_vector,
)

__all__ = ["roc_curve", "roc_auc", "roc_auc_interval", "tpr_at_fpr", "plot_roc", "dp_tpr_bound"]


def _scores_and_labels(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """The scores as floats and the membership as bools, checked (note the order returned)."""
    s = check_vector(y_score, "y_score")
    raw = np.asarray(y_true)
    if raw.ndim != 1:
        raise ValueError(f"y_true must be a 1-d array, got shape {raw.shape}")
    if len(raw) != len(s):
        raise ValueError(
            f"y_true and y_score must have the same length, got {len(raw)} and {len(s)}"
        )
    if raw.dtype != bool:
        values = np.unique(raw)
        if not np.isin(values, [0, 1]).all():
            raise ValueError(
                f"y_true must be boolean or 0/1 membership (the metrics take (y_true, y_score), "
                f"as scikit-learn's), got values {values[:5]}"
            )
    labels = raw.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("y_true must contain both members (True) and non-members (False)")
    return s, labels


def roc_curve(y_true: Any, y_score: Any) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct threshold, starting at (0, 0).

    Same points as ``sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)``.

    Examples
    --------
    >>> fpr, tpr = roc_curve([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    s, labels = _scores_and_labels(y_true, y_score)
    order = np.argsort(-s, kind="stable")
    s_sorted, lab_sorted = s[order], labels[order]
    tps = np.cumsum(lab_sorted)
    fps = np.cumsum(~lab_sorted)
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s) - 1]  # end of each tie block
    fpr = np.r_[0.0, fps[last] / fps[-1]]
    tpr = np.r_[0.0, tps[last] / tps[-1]]
    return fpr, tpr


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: P(score of a random member > score of a random non-member).

    Ties count one half (Mann-Whitney U), as in ``sklearn.metrics.roc_auc_score``.
    0.5 is chance; 1.0 separates members perfectly.

    Examples
    --------
    >>> roc_auc([True, False, True, False], [0.9, 0.8, 0.3, 0.1])
    0.75
    """
    s, labels = _scores_and_labels(y_true, y_score)
    ranks = _stats.rankdata(s)  # average ranks for ties
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def roc_auc_interval(
    y_true: Any,
    y_score: Any,
    *,
    rng: RNGLike = None,
    resamples: int = 500,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile-bootstrap interval for :func:`roc_auc`, resampling the examples.

    Each resample draws ``n`` of the ``n`` examples with replacement (all ``resamples`` index
    rows at once, ``rng.integers(n, size=(resamples, n))``) and computes the AUC; the interval is
    the central ``confidence`` quantile range of those AUCs. It covers the uncertainty from *which*
    examples were audited, not from training the model again.

    Parameters
    ----------
    y_true : array-like of bool (or 0/1), shape (n,)
        Membership of each example; both kinds must be present.
    y_score : array-like of shape (n,)
        Attack scores, higher = more likely a member.
    rng : numpy.random.Generator, int or None
        Source of the resampling (the course's convention: a Generator or a seed).
    resamples : int, default 500
        Number of bootstrap resamples (at least 10).
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float

    Examples
    --------
    >>> members = np.arange(200) < 100
    >>> scores = members + np.random.default_rng(0).normal(0.0, 1.0, 200)
    >>> low, high = roc_auc_interval(members, scores, rng=1)
    >>> bool(low < roc_auc(members, scores) < high), bool(0.5 < low)
    (True, True)
    """
    s, labels = _scores_and_labels(y_true, y_score)
    resamples = check_int(resamples, "resamples", min_val=10)
    confidence = check_probability(confidence, "confidence")
    rows = as_rng(rng).integers(len(s), size=(resamples, len(s)))
    aucs = [roc_auc(labels[r], s[r]) for r in rows if 0 < labels[r].sum() < len(r)]
    tail = (1 - confidence) / 2
    low, high = np.quantile(aucs, [tail, 1 - tail])
    return float(low), float(high)


def tpr_at_fpr(y_true: Any, y_score: Any, *, fpr: float = 0.01) -> float:
    """Largest true-positive rate of any threshold whose false-positive rate is at most ``fpr``.

    This is the metric that matters for privacy: an attack that confidently identifies *a few*
    members with almost no false alarms is dangerous even when its AUC is near 0.5.

    Parameters
    ----------
    y_true : array-like of bool (or 0/1), shape (n,)
        Membership of each example.
    y_score : array-like of shape (n,)
        Attack scores, higher = more likely a member.
    fpr : float, default 0.01
        Allowed false-positive rate, in (0, 1).

    Examples
    --------
    >>> tpr_at_fpr([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], fpr=0.01)
    0.5
    """
    fpr = check_probability(fpr, "fpr")
    fprs, tprs = roc_curve(y_true, y_score)
    return float(tprs[fprs <= fpr + 1e-12].max())


def plot_roc(
    y_true: Any,
    y_score: Any,
    *,
    label: str | None = None,
    log: bool = True,
    ax: Any = None,
    **plot_kw: Any,
) -> Any:
    """Draw the ROC curve of one attack; log-log axes by default (the low-FPR view).

    Parameters
    ----------
    y_true, y_score : as in :func:`roc_curve`
    label : str, optional
        Legend label; the AUC is appended.
    log : bool, default True
        Log-scaled axes, so the region FPR < 1% is visible. A dotted chance line is drawn.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = plot_roc([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], label="toy")
    >>> ax.get_xscale(), len(ax.lines)
    ('log', 2)
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    from course_utils.plotting import get_ax

    ax = get_ax(ax)
    fpr, tpr = roc_curve(y_true, y_score)
    auc = roc_auc(y_true, y_score)
    text = f"AUC {auc:.2f}" if label is None else f"{label} (AUC {auc:.2f})"
    ax.plot(fpr, tpr, label=text, **plot_kw)
    if log:
        lo = 1.0 / (2 * len(fpr))
        grid = np.logspace(np.log10(lo), 0, 50)
        ax.plot(grid, grid, ls=":", color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, 1)
        ax.set_ylim(lo, 1.05)
    else:
        ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(loc="lower right")
    return ax


def dp_tpr_bound(fpr: float | np.ndarray, *, epsilon: float, delta: float) -> float | np.ndarray:
    """Highest true-positive rate any membership test can reach at ``fpr`` against an (epsilon, delta)-DP model.

    From the hypothesis-testing view of DP (Kairouz et al. 2015):
    ``TPR <= min(e^eps * FPR + delta, 1 - e^-eps * (1 - FPR - delta))``, clipped to [0, 1].

    Parameters
    ----------
    fpr : float or array
        False-positive rate(s) in [0, 1].
    epsilon : float
        >= 0.
    delta : float
        In [0, 1).

    Returns
    -------
    float, or an array of the shape of ``fpr``.

    Examples
    --------
    >>> round(dp_tpr_bound(0.01, epsilon=1.0, delta=1e-5), 4)
    0.0272
    >>> dp_tpr_bound(0.5, epsilon=0.0, delta=0.0)
    0.5
    """
    epsilon = check_non_negative(epsilon, "epsilon")
    delta = check_scalar(delta, "delta", min_val=0.0, max_val=1.0, include_max=False)
    f = np.asarray(fpr, dtype=float)
    if np.any(np.isnan(f)) or np.any(f < 0) or np.any(f > 1):
        raise ValueError(f"fpr must lie in [0, 1], got {fpr}")
    with np.errstate(over="ignore"):
        first = np.exp(epsilon) * f + delta
    second = 1.0 - np.exp(-epsilon) * (1.0 - f - delta)
    tpr = np.clip(np.minimum(first, second), 0.0, 1.0)
    return float(tpr) if tpr.ndim == 0 else tpr
