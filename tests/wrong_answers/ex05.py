"""Wrong and unusual-but-correct answers of exercise set 05 (federated learning)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import numpy as np
"""

#: A correct answer to 5.1; each wrong answer written as ``edited(FEDAVG_AGGREGATE, ...)`` is it
#: with one mistake.
FEDAVG_AGGREGATE = """
def fedavg_aggregate(updates, weights):
    w = np.asarray(weights, float)
    return w @ np.asarray(updates, float) / w.sum()
"""

#: A correct answer to 5.2; each wrong answer written as ``edited(TRIMMED_MEAN_AGG, ...)`` is it
#: with one mistake.
TRIMMED_MEAN_AGG = """
def trimmed_mean_agg(updates, trim_ratio):
    U = np.sort(updates, axis=0)
    k = int(np.floor(trim_ratio * len(U)))
    return U[k:len(U) - k].mean(axis=0)
"""

#: A correct answer to 5.3; each wrong answer written as ``edited(KRUM_AGGREGATE, ...)`` is it with
#: one mistake.
KRUM_AGGREGATE = """
def krum_aggregate(updates, n_byzantine):
    U = np.asarray(updates, float)
    D = ((U[:, None] - U[None]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    scores = np.sort(D, 1)[:, :len(U) - n_byzantine - 2].sum(1)
    return U[np.argmin(scores)]
"""

#: A correct answer to 5.4; each wrong answer written as ``edited(ZERO_SUM_MASKS, ...)`` is it with
#: one mistake.
ZERO_SUM_MASKS = """
def zero_sum_masks(n_clients, dim, rng):
    masks = np.zeros((n_clients, dim))
    for i in range(n_clients):
        for j in range(i + 1, n_clients):
            m = rng.normal(0, 100, size=dim)
            masks[i] += m
            masks[j] -= m
    return masks
"""

#: A correct answer to 5.5; each wrong answer written as ``edited(DP_FEDAVG_STEP, ...)`` is it with
#: one mistake.
DP_FEDAVG_STEP = """
def dp_fedavg_step(updates, *, max_grad_norm, noise_multiplier, expected_clients, rng):
    norms = np.linalg.norm(updates, axis=1, keepdims=True)
    clipped = updates * np.minimum(1, max_grad_norm / np.maximum(norms, 1e-12))
    total = clipped.sum(0) + rng.normal(0, noise_multiplier * max_grad_norm, updates.shape[1])
    return total / expected_clients
"""

