"""Unit tests for course_utils.attacks.reconstruction (Bertran et al. 2024 on ridge)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.attacks.reconstruction import (
    attack_every_deletion,
    cosine_similarity,
    estimate_hessian,
    noisy_release,
    reconstruct_deleted,
)
from course_utils.data import diabetes_split
from course_utils.unlearning import ridge_fit, ridge_hessian, ridge_remove


@pytest.fixture(scope="module")
def diabetes():
    X, X_pub, y, _ = diabetes_split(rng=0)
    return X, y, X_pub


def test_oracle_reconstruction_is_exact(diabetes):
    X, y, _ = diabetes
    lam = 1.0
    theta = ridge_fit(X, y, lam=lam)
    H = ridge_hessian(X, lam=lam)
    for i in (0, 5, 100, len(X) - 1):
        after = ridge_fit(np.delete(X, i, 0), np.delete(y, i), lam=lam)  # honest retraining
        x_hat, y_hat = reconstruct_deleted(theta, after, H)
        np.testing.assert_allclose(x_hat, X[i], atol=1e-6)
        assert abs(y_hat - y[i]) < 1e-6
        assert cosine_similarity(x_hat, X[i]) > 1 - 1e-10


def test_no_intercept_recovers_direction_only(diabetes):
    X, y, _ = diabetes
    theta = ridge_fit(X, y, lam=1.0, fit_intercept=False)
    after = ridge_remove(theta, X, y, 3, lam=1.0, fit_intercept=False)
    x_hat, y_hat = reconstruct_deleted(
        theta, after, ridge_hessian(X, lam=1.0, fit_intercept=False), fit_intercept=False
    )
    assert abs(cosine_similarity(x_hat, X[3])) > 1 - 1e-8
    assert np.isnan(y_hat)


def test_public_hessian_is_close_and_beats_baseline(diabetes):
    X, y, X_pub = diabetes
    H_pub = estimate_hessian(X_pub, lam=1.0, n_total=len(X))
    H_true = ridge_hessian(X, lam=1.0)
    assert np.linalg.norm(H_pub - H_true) < 0.3 * np.linalg.norm(H_true)
    X_hat, y_hat = attack_every_deletion(X, y, lam=1.0, hessian=H_pub)
    cos = cosine_similarity(X_hat, X)
    best_public = np.array([cosine_similarity(X_pub, x).max() for x in X])
    assert np.median(cos) > 0.9
    assert np.median(cos) > np.median(best_public) + 0.05
    assert np.median(np.abs(y_hat - y)) < 0.5 * np.median(np.abs(y - y.mean()))


def test_estimate_hessian_scaling():
    P = np.array([[1.0, 0.0], [-1.0, 2.0]])
    H = estimate_hessian(P, lam=0.5, n_total=6)
    Pa = np.column_stack([np.ones(2), P])
    np.testing.assert_allclose(H, 3.0 * Pa.T @ Pa + np.diag([0.0, 0.5, 0.5]))
    np.testing.assert_allclose(
        estimate_hessian(P, lam=0.5, n_total=6, fit_intercept=False),
        3.0 * P.T @ P + 0.5 * np.eye(2),
    )


def test_noise_destroys_the_attack(diabetes):
    X, y, _ = diabetes
    rng = np.random.default_rng(0)
    theta = ridge_fit(X, y, lam=1.0)
    sizes = np.array(
        [np.linalg.norm(ridge_remove(theta, X, y, i, lam=1.0) - theta) for i in range(len(X))]
    )
    clean = cosine_similarity(attack_every_deletion(X, y, lam=1.0)[0], X)
    noisy = cosine_similarity(attack_every_deletion(X, y, lam=1.0, sigma=sizes, rng=rng)[0], X)
    assert np.median(clean) > 0.999
    assert np.median(noisy) < 0.3


def test_cosine_similarity():
    assert cosine_similarity([1.0, 2.0], [2.0, 4.0]) == pytest.approx(1.0)
    assert cosine_similarity([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(-1.0)
    rows = cosine_similarity(np.eye(3), np.eye(3))
    np.testing.assert_allclose(rows, 1.0)
    with pytest.raises(ValueError, match="equal length"):
        cosine_similarity([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="equal shapes"):
        cosine_similarity(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="zero vector"):
        cosine_similarity([0.0, 0.0], [1.0, 0.0])


def test_errors(diabetes):
    X, y, X_pub = diabetes
    theta = ridge_fit(X, y, lam=1.0)
    after = ridge_remove(theta, X, y, 0, lam=1.0)
    H = ridge_hessian(X, lam=1.0)
    with pytest.raises(ValueError, match="equal length"):
        reconstruct_deleted(theta, after[:-1], H)
    with pytest.raises(ValueError, match="hessian must have shape"):
        reconstruct_deleted(theta, after, H[:-1, :-1])
    with pytest.raises(ValueError, match="singular"):
        reconstruct_deleted(theta, after, np.zeros_like(H))
    with pytest.raises(ValueError, match="symmetric"):
        reconstruct_deleted(theta, after, H + np.triu(np.ones_like(H), 1))
    with pytest.raises(ValueError, match="no trace"):
        reconstruct_deleted(theta, theta, H)
    with pytest.raises(ValueError, match="singular"):
        estimate_hessian(X_pub[:5], lam=0.0, n_total=len(X))
    with pytest.raises(ValueError, match="n_total"):
        estimate_hessian(X_pub, lam=1.0, n_total=0)
    with pytest.raises(ValueError, match="lam"):
        estimate_hessian(X_pub, lam=-1.0, n_total=10)
    with pytest.raises(ValueError, match="sigma"):
        noisy_release(theta, sigma=-1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        noisy_release(theta, sigma=1.0, rng=-1)
    with pytest.raises(ValueError, match="rng"):
        attack_every_deletion(X, y, lam=1.0, sigma=0.1, rng="seed")
