"""Reconstructing a deleted training row from the model before and after its deletion.

Bertran et al. (2024), "Reconstruction Attacks on Machine Unlearning: Simple Models are
Vulnerable". When one row ``(x, t)`` is removed from a ridge model (exactly, as retraining or
:func:`course_utils.unlearning.ridge_remove` would), the parameters move by

    theta_after - theta_before = c * H^-1 a,    a = [1, x],   c = r / (1 - a.T H^-1 a),

where ``H`` is the Hessian of the objective on the training set *before* the deletion and
``r = a.T theta_before - t`` is the row's residual. Multiplying the change by ``H`` therefore
gives the deleted row itself, scaled by ``c``; the leading 1 of ``a`` (the intercept column)
reveals the scale, and ``a.T theta_after - t = c`` (the leave-one-out residual) reveals the
target. An attacker who does not know ``H`` estimates it from public rows of the same
population (:func:`estimate_hessian`).

Conventions follow :mod:`course_utils.unlearning`: ``theta[0]`` is the intercept, the Hessian is
``Xa.T @ Xa + lam * diag(0, 1, ..., 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.unlearning import ridge_fit, ridge_hessian, ridge_remove
from course_utils.validation import RNGLike, as_rng, check_int, check_non_negative

__all__ = [
    "reconstruct_deleted",
    "estimate_hessian",
    "cosine_similarity",
    "noisy_release",
    "attack_every_deletion",
]


def _check_hessian(hessian: Any, dim: int) -> np.ndarray:
    H = np.asarray(hessian, dtype=float)
    if H.shape != (dim, dim):
        raise ValueError(f"hessian must have shape {(dim, dim)} to match theta, got {H.shape}")
    if not np.all(np.isfinite(H)):
        raise ValueError("hessian contains NaN or infinite values")
    if not np.allclose(H, H.T, rtol=1e-8, atol=1e-10 * max(1.0, float(np.abs(H).max()))):
        raise ValueError("hessian must be symmetric")
    if np.linalg.cond(H) > 1e12:
        raise ValueError(
            f"hessian is singular (condition number {np.linalg.cond(H):.1e}); a ridge Hessian "
            "needs lam > 0 or more rows than features"
        )
    return H


def reconstruct_deleted(
    theta_before: Any,
    theta_after: Any,
    hessian: Any,
    *,
    fit_intercept: bool = True,
) -> tuple[np.ndarray, float]:
    """Recover the deleted row ``(x, y)`` from ridge parameters before and after its deletion.

    Parameters
    ----------
    theta_before, theta_after : arrays of shape (d + 1,)
        Released ridge parameters (intercept first) before and after one row was removed.
    hessian : array of shape (d + 1, d + 1)
        Hessian of the ridge objective on the training set *before* the deletion: the true one
        (an "oracle" attacker) or an estimate from :func:`estimate_hessian`.
    fit_intercept : bool, default True
        Without an intercept the scale of the row is not identifiable: ``x_hat`` is then only
        the direction of ``x`` (up to sign and scale) and ``y_hat`` is NaN.

    Returns
    -------
    x_hat : ndarray of shape (d,)
        The reconstructed features (no intercept column).
    y_hat : float
        The reconstructed target.

    Raises
    ------
    ValueError
        Mismatched shapes, a singular or non-symmetric Hessian, or parameters that did not move.

    Examples
    --------
    >>> from course_utils.unlearning import ridge_fit, ridge_hessian, ridge_remove
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4)); y = X @ [1.0, 2.0, 0.0, -1.0] + rng.normal(size=50)
    >>> before = ridge_fit(X, y, lam=1.0)
    >>> after = ridge_remove(before, X, y, 7, lam=1.0)
    >>> x_hat, y_hat = reconstruct_deleted(before, after, ridge_hessian(X, lam=1.0))
    >>> bool(np.allclose(x_hat, X[7])), bool(np.isclose(y_hat, y[7]))
    (True, True)
    """
    before = np.asarray(theta_before, dtype=float)
    after = np.asarray(theta_after, dtype=float)
    if before.ndim != 1 or before.shape != after.shape:
        raise ValueError(
            f"theta_before and theta_after must be 1-d of equal length, got {before.shape} and {after.shape}"
        )
    if fit_intercept and len(before) < 2:
        raise ValueError("with fit_intercept=True theta needs an intercept and at least one weight")
    H = _check_hessian(hessian, len(before))
    delta = after - before
    scale = max(np.abs(before).max(), np.abs(after).max(), 1e-300)
    if np.abs(delta).max() <= 1e-14 * scale:
        raise ValueError(
            "theta_before and theta_after are equal: the deletion left no trace to invert"
        )
    v = H @ delta  # = c * [1, x]
    if not fit_intercept:
        return v, float("nan")
    c = v[0]
    if abs(c) <= 1e-12 * np.abs(v).max():
        raise ValueError(
            "the intercept entry of H @ (theta_after - theta_before) is zero; cannot fix the scale"
        )
    x_hat = v[1:] / c
    y_hat = float(after[0] + x_hat @ after[1:] - c)
    return x_hat, y_hat


def estimate_hessian(
    X_public: Any, *, lam: float, n_total: int, fit_intercept: bool = True
) -> np.ndarray:
    """Estimate the training-set ridge Hessian from public rows of the same population.

    ``Xa.T @ Xa`` is a sum over rows, so the public sum is rescaled by ``n_total / n_public``
    before the (known) penalty is added: ``n_total / n_public * P.T @ P + lam * D``.

    Parameters
    ----------
    X_public : array of shape (n_public, d)
        Rows the attacker can sample (not the training rows).
    lam : float
        The ridge penalty of the attacked model (>= 0).
    n_total : int
        Size of the training set before the deletion.
    fit_intercept : bool, default True

    Returns
    -------
    ndarray of shape (d + 1, d + 1)

    Examples
    --------
    >>> P = np.array([[1.0], [-1.0]])
    >>> estimate_hessian(P, lam=0.5, n_total=10).tolist()
    [[10.0, 0.0], [0.0, 10.5]]
    """
    n_total = check_int(n_total, "n_total", min_val=1)
    lam = check_non_negative(lam, "lam")
    X_public = np.asarray(X_public, dtype=float)
    if X_public.ndim != 2 or len(X_public) == 0:
        raise ValueError(f"X_public must be a non-empty 2-d array, got shape {X_public.shape}")
    H = ridge_hessian(X_public, lam=0.0, fit_intercept=fit_intercept) * (n_total / len(X_public))
    penalty = np.full(len(H), float(lam))
    if fit_intercept:
        penalty[0] = 0.0
    H[np.diag_indices_from(H)] += penalty
    return _check_hessian(H, H.shape[0])


def cosine_similarity(a: Any, b: Any) -> float | np.ndarray:
    """Cosine of the angle between ``a`` and ``b`` (1 = same direction, 0 = unrelated).

    Two 1-d vectors give a float; 2-d arrays are compared row by row (a 1-d argument is
    broadcast against the other's rows).

    Examples
    --------
    >>> cosine_similarity([1.0, 0.0], [2.0, 0.0])
    1.0
    >>> cosine_similarity([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]).round(3).tolist()
    [0.707, 0.707]
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"a and b must be vectors (or rows) of equal length, got shapes {a.shape} and {b.shape}"
        )
    if a.ndim == 2 and b.ndim == 2 and a.shape != b.shape:
        raise ValueError(f"row-wise comparison needs equal shapes, got {a.shape} and {b.shape}")
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("cosine similarity is undefined for a zero vector")
    cos = np.sum(a * b, axis=-1) / (na * nb)
    return float(cos) if np.ndim(cos) == 0 else cos