WRONG = {
    "5.1": [
        Wrong(
            "a plain mean, ignoring the weights",
            "weight each update by its client's example count",
            """
            def fedavg_aggregate(updates, weights):
                return np.mean(updates, axis=0)
            """,
        ),
        Wrong(
            "the weighted sum, not divided",
            "divide the weighted sum by the total weight",
            edited(FEDAVG_AGGREGATE, " / w.sum()", ""),
        ),
        Wrong(
            "divides by the number of clients",
            "not by the number of clients",
            edited(FEDAVG_AGGREGATE, "/ w.sum()", "/ len(w)"),
        ),
        Wrong(
            "averages over the wrong axis (one value per client)",
            "axis 0",
            edited(
                FEDAVG_AGGREGATE,
                "w @ np.asarray(updates, float)",
                "(np.asarray(updates, float) * w[:, None]).sum(axis=1)",
            ),
        ),
        Wrong(
            "weights.sum() on a list of weights",
            "has no attribute 'sum'",
            """
            def fedavg_aggregate(updates, weights):
                return sum(w * u for w, u in zip(weights, updates)) / weights.sum()
            """,
        ),
        Wrong(
            "weights normalised by the largest weight",
            "divide by the weights' sum",
            edited(
                FEDAVG_AGGREGATE,
                "w @ np.asarray(updates, float) / w.sum()",
                "(w / w.max()) @ np.asarray(updates, float)",
            ),
        ),
    ],
    "5.2": [
        Wrong(
            "drops whole clients by the norm of their update",
            "dropping whole clients",
            """
            def trimmed_mean_agg(updates, trim_ratio):
                n = len(updates)
                k = int(np.floor(trim_ratio * n))
                order = np.argsort(np.linalg.norm(updates, axis=1))
                return updates[order[k:n - k]].mean(axis=0)
            """,
        ),
        Wrong(
            "trims the top only",
            "the k smallest and the k largest",
            edited(TRIMMED_MEAN_AGG, "return U[k:len(U) -", "return U[:len(U) -"),
        ),
        Wrong(
            "rounds trim_ratio * n instead of flooring",
            "you used round",
            edited(TRIMMED_MEAN_AGG, "int(np.floor(trim_ratio", "int(round(trim_ratio"),
        ),
        Wrong(
            "k from the number of coordinates",
            "you used the number of coordinates",
            edited(
                TRIMMED_MEAN_AGG,
                "int(np.floor(trim_ratio * len(U)))",
                "int(np.floor(trim_ratio * U.shape[1]))",
            ),
        ),
        Wrong(
            "2k values cut at the top",
            "not 2k at the top",
            edited(TRIMMED_MEAN_AGG, "U[k:len(U) -", "U[:len(U) - 2 *"),
        ),
        Wrong(
            "the coordinate-wise median",
            "keep rows k .. n-k-1",
            """
            def trimmed_mean_agg(updates, trim_ratio):
                return np.median(updates, axis=0)
            """,
        ),
    ],
    "5.3": [
        Wrong(
            "plain Euclidean distances (not squared)",
            "squared euclidean",
            edited(
                KRUM_AGGREGATE,
                "((U[:, None] - U[None]) ** 2).sum(-1)",
                "np.sqrt(((U[:, None] - U[None]) ** 2).sum(-1))",
            ),
        ),
        Wrong(
            "counts each update's zero distance to itself",
            "zero distance to itself",
            edited(KRUM_AGGREGATE, "    np.fill_diagonal(D, np.inf)\n", ""),
        ),
        Wrong(
            "n - f neighbours instead of n - f - 2",
            "not n - f.",
            edited(KRUM_AGGREGATE, "n_byzantine - 2].sum(1)", "n_byzantine].sum(1)"),
        ),
        Wrong(
            "sums over all other updates",
            "not over all other updates",
            edited(
                KRUM_AGGREGATE,
                "    np.fill_diagonal(D, np.inf)\n",
                "",
                ("np.sort(D, 1)[:, :len(U) - n_byzantine - 2].sum(1)", "D.sum(1)"),
            ),
        ),
        Wrong(
            "picks the largest score (argmax)",
            "smallest",
            edited(KRUM_AGGREGATE, "U[np.argmin(scores)]", "U[np.argmax(scores)]"),
        ),
        Wrong(
            "averages the best updates (Multi-Krum)",
            "multi-krum",
            edited(KRUM_AGGREGATE, "U[np.argmin(scores)]", "U[np.argsort(scores)[:3]].mean(0)"),
        ),
        Wrong(
            "returns the index of the chosen update",
            "the selected client's update itself",
            edited(KRUM_AGGREGATE, "U[np.argmin(scores)]", "int(np.argmin(scores))"),
        ),
    ],
    "5.4": [
        Wrong(
            "independent random masks",
            "independent random masks do not cancel",
            """
            def zero_sum_masks(n_clients, dim, rng):
                return rng.normal(0, 100, size=(n_clients, dim))
            """,
        ),
        Wrong(
            "all-zero masks",
            "hide nothing",
            """
            def zero_sum_masks(n_clients, dim, rng):
                rng.normal()
                return np.zeros((n_clients, dim))
            """,
        ),
        Wrong(
            "one random vector shared by every pair",
            "for every pair",
            edited(
                ZERO_SUM_MASKS,
                "            m = rng.normal(0, 100, size=dim)\n",
                "",
                (
                    "    masks = np.zeros",
                    "    m = rng.normal(0, 100, size=dim)\n    masks = np.zeros",
                ),
            ),
        ),
        Wrong(
            "the last client gets minus the sum of the others",
            "build the masks pairwise",
            """
            def zero_sum_masks(n_clients, dim, rng):
                masks = rng.normal(0, 100, size=(n_clients, dim))
                masks[-1] = -masks[:-1].sum(axis=0)
                return masks
            """,
        ),
        Wrong(
            "independent masks minus their mean (zero-sum, but not built pairwise)",
            "build the masks pairwise",
            """
            def zero_sum_masks(n_clients, dim, rng):
                masks = rng.normal(0, 100, size=(n_clients, dim))
                return masks - masks.mean(axis=0)
            """,
            regression="#23",
        ),
        Wrong(
            "the global np.random instead of rng",
            "no np.random",
            edited(ZERO_SUM_MASKS, "rng.normal(0,", "np.random.normal(0,"),
        ),
        Wrong(
            "masks shaped (dim, n_clients)",
            "one row per client",
            edited(
                ZERO_SUM_MASKS,
                "np.zeros((n_clients, dim))",
                "np.zeros((dim, n_clients))",
                ("masks[i] += m", "masks[:, i] += m"),
                ("masks[j] -= m", "masks[:, j] -= m"),
            ),
        ),
    ],
    "5.5": [
        Wrong(
            "no clipping",
            "clip every client's update",
            edited(
                DP_FEDAVG_STEP,
                "    norms = np.linalg.norm(updates, axis=1, keepdims=True)\n"
                "    clipped = updates * np.minimum(1, max_grad_norm / np.maximum(norms, 1e-12))\n",
                "",
                ("clipped.sum(0)", "updates.sum(0)"),
            ),
        ),
        Wrong(
            "clips the sum instead of each update",
            "clipping the sum bounds nothing",
            """
            def dp_fedavg_step(updates, *, max_grad_norm, noise_multiplier, expected_clients, rng):
                total = updates.sum(0)
                total = total * min(1.0, max_grad_norm / np.linalg.norm(total))
                return (total + rng.normal(0, noise_multiplier * max_grad_norm, len(total))) / expected_clients
            """,
        ),
        Wrong(
            "divides by the number of updates received",
            "not by the number of updates",
            edited(DP_FEDAVG_STEP, "/ expected_clients", "/ len(updates)"),
        ),
        Wrong(
            "clips each coordinate",
            "not each coordinate",
            edited(
                DP_FEDAVG_STEP,
                "    norms = np.linalg.norm(updates, axis=1, keepdims=True)\n"
                "    clipped = updates * np.minimum(1, max_grad_norm / np.maximum(norms, 1e-12))\n",
                "    clipped = np.clip(updates, -max_grad_norm, max_grad_norm)\n",
            ),
        ),
        Wrong(
            "noise without the factor max_grad_norm",
            "noise scales with max_grad_norm",
            edited(DP_FEDAVG_STEP, "noise_multiplier * max_grad_norm,", "noise_multiplier,"),
        ),
        Wrong(
            "noise added after dividing",
            "then divide by expected_clients",
            edited(
                DP_FEDAVG_STEP,
                "total = clipped.sum(0) +",
                "noise =",
                ("total / expected_clients", "clipped.sum(0) / expected_clients + noise"),
            ),
        ),
        Wrong(
            "noise on every client's update",
            "not one per client",
            edited(
                DP_FEDAVG_STEP,
                "total = clipped.sum(0) + rng.normal(0, noise_multiplier * max_grad_norm, updates.shape[1])",
                "noisy = clipped + rng.normal(0, noise_multiplier * max_grad_norm, updates.shape)",
                ("return total /", "return noisy.sum(0) /"),
            ),
        ),
        Wrong(
            "stretches every update to length max_grad_norm",
            "only shrink",
            edited(
                DP_FEDAVG_STEP,
                "np.minimum(1, max_grad_norm / np.maximum(norms, 1e-12))",
                "max_grad_norm / np.maximum(norms, 1e-12)",
            ),
        ),
        Wrong(
            "the global np.random instead of rng",
            "not np.random.normal",
            edited(DP_FEDAVG_STEP, "rng.normal(0,", "np.random.normal(0,"),
        ),
        Wrong(
            "Laplace noise of the right standard deviation",
            "the noise must be gaussian",
            edited(
                DP_FEDAVG_STEP,
                "rng.normal(0, noise_multiplier * max_grad_norm,",
                "rng.laplace(0, noise_multiplier * max_grad_norm / np.sqrt(2),",
            ),
        ),
        Wrong(
            "uniform noise of the right standard deviation",
            "the noise must be gaussian",
            edited(
                DP_FEDAVG_STEP,
                "rng.normal(0, noise_multiplier * max_grad_norm, updates.shape[1])",
                "noise_multiplier * max_grad_norm * np.sqrt(3) * rng.uniform(-1, 1, updates.shape[1])",
            ),
        ),
    ],
}

