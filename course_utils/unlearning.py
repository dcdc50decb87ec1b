"""Machine unlearning: make a model forget training rows.

Three ways to honour a deletion request, from exact to approximate:

* **Retrain** without the rows (the gold standard every other method is measured against).
* **SISA** (Bourtoule et al., 2021): train one model per disjoint *shard*, optionally in *slices*
  with checkpoints, and aggregate their votes; a deletion retrains only the shard that held the
  row, from the last checkpoint before it (:func:`sisa_train`, :func:`sisa_remove`).
* **Closed-form / Newton removal**: for ridge regression one Newton step on the objective without
  the row lands exactly on the retrained parameters (:func:`ridge_remove`); for logistic
  regression the same step is an approximation (:func:`newton_remove_logistic`).

Conventions shared with :mod:`course_utils.attacks.reconstruction`:

* Parameters are one vector ``theta``. With ``fit_intercept=True``, ``theta[0]`` is the
  intercept and ``theta[1:]`` the weights; the design matrix is ``Xa = [1, X]``.
* Ridge minimises the *sum* of squared errors plus ``lam * ||w||^2`` (the intercept is not
  penalised). Its Hessian, up to the constant factor 2 that cancels everywhere, is
  ``Xa.T @ Xa + lam * diag(0, 1, ..., 1)`` (:func:`ridge_hessian`).
* Logistic regression (labels 0/1; -1/+1 are accepted too) minimises the *sum* of log-losses plus
  ``lam / 2 * ||w||^2``, so its Hessian ``Xa.T @ diag(p(1-p)) @ Xa + lam * diag(0, 1, ..., 1)``
  has the same regulariser term as ridge's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    "SISAModel",
    "sisa_train",
    "sisa_remove",
]


# --------------------------------------------------------------------------- validation helpers
def _as_X(X: Any, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-d array (n_samples, n_features), got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


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
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise ValueError(f"lam must be a non-negative number, got {lam!r}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a non-negative number, got {lam!r}")
    return float(lam)


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


# --------------------------------------------------------------------------- ridge regression
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


# --------------------------------------------------------------------------- logistic regression
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
    if max_iter <= 0 or tol <= 0:
        raise ValueError(f"max_iter and tol must be positive, got {max_iter} and {tol}")
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


# --------------------------------------------------------------------------- SISA
@dataclass
class SISAModel:
    """An ensemble trained with SISA: one estimator per shard, probabilities averaged.

    Build it with :func:`sisa_train`; forget rows with :func:`sisa_remove`.

    Attributes
    ----------
    estimators : list
        One fitted scikit-learn estimator per shard.
    slices : list of list of ndarray
        ``slices[s][k]``: row indices (into the original training set) of slice ``k`` of shard
        ``s``. Removed rows disappear from their slice; the boundaries never move.
    checkpoints : list of list
        ``checkpoints[s][k]`` is shard ``s``'s estimator after training on slices ``0..k``
        (kept only when there is more than one slice).
    X, y : ndarrays
        The training set (needed to retrain a shard).
    template : estimator
        The unfitted estimator cloned for every shard.
    classes_ : ndarray
        All class labels seen in training.
    removed : set of int
        Original row indices forgotten so far.
    rows_trained : int
        Cost of the last training or removal: rows passed to ``fit``, summed over every fit
        (a row in slice 0 of a 3-slice shard counts 3 times).
    """

    estimators: list
    slices: list
    checkpoints: list
    X: np.ndarray
    y: np.ndarray
    template: Any
    classes_: np.ndarray
    removed: set = field(default_factory=set)
    rows_trained: int = 0

    @property
    def n_shards(self) -> int:
        return len(self.slices)

    @property
    def n_slices(self) -> int:
        return len(self.slices[0])

    @property
    def shards(self) -> list[np.ndarray]:
        """Row indices of each shard (its slices concatenated)."""
        return [np.concatenate(sl) for sl in self.slices]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Average of the shard models' class probabilities (columns follow ``classes_``)."""
        X = _as_X(X)
        total = np.zeros((len(X), len(self.classes_)))
        for est in self.estimators:
            cols = np.searchsorted(self.classes_, est.classes_)
            total[:, cols] += est.predict_proba(X)
        return total / len(self.estimators)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest averaged probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``(X, y)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def _default_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=500)


def _train_shard(
    template: Any, X: np.ndarray, y: np.ndarray, slices: list[np.ndarray], start: int, base: Any
) -> tuple[Any, list, int]:
    """Fit on cumulative slices ``start, start + 1, ...`` (warm-started from ``base`` if given).

    Returns the estimator, the checkpoints taken after each of those slices, and the rows fitted.
    """
    from sklearn.base import clone

    sliced = len(slices) > 1
    est = copy.deepcopy(base) if base is not None else clone(template)
    saved, rows = [], 0
    for k in range(start, len(slices)):
        seen = np.concatenate(slices[: k + 1])
        classes = np.unique(y[seen])
        if len(classes) < 2:
            raise ValueError(
                "a shard's first slices hold fewer than two classes; use fewer shards or slices"
            )
        if sliced:
            # Warm-start from the previous slice's solution, unless a class appears for the
            # first time (scikit-learn cannot grow a fitted coefficient matrix): then refit.
            known = getattr(est, "classes_", None)
            same = known is not None and np.array_equal(known, classes)
            if not same:
                est = clone(template)
            est.set_params(warm_start=True)
        est.fit(X[seen], y[seen])
        rows += len(seen)
        if sliced:
            saved.append(copy.deepcopy(est))
    return est, saved, rows


