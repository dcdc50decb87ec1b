"""Unlearning and the deletion reconstruction attack (notebook 07's numbers, measured again).

Rows: reconstruction cosine over every single deletion from a ridge model on diabetes (oracle
Hessian, Hessian estimated from 100 public rows, and the closest-public-person baseline); the
oracle attack's cosine against output noise; SISA's deletion cost against full retraining on
digits; and how close one Newton step lands to retraining for logistic regression.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression

from course_utils.attacks import reconstruction as rec
from course_utils.data import diabetes_split, digits_split
from course_utils.unlearning import (
    logistic_fit,
    newton_remove_logistic,
    ridge_fit,
    ridge_hessian,
    ridge_remove,
    sisa_remove,
    sisa_train,
)

LAM = 1.0


def _timed(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _reconstruction_rows() -> list[dict]:
    X, X_pub, y, _ = diabetes_split(rng=0)
    n = len(X)
    X_hat, _ = rec.attack_every_deletion(X, y, lam=LAM)
    cos = rec.cosine_similarity(X_hat, X)
    H_pub = rec.estimate_hessian(X_pub, lam=LAM, n_total=n)
    X_hat, y_hat = rec.attack_every_deletion(X, y, lam=LAM, hessian=H_pub)
    cos_pub = rec.cosine_similarity(X_hat, X)
    base = np.array([rec.cosine_similarity(X_pub, x).max() for x in X])
    cosines = [  # (which guess, its cosines with the true rows, note)
        ("oracle Hessian", cos, f"diabetes ridge lam={LAM}, all {n} deletions"),
        (
            "public Hessian",
            cos_pub,
            f"Hessian from 100 public rows; 10th percentile {np.percentile(cos_pub, 10):.3f}",
        ),
        (
            "closest public person",
            base,
            "baseline told which public row is most similar to the truth",
        ),
    ]
    rows = [
        {
            "name": f"reconstruction cosine, {what} (median)",
            "value": float(np.median(values)),
            "unit": "",
            "note": note,
        }
        for what, values, note in cosines
    ]
    rows.append(
        {
            "name": "reconstructed target error, public Hessian (median)",
            "value": float(np.median(np.abs(y_hat - y))),
            "unit": "score",
            "note": f"guessing the mean: {np.median(np.abs(y - y.mean())):.1f}",
        }
    )
    theta = ridge_fit(X, y, lam=LAM)
    H = ridge_hessian(X, lam=LAM)
    sizes = np.array(
        [np.linalg.norm(ridge_remove(theta, X, y, i, lam=LAM, hessian=H) - theta) for i in range(n)]
    )
    rng = np.random.default_rng(0)
    for level in (0.01, 0.03, 0.1, 0.3, 1.0):
        X_noisy, _ = rec.attack_every_deletion(X, y, lam=LAM, sigma=level * sizes, rng=rng)
        rows.append(
            {
                "name": f"oracle cosine, output noise {level:g} x update",
                "value": float(np.median(rec.cosine_similarity(X_noisy, X))),
                "unit": "",
                "note": "independent Gaussian noise on both releases; data-dependent sigma, not DP",
            }
        )
    return rows


def _sisa_rows() -> list[dict]:
    X, _, y, _ = digits_split(rng=0)
    rows = []
    t_full = _timed(lambda: LogisticRegression(max_iter=500).fit(X, y))
    rows.append(
        {
            "name": "full retrain, digits logistic",
            "value": 1000 * t_full,
            "unit": "ms",
            "note": f"{len(X)} rows",
        }
    )
    requests = np.random.default_rng(0).choice(len(X), size=5, replace=False)
    for S in (1, 5, 20):
        model = sisa_train(X, y, n_shards=S, rng=0)
        times, cost = [], []
        for i in requests:
            start = time.perf_counter()
            cost.append(sisa_remove(model, int(i)).rows_trained)
            times.append(time.perf_counter() - start)
        t_del, refit = float(np.median(times)), float(np.mean(cost))
        goal = "; goal (was a notebook 07 assert): < 0.7 x the 1-shard deletion" if S == 20 else ""
        rows.append(
            {
                "name": f"SISA deletion, {S} shards",
                "value": 1000 * t_del,
                "unit": "ms",
                "note": f"{refit:.0f} rows refit; {t_full / t_del:.1f}x faster than full retrain{goal}",
            }
        )
    return rows


def _ssp_rows() -> list[dict]:
    """Notebook 07's calibrated defence: ridge from noisy sufficient statistics at (1, 1e-5)."""
    from course_utils.privacy import regression as dpr

    X, X_pub, y, y_pub = diabetes_split(rng=0)  # public rows standardise; as notebook 07
    bounds = dict(
        feature_bound=3.0,
        target_center=float(np.round(y_pub.mean())),
        target_scale=100.0,
        target_bound=2.0,
    )
    rng = np.random.default_rng(0)
    release = dpr.ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=rng, **bounds)
    lam = 2 * release.sigma * np.sqrt(X.shape[1] + 1)

    def rmse(theta):
        return float(
            np.sqrt(np.mean((np.column_stack([np.ones(len(X_pub)), X_pub]) @ theta - y_pub) ** 2))
        )

    dp = []
    for _ in range(200):
        noisy = dpr.ssp_release(X, y, epsilon=1.0, delta=1e-5, rng=rng, **bounds).statistics
        dp.append(rmse(dpr.ridge_from_statistics(noisy, lam=lam, n_features=X.shape[1], **bounds)))
    plain = rmse(ridge_fit(X, y, lam=LAM))
    return [
        {
            "name": "DP ridge (SSP, eps=1, delta=1e-5) RMSE / non-private RMSE",
            "value": float(np.median(dp)) / plain,
            "unit": "x",
            "note": f"median of 200 releases on the 100 public rows; non-private {plain:.1f}, sigma {release.sigma:.1f}",
        }
    ]


def _newton_rows() -> list[dict]:
    X_train, _, y_train, _ = digits_split(rng=0)
    X, y = X_train[:100].astype(float), y_train[:100] % 2
    theta = logistic_fit(X, y, lam=0.1)
    ratios = []
    for i in range(30):
        retrain = logistic_fit(np.delete(X, i, 0), np.delete(y, i), lam=0.1)
        newton = newton_remove_logistic(theta, X, y, i, lam=0.1)
        ratios.append(np.linalg.norm(newton - retrain) / np.linalg.norm(theta - retrain))
    return [
        {
            "name": "logistic Newton removal, |newton - retrain| / |no update - retrain|",
            "value": float(np.median(ratios)),
            "unit": "ratio",
            "note": f"median over 30 single deletions, worst {max(ratios):.3f}",
        }
    ]


def run() -> list[dict]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - ships with scikit-learn
        return _reconstruction_rows() + _sisa_rows() + _newton_rows() + _ssp_rows()
    with threadpool_limits(1):  # small matrices: one BLAS thread is fastest
        return _reconstruction_rows() + _sisa_rows() + _newton_rows() + _ssp_rows()


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<70} {row['value']:>10.4g} {row['unit']:<6} {row['note']}")
