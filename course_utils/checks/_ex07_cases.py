"""Plain-numpy reference computations of the exercise-set-07 checks: ridge and logistic fits,
the closed-form removal, a deletion to reconstruct, and the cosines of the reconstruction attack
under noise on the two releases.

Private to :mod:`course_utils.checks.ex07_unlearning` (kept apart so that each module stays
short) and :mod:`course_utils.checks.ex07_challenge` (the ridge fits); independent of
:mod:`course_utils.unlearning` and :mod:`course_utils.attacks`.
"""

from __future__ import annotations

import numpy as np


def _aug(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def _pen(dim: int, lam: float) -> np.ndarray:
    return lam * np.diag(np.r_[0.0, np.ones(dim - 1)])


def _ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    A = _aug(X)
    return np.linalg.solve(A.T @ A + _pen(A.shape[1], lam), A.T @ y)


def _ridge_penalised_intercept(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The usual slip: ``lam * I`` also shrinks the intercept (the task leaves it unpenalised)."""
    A = _aug(X)
    return np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y)


def _ridge_problem(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = 2.0 + X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    return X, y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logistic(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    A = _aug(X)
    P = _pen(A.shape[1], lam)
    theta = np.zeros(A.shape[1])
    for _ in range(50):
        p = _sigmoid(A @ theta)
        g = A.T @ (p - y) + P @ theta
        H = (A * (p * (1 - p))[:, None]).T @ A + P
        theta = theta - np.linalg.solve(H, g)
        if np.abs(g).max() < 1e-12:
            break
    return theta


def _logistic_problem(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    return X, y


def _close(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    return bool(np.max(np.abs(a - b)) <= tol * max(1.0, float(np.max(np.abs(b)))))


def _fmt(v: np.ndarray) -> str:
    return np.array2string(np.asarray(v), precision=4, suppress_small=True, max_line_width=200)


def _closed_form(
    theta: np.ndarray, X: np.ndarray, y: np.ndarray, i: int, P: np.ndarray
) -> np.ndarray:
    """theta + (H - a a^T)^-1 a r with H = Xa^T Xa + P: the task's update (exact at the fit)."""
    A = _aug(X)
    a = A[i]
    return theta + np.linalg.solve(A.T @ A + P - np.outer(a, a), a) * (a @ theta - y[i])


def _deletion(seed: int, n: int, d: int, lam: float, i: int):
    X, y = _ridge_problem(seed, n, d)
    before = _ridge(X, y, lam)
    after = _ridge(np.delete(X, i, 0), np.delete(y, i), lam)
    A = _aug(X)
    H = A.T @ A + _pen(d + 1, lam)
    return X, y, before, after, H


def _noisy_cosines(
    before, after, H, x_true, sigma: float, n: int, seed: int, *, sd_before: float | None = None
) -> np.ndarray:
    """Cosines of the task's attack under independent noise on the two releases (our simulation):
    standard deviation ``sigma`` on ``after`` and ``sd_before`` (default ``sigma``) on ``before``."""
    rng = np.random.default_rng(seed)
    sd_before = sigma if sd_before is None else sd_before
    noise_after = rng.normal(0.0, 1.0, (n, after.size)) * sigma
    noise_before = rng.normal(0.0, 1.0, (n, before.size)) * sd_before
    v = (after + noise_after - before - noise_before) @ H.T
    x_hat = v[:, 1:] / v[:, :1]
    return (x_hat @ x_true) / (np.linalg.norm(x_hat, axis=1) * np.linalg.norm(x_true))


def _reconstruction_slips(before, after, H) -> dict[str, np.ndarray]:
    """x_hat of the usual mistakes of exercise 7.3 on one deletion (as 7.4 sees them, up to scale)."""
    v = H @ (after - before)
    u = np.linalg.solve(H, after - before)
    return {"solve": u[1:] / u[0], "last entry": v[:-1] / v[-1], "first entry": v[:-1] / v[0]}