def noisy_release(theta: Any, *, sigma: float, rng: RNGLike) -> np.ndarray:
    """Output perturbation: release ``theta + N(0, sigma^2 I)`` instead of ``theta``.

    Examples
    --------
    >>> noisy_release([1.0, 2.0], sigma=0.0, rng=np.random.default_rng(0)).tolist()
    [1.0, 2.0]
    """
    sigma = check_non_negative(sigma, "sigma")
    rng = as_rng(rng)
    theta = np.asarray(theta, dtype=float)
    return theta + rng.normal(0.0, sigma, size=theta.shape)


def attack_every_deletion(
    X: Any,
    y: Any,
    *,
    lam: float,
    hessian: Any = None,
    sigma: float | np.ndarray = 0.0,
    rng: RNGLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Delete each training row in turn (from the same model) and reconstruct it.

    For every row ``i``: fit ridge on ``X, y``, remove row ``i`` exactly, release both
    parameter vectors (with independent Gaussian noise of standard deviation ``sigma`` when
    ``sigma > 0``) and run :func:`reconstruct_deleted`.

    Parameters
    ----------
    X, y : arrays of shape (n, d) and (n,)
        The private training set.
    lam : float
        Ridge penalty.
    hessian : array, optional
        The attacker's Hessian; default the true one (oracle attacker).
    sigma : float or array of shape (n,), default 0
        Output-perturbation noise per release; an array gives each deletion its own level.
    rng : numpy.random.Generator, int seed or None
        Source of the noise when any ``sigma > 0``.

    Returns
    -------
    X_hat : ndarray of shape (n, d)
    y_hat : ndarray of shape (n,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2)); y = X[:, 0] + rng.normal(size=20)
    >>> X_hat, y_hat = attack_every_deletion(X, y, lam=1.0)
    >>> bool(np.allclose(X_hat, X)), bool(np.allclose(y_hat, y))
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    theta = ridge_fit(X, y, lam=lam)
    H_true = ridge_hessian(X, lam=lam)
    H_attack = H_true if hessian is None else _check_hessian(hessian, len(theta))
    sigmas = np.broadcast_to(np.asarray(sigma, dtype=float), (len(X),))
    if np.any(sigmas < 0) or not np.all(np.isfinite(sigmas)):
        raise ValueError("sigma must be non-negative and finite")
    if np.any(sigmas > 0):
        rng = as_rng(rng)  # one stream for every release
    X_hat = np.empty_like(X)
    y_hat = np.empty(len(X))
    for i in range(len(X)):
        after = ridge_remove(theta, X, y, i, lam=lam, hessian=H_true)
        before_out, after_out = theta, after
        if sigmas[i] > 0:
            before_out = noisy_release(theta, sigma=sigmas[i], rng=rng)
            after_out = noisy_release(after, sigma=sigmas[i], rng=rng)
        X_hat[i], y_hat[i] = reconstruct_deleted(before_out, after_out, H_attack)
    return X_hat, y_hat
