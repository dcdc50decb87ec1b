"""Challenge 9.5 (private top-k by peeling): the reference passes, the blank exercise scores 0,
the usual variants fail with the hint naming them, and the Gumbel-max trick passes."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests

PRELUDE = """
import numpy as np


def exp_mech(scores, candidates, eps_round, sensitivity, rng, factor=2.0):
    e = eps_round * np.asarray(scores, float)[candidates] / (factor * sensitivity)
    p = np.exp(e - e.max())
    return candidates[rng.choice(len(candidates), p=p / p.sum())]


def peel(scores, k, eps_round, sensitivity, rng, factor=2.0):
    left, chosen = list(range(len(scores))), []
    for _ in range(k):
        i = exp_mech(scores, left, eps_round, sensitivity, rng, factor)
        chosen.append(int(i))
        left.remove(i)
    return chosen
"""

WRONG = [
    Wrong(
        "the whole epsilon in every round",
        "epsilon for all k rounds together",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            return peel(scores, k, epsilon, sensitivity, rng)
        """,
    ),
    Wrong(
        "the exponential mechanism without its factor 2",
        "keep the factor 2",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            return peel(scores, k, epsilon / k, sensitivity, rng, factor=1.0)
        """,
    ),
    Wrong(
        "one-shot Laplace noise, top k",
        "gumbel",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            noisy = np.asarray(scores, float) + rng.laplace(0.0, 2 * k * sensitivity / epsilon,
                                                            len(scores))
            return [int(i) for i in np.argsort(-noisy)[:k]]
        """,
    ),
    Wrong(
        "the chosen indices sorted",
        "in the order they were chosen",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            return sorted(peel(scores, k, epsilon / k, sensitivity, rng))
        """,
    ),
    Wrong(
        "the true top k, no noise",
        "not private",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            return [int(i) for i in np.argsort(-np.asarray(scores))[:k]]
        """,
    ),
    Wrong(
        "k independent draws without removing the winners",
        "leaves the race",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            everyone = list(range(len(scores)))
            return [int(exp_mech(scores, everyone, epsilon / k, sensitivity, rng))
                    for _ in range(k)]
        """,
    ),
]

RIGHT = [
    Right(
        "one-shot Gumbel noise of scale 2 k sensitivity / epsilon (the Gumbel-max trick)",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            noisy = np.asarray(scores, float) + rng.gumbel(0.0, 2 * k * sensitivity / epsilon,
                                                           size=len(scores))
            return np.argsort(-noisy)[:k].tolist()
        """,
    ),
    Right(
        "inverse-CDF sampling by hand over a shrinking dict of candidates",
        """
        def private_top_k(scores, k, *, epsilon, sensitivity, rng):
            weights = {i: float(s) for i, s in enumerate(scores)}
            out = []
            for _ in range(k):
                top = max(weights.values())
                w = {i: np.exp(epsilon / k * (s - top) / (2 * sensitivity))
                     for i, s in weights.items()}
                u, acc = rng.random() * sum(w.values()), 0.0
                for i, wi in w.items():
                    acc += wi
                    if u <= acc:
                        break
                out.append(i)
                del weights[i]
            return out
        """,
    ),
]

globals().update(
    challenge_tests("9.5", "09_dp_in_the_wild", prelude=PRELUDE, wrong=WRONG, right=RIGHT)
)
