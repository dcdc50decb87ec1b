"""Challenge 1.5 (rebuild team 0 from the published soccer model): the reference passes, the
blank exercise scores 0, the usual shortcuts fail with the hint naming their mistake, and answers
written very differently pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests

# helpers a learner might write first; the answers below build on them
PRELUDE = """
import numpy as np


def grid_of(share, step):
    xs, ys = np.arange(0, 120.01, step), np.arange(0, 75.01, step)
    return xs, ys, share(xs[None, :], ys[:, None])


def local_maxima(grid, xs, ys, n, sign=1.0):
    g = sign * grid
    padded = np.pad(g, 1, constant_values=-np.inf)
    around = [padded[1 + i : 1 + i + len(ys), 1 + j : 1 + j + len(xs)]
              for i in (-1, 0, 1) for j in (-1, 0, 1) if i or j]
    rows, cols = np.nonzero((g >= np.max(around, axis=0)) & (g > sign * 0.5))
    found = []
    for k in np.argsort(-g[rows, cols]):
        p = np.array([xs[cols[k]], ys[rows[k]]])
        if all(np.hypot(*(p - q)) > 1.0 for q in found):
            found.append(p)
    return np.array(found[:n])
"""

WRONG = [
    Wrong(
        "the n highest grid cells, no local maxima",
        "sit on the same player",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 0.5)
            rows, cols = np.unravel_index(np.argsort(grid.ravel())[-n:], grid.shape)
            return np.column_stack([xs[cols], ys[rows]])
        """,
    ),
    Wrong(
        "minima of the share (team 1's players)",
        "not minima",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 0.1)
            return local_maxima(grid, xs, ys, n, sign=-1.0)
        """,
    ),
    Wrong(
        "local maxima of a 1 m grid, never refined",
        "refine each peak",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 1.0)
            return local_maxima(grid, xs, ys, n)
        """,
    ),
    Wrong(
        "rows are (y, x)",
        "return x first",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 0.1)
            return local_maxima(grid, xs, ys, n)[:, ::-1]
        """,
    ),
    Wrong(
        "grid indices instead of metres",
        "back to metres",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 0.1)
            return np.round(local_maxima(grid, xs, ys, n) / 0.1)
        """,
    ),
    Wrong(
        "a 3 m grid misses the small islands",
        "small island",
        """
        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 3.0)
            found = local_maxima(grid, xs, ys, n)
            out = np.full((n, 2), 60.0)
            out[: len(found)] = found
            return out
        """,
    ),
]

RIGHT = [
    Right(
        "a 1 m grid's local maxima polished by scipy's Nelder-Mead",
        """
        from scipy.optimize import minimize


        def find_team0(share, n):
            xs, ys, grid = grid_of(share, 1.0)
            polished = []
            for p in local_maxima(grid, xs, ys, 10 * n):
                res = minimize(lambda q: -share(q[0], q[1]), p, method="Nelder-Mead",
                               options={"xatol": 1e-5, "fatol": 1e-15,
                                        "initial_simplex": [p, p + [0.3, 0], p + [0, 0.3]]})
                if all(np.hypot(*(res.x - q)) > 0.5 for q in polished):
                    polished.append(res.x)
            polished.sort(key=lambda q: -share(q[0], q[1]))
            return np.array(polished[:n])
        """,
    ),
    Right(
        "hill climbing from every point of a 1.5 m grid at once, then clustering",
        """
        def find_team0(share, n):
            x, y = np.meshgrid(np.arange(0, 120.01, 1.5), np.arange(0, 75.01, 1.5))
            x, y = x.ravel(), y.ravel()
            moves = np.array([(0, 0), (-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1),
                              (1, 0), (1, 1)], float)  # staying first: ties keep still
            step = np.full(len(x), 0.5)  # each climber has its own step, halved when stuck
            for _ in range(200):
                active = np.nonzero(step > 1e-4)[0]
                if len(active) == 0:
                    break
                cand_x = np.clip(x[active, None] + step[active, None] * moves[:, 0], 0, 120)
                cand_y = np.clip(y[active, None] + step[active, None] * moves[:, 1], 0, 75)
                best = np.argmax(share(cand_x, cand_y), axis=1)
                x[active] = cand_x[np.arange(len(active)), best]
                y[active] = cand_y[np.arange(len(active)), best]
                step[active] = np.where(best == 0, step[active] / 2, step[active])
            tops = []
            for i in np.argsort(-share(x, y)):
                p = np.array([x[i], y[i]])
                if all(np.hypot(*(p - q)) > 0.5 for q in tops):
                    tops.append(p)
                if len(tops) == n:
                    break
            return np.array(tops)
        """,
    ),
]

globals().update(challenge_tests("1.5", "01_motivation", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
