"""Argument checks shared by the unlearning modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..validation import check_matrix, check_non_negative


def _as_X(X: Any, name: str = "X") -> np.ndarray:
    return check_matrix(X, name)


def _as_Xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = _as_X(X)
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"y must be 1-d with one entry per row of X ({len(X)}), got shape {y.shape}"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values")
    return X, y


def _check_lam(lam: Any) -> float:
    return check_non_negative(lam, "lam")


def _check_theta(theta: Any, n_features: int, fit_intercept: bool) -> np.ndarray:
    theta = np.asarray(theta, dtype=float)
    want = n_features + int(fit_intercept)
    if theta.shape != (want,):
        raise ValueError(
            f"theta must have shape ({want},) for {n_features} features"
            f"{' plus an intercept' if fit_intercept else ''}, got {theta.shape}"
        )
    return theta


def _check_index(index: Any, n: int) -> np.ndarray:
    idx = np.atleast_1d(np.asarray(index))
    if idx.size == 0 or idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"index must be an int or a non-empty 1-d sequence of ints, got {index!r}")
    if idx.min() < -n or idx.max() >= n:
        raise ValueError(f"index out of range for {n} training rows: {index!r}")
    idx = np.unique(idx % n)
    if len(idx) >= n:
        raise ValueError("index would remove every training row; nothing would be left to fit")
    return idx
