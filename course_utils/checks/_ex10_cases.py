"""Plain numpy / scipy helpers behind the checks of exercise set 10 (the capstone audit).

Kept apart from :mod:`course_utils.checks.ex10_audit` (the checks themselves) so each file stays
short; independent of :mod:`course_utils.privacy.audit`, whose functions the learner re-implements.
The leading underscore keeps the checks' auto-discovery from importing it as a set.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def _cp_low(k: int, n: int, level: float) -> float:
    """One-sided Clopper-Pearson lower bound at ``level``."""
    return 0.0 if k == 0 else float(stats.beta.ppf(1 - level, k, n - k + 1))


def _cp_high(k: int, n: int, level: float) -> float:
    return 1.0 if k == n else float(stats.beta.ppf(level, k + 1, n - k))


def _bound(
    tp: int, fp: int, P: int, N: int, delta: float, confidence: float, mistake: str = ""
) -> float:
    """The two-direction epsilon lower bound, or the value a typical ``mistake`` gives."""
    level = 1 - (1 - confidence) / 2
    if mistake == "no_split":
        level = confidence
    elif mistake == "reversed":
        level = 1 - confidence / 2
    d = 0.0 if mistake == "no_delta" else delta
    log = {"log10": math.log10, "log2": math.log2}.get(mistake, math.log)

    def one(k_pos: int, n_pos: int, k_neg: int, n_neg: int) -> float:
        if mistake == "point":
            num, den = k_pos / n_pos - d, k_neg / n_neg
        else:
            num, den = _cp_low(k_pos, n_pos, level) - d, _cp_high(k_neg, n_neg, level)
        if num <= 0:
            return 0.0
        return math.inf if den == 0 else log(num / den)

    first = one(tp, P, fp, N)
    if mistake == "one_direction":
        return max(0.0, first)
    return max(0.0, first, one(N - fp, N, P - tp, P))


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _log_p_true(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return np.take_along_axis(
        log_p, np.broadcast_to(labels, logits.shape[:-1])[..., None], axis=-1
    )[..., 0]


def _exact_robust(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, eps: float
) -> np.ndarray:
    """Exact L-inf robustness (box [0, 1]) of a linear classifier, per example."""
    lo, hi = np.clip(X - eps, 0, 1), np.clip(X + eps, 0, 1)
    A = W[y][:, None, :] - W[None, :, :]
    worst = np.minimum(A * lo[:, None], A * hi[:, None]).sum(-1) + (b[y][:, None] - b[None, :])
    worst[np.arange(len(y)), y] = np.inf
    return worst.min(axis=1) > 0
