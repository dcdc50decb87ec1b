"""Exercise set 05: each check passes the reference answer and answers written differently, and
fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with, passes, solution_namespace

SOL = solution_namespace("05_federated_learning", np=np)


def test_set05_is_registered_with_points_and_references() -> None:
    qs = {q: REGISTRY[q] for q in ("5.1", "5.2", "5.3", "5.4", "5.5")}
    assert [q.points for q in qs.values()] == [2, 2, 2, 1, 2]
    assert {q.answer for q in qs.values()} == {
        "fedavg_aggregate",
        "trimmed_mean_agg",
        "krum_aggregate",
        "zero_sum_masks",
        "dp_fedavg_step",
    }
    assert all(q.reference for q in qs.values())


def test_not_implemented_is_reported_not_failed() -> None:
    def todo(*args, **kwargs):
        raise NotImplementedError("Exercise 5.1: ...")

    r = run_check("5.1", todo)
    assert not r.passed and r.points == 0 and r.status != "passed"


def test_5_1_fedavg() -> None:
    passes("5.1", SOL["fedavg_aggregate"])

    def loop_version(updates, weights):  # written differently
        total, wsum = 0.0, 0.0
        for u, w in zip(updates, weights, strict=True):
            total = total + w * np.asarray(u)
            wsum += w
        return total / wsum

    passes("5.1", loop_version)
    fails_with("5.1", lambda u, w: np.mean(u, axis=0), "weight")
    fails_with(
        "5.1",
        lambda u, w: (np.asarray(w, float)[:, None] * u).sum(0) / len(w),
        "sum_k w_k",
    )
    fails_with("5.1", lambda u, w: np.average(u, axis=1, weights=None), "shape")


def test_5_2_trimmed_mean() -> None:
    passes("5.2", SOL["trimmed_mean_agg"])
    passes("5.2", lambda u, r: stats.trim_mean(u, r, axis=0))

    def by_norm(updates, ratio):  # drops whole clients
        U = np.asarray(updates)
        n, k = len(U), int(ratio * len(U))
        order = np.argsort(np.linalg.norm(U, axis=1))
        return U[order[k : n - k]].mean(0)

    fails_with("5.2", by_norm, "per coordinate", "axis=0")

    def top_only(updates, ratio):
        S = np.sort(updates, axis=0)
        k = int(ratio * len(S))
        return S[: len(S) - k].mean(0)

    fails_with("5.2", top_only, "smallest and the k largest")


def test_5_3_krum() -> None:
    passes("5.3", SOL["krum_aggregate"])

    def scipy_version(updates, f):  # written differently
        from scipy.spatial.distance import cdist

        D = cdist(updates, updates, "sqeuclidean")
        scores = [
            np.sort(np.delete(row, i))[: len(updates) - f - 2].sum() for i, row in enumerate(D)
        ]
        return np.asarray(updates)[int(np.argmin(scores))]

    passes("5.3", scipy_version)

    def not_squared(updates, f):
        U = np.asarray(updates)
        D = np.sqrt(((U[:, None] - U[None]) ** 2).sum(-1))
        np.fill_diagonal(D, np.inf)
        return U[np.argmin(np.sort(D, 1)[:, : len(U) - f - 2].sum(1))]

    fails_with("5.3", not_squared, "squared")

    def n_minus_f(updates, f):
        U = np.asarray(updates)
        D = ((U[:, None] - U[None]) ** 2).sum(-1)
        np.fill_diagonal(D, np.inf)
        return U[np.argmin(np.sort(D, 1)[:, : len(U) - f].sum(1))]

    fails_with("5.3", n_minus_f, "n - f - 2")

    def multi_krum_average(updates, f):
        U = np.asarray(updates)
        D = ((U[:, None] - U[None]) ** 2).sum(-1)
        np.fill_diagonal(D, np.inf)
        return U[np.argsort(np.sort(D, 1)[:, : len(U) - f - 2].sum(1))[:3]].mean(0)

    fails_with("5.3", multi_krum_average, "single update")


def test_5_4_masks() -> None:
    passes("5.4", SOL["zero_sum_masks"])

    def centred(n, dim, rng):  # different construction, same property
        R = rng.normal(0, 10, size=(n, dim))
        return R - R.mean(axis=0)

    passes("5.4", centred)
    fails_with("5.4", lambda n, dim, rng: rng.normal(0, 10, size=(n, dim)), "pair")
    fails_with("5.4", lambda n, dim, rng: np.zeros((n, dim)), "hide")
    fails_with(
        "5.4",
        lambda n, dim, rng: (lambda R: R - R.mean(0))(
            np.random.default_rng(0).normal(size=(n, dim))
        ),
        "rng",
    )


def test_5_5_dp_step() -> None:
    passes("5.5", SOL["dp_fedavg_step"])

    def clip_the_sum(updates, *, max_norm, noise_multiplier, expected_clients, rng):
        s = np.asarray(updates).sum(0)
        s = s * min(1.0, max_norm / max(np.linalg.norm(s), 1e-12))
        return (s + rng.normal(0, noise_multiplier * max_norm, size=s.shape)) / expected_clients

    fails_with("5.5", clip_the_sum, "separately")

    def actual_count(updates, *, max_norm, noise_multiplier, expected_clients, rng):
        U = np.asarray(updates)
        c = U * np.minimum(
            1.0, max_norm / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        )
        return (c.sum(0) + rng.normal(0, noise_multiplier * max_norm, size=U.shape[1])) / len(U)

    fails_with("5.5", actual_count, "expected_clients")

    def noise_after_dividing(updates, *, max_norm, noise_multiplier, expected_clients, rng):
        U = np.asarray(updates)
        c = U * np.minimum(
            1.0, max_norm / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        )
        return c.sum(0) / expected_clients + rng.normal(
            0, noise_multiplier * max_norm, size=U.shape[1]
        )

    fails_with("5.5", noise_after_dividing, "sum, then divide")

    def global_rng(updates, *, max_norm, noise_multiplier, expected_clients, rng):
        U = np.asarray(updates)
        c = U * np.minimum(
            1.0, max_norm / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)
        )
        noise = np.random.normal(0, noise_multiplier * max_norm, size=U.shape[1])
        return (c.sum(0) + noise) / expected_clients

    fails_with("5.5", global_rng, "rng")
