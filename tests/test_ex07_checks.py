"""Exercise set 07: each check passes a correct answer (written two ways where it matters) and
fails the typical mistake with a hint aimed at it."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import get_question, run_check
from tests.check_support import fails_with, passes


def _aug(X):
    return np.column_stack([np.ones(len(X)), X])


def _D(d):
    return np.diag(np.r_[0.0, np.ones(d)])


# ---------------------------------------------------------------- 7.1
def remove_sherman_morrison(theta, X, y, index, lam):
    Xa = _aug(X)
    H = Xa.T @ Xa + lam * _D(X.shape[1])
    a = Xa[index]
    Hinv_a = np.linalg.solve(H, a)
    return theta + (a @ theta - y[index]) * Hinv_a / (1 - a @ Hinv_a)


def remove_by_refit(theta, X, y, index, lam):  # correct, written differently
    Xa = np.delete(_aug(X), index, 0)
    return np.linalg.solve(Xa.T @ Xa + lam * _D(X.shape[1]), Xa.T @ np.delete(y, index))


def remove_without_downdate(theta, X, y, index, lam):  # typical mistake: H instead of H - a a^T
    Xa = _aug(X)
    H = Xa.T @ Xa + lam * _D(X.shape[1])
    a = Xa[index]
    return theta + (a @ theta - y[index]) * np.linalg.solve(H, a)


def remove_in_place(theta, X, y, index, lam):  # right numbers, but mutates theta
    theta += remove_sherman_morrison(theta, X, y, index, lam) - theta
    return theta


def test_7_1_passes_reference_and_refit():
    passes("7.1", remove_sherman_morrison)
    passes("7.1", remove_by_refit)


def test_7_1_typical_mistakes_get_hints():
    fails_with("7.1", remove_without_downdate, "1 - a^T H^-1 a")
    fails_with("7.1", lambda theta, X, y, index, lam: theta, "unchanged")
    fails_with("7.1", remove_in_place, "copies")
    fails_with("7.1", lambda theta, X, y, index, lam: theta[1:], "intercept first")


# ---------------------------------------------------------------- 7.2
def newton_reference(theta, X, y, index, lam):
    keep = np.arange(len(X)) != index
    Xa = _aug(X)[keep]
    p = 1 / (1 + np.exp(-(Xa @ theta)))
    g = Xa.T @ (p - y[keep]) + lam * _D(X.shape[1]) @ theta
    Hs = Xa.T @ np.diag(p * (1 - p)) @ Xa + lam * _D(X.shape[1])
    return theta - np.linalg.solve(Hs, g)


def newton_full_hessian(theta, X, y, index, lam):  # mistake: Hessian of all rows
    keep = np.arange(len(X)) != index
    Xa = _aug(X)
    p = 1 / (1 + np.exp(-(Xa @ theta)))
    g = Xa[keep].T @ (p[keep] - y[keep]) + lam * _D(X.shape[1]) @ theta
    Hs = Xa.T @ np.diag(p * (1 - p)) @ Xa + lam * _D(X.shape[1])
    return theta - np.linalg.solve(Hs, g)


def newton_full_gradient(theta, X, y, index, lam):  # mistake: gradient of all rows (~0)
    Xa = _aug(X)
    p = 1 / (1 + np.exp(-(Xa @ theta)))
    g = Xa.T @ (p - y) + lam * _D(X.shape[1]) @ theta
    keep = np.arange(len(X)) != index
    Hs = Xa[keep].T @ np.diag((p * (1 - p))[keep]) @ Xa[keep] + lam * _D(X.shape[1])
    return theta - np.linalg.solve(Hs, g)


def test_7_2_passes_reference():
    passes("7.2", newton_reference)


def test_7_2_typical_mistakes_get_hints():
    fails_with("7.2", newton_full_hessian, "remaining rows")
    fails_with("7.2", newton_full_gradient, "WITHOUT the row")
    fails_with(
        "7.2",
        lambda theta, X, y, index, lam: 2 * theta - newton_reference(theta, X, y, index, lam),
        "Sign error",
    )


# ---------------------------------------------------------------- 7.3
def reconstruct_reference(theta_before, theta_after, hessian):
    v = hessian @ (theta_after - theta_before)
    x_hat = v[1:] / v[0]
    return x_hat, float(theta_after @ np.r_[1.0, x_hat] - v[0])


def reconstruct_with_inverse(theta_before, theta_after, hessian):  # mistake: H^-1 delta
    v = np.linalg.solve(hessian, theta_after - theta_before)
    x_hat = v[1:] / v[0]
    return x_hat, float(theta_after @ np.r_[1.0, x_hat] - v[0])


def reconstruct_unscaled(theta_before, theta_after, hessian):  # mistake: forgets the scale c
    v = hessian @ (theta_after - theta_before)
    return v[1:], float(theta_after @ np.r_[1.0, v[1:] / v[0]] - v[0])


def reconstruct_target_before(theta_before, theta_after, hessian):  # mistake: theta_before
    v = hessian @ (theta_after - theta_before)
    x_hat = v[1:] / v[0]
    return x_hat, float(theta_before @ np.r_[1.0, x_hat] - v[0])


def test_7_3_passes_reference():
    passes("7.3", reconstruct_reference)


def test_7_3_typical_mistakes_get_hints():
    fails_with("7.3", reconstruct_with_inverse, "H @ delta")
    fails_with("7.3", reconstruct_unscaled, "scale")
    fails_with("7.3", reconstruct_target_before, "theta_after")
    fails_with(
        "7.3", lambda b, a, H: (np.r_[1.0, reconstruct_reference(b, a, H)[0]], 0.0), "intercept"
    )
    fails_with("7.3", lambda b, a, H: reconstruct_reference(b, a, H)[0], "return x_hat, y_hat")


# ---------------------------------------------------------------- 7.4
def noisy_reference(theta_before, theta_after, hessian, x_true, *, sigma, rng):
    b = theta_before + rng.normal(0, sigma, theta_before.shape)
    a = theta_after + rng.normal(0, sigma, theta_after.shape)
    x_hat, _ = reconstruct_reference(b, a, hessian)
    return float(x_hat @ x_true / np.linalg.norm(x_hat) / np.linalg.norm(x_true))


def noisy_same_draw(theta_before, theta_after, hessian, x_true, *, sigma, rng):  # noise cancels
    noise = rng.normal(0, sigma, theta_before.shape)
    x_hat, _ = reconstruct_reference(theta_before + noise, theta_after + noise, hessian)
    return float(x_hat @ x_true / np.linalg.norm(x_hat) / np.linalg.norm(x_true))


def noisy_global_rng(theta_before, theta_after, hessian, x_true, *, sigma, rng):
    other = np.random.default_rng()  # ignores the rng argument: not reproducible
    return noisy_reference(theta_before, theta_after, hessian, x_true, sigma=sigma, rng=other)


def test_7_4_passes_reference():
    passes("7.4", noisy_reference)


def test_7_4_typical_mistakes_get_hints():
    fails_with("7.4", noisy_same_draw, "cancels")
    fails_with("7.4", noisy_global_rng, "rng")
    fails_with("7.4", lambda *args, **kw: 1.0)


@pytest.mark.parametrize("qid", ["7.1", "7.2", "7.3", "7.4"])
def test_unimplemented_is_reported_not_crashed(qid):
    def stub(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}: ...")

    r = run_check(qid, stub)
    assert r.status == "not implemented" and r.points == 0
    assert get_question(qid).points in (2, 3)