RIGHT = {
    "5.1": [
        Right(
            "np.average with weights",
            """
            def fedavg_aggregate(updates, weights):
                return np.average(np.asarray(updates, float), axis=0, weights=np.asarray(weights, float))
            """,
        ),
        Right(
            "a loop accumulating weighted updates",
            """
            def fedavg_aggregate(updates, weights):
                total = np.zeros(np.shape(updates)[1])
                for w, u in zip(weights, updates):
                    total = total + w * np.asarray(u, float)
                return total / sum(weights)
            """,
        ),
    ],
    "5.2": [
        Right(
            "scipy.stats.trim_mean",
            """
            from scipy import stats

            def trimmed_mean_agg(updates, trim_ratio):
                return stats.trim_mean(np.asarray(updates, float), trim_ratio, axis=0)
            """,
        ),
        Right(
            "a loop over coordinates with sorted()",
            """
            import math

            def trimmed_mean_agg(updates, trim_ratio):
                n, dim = np.shape(updates)
                k = math.floor(trim_ratio * n)
                out = np.empty(dim)
                for c in range(dim):
                    column = sorted(updates[r][c] for r in range(n))
                    kept = column[k:n - k]
                    out[c] = sum(kept) / len(kept)
                return out
            """,
        ),
    ],
    "5.3": [
        Right(
            "scipy's cdist with sqeuclidean and a loop",
            """
            from scipy.spatial.distance import cdist

            def krum_aggregate(updates, n_byzantine):
                U = np.asarray(updates, float)
                D = cdist(U, U, "sqeuclidean")
                m = len(U) - n_byzantine - 2
                scores = [np.sort(np.delete(D[i], i))[:m].sum() for i in range(len(U))]
                return U[int(np.argmin(scores))].copy()
            """,
        ),
        Right(
            "np.partition instead of a full sort",
            """
            def krum_aggregate(updates, n_byzantine):
                U = np.asarray(updates, float)
                sq = (U**2).sum(1)
                D = np.maximum(sq[:, None] + sq[None, :] - 2 * U @ U.T, 0)
                np.fill_diagonal(D, np.inf)
                m = len(U) - n_byzantine - 2
                scores = np.partition(D, m - 1, axis=1)[:, :m].sum(1)
                return U[np.argmin(scores)]
            """,
        ),
    ],
    "5.4": [
        Right(
            "uniform pairwise masks drawn for all pairs at once",
            """
            def zero_sum_masks(n_clients, dim, rng):
                i, j = np.triu_indices(n_clients, k=1)
                pair = rng.uniform(-50, 50, size=(len(i), dim))
                masks = np.zeros((n_clients, dim))
                np.add.at(masks, i, pair)
                np.add.at(masks, j, -pair)
                return masks
            """,
        ),
        Right(
            "an antisymmetric matrix of pairwise masks summed per client",
            """
            def zero_sum_masks(n_clients, dim, rng):
                pairs = rng.normal(0, 10, size=(n_clients, n_clients, dim))
                anti = np.triu(np.ones((n_clients, n_clients)), 1)[:, :, None] * pairs
                anti = anti - anti.transpose(1, 0, 2)
                return anti.sum(axis=1)
            """,
        ),
    ],
    "5.5": [
        Right(
            "a loop over clients",
            """
            def dp_fedavg_step(updates, *, max_grad_norm, noise_multiplier, expected_clients, rng):
                total = np.zeros(len(updates[0]))
                for u in updates:
                    norm = float(np.sqrt(np.dot(u, u)))
                    total += u * (max_grad_norm / norm if norm > max_grad_norm else 1.0)
                total += noise_multiplier * max_grad_norm * rng.standard_normal(len(total))
                return total / expected_clients
            """,
        ),
        Right(
            "np.clip on the scale factors",
            """
            def dp_fedavg_step(updates, *, max_grad_norm, noise_multiplier, expected_clients, rng):
                U = np.asarray(updates, float)
                factor = np.clip(max_grad_norm / (np.linalg.norm(U, axis=1) + 1e-12), None, 1.0)
                noisy = factor @ U + rng.normal(scale=noise_multiplier * max_grad_norm, size=U.shape[1])
                return noisy / expected_clients
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(5, PRELUDE, WRONG, RIGHT),
    "5.6",
    importlib.import_module("tests.test_challenge_05"),  # the challenge's answers live there
)
