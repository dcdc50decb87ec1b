"""Challenge 5.6 (RFA: the weighted geometric median): the reference passes, the blank exercise
scores 0, the usual stand-ins fail with the hint naming them, and differently written Weiszfeld
variants pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests

PRELUDE = """
import numpy as np
import torch


def weiszfeld(U, w, iterations, floor=1e-12):
    z = w @ U / w.sum()
    for _ in range(iterations):
        d = np.linalg.norm(U - z, axis=1)
        if floor:
            d = np.maximum(d, floor)
        z = (w / d) @ U / (w / d).sum()
    return z
"""

WRONG = [
    Wrong(
        "the weighted mean (FedAvg)",
        "not squared distances",
        """
        def geometric_median_agg(updates, weights):
            w = np.asarray(weights, float)
            return w @ np.asarray(updates, float) / w.sum()
        """,
    ),
    Wrong(
        "the coordinate-wise median",
        "coordinate-wise median is not the geometric median",
        """
        def geometric_median_agg(updates, weights):
            return np.median(np.asarray(updates, float), axis=0)
        """,
    ),
    Wrong(
        "the update with the smallest sum of distances (the medoid)",
        "medoid",
        """
        def geometric_median_agg(updates, weights):
            U, w = np.asarray(updates, float), np.asarray(weights, float)
            costs = [w @ np.linalg.norm(U - u, axis=1) for u in U]
            return U[int(np.argmin(costs))]
        """,
    ),
    Wrong(
        "Weiszfeld without the client weights",
        "weights[k]",
        """
        def geometric_median_agg(updates, weights):
            U = np.asarray(updates, float)
            return weiszfeld(U, np.ones(len(U)), 5000)
        """,
    ),
    Wrong(
        "Weiszfeld dividing by a zero distance",
        "divide by zero",
        """
        def geometric_median_agg(updates, weights):
            with np.errstate(divide="ignore", invalid="ignore"):
                return weiszfeld(np.asarray(updates, float), np.asarray(weights, float), 5000,
                                 floor=0.0)
        """,
    ),
    Wrong(
        "five Weiszfeld steps",
        "stops moving",
        """
        def geometric_median_agg(updates, weights):
            return weiszfeld(np.asarray(updates, float), np.asarray(weights, float), 5)
        """,
    ),
]

RIGHT = [
    Right(
        "Vardi and Zhang's Weiszfeld, which handles an estimate sitting on an update exactly",
        """
        def geometric_median_agg(updates, weights):
            U, w = np.asarray(updates, float), np.asarray(weights, float)
            z = U[np.argmax(w)].copy()
            for _ in range(10000):
                d = np.linalg.norm(U - z, axis=1)
                on = d == 0
                far = ~on
                T = (w[far] / d[far]) @ U[far] / (w[far] / d[far]).sum()
                if not on.any():
                    new = T
                else:
                    R = (w[far] / d[far]) @ (U[far] - z)
                    r = np.linalg.norm(R)
                    eta = w[on].sum()
                    gamma = min(1.0, eta / r) if r > 0 else 1.0
                    new = (1 - gamma) * T + gamma * z
                if np.linalg.norm(new - z) < 1e-13 * (1 + np.linalg.norm(z)):
                    return new
                z = new
            return z
        """,
    ),
    Right(
        "Weiszfeld in torch from the coordinate-wise median, stopping on the objective",
        """
        def geometric_median_agg(updates, weights):
            U = torch.as_tensor(np.asarray(updates), dtype=torch.float64)
            w = torch.as_tensor(np.asarray(weights), dtype=torch.float64)
            z = U.median(dim=0).values
            previous = float("inf")
            for _ in range(20000):
                d = (U - z).norm(dim=1).clamp_min(1e-14)
                z = ((w / d)[:, None] * U).sum(0) / (w / d).sum()
                cost = float((w * (U - z).norm(dim=1)).sum())
                if previous - cost <= 1e-15 * cost:
                    break
                previous = cost
            return z.numpy()
        """,
    ),
]

globals().update(
    challenge_tests("5.6", "05_federated_learning", prelude=PRELUDE, wrong=WRONG, right=RIGHT)
)
