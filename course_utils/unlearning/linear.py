"""Exact and approximate deletion for linear models: ridge regression (one Newton step is exact)
and L2-regularised logistic regression (one Newton step is the influence-function
approximation). Conventions in :mod:`course_utils.unlearning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import check_int, check_positive
from ._checks import _as_X, _as_Xy, _check_index, _check_lam, _check_theta

__all__ = [
    "add_intercept",
    "ridge_fit",
    "ridge_hessian",
    "ridge_remove",
    "logistic_fit",
    "logistic_hessian",
    "logistic_predict_proba",
    "logistic_losses",
    "newton_remove_logistic",
]


def _penalty(dim: int, lam: float, fit_intercept: bool) -> np.ndarray:
    diag = np.full(dim, lam)
    if fit_intercept:
        diag[0] = 0.0
    return np.diag(diag)


def _solve(H: np.ndarray, b: np.ndarray, what: str) -> np.ndarray:
    """Solve ``H x = b`` for a symmetric positive-definite ``H`` (Cholesky), or explain why not."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    try:
        factor = cho_factor(H)
    except LinAlgError:
        factor = None
    # Cholesky succeeds on matrices that are singular up to round-off and then returns
    # garbage; the squared ratio of its diagonal entries is a cheap lower bound on cond(H).
    diag = np.abs(np.diag(factor[0])) if factor is not None else np.zeros(1)
    if factor is None or (diag.min() / diag.max()) ** 2 < 1e-13:
        raise ValueError(
            f"the {what} Hessian is singular (not positive definite); "
            "use lam > 0 or more rows than features"
        )
    return cho_solve(factor, b)


def add_intercept(X: Any) -> np.ndarray:
    """The design matrix ``Xa = [1, X]``: a column of ones in front of ``X``.

    Examples
    --------
    >>> add_intercept([[2.0], [3.0]]).tolist()
    [[1.0, 2.0], [1.0, 3.0]]
    """
    X = _as_X(X)
    return np.column_stack([np.ones(len(X)), X])


def ridge_hessian(X: Any, *, lam: float, fit_intercept: bool = True) -> np.ndarray:
    """Hessian of the ridge objective: ``Xa.T @ Xa + lam * diag(0, 1, ..., 1)``.

    (Half the true second derivative of "sum of squared errors + lam ||w||^2"; the factor 2
    cancels in every formula that uses it.)

    Parameters
    ----------
    X : array of shape (n, d)
    lam : float
        Penalty on the weights, >= 0.
    fit_intercept : bool, default True
        Prepend the column of ones (whose coefficient is not penalised).

    Returns
    -------
    ndarray of shape (d + 1, d + 1), or (d, d) without intercept

    Examples
    --------
    >>> ridge_hessian([[1.0], [3.0]], lam=0.5).tolist()
    [[2.0, 4.0], [4.0, 10.5]]
    """
    X = _as_X(X)
    lam = _check_lam(lam)
    A = add_intercept(X) if fit_intercept else X
    return A.T @ A + _penalty(A.shape[1], lam, fit_intercept)


def ridge_fit(X: Any, y: Any, *, lam: float, fit_intercept: bool = True) -> np.ndarray:
    """Ridge regression in closed form: ``theta = H^-1 Xa.T y``.

    Minimises ``sum_i (y_i - theta . xa_i)^2 + lam * ||w||^2`` with the intercept ``theta[0]``
    unpenalised (when ``fit_intercept``).

    Parameters
    ----------
    X : array of shape (n, d)
    y : array of shape (n,)
    lam : float
        Penalty on the weights, >= 0 (0 is ordinary least squares and needs n > d).
    fit_intercept : bool, default True

    Returns
    -------
    theta : ndarray of shape (d + 1,), intercept first (or (d,) without intercept)

    Raises
    ------
    ValueError
        Bad shapes, negative ``lam``, or a singular Hessian.

    Examples
    --------
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = 1.0 + 2.0 * X[:, 0]
    >>> np.round(ridge_fit(X, y, lam=0.0), 6).tolist()
    [1.0, 2.0]
    >>> from sklearn.linear_model import Ridge      # same objective as scikit-learn's Ridge
    >>> m = Ridge(alpha=3.0).fit(X, y)
    >>> bool(np.allclose(ridge_fit(X, y, lam=3.0), [m.intercept_, *m.coef_]))
    True
    """
    X, y = _as_Xy(X, y)
    H = ridge_hessian(X, lam=lam, fit_intercept=fit_intercept)
    A = add_intercept(X) if fit_intercept else X
    return _solve(H, A.T @ y, "ridge")


