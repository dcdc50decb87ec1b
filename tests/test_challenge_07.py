"""Challenge 7.5 (SISA for ridge regression): the reference passes, the blank exercise scores 0,
the usual bookkeeping mistakes fail with the hint naming them, and differently written SISA
implementations pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import numpy as np


def ridge(X, y, rows, lam, penalise_intercept=False):
    Xa = np.column_stack([np.ones(len(rows)), X[rows]])
    D = np.eye(Xa.shape[1]) if penalise_intercept else np.diag(np.r_[0.0, np.ones(X.shape[1])])
    return np.linalg.solve(Xa.T @ Xa + lam * D, Xa.T @ y[rows])
"""


# a correct SISA; the wrong answers written as ``edited(SISA, ...)`` are it with one mistake
SISA = """
def sisa_unlearning(X, y, requests, *, n_shards, lam, rng):
    n = len(y)
    parts = np.array_split(rng.permutation(n), n_shards)
    shard = np.empty(n, dtype=int)
    for s, part in enumerate(parts):
        shard[np.asarray(part, dtype=int)] = s
    kept = [sorted(np.flatnonzero(shard == s).tolist()) for s in range(n_shards)]
    original = [list(rows) for rows in kept]
    models = [np.array([ridge(X, y, kept[s], lam) for s in range(n_shards)])]
    retrained = []
    for r in requests:
        s = int(shard[r])
        kept[s] = [i for i in kept[s] if i != r]
        current = models[-1].copy()
        for q in [s]:  # only the shard that lost a row
            current[q] = ridge(X, y, kept[q], lam)
        models.append(current)
        retrained.append(np.array(kept[s]))
    return {"shard": shard, "models": np.array(models), "retrained": retrained}
"""


WRONG = [
    Wrong(
        "retrains every shard after each request",
        "about n / n_shards rows",
        edited(
            SISA,
            "for q in [s]:",
            "for q in range(n_shards):",
            (
                "retrained.append(np.array(kept[s]))",
                "retrained.append(np.array(sorted(i for q in range(n_shards) for i in kept[q])))",
            ),
        ),
    ),
    Wrong(
        "draws a shard for every row independently (unbalanced shards)",
        "equal size",
        edited(
            SISA,
            "np.array_split(rng.permutation(n), n_shards)",
            "[np.flatnonzero(labels == s) for labels in [rng.integers(0, n_shards, n)] for s in range(n_shards)]",
        ),
    ),
    Wrong(
        "a fixed rule, row i in shard i % n_shards",
        "lets anyone predict",
        edited(
            SISA,
            "np.array_split(rng.permutation(n), n_shards)",
            "[np.arange(s, n, n_shards) for s in range(n_shards)]",
        ),
    ),
    Wrong(
        "penalises the intercept",
        "intercept is not penalised",
        edited(
            SISA,
            "kept[s], lam)",
            "kept[s], lam, penalise_intercept=True)",
            ("kept[q], lam)", "kept[q], lam, penalise_intercept=True)"),
        ),
    ),
    Wrong(
        "earlier deletions come back (each request starts from the original shard)",
        "earlier deletions stay deleted",
        edited(SISA, "in kept[s] if", "in original[s] if"),
    ),
    Wrong(
        "removes the row at position r of the shortened shard instead of row r",
        "original x",
        edited(
            SISA,
            "[i for i in kept[s] if i != r]",
            "kept[s][: r % len(kept[s])] + kept[s][r % len(kept[s]) + 1 :]",
        ),
    ),
    Wrong(
        "retrains the shard but forgets to drop the row",
        "must not be among the rows",
        edited(SISA, "kept[s] = [i for i in kept[s] if i != r]", "pass"),
    ),
]

RIGHT = [
    Right(
        "per-shard normal equations, downdated by each deleted row",
        """
        def sisa_unlearning(X, y, requests, *, n_shards, lam, rng):
            n, d = X.shape
            Xa = np.column_stack([np.ones(n), X])
            D = np.diag(np.r_[0.0, np.ones(d)])
            order = rng.permutation(n)
            shard = np.zeros(n, dtype=int)
            bounds = np.linspace(0, n, n_shards + 1).round().astype(int)
            for s in range(n_shards):
                shard[order[bounds[s]:bounds[s + 1]]] = s
            A = [Xa[shard == s].T @ Xa[shard == s] + lam * D for s in range(n_shards)]
            b = [Xa[shard == s].T @ y[shard == s] for s in range(n_shards)]
            alive = np.ones(n, dtype=bool)
            models = [np.array([np.linalg.solve(A[s], b[s]) for s in range(n_shards)])]
            retrained = []
            for r in requests:
                s = shard[r]
                A[s] = A[s] - np.outer(Xa[r], Xa[r])
                b[s] = b[s] - Xa[r] * y[r]
                alive[r] = False
                step = models[-1].copy()
                step[s] = np.linalg.solve(A[s], b[s])
                models.append(step)
                retrained.append(np.flatnonzero((shard == s) & alive))
            return {"shard": shard, "models": np.stack(models), "retrained": retrained}
        """,
    ),
    Right(
        "a dict of shards keyed by number, sets of rows and a shuffled deal like cards",
        """
        def sisa_unlearning(X, y, requests, *, n_shards, lam, rng):
            deck = list(rng.permutation(len(y)))
            shards = {s: set(deck[s::n_shards]) for s in range(n_shards)}
            where = {int(i): s for s, rows in shards.items() for i in rows}
            def fit(rows):
                return ridge(X, y, sorted(rows), lam)
            state = {s: fit(rows) for s, rows in shards.items()}
            history = [np.array([state[s] for s in range(n_shards)])]
            used = []
            for r in requests:
                s = where[r]
                shards[s].remove(r)
                state[s] = fit(shards[s])
                history.append(np.array([state[q] for q in range(n_shards)]))
                used.append(sorted(shards[s]))
            shard = np.array([where[i] for i in range(len(y))])
            return {"shard": shard, "models": np.array(history), "retrained": used}
        """,
    ),
]

globals().update(challenge_tests("7.5", "07_unlearning", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
