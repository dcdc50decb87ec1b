"""Challenge of exercise set 07: SISA - exact unlearning that retrains one shard (7.5).

The learner writes the whole SISA bookkeeping for ridge regression: split the rows at random
into shards of (almost) equal size, fit one model per shard, and serve a sequence of deletion
requests by retraining only the shard that held the deleted row, without it and without any row
deleted before. The answer reports, for every stage, every shard's parameters and, for every
request, which rows the retraining used - so the check can verify each claim from the data:

* the shards partition the rows, are balanced and are drawn with ``rng``;
* every shard model is exactly the ridge fit on the rows the shard holds at that stage;
* after a request, every other shard model is unchanged, and the retraining used exactly the
  remaining rows of one shard (the cost: about n / n_shards rows instead of n).

Expected values are computed here with numpy, never with :mod:`course_utils.unlearning`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect, question
from ._ex07_cases import _ridge, _ridge_penalised_intercept

__all__: list[str] = []


def _problem(seed: int, n: int = 60, d: int = 4):
    gen = np.random.default_rng(seed)
    X = gen.normal(0.0, 1.0, (n, d))
    y = X @ gen.normal(0.0, 2.0, d) + 3.0 + gen.normal(0.0, 0.5, n)
    requests = [int(i) for i in gen.choice(n, size=12, replace=False)]
    return X, y, requests


def _read(out: Any, n: int, d1: int, n_shards: int, k: int):
    hint = (
        'Return a dict {"shard": array of n shard numbers, "models": array of shape '
        '(len(requests) + 1, n_shards, d + 1), "retrained": list of len(requests) arrays of row '
        "indices}."
    )
    expect(
        isinstance(out, dict) and {"shard", "models", "retrained"} <= set(out),
        "sisa_unlearning returns a dict with 'shard', 'models' and 'retrained'",
        got=type(out).__name__ if not isinstance(out, dict) else sorted(out),
        hint=hint,
    )
    try:
        shard = np.asarray(out["shard"])
        models = np.asarray(out["models"], dtype=float)
        retrained = [np.asarray(r).astype(int).reshape(-1) for r in out["retrained"]]
    except Exception:
        expect(False, "the dict's entries are arrays of numbers", hint=hint)
    expect(
        shard.shape == (n,),
        "'shard' holds one shard number per row",
        expected=f"shape ({n},)",
        got=f"shape {shard.shape}",
        hint=hint,
    )
    expect(
        models.shape == (k + 1, n_shards, d1),
        "'models' holds every shard's parameters before the requests and after each one",
        expected=f"shape ({k + 1}, {n_shards}, {d1})",
        got=f"shape {models.shape}",
        hint=hint,
    )
    expect(
        len(retrained) == k,
        "'retrained' lists the rows used for each request's retraining",
        expected=f"{k} arrays",
        got=f"{len(retrained)}",
        hint=hint,
    )
    return shard, models, retrained


@question(
    "7.5",
    points=4,
    reference=(
        "course_utils.unlearning.sisa.sisa_train",
        "course_utils.unlearning.sisa.sisa_remove",
    ),
)
def _check_sisa(sisa_unlearning: Any) -> None:
    """SISA for ridge: random balanced shards, one model per shard, and serve deletion requests by
    retraining only the shard that held the row."""
    n_shards, lam = 4, 2.0
    X, y, requests = _problem(7)
    n, d1, k = len(y), X.shape[1] + 1, len(requests)

    def run(seed):
        out = sisa_unlearning(
            X.copy(),
            y.copy(),
            list(requests),
            n_shards=n_shards,
            lam=lam,
            rng=np.random.default_rng(seed),
        )
        return _read(out, n, d1, n_shards, k)

    shard, models, retrained = run(0)

    # the shards: a balanced random partition
    expect(
        np.isin(shard, np.arange(n_shards)).all(),
        "shard numbers are 0 .. n_shards - 1",
        got=sorted(set(np.unique(shard).tolist()))[:8],
        hint="Number the shards 0 to n_shards - 1.",
    )
    sizes = np.bincount(shard.astype(int), minlength=n_shards)
    expect(
        sizes.max() - sizes.min() <= 1,
        "the shards have (almost) equal sizes",
        expected=f"{n // n_shards} or {n // n_shards + 1} rows each",
        got=sizes.tolist(),
        hint="SISA splits the data into shards of equal size: shuffle the row indices with "
        "rng.permutation(n) and cut them into n_shards parts (np.array_split), rather than "
        "drawing a shard for every row independently.",
    )
    other, _, _ = run(1)
    expect(
        not np.array_equal(other, shard),
        "the shards are drawn at random with rng",
        expected="different shards for different seeds",
        got="the same shards",
        hint="Draw the assignment with the `rng` you are given (rng.permutation): a fixed "
        "rule such as i % n_shards lets anyone predict who shares a shard.",
    )

    # the initial models
    alive = np.ones(n, dtype=bool)
    for s in range(n_shards):
        rows = (shard == s) & alive
        want = _ridge(X[rows], y[rows], lam)
        if not np.allclose(models[0, s], want, rtol=1e-6, atol=1e-8):
            hint = (
                "Shard s's model is the ridge fit on exactly the rows with shard == s: "
                "theta = solve(Xa.T Xa + lam D, Xa.T y) with Xa = [1, X] and "
                "D = diag(0, 1, ..., 1)."
            )
            if np.allclose(
                models[0, s], _ridge_penalised_intercept(X[rows], y[rows], lam), rtol=1e-6
            ):
                hint = (
                    "The intercept is not penalised: use D = diag(0, 1, ..., 1), not the "
                    "identity, in Xa.T Xa + lam D."
                )
            expect(
                False,
                f"shard {s}'s model before any request",
                expected=np.round(want, 4),
                got=np.round(models[0, s], 4),
                hint=hint,
            )

    # the requests
    for t, r in enumerate(requests):
        s = int(shard[r])
        alive[r] = False
        case = f"request {t + 1}: delete row {r} (shard {s})"
        unchanged = [q for q in range(n_shards) if q != s]
        used = np.sort(retrained[t])
        rows = np.flatnonzero((shard == s) & alive)
        expect(
            np.array_equal(models[t + 1, unchanged], models[t, unchanged]),
            f"the other shards' models are untouched ({case})",
            hint="Only the shard that held the row is retrained; every other shard model "
            "stays exactly as it was.",
        )
        if not np.array_equal(used, rows):
            previous = sorted(set(q for q in requests[:t] if shard[q] == s) & set(used))
            if len(used) > len(rows) + 1:
                hint = (
                    "Retrain only the shard that held the record: SISA's point is that a "
                    "deletion costs about n / n_shards rows, not n."
                )
            elif r in used and len(used) == len(rows) + 1:
                hint = "The deleted row itself must not be among the rows you retrain on."
            elif previous:
                hint = (
                    f"Earlier deletions stay deleted: row(s) {previous} were removed by earlier "
                    "requests and came back."
                )
            else:
                hint = (
                    "Requests are indices into the ORIGINAL X: keep each shard's original row "
                    "indices and remove the requested one by value, not by its position in a "
                    "shortened array."
                )
            expect(
                False,
                f"the retraining used exactly the shard's remaining rows ({case})",
                expected=f"{len(rows)} rows: {rows[:8].tolist()}...",
                got=f"{len(used)} rows: {used[:8].tolist()}...",
                hint=hint,
            )
        want = _ridge(X[rows], y[rows], lam)
        expect(
            not np.allclose(models[t + 1, s], models[t, s]),
            f"the deleted row's shard is retrained ({case})",
            hint="Refit the shard's model without the row; the old model still remembers it.",
        )
        expect(
            np.allclose(models[t + 1, s], want, rtol=1e-6, atol=1e-8),
            f"the retrained shard model is the ridge fit on its remaining rows ({case})",
            expected=np.round(want, 4),
            got=np.round(models[t + 1, s], 4),
            hint="Refit with the same ridge as before (intercept not penalised) on the rows "
            "you listed.",
        )