def ridge_remove(
    theta: Any,
    X: Any,
    y: Any,
    index: int | Sequence[int],
    *,
    lam: float,
    fit_intercept: bool = True,
    hessian: Any = None,
) -> np.ndarray:
    """Remove training rows from a ridge model exactly, without refitting.

    One Newton step on the objective *without* the rows, started at ``theta``. The objective is
    quadratic, so the step lands exactly on the refitted parameters:
    ``theta_after = theta + (H - A_S.T A_S)^-1 A_S.T r_S``, with ``A_S`` the removed rows of
    ``Xa`` and ``r_S = A_S theta - y_S`` their residuals. For one row ``a`` this is
    Sherman-Morrison: ``theta + r * H^-1 a / (1 - a.T H^-1 a)``.

    Parameters
    ----------
    theta : array of shape (d + 1,)
        Ridge parameters fitted on all of ``X, y`` (:func:`ridge_fit`).
    X, y : arrays of shape (n, d) and (n,)
        The training set *before* the deletion.
    index : int or sequence of int
        Row(s) of ``X`` to forget.
    lam : float
        The penalty ``theta`` was fitted with.
    fit_intercept : bool, default True
    hessian : array of shape (d + 1, d + 1), optional
        ``ridge_hessian(X, lam=lam)`` if already computed (saves O(n d^2) per call).

    Returns
    -------
    theta_after : ndarray, equal to ``ridge_fit`` on the remaining rows (up to round-off).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3)); y = X @ [1.0, -2.0, 0.5] + rng.normal(size=30)
    >>> theta = ridge_fit(X, y, lam=1.0)
    >>> after = ridge_remove(theta, X, y, 4, lam=1.0)
    >>> refit = ridge_fit(np.delete(X, 4, axis=0), np.delete(y, 4), lam=1.0)
    >>> bool(np.allclose(after, refit, atol=1e-10))
    True
    """
    X, y = _as_Xy(X, y)
    lam = _check_lam(lam)
    theta = _check_theta(theta, X.shape[1], fit_intercept)
    idx = _check_index(index, len(X))
    if hessian is None:
        H = ridge_hessian(X, lam=lam, fit_intercept=fit_intercept)
    else:
        H = np.asarray(hessian, dtype=float)
        if H.shape != (len(theta), len(theta)):
            raise ValueError(f"hessian must have shape {(len(theta), len(theta))}, got {H.shape}")
    A_S = add_intercept(X[idx]) if fit_intercept else X[idx]
    residual = A_S @ theta - y[idx]
    H_after = H - A_S.T @ A_S
    return theta + _solve(H_after, A_S.T @ residual, "remaining ridge")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def _binary_labels(y: Any, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"y must be 1-d with one label per row of X ({n}), got shape {y.shape}")
    if np.all(np.isin(y, (-1, 1))) and np.any(y == -1):
        y = y == 1  # -1/+1 labels: -1 is the negative class
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError(
            f"y must hold binary labels 0/1 (or -1/+1), got values {np.unique(y)[:5].tolist()}"
        )
    return y.astype(float)


def logistic_predict_proba(theta: Any, X: Any, *, fit_intercept: bool = True) -> np.ndarray:
    """P(y = 1 | x) under logistic parameters ``theta`` (intercept first).

    Examples
    --------
    >>> logistic_predict_proba([0.0, 1.0], [[0.0], [100.0]]).tolist()
    [0.5, 1.0]
    """
    X = _as_X(X)
    theta = _check_theta(theta, X.shape[1], fit_intercept)
    A = add_intercept(X) if fit_intercept else X
    return _sigmoid(A @ theta)


def logistic_losses(theta: Any, X: Any, y: Any, *, fit_intercept: bool = True) -> np.ndarray:
    """Per-example log-loss (cross-entropy, natural log) of logistic parameters ``theta``.

    Examples
    --------
    >>> np.round(logistic_losses([0.0, 0.0], [[1.0], [2.0]], [0, 1]), 4).tolist()
    [0.6931, 0.6931]
    """
    X = _as_X(X)
    y = _binary_labels(y, len(X))
    theta = _check_theta(theta, X.shape[1], fit_intercept)
    z = (add_intercept(X) if fit_intercept else X) @ theta
    # log(1 + e^z) - y z, written to avoid overflow
    return np.logaddexp(0.0, z) - y * z


def logistic_hessian(theta: Any, X: Any, *, lam: float, fit_intercept: bool = True) -> np.ndarray:
    """Hessian of the logistic objective at ``theta``: ``Xa.T diag(p(1-p)) Xa + lam D``.

    Examples
    --------
    >>> logistic_hessian([0.0, 0.0], [[1.0], [-1.0]], lam=1.0).tolist()
    [[0.5, 0.0], [0.0, 1.5]]
    """
    X = _as_X(X)
    lam = _check_lam(lam)
    theta = _check_theta(theta, X.shape[1], fit_intercept)
    A = add_intercept(X) if fit_intercept else X
    p = _sigmoid(A @ theta)
    return (A * (p * (1 - p))[:, None]).T @ A + _penalty(A.shape[1], lam, fit_intercept)


