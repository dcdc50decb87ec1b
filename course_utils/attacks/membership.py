"""Membership inference: the loss-threshold attack and LiRA.

Conventions used throughout:

* every attack returns one **score per example, higher = more likely a member**;
* LiRA works on the **logit-scaled confidence** of the true class,
  ``phi = log(p_y / (1 - p_y))`` (see :func:`logit_confidence`), because that statistic is close
  to Gaussian across retrainings while ``p_y`` itself piles up at 1.

The metrics that judge an attack (``roc_curve``, ``roc_auc``, ``roc_auc_interval``,
``tpr_at_fpr``, ``plot_roc``, scikit-learn's ``(y_true, y_score)`` order) live in
:mod:`course_utils.attacks.roc`, and RMIA (``rmia_scores``) in :mod:`course_utils.attacks.rmia`;
both are re-exported here.

References: Yeom et al., "Privacy risk in machine learning", CSF 2018 (loss threshold);
Carlini et al., "Membership inference attacks from first principles", S&P 2022 (LiRA).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats as _stats
from scipy.special import logsumexp

from ..validation import RNGLike, as_rng, check_int, check_vector
from .rmia import rmia_scores
from .roc import plot_roc, roc_auc, roc_auc_interval, roc_curve, tpr_at_fpr

__all__ = [
    "loss_threshold_scores",
    "logit_confidence",
    "membership_masks",
    "split_in_out",
    "shadow_stats",
    "lira_scores",
    "lira_all_targets",
    "roc_curve",
    "roc_auc",
    "roc_auc_interval",
    "tpr_at_fpr",
    "plot_roc",
    "rmia_scores",
]

_MIN_STD = 1e-3  # floor on a fitted standard deviation, so one repeated value cannot divide by 0


def loss_threshold_scores(losses: Any) -> np.ndarray:
    """Loss-threshold attack (Yeom et al. 2018): a low loss means "probably a member".

    The attacker thresholds the per-example loss; as a score this is simply ``-loss``, so any
    threshold on the loss is a threshold on the score.

    Parameters
    ----------
    losses : array-like of shape (n,)
        Per-example losses of the target model (e.g. cross-entropy), finite.

    Returns
    -------
    ndarray of shape (n,)
        Membership scores, higher = more likely a member.

    Examples
    --------
    >>> loss_threshold_scores([0.01, 2.3, 0.5]).tolist()
    [-0.01, -2.3, -0.5]
    """
    arr = check_vector(losses, "losses")
    if not np.isfinite(arr).all():
        raise ValueError("losses must be finite")
    return -arr


def logit_confidence(outputs: Any, labels: Any, *, from_logits: bool = False) -> np.ndarray:
    """Logit-scaled confidence of the true class, ``log(p_y / (1 - p_y))``.

    Computed in log space, ``log p_y - log sum_{j != y} p_j``, so it stays finite (and keeps
    ranking examples) when ``p_y`` rounds to 1 in float32.

    Parameters
    ----------
    outputs : array-like of shape (n, n_classes)
        Probabilities (rows summing to 1) or, with ``from_logits=True``, raw logits.
    labels : array-like of shape (n,)
        True class of each row.
    from_logits : bool, default False
        Whether ``outputs`` are logits (preferred: more precise for confident models).

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> logit_confidence([[0.9, 0.1], [0.5, 0.5]], [0, 1]).round(3).tolist()
    [2.197, 0.0]
    >>> logit_confidence([[2.0, 0.0]], [0], from_logits=True).round(3).tolist()
    [2.0]
    """
    out = np.asarray(outputs, dtype=float)
    lab = np.asarray(labels)
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(f"outputs must have shape (n, n_classes >= 2), got {out.shape}")
    if lab.ndim != 1 or len(lab) != len(out):
        raise ValueError(
            f"labels must be 1-d with one entry per row of outputs ({len(out)}), got shape {lab.shape}"
        )
    if len(out) == 0:
        raise ValueError("outputs must not be empty")
    if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= out.shape[1]:
        raise ValueError(f"labels must be integers in [0, {out.shape[1] - 1}]")
    if from_logits:
        log_p = out - logsumexp(out, axis=1, keepdims=True)
    else:
        if (out < 0).any() or not np.allclose(out.sum(1), 1.0, atol=1e-3):
            raise ValueError(
                "outputs must be probabilities (rows >= 0 summing to 1); pass from_logits=True for logits"
            )
        log_p = np.log(np.clip(out, 1e-300, None))
    rows = np.arange(len(out))
    true = log_p[rows, lab]
    others = log_p.copy()
    others[rows, lab] = -np.inf
    return true - logsumexp(others, axis=1)


def membership_masks(n: int, n_models: int, *, rng: RNGLike = 0) -> np.ndarray:
    """Balanced random training sets for LiRA's shadow models.

    Column ``j`` says which of the ``n`` examples model ``j`` trains on. Every example is IN
    exactly ``n_models // 2`` models, so each one gets (almost) the same number of IN and OUT
    shadows, and every model trains on about half of the pool.

    Parameters
    ----------
    n : int
        Size of the pool, at least 2.
    n_models : int
        Number of models (target plus shadows), at least 2.
    rng : numpy.random.Generator, int seed or None, default 0

    Returns
    -------
    ndarray of bool, shape (n, n_models)

    Examples
    --------
    >>> masks = membership_masks(6, 4, rng=0)
    >>> masks.shape, masks.sum(axis=1).tolist()
    ((6, 4), [2, 2, 2, 2, 2, 2])
    """
    n = check_int(n, "n", min_val=2)
    n_models = check_int(n_models, "n_models", min_val=2)
    rng = as_rng(rng)
    # Carlini et al.'s trick: per example, rank random keys across models; IN = lower half.
    order = rng.random((n, n_models)).argsort(axis=1).argsort(axis=1)
    return order < n_models // 2


def split_in_out(stats: Any, masks: Any) -> tuple[np.ndarray, np.ndarray]:
    """Split per-model statistics into IN and OUT arrays (NaN where not applicable).

    Parameters
    ----------
    stats : array-like of shape (n, n_models)
        Statistic of example ``i`` under model ``j`` (e.g. :func:`logit_confidence`).
    masks : array-like of bool, shape (n, n_models)
        Whether example ``i`` was in model ``j``'s training set.

    Returns
    -------
    in_stats, out_stats : ndarrays of shape (n, n_models)
        ``stats`` where the mask is True (resp. False), NaN elsewhere; ready for
        :func:`lira_scores`.

    Examples
    --------
    >>> i, o = split_in_out([[1.0, 2.0]], [[True, False]])
    >>> i.tolist(), o.tolist()
    ([[1.0, nan]], [[nan, 2.0]])
    """
    s = np.asarray(stats, dtype=float)
    m = np.asarray(masks)
    if s.ndim != 2 or m.shape != s.shape:
        raise ValueError(
            f"stats and masks must be 2-d of the same shape, got {s.shape} and {m.shape}"
        )
    m = m.astype(bool)
    return np.where(m, s, np.nan), np.where(m, np.nan, s)


def shadow_stats(
    fit_logits: Callable[[np.ndarray, np.ndarray, np.ndarray], Any],
    X: Any,
    y: Any,
    masks: Any,
    *,
    single_thread: bool = True,
) -> np.ndarray:
    """Train one model per column of ``masks`` and record :func:`logit_confidence` on every example.

    Parameters
    ----------
    fit_logits : callable
        ``fit_logits(X_train, y_train, X_eval) -> logits`` of shape (len(X_eval), n_classes):
        train a fresh model on the training part, return its logits on ``X_eval``.
    X, y : arrays of shape (n, ...) and (n,)
        The pool of examples (the attacker's population).
    masks : bool array of shape (n, n_models)
        Training set of each model (see :func:`membership_masks`).
    single_thread : bool, default True
        Limit BLAS/OpenMP to one thread while training: many tiny models run faster that way,
        and a shared machine stays responsive.

    Returns
    -------
    ndarray of shape (n, n_models)
        Entry ``[i, j]``: model ``j``'s logit-scaled confidence on example ``i``.

    Examples
    --------
    >>> X = np.r_[np.zeros((4, 1)), np.ones((4, 1))]; y = np.r_[np.zeros(4, int), np.ones(4, int)]
    >>> def fit_logits(X_tr, y_tr, X_ev):  # a "model" that predicts class 1 iff x > 0.5
    ...     return np.c_[1 - X_ev[:, 0], X_ev[:, 0]] * 4
    >>> shadow_stats(fit_logits, X, y, membership_masks(8, 3, rng=0)).shape
    (8, 3)
    """
    X_arr, y_arr = np.asarray(X), np.asarray(y)
    m = np.asarray(masks)
    if len(X_arr) != len(y_arr):
        raise ValueError(f"X and y must have the same length, got {len(X_arr)} and {len(y_arr)}")
    if m.ndim != 2 or len(m) != len(X_arr) or m.dtype != bool:
        raise ValueError(
            f"masks must be a boolean array of shape (n={len(X_arr)}, n_models), got {m.dtype} {m.shape}"
        )
    from contextlib import nullcontext

    if single_thread:
        from threadpoolctl import threadpool_limits

        context: Any = threadpool_limits(limits=1)
    else:
        context = nullcontext()
    columns = []
    with context:
        for j in range(m.shape[1]):
            logits = np.asarray(fit_logits(X_arr[m[:, j]], y_arr[m[:, j]], X_arr), dtype=float)
            columns.append(logit_confidence(logits, y_arr, from_logits=True))
    return np.stack(columns, axis=1)


def _fit_gaussians(
    values: np.ndarray, name: str, fix_variance: bool
) -> tuple[np.ndarray, np.ndarray]:
    counts = np.isfinite(values).sum(axis=1)
    if (counts == 0).any():
        bad = np.flatnonzero(counts == 0)[:5].tolist()
        raise ValueError(
            f"{name} has no finite value for examples {bad}: every example needs at least one "
            f"shadow statistic there (membership_masks balances IN and OUT)"
        )
    mean = np.nanmean(values, axis=1)
    resid = values - mean[:, None]
    pooled = float(np.sqrt(np.nanmean(resid**2))) if np.isfinite(resid).sum() > len(values) else 1.0
    if fix_variance:
        std = np.full(len(values), pooled)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            std = np.sqrt(np.nansum(resid**2, axis=1) / np.maximum(counts - 1, 1))
        std = np.where(counts >= 2, std, pooled)
    return mean, np.maximum(std, _MIN_STD)


def lira_scores(
    target_stats: Any,
    in_stats: Any,
    out_stats: Any,
    *,
    online: bool = True,
    fix_variance: bool = False,
) -> np.ndarray:
    """Likelihood-ratio attack (LiRA, Carlini et al. 2022) from shadow-model statistics.

    For each example a Gaussian is fitted to its statistic under the shadow models that trained
    on it (IN) and under those that did not (OUT). The *online* score is the log-likelihood
    ratio ``log N(t; mu_in, sd_in) - log N(t; mu_out, sd_out)``; the *offline* score (no IN
    models needed) is the one-sided test ``log P[Z <= t]`` with ``Z ~ N(mu_out, sd_out)``.

    Parameters
    ----------
    target_stats : array-like of shape (n,)
        The target model's logit-scaled confidence on each example (:func:`logit_confidence`).
    in_stats, out_stats : array-like of shape (n, n_shadows)
        The same statistic under each shadow model; NaN marks "this shadow did not / did train
        on this example" (see :func:`split_in_out`). Rows may hold different numbers of values.
        ``in_stats`` may be None when ``online=False``.
    online : bool, default True
        Use the IN Gaussians (two-sided likelihood ratio) or only the OUT ones.
    fix_variance : bool, default False
        Use one pooled within-example standard deviation for all examples instead of one per
        example; steadier when there are few shadows (Carlini et al. do this below 64).

    Returns
    -------
    ndarray of shape (n,)
        Membership scores, higher = more likely a member.

    Examples
    --------
    >>> target = np.array([3.0, 0.0])
    >>> shadows_in = np.array([[3.0, 2.8, 3.2], [3.1, 2.9, 3.0]])
    >>> shadows_out = np.array([[0.0, 0.2, -0.2], [0.1, -0.1, 0.0]])
    >>> scores = lira_scores(target, shadows_in, shadows_out)
    >>> bool(scores[0] > 0 > scores[1])
    True
    >>> bool(np.all(np.diff(lira_scores([0.0, 1.0, 2.0], None, np.zeros((3, 2)) + [[-1, 1]], online=False)) > 0))
    True
    """
    t = check_vector(target_stats, "target_stats")
    if not np.isfinite(t).all():
        raise ValueError("target_stats must be finite (use logit_confidence, which stays finite)")
    out_arr = np.asarray(out_stats, dtype=float)
    if out_arr.ndim == 1 and len(out_arr) == len(t):  # a single shadow model
        out_arr = out_arr[:, None]
    if out_arr.ndim != 2 or len(out_arr) != len(t):
        raise ValueError(f"out_stats must have shape (n={len(t)}, n_shadows), got {out_arr.shape}")
    mu_out, sd_out = _fit_gaussians(out_arr, "out_stats", fix_variance)
    if not online:
        return _stats.norm.logcdf(t, loc=mu_out, scale=sd_out)
    if in_stats is None:
        raise ValueError(
            "in_stats is required when online=True (pass online=False to use only OUT shadows)"
        )
    in_arr = np.asarray(in_stats, dtype=float)
    if in_arr.ndim == 1 and len(in_arr) == len(t):
        in_arr = in_arr[:, None]
    if in_arr.ndim != 2 or len(in_arr) != len(t):
        raise ValueError(f"in_stats must have shape (n={len(t)}, n_shadows), got {in_arr.shape}")
    mu_in, sd_in = _fit_gaussians(in_arr, "in_stats", fix_variance)
    return _stats.norm.logpdf(t, loc=mu_in, scale=sd_in) - _stats.norm.logpdf(
        t, loc=mu_out, scale=sd_out
    )


def lira_all_targets(
    stats: Any,
    masks: Any,
    *,
    online: bool = True,
    fix_variance: bool = False,
) -> np.ndarray:
    """LiRA with every model in turn as the target and all the others as its shadows.

    Training ``n_models`` models once gives ``n_models`` attack experiments (Carlini et al.
    evaluate this way), so metrics can be averaged instead of resting on one target.

    Parameters
    ----------
    stats : array of shape (n, n_models)
        From :func:`shadow_stats`.
    masks : bool array of shape (n, n_models)
    online, fix_variance : as in :func:`lira_scores`

    Returns
    -------
    ndarray of shape (n, n_models)
        Column ``j``: LiRA scores against model ``j`` (its members are ``masks[:, j]``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> masks = membership_masks(200, 8, rng=0)
    >>> stats = rng.normal(size=(200, 1)) + 1.5 * masks + 0.3 * rng.normal(size=(200, 8))
    >>> scores = lira_all_targets(stats, masks)
    >>> scores.shape, bool(min(roc_auc(masks[:, j], scores[:, j]) for j in range(8)) > 0.9)
    ((200, 8), True)
    """
    s = np.asarray(stats, dtype=float)
    m = np.asarray(masks)
    if s.ndim != 2 or m.shape != s.shape or s.shape[1] < 3:
        raise ValueError(
            f"stats and masks must have the same shape (n, n_models >= 3), got {s.shape} and {m.shape}"
        )
    m = m.astype(bool)
    out = np.empty_like(s)
    for j in range(s.shape[1]):
        others = np.arange(s.shape[1]) != j
        in_s, out_s = split_in_out(s[:, others], m[:, others])
        out[:, j] = lira_scores(s[:, j], in_s, out_s, online=online, fix_variance=fix_variance)
    return out
