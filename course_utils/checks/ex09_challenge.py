"""Challenge of exercise set 09: private top-k selection by peeling (9.5).

Releasing the k most common diagnoses (or search queries) of a data set privately: ``k`` rounds of
the exponential mechanism, each with ``epsilon / k`` (basic composition), each choosing among the
candidates not chosen yet with probability proportional to
``exp((epsilon / k) * score / (2 * sensitivity))``. Adding Gumbel noise of scale
``2 * k * sensitivity / epsilon`` to every score once and taking the ``k`` largest in order gives
exactly the same distribution (the Gumbel-max trick), so both pass.

The check computes the exact probability of every ordered outcome and compares the answer's
frequencies over thousands of runs with a chi-square test. When they differ it recognises the
usual variants - the whole epsilon in every round, the factor 2 missing, one-shot Laplace noise,
the indices sorted instead of in the order chosen, no noise at all - and names them.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from . import expect, question
from ._values import expect_reproducible

__all__: list[str] = []

#: A correct answer fails one distribution test with probability P_MIN (the seeds are fixed).
P_MIN = 1e-4
_CASES = [
    # scores, k, epsilon, sensitivity, runs
    (np.array([10.0, 9.0, 7.0, 3.0, 0.0]), 3, 3.0, 1.0, 3000),
    (np.array([40.0, 44.0, 41.0, 30.0, 43.0, 20.0]), 3, 6.0, 2.0, 3000),
]


def _peeling_law(scores: np.ndarray, k: int, factor: float) -> dict[tuple[int, ...], float]:
    """P[ordered outcome] when each round picks i w.p. proportional to exp(factor * score_i)."""
    law = {}
    for outcome in itertools.permutations(range(len(scores)), k):
        left = list(range(len(scores)))
        logp = 0.0
        for i in outcome:
            logp += factor * scores[i] - logsumexp(factor * scores[left])
            left.remove(i)
        law[outcome] = math.exp(logp)
    return law


def _laplace_law(scores: np.ndarray, k: int, scale: float, n: int = 200_000, seed: int = 99):
    """P[ordered outcome] of the top k after one-shot Laplace noise, by Monte Carlo."""
    rng = np.random.default_rng(seed)
    noisy = scores[None, :] + rng.laplace(0.0, scale, (n, len(scores)))
    top = np.argsort(-noisy, axis=1)[:, :k]
    keys, counts = np.unique(top, axis=0, return_counts=True)
    return {tuple(int(v) for v in key): c / n for key, c in zip(keys, counts, strict=True)}


def _chi2_p(counts: dict, law: dict, runs: int) -> float:
    """Chi-square p-value of observed ordered outcomes against ``law`` (small bins pooled)."""
    outcomes = sorted(set(law) | set(counts), key=lambda o: -law.get(o, 0.0))
    observed, expected = [], []
    pool_o, pool_e = 0.0, 0.0
    for o in outcomes:
        e = law.get(o, 0.0) * runs
        if e >= 5:
            observed.append(counts.get(o, 0))
            expected.append(e)
        else:
            pool_o += counts.get(o, 0)
            pool_e += e
    if pool_e > 0 or pool_o > 0:
        if pool_e < 1e-9:
            return 0.0 if pool_o > 0 else 1.0
        observed.append(pool_o)
        expected.append(pool_e)
    expected = np.array(expected) * (sum(observed) / sum(expected))
    return float(stats.chisquare(observed, expected).pvalue)


def _top(law: dict, n: int = 3) -> str:
    best = sorted(law.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{list(o)}: {p:.3f}" for o, p in best)


@question("9.5", points=4)
def _check_private_top_k(private_top_k: Any) -> None:
    """Return k distinct indices, in the order chosen, by k rounds of the exponential mechanism with
    epsilon / k each (or the equivalent one-shot Gumbel noise)."""

    def pick(scores, k, epsilon, sensitivity, rng):
        out = private_top_k(scores.copy(), k, epsilon=epsilon, sensitivity=sensitivity, rng=rng)
        hint = "Return a list of k candidate indices (ints), in the order they were chosen."
        try:
            got = [int(v) for v in np.asarray(out).reshape(-1)]
        except Exception:
            expect(
                False,
                "private_top_k returns k indices",
                expected=f"{k} ints",
                got=type(out).__name__,
                hint=hint,
            )
        expect(
            len(got) == k and all(0 <= v < len(scores) for v in got),
            "private_top_k returns k candidate indices",
            expected=f"{k} ints in 0..{len(scores) - 1}",
            got=got,
            hint=hint,
        )
        expect(
            len(set(got)) == k,
            "the k indices are distinct",
            got=got,
            hint="A candidate chosen in one round leaves the race: run the next round on the "
            "candidates not chosen yet.",
        )
        return tuple(got)

    scores = _CASES[0][0]
    expect_reproducible(
        lambda seed: pick(scores, 2, 2.0, 1.0, np.random.default_rng(seed)),
        "the randomness comes from the rng argument (same seed, same output)",
        seeds=[3],
        hint="Draw every random number with the `rng` you are given, not np.random.",
    )

    for case, (scores, k, epsilon, sensitivity, runs) in enumerate(_CASES):
        label = f"scores {scores.tolist()}, k={k}, epsilon={epsilon:g}, sensitivity={sensitivity:g}"
        rng = np.random.default_rng(700 + case)
        seen: dict[tuple[int, ...], int] = {}
        for _ in range(runs):
            o = pick(scores, k, epsilon, sensitivity, rng)
            seen[o] = seen.get(o, 0) + 1
        law = _peeling_law(scores, k, epsilon / k / (2 * sensitivity))
        if _chi2_p(seen, law, runs) > P_MIN:
            continue
        freq = {o: c / runs for o, c in seen.items()}
        expect(
            len(seen) > 1,
            f"the selection is random ({label})",
            expected=_top(law),
            got=_top(freq),
            hint="Returning the true top k is not private: add noise (each round is an "
            "exponential mechanism).",
        )
        # the usual mistakes, each as the law of the selections it produces, tried in order
        mistakes = [
            (
                _peeling_law(scores, k, epsilon / (2 * sensitivity)),
                "the distribution of the selections",
                "The budget is epsilon for ALL k rounds together: "
                "give each round epsilon / k (basic composition), i.e. probabilities proportional "
                "to exp((epsilon / k) * score / (2 * sensitivity)).",
            ),
            (
                _peeling_law(scores, k, epsilon / k / sensitivity),
                "the distribution of the selections",
                "Keep the factor 2 of the exponential mechanism: "
                "exp(epsilon_round * score / (2 * sensitivity)); a neighbour can move the score "
                "gap between two candidates by 2 * sensitivity.",
            ),
            (
                _laplace_law(scores, k, 2 * k * sensitivity / epsilon),
                "the distribution of the selections",
                "One-shot LAPLACE noise on the scores is a different mechanism (with a "
                "different privacy analysis). Use k rounds of the exponential mechanism, or "
                "GUMBEL noise of scale 2 * k * sensitivity / epsilon (rng.gumbel): the "
                "Gumbel-max trick gives exactly the exponential mechanism.",
            ),
        ]
        if all(o == tuple(sorted(o)) for o in seen):  # sorted every time: the right law, unordered
            unordered = {}
            for o, p in law.items():
                key = tuple(sorted(o))
                unordered[key] = unordered.get(key, 0.0) + p
            mistakes.append(
                (
                    unordered,
                    "the order of the selections",
                    "Return the indices in the order they were chosen (the first round's "
                    "winner first), not sorted.",
                )
            )
        for wrong_law, what, hint in mistakes:
            if _chi2_p(seen, wrong_law, runs) > P_MIN:
                expect(False, f"{what} ({label})", expected=_top(law), got=_top(freq), hint=hint)
        expect(
            False,
            f"the distribution of the selections ({label})",
            expected=_top(law) + f" ... (chi-square p > {P_MIN:g})",
            got=_top(freq),
            hint="Each round: among the candidates not chosen yet, pick i with probability "
            "proportional to exp((epsilon / k) * scores[i] / (2 * sensitivity)) - subtract "
            "the largest exponent before exp to avoid overflow.",
        )