def _logistic_grad(
    theta: np.ndarray, A: np.ndarray, y: np.ndarray, lam: float, fit_intercept: bool
) -> np.ndarray:
    g = A.T @ (_sigmoid(A @ theta) - y)
    return g + _penalty(A.shape[1], lam, fit_intercept) @ theta


def logistic_fit(
    X: Any,
    y: Any,
    *,
    lam: float,
    fit_intercept: bool = True,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (exact to ``tol``).

    Minimises ``sum_i logloss_i + lam / 2 * ||w||^2`` (intercept unpenalised), the same
    objective as scikit-learn's ``LogisticRegression(C=1 / lam)``.

    Parameters
    ----------
    X : array of shape (n, d)
    y : array of shape (n,) with labels 0/1
    lam : float
        > 0 keeps the problem strictly convex even for separable data.
    fit_intercept : bool, default True
    max_iter : int, default 100
    tol : float, default 1e-10
        Stop when the gradient's largest entry is below ``tol``.

    Returns
    -------
    theta : ndarray of shape (d + 1,), intercept first

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 2)); y = (X[:, 0] + rng.normal(size=80) > 0).astype(int)
    >>> theta = logistic_fit(X, y, lam=2.0)
    >>> m = LogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    >>> bool(np.allclose(theta, [*m.intercept_, *m.coef_[0]], atol=1e-5))
    True
    """
    X = _as_X(X)
    y = _binary_labels(y, len(X))
    lam = _check_lam(lam)
    max_iter = check_int(max_iter, "max_iter", min_val=1)
    tol = check_positive(tol, "tol")
    A = add_intercept(X) if fit_intercept else X
    theta = np.zeros(A.shape[1])
    for _ in range(max_iter):
        g = _logistic_grad(theta, A, y, lam, fit_intercept)
        if np.max(np.abs(g)) < tol:
            break
        H = logistic_hessian(theta, X, lam=lam, fit_intercept=fit_intercept)
        step = _solve(H, g, "logistic")
        # damped Newton: halve the step until the objective does not increase
        obj = _logistic_objective(theta, A, y, lam, fit_intercept)
        t = 1.0
        while (
            t > 1e-8
            and _logistic_objective(theta - t * step, A, y, lam, fit_intercept) > obj + 1e-12
        ):
            t /= 2
        theta = theta - t * step
    return theta


def _logistic_objective(
    theta: np.ndarray, A: np.ndarray, y: np.ndarray, lam: float, fit_intercept: bool
) -> float:
    z = A @ theta
    w = theta[1:] if fit_intercept else theta
    return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * w @ w)


def newton_remove_logistic(
    theta: Any,
    X: Any,
    y: Any,
    index: int | Sequence[int],
    *,
    lam: float,
    fit_intercept: bool = True,
) -> np.ndarray:
    """Approximately remove rows from a logistic model with one Newton step.

    Starting at ``theta`` (fitted on all rows), take one Newton step on the objective of the
    *remaining* rows: ``theta - H_rest(theta)^-1 grad_rest(theta)``. At the optimum the full
    gradient is zero, so ``grad_rest = -(gradient of the removed rows)``: the step adds back the
    removed rows' pull, measured through the curvature of what is left. The loss is not
    quadratic, so this lands *near*, not on, the retrained parameters (the influence-function
    approximation).

    Parameters
    ----------
    theta : array of shape (d + 1,)
        Parameters fitted on all of ``X, y`` (e.g. :func:`logistic_fit`).
    X, y : arrays of shape (n, d) and (n,), labels 0/1
        The training set *before* the deletion.
    index : int or sequence of int
        Row(s) to forget.
    lam : float
        The penalty ``theta`` was fitted with.
    fit_intercept : bool, default True

    Returns
    -------
    theta_after : ndarray of the same shape as ``theta``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    >>> theta = logistic_fit(X, y, lam=1.0)
    >>> retrain = logistic_fit(np.delete(X, [0, 1], axis=0), np.delete(y, [0, 1]), lam=1.0)
    >>> newton = newton_remove_logistic(theta, X, y, [0, 1], lam=1.0)
    >>> bool(np.linalg.norm(newton - retrain) < 0.05 * np.linalg.norm(theta - retrain))
    True
    """
    X = _as_X(X)
    y = _binary_labels(y, len(X))
    lam = _check_lam(lam)
    theta = _check_theta(theta, X.shape[1], fit_intercept)
    idx = _check_index(index, len(X))
    keep = np.ones(len(X), dtype=bool)
    keep[idx] = False
    A_rest = (add_intercept(X) if fit_intercept else X)[keep]
    grad = _logistic_grad(theta, A_rest, y[keep], lam, fit_intercept)
    H = logistic_hessian(theta, X[keep], lam=lam, fit_intercept=fit_intercept)
    return theta - _solve(H, grad, "remaining logistic")
