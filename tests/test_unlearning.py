"""Unit tests for course_utils.unlearning: exact ridge removal, Newton removal, SISA."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from course_utils.unlearning import (
    SISAModel,
    add_intercept,
    logistic_fit,
    logistic_hessian,
    logistic_losses,
    logistic_predict_proba,
    newton_remove_logistic,
    ridge_fit,
    ridge_hessian,
    ridge_remove,
    sisa_remove,
    sisa_train,
)


@pytest.fixture
def regression():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + 3.0 + rng.normal(size=60)
    return X, y


@pytest.fixture
def classification():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 4))
    y = (X @ [1.5, -1.0, 0.5, 0.0] + 0.7 * rng.normal(size=150) > 0).astype(int)
    return X, y


# ---------------------------------------------------------------- ridge
def test_ridge_fit_matches_sklearn_and_convention(regression):
    X, y = regression
    theta = ridge_fit(X, y, lam=2.5)
    m = Ridge(alpha=2.5).fit(X, y)
    np.testing.assert_allclose(theta, [m.intercept_, *m.coef_], atol=1e-10)
    # the Hessian convention of the issue: Xa.T Xa + lam diag(0, 1, ..., 1)
    Xa = add_intercept(X)
    np.testing.assert_allclose(
        ridge_hessian(X, lam=2.5), Xa.T @ Xa + 2.5 * np.diag([0, 1, 1, 1, 1, 1])
    )
    # theta solves the normal equations H theta = Xa.T y
    np.testing.assert_allclose(ridge_hessian(X, lam=2.5) @ theta, Xa.T @ y, atol=1e-8)


def test_ridge_without_intercept(regression):
    X, y = regression
    theta = ridge_fit(X, y, lam=1.0, fit_intercept=False)
    m = Ridge(alpha=1.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(theta, m.coef_, atol=1e-10)
    after = ridge_remove(theta, X, y, 3, lam=1.0, fit_intercept=False)
    refit = ridge_fit(np.delete(X, 3, 0), np.delete(y, 3), lam=1.0, fit_intercept=False)
    np.testing.assert_allclose(after, refit, atol=1e-8)


@pytest.mark.parametrize("lam", [0.0, 0.1, 10.0])
def test_ridge_remove_equals_refit(regression, lam):
    X, y = regression
    theta = ridge_fit(X, y, lam=lam)
    H = ridge_hessian(X, lam=lam)
    for i in (0, 17, 59, -1):
        after = ridge_remove(theta, X, y, i, lam=lam)
        refit = ridge_fit(np.delete(X, i, 0), np.delete(y, i), lam=lam)
        assert np.max(np.abs(after - refit)) < 1e-8
        np.testing.assert_allclose(
            ridge_remove(theta, X, y, i, lam=lam, hessian=H), after, atol=1e-12
        )


def test_ridge_remove_several_rows_and_sherman_morrison(regression):
    X, y = regression
    theta = ridge_fit(X, y, lam=1.0)
    rows = [2, 5, 40]
    after = ridge_remove(theta, X, y, rows, lam=1.0)
    np.testing.assert_allclose(
        after, ridge_fit(np.delete(X, rows, 0), np.delete(y, rows), lam=1.0), atol=1e-8
    )
    # one row: Sherman-Morrison form theta + r H^-1 a / (1 - a.T H^-1 a)
    a = add_intercept(X[[7]])[0]
    Hinv_a = np.linalg.solve(ridge_hessian(X, lam=1.0), a)
    r = a @ theta - y[7]
    np.testing.assert_allclose(
        ridge_remove(theta, X, y, 7, lam=1.0), theta + r * Hinv_a / (1 - a @ Hinv_a), atol=1e-10
    )


def test_ridge_errors(regression):
    X, y = regression
    theta = ridge_fit(X, y, lam=1.0)
    with pytest.raises(ValueError, match="lam"):
        ridge_fit(X, y, lam=-1.0)
    with pytest.raises(ValueError, match="y must be 1-d"):
        ridge_fit(X, y[:-1], lam=1.0)
    with pytest.raises(ValueError, match="X must be"):
        ridge_fit(X[:, 0], y, lam=1.0)
    with pytest.raises(ValueError, match="theta must have shape"):
        ridge_remove(theta[1:], X, y, 0, lam=1.0)
    with pytest.raises(ValueError, match="index out of range"):
        ridge_remove(theta, X, y, 60, lam=1.0)
    with pytest.raises(ValueError, match="index must be"):
        ridge_remove(theta, X, y, 1.5, lam=1.0)
    with pytest.raises(ValueError, match="every training row"):
        ridge_remove(theta, X, y, list(range(60)), lam=1.0)
    with pytest.raises(ValueError, match="hessian must have shape"):
        ridge_remove(theta, X, y, 0, lam=1.0, hessian=np.eye(3))
    # more features than rows and no penalty: singular
    with pytest.raises(ValueError, match="singular"):
        ridge_fit(X[:3], y[:3], lam=0.0)
    # removing a row that a lam=0 fit cannot do without (6 rows, 5 features + intercept)
    t6 = ridge_fit(X[:6], y[:6], lam=0.0)
    with pytest.raises(ValueError, match="singular"):
        ridge_remove(t6, X[:6], y[:6], 0, lam=0.0)


# ---------------------------------------------------------------- logistic
def test_logistic_fit_matches_sklearn(classification):
    X, y = classification
    theta = logistic_fit(X, y, lam=0.5)
    m = LogisticRegression(C=2.0, tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(theta, [*m.intercept_, *m.coef_[0]], atol=1e-5)
    np.testing.assert_allclose(
        logistic_predict_proba(theta, X), m.predict_proba(X)[:, 1], atol=1e-5
    )
    losses = logistic_losses(theta, X, y)
    p = logistic_predict_proba(theta, X)
    np.testing.assert_allclose(losses, -(y * np.log(p) + (1 - y) * np.log(1 - p)), atol=1e-10)


def test_logistic_hessian_is_derivative_of_gradient(classification):
    X, y = classification
    theta = np.array([0.1, 0.5, -0.3, 0.2, 0.0])
    lam = 0.7
    A = add_intercept(X)

    def grad(t):
        return A.T @ (logistic_predict_proba(t, X) - y) + lam * np.r_[0.0, t[1:]]

    eps = 1e-6
    numeric = np.column_stack(
        [(grad(theta + eps * e) - grad(theta - eps * e)) / (2 * eps) for e in np.eye(5)]
    )
    np.testing.assert_allclose(logistic_hessian(theta, X, lam=lam), numeric, atol=1e-5)


def test_newton_removal_beats_no_update(classification):
    X, y = classification
    theta = logistic_fit(X, y, lam=1.0)
    for rows in (0, [3, 9], list(range(10))):
        retrain = logistic_fit(np.delete(X, rows, 0), np.delete(y, rows), lam=1.0)
        newton = newton_remove_logistic(theta, X, y, rows, lam=1.0)
        gap_none = np.linalg.norm(theta - retrain)
        gap_newton = np.linalg.norm(newton - retrain)
        assert gap_newton < 0.2 * gap_none, (rows, gap_newton, gap_none)
    # for a single row the step is nearly exact
    retrain = logistic_fit(X[1:], y[1:], lam=1.0)
    assert np.linalg.norm(
        newton_remove_logistic(theta, X, y, 0, lam=1.0) - retrain
    ) < 0.1 * np.linalg.norm(theta - retrain)


def test_logistic_errors(classification):
    X, y = classification
    with pytest.raises(ValueError, match="binary labels"):
        logistic_fit(X, y + 1, lam=1.0)
    # -1/+1 labels mean the same as 0/1
    np.testing.assert_allclose(logistic_fit(X, 2 * y - 1, lam=1.0), logistic_fit(X, y, lam=1.0))
    with pytest.raises(ValueError, match="max_iter"):
        logistic_fit(X, y, lam=1.0, max_iter=0)
    theta = logistic_fit(X, y, lam=1.0)
    with pytest.raises(ValueError, match="theta must have shape"):
        newton_remove_logistic(theta[:-1], X, y, 0, lam=1.0)
    with pytest.raises(ValueError, match="index out of range"):
        newton_remove_logistic(theta, X, y, 999, lam=1.0)


# ---------------------------------------------------------------- SISA
@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def test_sisa_shards_partition_and_predict(digits):
    X, y = digits
    model = sisa_train(X, y, n_shards=4, rng=3)
    all_rows = np.sort(np.concatenate(model.shards))
    np.testing.assert_array_equal(all_rows, np.arange(len(X)))
    assert model.rows_trained == len(X) and model.n_shards == 4 and model.n_slices == 1
    proba = model.predict_proba(X[:10])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert model.score(X, y) > 0.9


def test_sisa_remove_retrains_only_one_shard(digits):
    X, y = digits
    model = sisa_train(X, y, n_shards=5, rng=0)
    row = int(model.shards[2][7])
    after = sisa_remove(model, row)
    assert after.rows_trained == len(model.shards[2]) - 1
    assert row not in np.concatenate(after.shards) and after.removed == {row}
    assert model.removed == set() and row in np.concatenate(model.shards)  # the input is unchanged
    for s in (0, 1, 3, 4):
        assert after.estimators[s] is model.estimators[s]
    # the retrained shard equals a fresh fit on the shard without the row
    fresh = LogisticRegression(C=1.0, max_iter=500).fit(X[after.shards[2]], y[after.shards[2]])
    np.testing.assert_allclose(after.estimators[2].coef_, fresh.coef_, atol=1e-6)
    with pytest.raises(ValueError, match="already removed"):
        sisa_remove(after, row)


def test_sisa_slices_restart_from_checkpoint(digits):
    X, y = digits
    model = sisa_train(X, y, n_shards=2, n_slices=3, rng=0)
    sizes = [len(s) for s in model.slices[0]]
    assert model.rows_trained == 2 * (sizes[0] + (sizes[0] + sizes[1]) + sum(sizes))
    last_slice_row = int(model.slices[0][2][0])
    after = sisa_remove(model, last_slice_row)
    assert after.rows_trained == sum(sizes) - 1  # only the last slice's fit is redone
    assert after.checkpoints[0][0] is model.checkpoints[0][0]
    first_slice_row = int(model.slices[1][0][0])
    cost = sisa_remove(model, first_slice_row).rows_trained
    s1 = [len(s) for s in model.slices[1]]
    assert cost == (s1[0] - 1) + (s1[0] + s1[1] - 1) + (sum(s1) - 1)


def test_sisa_errors(digits):
    X, y = digits
    with pytest.raises(ValueError, match="n_shards"):
        sisa_train(X, y, n_shards=0)
    with pytest.raises(ValueError, match="exceeds"):
        sisa_train(X[:10], y[:10], n_shards=5, n_slices=3)
    from sklearn.naive_bayes import GaussianNB

    with pytest.raises(ValueError, match="warm_start"):
        sisa_train(X, y, n_shards=2, n_slices=2, estimator=GaussianNB())
    model = sisa_train(X, y, n_shards=2)
    with pytest.raises(ValueError, match="out of range"):
        sisa_remove(model, len(X))
    with pytest.raises(ValueError, match="SISAModel"):
        sisa_remove("model", 0)
    with pytest.raises(ValueError, match="index must be"):
        sisa_remove(model, [])
    assert isinstance(model, SISAModel)
