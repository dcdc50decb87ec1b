"""RMIA, the relative membership inference attack (Zarifzadeh et al., "Low-cost high-power
membership inference attacks", ICML 2024), in its offline form: a few reference models and a
population of records no model trained on. Re-exported by :mod:`course_utils.attacks.membership`,
whose conventions it follows (one score per example, higher = more likely a member).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

__all__ = ["rmia_scores"]


def _log_true_prob(logits: Any, labels: Any, name: str, label_name: str) -> np.ndarray:
    """``log softmax(logits)[..., label]`` for logits of shape (..., n, c) and labels (n,)."""
    arr = np.asarray(logits, dtype=float)
    lab = np.asarray(labels)
    if arr.ndim < 2 or arr.shape[-1] < 2 or arr.shape[-2] == 0:
        raise ValueError(
            f"{name} must have shape (..., n, n_classes >= 2) with n >= 1, got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite logits")
    if lab.ndim != 1 or len(lab) != arr.shape[-2]:
        raise ValueError(
            f"{label_name} must be 1-d with one label per row of {name} ({arr.shape[-2]}), "
            f"got shape {lab.shape}"
        )
    if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= arr.shape[-1]:
        raise ValueError(f"{label_name} must be integers in [0, {arr.shape[-1] - 1}]")
    log_p = arr - logsumexp(arr, axis=-1, keepdims=True)
    index = np.broadcast_to(lab, arr.shape[:-1])[..., None]  # the true class of every row
    return np.take_along_axis(log_p, index, axis=-1)[..., 0]


def _log_ratio(
    target: Any, references: Any, labels: Any, names: tuple[str, str, str]
) -> np.ndarray:
    """``log p(x | target) - log mean_j p(x | reference_j)`` for every row."""
    t_name, r_name, l_name = names
    log_t = _log_true_prob(target, labels, t_name, l_name)
    log_r = _log_true_prob(references, labels, r_name, l_name)
    if np.ndim(target) != 2 or np.ndim(references) != 3 or log_r.shape[1:] != log_t.shape:
        raise ValueError(
            f"{t_name} must have shape (n, c) and {r_name} shape (k, n, c) with the same n and c, "
            f"got {np.shape(target)} and {np.shape(references)}"
        )
    if np.shape(references)[-1] != np.shape(target)[-1]:
        raise ValueError(f"{t_name} and {r_name} must have the same number of classes")
    return log_t - (logsumexp(log_r, axis=0) - np.log(log_r.shape[0]))


def rmia_scores(
    target_logits: Any,
    reference_logits: Any,
    labels: Any,
    target_pop_logits: Any,
    reference_pop_logits: Any,
    pop_labels: Any,
    *,
    gamma: float = 1.0,
) -> np.ndarray:
    """Offline RMIA (Zarifzadeh et al., ICML 2024): membership scores from a few reference models.

    With ``p(x | model)`` the softmax probability of the true label and ``p(x)`` its mean over
    the reference models, record ``x`` is compared with every population record ``z`` (records
    no model trained on) through the likelihood ratio

        ``LR(x, z) = (p(x | target) / p(x)) / (p(z | target) / p(z))``

    and scores the fraction of ``z`` with ``LR(x, z) >= gamma`` (a tie up to rounding counts).
    Dividing by ``p(x)`` discounts records that every model finds easy; comparing with many ``z``
    turns the ratio into a calibrated rank, which is why RMIA stays strong with only a handful of
    reference models.

    Parameters
    ----------
    target_logits : array of shape (n, c)
        The audited model's logits on the n records under audit.
    reference_logits : array of shape (k, n, c)
        Logits of k >= 1 reference models on the same records. Reference models are trained
        like the target on population data; each audited record should be in about half of
        them (then the mean over them stands in for "in or out").
    labels : int array of shape (n,)
    target_pop_logits, reference_pop_logits : arrays of shape (m, c) and (k, m, c)
        The same for m >= 1 population records (in no model's training set).
    pop_labels : int array of shape (m,)
    gamma : float, default 1.0
        Threshold on the pairwise likelihood ratio (> 0).

    Returns
    -------
    ndarray of shape (n,)
        Scores in [0, 1], higher = more likely a member.

    Examples
    --------
    Two classes, one reference model. Record 0: target 0.9, reference 0.5 (ratio 1.8); record 1:
    target 0.5, reference 0.5 (ratio 1). Population ratios: 0.9 / 0.9 = 1 and 0.5 / 0.25 = 2.

    >>> lg = np.log
    >>> target = lg([[0.9, 0.1], [0.5, 0.5]]); refs = lg([[[0.5, 0.5], [0.5, 0.5]]])
    >>> pop_t = lg([[0.9, 0.1], [0.5, 0.5]]); pop_r = lg([[[0.9, 0.1], [0.25, 0.75]]])
    >>> rmia_scores(target, refs, [0, 0], pop_t, pop_r, [0, 0]).tolist()  # 1.8/1, 1/1 pass
    [0.5, 0.5]
    >>> rmia_scores(target, refs, [0, 0], pop_t, pop_r, [0, 0], gamma=0.6).tolist()  # 1.8/2 too
    [1.0, 0.5]
    """
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
        raise ValueError(f"gamma must be a positive number, got {gamma!r}")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be a positive number, got {gamma!r}")
    x = _log_ratio(
        target_logits, reference_logits, labels, ("target_logits", "reference_logits", "labels")
    )
    z = _log_ratio(
        target_pop_logits,
        reference_pop_logits,
        pop_labels,
        ("target_pop_logits", "reference_pop_logits", "pop_labels"),
    )
    if np.shape(reference_logits)[0] != np.shape(reference_pop_logits)[0]:
        raise ValueError(
            "reference_logits and reference_pop_logits must come from the same k reference models, "
            f"got k={np.shape(reference_logits)[0]} and k={np.shape(reference_pop_logits)[0]}"
        )
    if np.shape(target_logits)[-1] != np.shape(target_pop_logits)[-1]:
        raise ValueError("target_logits and target_pop_logits must have the same number of classes")
    # LR(x, z) >= gamma  <=>  log ratio(z) <= log ratio(x) - log gamma; ratios equal up to
    # rounding (1e-9 in log space) count as a tie, and ties count as >=
    return np.searchsorted(np.sort(z), x - np.log(gamma) + 1e-9, side="right") / len(z)