def sisa_train(
    X: Any,
    y: Any,
    *,
    n_shards: int,
    n_slices: int = 1,
    estimator: Any = None,
    seed: int = 0,
) -> SISAModel:
    """Sharded, Isolated, Sliced, Aggregated training (Bourtoule et al., 2021).

    The rows are shuffled and split into ``n_shards`` disjoint shards; each shard trains its own
    copy of ``estimator`` in isolation. With ``n_slices > 1`` a shard is trained incrementally:
    on slice 0, then (warm-started) on slices 0-1, and so on, saving a checkpoint after each, so
    a later deletion can restart from the last checkpoint that never saw the row.

    Parameters
    ----------
    X, y : arrays of shape (n, d) and (n,)
    n_shards : int
        Number of disjoint shards, 1 <= n_shards <= n.
    n_slices : int, default 1
        Slices per shard; > 1 needs an estimator with a ``warm_start`` parameter.
    estimator : scikit-learn classifier, optional
        Template cloned for each shard; default ``LogisticRegression(max_iter=500)``.
    seed : int, default 0
        Seeds the assignment of rows to shards.

    Returns
    -------
    SISAModel

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = sisa_train(X, y, n_shards=3)
    >>> [len(s) for s in model.shards], model.rows_trained, model.score(X, y) > 0.9
    ([50, 50, 50], 150, True)
    >>> sisa_train(X, y, n_shards=2, n_slices=3).rows_trained   # 25 + 50 + 75 rows per shard
    300
    """
    X = _as_X(X)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"y must be 1-d with one label per row of X ({len(X)}), got shape {y.shape}"
        )
    for name, value in (("n_shards", n_shards), ("n_slices", n_slices)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if n_shards * n_slices > len(X):
        raise ValueError(f"n_shards * n_slices = {n_shards * n_slices} exceeds the {len(X)} rows")
    template = _default_estimator() if estimator is None else estimator
    if n_slices > 1 and "warm_start" not in template.get_params():
        raise ValueError(
            f"n_slices > 1 needs an estimator with a warm_start parameter, got {template!r}"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    slices = [np.array_split(shard, n_slices) for shard in np.array_split(order, n_shards)]
    estimators, checkpoints, rows = [], [], 0
    for shard_slices in slices:
        est, saved, r = _train_shard(template, X, y, shard_slices, 0, None)
        estimators.append(est)
        checkpoints.append(saved)
        rows += r
    return SISAModel(estimators, slices, checkpoints, X, y, template, np.unique(y), set(), rows)


def sisa_remove(model: SISAModel, index: int | Sequence[int]) -> SISAModel:
    """Forget rows of a :class:`SISAModel` exactly: retrain only the shards that held them.

    Each affected shard restarts from its checkpoint taken *before* the earliest slice holding a
    removed row (from scratch if that is slice 0) and refits the later slices without the rows.
    No estimator that ever saw a removed row survives, so the result is a model trained as if
    the rows had never been there. ``model`` itself is left unchanged.

    Parameters
    ----------
    model : SISAModel
    index : int or sequence of int
        Row indices into the *original* training set.

    Returns
    -------
    SISAModel
        The updated copy; its ``rows_trained`` is the cost of this removal.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = sisa_train(X, y, n_shards=5)
    >>> after = sisa_remove(model, 7)          # one shard of 30 rows refits on 29
    >>> after.rows_trained, sorted(after.removed), model.removed
    (29, [7], set())
    """
    if not isinstance(model, SISAModel):
        raise ValueError(f"model must be a SISAModel from sisa_train, got {type(model).__name__}")
    raw = np.atleast_1d(np.asarray(index))
    if raw.size == 0 or raw.ndim != 1 or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"index must be an int or a non-empty sequence of ints, got {index!r}")
    idx = {int(i) for i in raw}
    bad = sorted(i for i in idx if not 0 <= i < len(model.X))
    if bad:
        raise ValueError(f"index out of range for {len(model.X)} training rows: {bad}")
    gone = idx & model.removed
    if gone:
        raise ValueError(f"rows {sorted(gone)} were already removed")
    drop = np.array(sorted(idx))
    new = copy.copy(model)
    new.estimators = list(model.estimators)
    new.checkpoints = [list(c) for c in model.checkpoints]
    new.slices = [list(sl) for sl in model.slices]
    new.removed = model.removed | idx
    rows = 0
    for s, shard_slices in enumerate(model.slices):
        hits = [k for k, sl in enumerate(shard_slices) if np.isin(sl, drop).any()]
        if not hits:
            continue
        first = hits[0]
        kept = [sl[~np.isin(sl, drop)] for sl in shard_slices]
        base = model.checkpoints[s][first - 1] if first > 0 else None
        est, saved, r = _train_shard(model.template, model.X, model.y, kept, first, base)
        new.estimators[s] = est
        new.slices[s] = kept
        if model.n_slices > 1:
            new.checkpoints[s] = model.checkpoints[s][:first] + saved
        rows += r
    new.rows_trained = rows
    return new
