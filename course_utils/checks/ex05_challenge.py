"""Challenge of exercise set 05: robust aggregation with the weighted geometric median (5.6).

RFA (Pillutla, Kakade and Harchaoui, 2022) aggregates client updates by their weighted geometric
median, ``argmin_z sum_k w_k ||z - u_k||``: unlike the coordinate-wise median it does not depend
on the coordinate system, and less than half of the total weight can be arbitrary without moving it
far. It has no closed form; Weiszfeld's algorithm (a re-weighted mean, repeated) finds it.

The check computes the true minimum itself (Weiszfeld run to convergence, and every update tried
as a candidate, since the minimum may sit exactly on one) and requires the answer's objective to
be within a relative 1e-6 of it, on cases in 2 to 100 dimensions with equal and unequal weights,
a majority of clients sending the same update, and 8 of 20 clients attacking. When the answer
falls short it recognises what was returned instead: the (weighted) mean, the coordinate-wise
median, the best single update, the unweighted geometric median, NaN from a division by zero on
an update, or a Weiszfeld run stopped too early.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect, question
from ._values import call_unchanged

__all__: list[str] = []

#: Allowed relative excess of the answer's objective over the minimum.
RTOL = 1e-6


def _objective(z: np.ndarray, U: np.ndarray, w: np.ndarray) -> float:
    return float(w @ np.linalg.norm(U - z, axis=1))


def _geometric_median(U: np.ndarray, w: np.ndarray) -> np.ndarray:
    z = w @ U / w.sum()
    for _ in range(10_000):
        d = np.maximum(np.linalg.norm(U - z, axis=1), 1e-300)
        new = (w / d) @ U / (w / d).sum()
        if np.linalg.norm(new - z) <= 1e-15 * (1.0 + np.linalg.norm(z)):
            z = new
            break
        z = new
    best = min([z, *U], key=lambda c: _objective(c, U, w))
    return np.array(best, dtype=float)


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    gen = np.random.default_rng(55)
    cases = [("7 updates in 2-D, equal weights", gen.normal(0, 1, (7, 2)), np.ones(7))]
    U = gen.standard_t(2, (12, 50))  # heavy tails: mean, median and medoid all differ
    cases.append(
        (
            "12 updates in 50-D, clients of 10 to 500 examples",
            U,
            gen.integers(10, 501, 12).astype(float),
        )
    )
    v1, v2 = gen.normal(0, 1, 3), gen.normal(0, 1, 3)
    U = np.array([np.zeros(3), v1, -v1, v2, -v2]) + 1.0  # the mean is an update: d = 0 at once
    cases.append(("an update at the centre of two opposite pairs (3-D)", U, np.ones(5)))
    U = np.vstack([np.tile(gen.normal(0, 1, 5), (6, 1)), gen.normal(3, 1, (4, 5))])
    cases.append(("6 of 10 clients send the same update (5-D)", U, np.ones(10)))
    honest = gen.normal(0.5, 1.0, (12, 100))
    attack = np.tile(-100.0 * honest.mean(0), (8, 1)) + gen.normal(0, 0.01, (8, 100))
    cases.append(
        (
            "8 of 20 clients flip and scale the honest mean x100 (100-D)",
            np.vstack([honest, attack]),
            np.ones(20),
        )
    )
    return cases


def _coordinate_median(U: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.median(U, axis=0)


@question("5.6", points=4)
def _check_geometric_median(geometric_median_agg: Any) -> None:
    """Return the weighted geometric median argmin_z sum_k weights[k] * ||z - updates[k]|| (RFA),
    e.g. by Weiszfeld's algorithm."""
    for label, U, w in _cases():
        out = call_unchanged(
            geometric_median_agg,
            U,
            w,
            what=f"the inputs are not modified ({label})",
            hint="Work on copies: do not change `updates` or `weights` in place.",
        )
        try:
            z = np.asarray(out, dtype=float)
        except Exception:
            z = np.full(1, np.nan)
        expect(
            z.shape == (U.shape[1],),
            f"one aggregated vector of shape (dim,) ({label})",
            expected=f"shape ({U.shape[1]},)",
            got=f"shape {np.shape(out)}",
            hint="Return one vector with an entry per coordinate, not one per client.",
        )
        best = _geometric_median(U, w)
        f_best = _objective(best, U, w)
        if not np.all(np.isfinite(z)):
            expect(
                False,
                f"the aggregate is finite ({label})",
                expected="finite numbers",
                got="NaN or inf",
                hint="Weiszfeld's weights w_k / ||z - u_k|| divide by zero when the estimate "
                "lands exactly on an update - which happens when many clients send the same "
                "one. Floor the distances (np.maximum(d, 1e-12)), or stop when the estimate "
                "reaches an update.",
            )
        f = _objective(z, U, w)
        if f <= f_best * (1 + RTOL) + 1e-12:
            continue
        lookalikes = [
            (
                "the weighted mean",
                w @ U / w.sum(),
                "The mean is what an attacker moves at will. The geometric median minimises the "
                "weighted sum of DISTANCES (not squared distances): iterate Weiszfeld's step "
                "z <- sum_k (w_k / d_k) u_k / sum_k (w_k / d_k), d_k = ||z - u_k||.",
            ),
            (
                "the mean",
                U.mean(0),
                "The mean is what an attacker moves at will. The geometric "
                "median minimises the weighted sum of distances: iterate Weiszfeld's step.",
            ),
            (
                "the coordinate-wise median",
                _coordinate_median(U, w),
                "The coordinate-wise median is not the geometric median: it treats every "
                "coordinate on its own and changes when the updates are rotated. Minimise the sum "
                "of Euclidean distances to whole vectors (Weiszfeld's algorithm).",
            ),
            (
                "the best single update",
                min(U, key=lambda c: _objective(c, U, w)),
                "The geometric median is usually not one of the updates (the medoid): search over "
                "all vectors, e.g. with Weiszfeld's re-weighted mean.",
            ),
            (
                "the unweighted geometric median",
                _geometric_median(U, np.ones(len(U))),
                "Weight each client by weights[k] (its number of examples): minimise "
                "sum_k weights[k] * ||z - u_k||, i.e. use weights[k] / d_k in Weiszfeld's step.",
            ),
        ]
        for name, other, hint in lookalikes:
            if np.allclose(z, other, rtol=1e-6, atol=1e-9) and not np.allclose(
                other, best, rtol=1e-6, atol=1e-9
            ):
                expect(
                    False,
                    f"the weighted geometric median ({label})",
                    expected=f"sum of weighted distances {f_best:.6g}",
                    got=f"{f:.6g}: your aggregate is {name}",
                    hint=hint,
                )
        expect(
            False,
            f"the weighted geometric median ({label})",
            expected=f"sum of weighted distances {f_best:.6g} (within a relative {RTOL:g})",
            got=f"{f:.6g}, at distance {np.linalg.norm(z - best):.3g} from the minimiser",
            hint="Close but not there: iterate Weiszfeld's step until the estimate stops "
            "moving (e.g. until it moves by less than 1e-10 times its size, with a few "
            "thousand iterations at most), starting from the weighted mean.",
        )
