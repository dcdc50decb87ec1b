"""Challenge of exercise set 01: rebuild a whole team from the published soccer model (1.5).

The learner gets only the model - a function ``share(x, y)`` giving team 0's share of the
``1 / d**3`` weighted vote at field positions - and the number of team-0 players, and must return
where every one of them stands. The check hides random layouts (with a player hugging an
opponent, two team mates close together and a player by the touchline), matches the estimates to
the hidden players one to one, and requires every player found within :data:`TOLERANCE` metres.
The usual shortcuts are recognised and named: the ``n`` highest grid cells (several on one
player), minima instead of maxima (team 1), swapped coordinates, grid indices instead of metres,
and a coarse grid never refined.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import optimize

from . import expect, question
from ._values import as_floats

__all__: list[str] = []

#: The field of notebook 01, metres.
WIDTH, HEIGHT = 120.0, 75.0
#: Every team-0 player must have an estimate this close (metres).
TOLERANCE = 0.1


def _model(positions: np.ndarray, teams: np.ndarray, power: float = 3.0):
    """``share(x, y)``: team 0's share of the vote, vectorised; exactly on a player it is that
    player's team (the limit of the formula)."""
    positions = np.asarray(positions, float)
    team0 = np.asarray(teams) == 0

    def share(x: Any, y: Any) -> Any:
        qx, qy = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        d = np.hypot(qx[..., None] - positions[:, 0], qy[..., None] - positions[:, 1])
        on = d < 1e-12
        with np.errstate(divide="ignore"):
            w = np.where(on.any(-1, keepdims=True), on.astype(float), 1.0 / d**power)
        out = (w * team0).sum(-1) / w.sum(-1)
        return float(out) if np.ndim(out) == 0 else out

    return share


def _layout(seed: int, n0: int, n1: int, min_gap: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pts: list[np.ndarray] = []
    while len(pts) < n0 + n1:
        p = rng.uniform([3.0, 3.0], [WIDTH - 3.0, HEIGHT - 3.0])
        if all(np.hypot(*(p - q)) >= min_gap for q in pts):
            pts.append(p)
    return np.array(pts), np.array([0] * n0 + [1] * n1)


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    cases = []
    pos, teams = _layout(101, 11, 11)
    cases.append(("11 against 11", pos, teams))
    # the awkward spots: a team-0 player 1.5 m from an opponent, two team mates 2.5 m apart,
    # one on the touchline's edge of the field
    pos, teams = _layout(202, 8, 9, min_gap=8.0)
    extra = np.array([[60.0, 40.0], [61.5, 40.0], [20.0, 20.0], [22.5, 20.0], [0.6, 37.0]])
    extra_teams = np.array([0, 1, 0, 0, 0])
    keep = np.min(np.hypot(*(pos[:, None, :] - extra[None]).transpose(2, 0, 1)), axis=1) > 6.0
    cases.append(
        (
            "a player next to an opponent, two team mates close together, one by the touchline",
            np.vstack([pos[keep], extra]),
            np.concatenate([teams[keep], extra_teams]),
        )
    )
    pos, teams = _layout(303, 5, 7)
    cases.append(("5 against 7", pos, teams))
    return cases


def _as_positions(value: Any, n: int) -> np.ndarray:
    hint = "Return a numpy array of shape (n, 2): one (x, y) row in metres per team-0 player."
    arr = as_floats(
        value,
        "find_team0 returns an (n, 2) array",
        expected=f"shape ({n}, 2)",
        got=value,
        hint=hint,
    )
    expect(
        arr.shape == (n, 2),
        "find_team0 returns one (x, y) row per team-0 player",
        expected=f"shape ({n}, 2)",
        got=f"shape {arr.shape}",
        hint=hint,
    )
    expect(
        np.all(np.isfinite(arr)),
        "the positions are finite numbers",
        got="NaN or inf",
        hint="A point exactly on a player is fine for the model; look for a division by zero "
        "in your own code.",
    )
    return arr


def _matched(est: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Distance from each true player to the estimate matched to it (one-to-one)."""
    d = np.hypot(*(truth[:, None, :] - est[None]).transpose(2, 0, 1))
    rows, cols = optimize.linear_sum_assignment(d)
    out = np.empty(len(truth))
    out[rows] = d[rows, cols]
    return out


def _fmt(points: np.ndarray) -> str:
    return ", ".join(f"({x:.1f}, {y:.1f})" for x, y in np.asarray(points)[:4])


@question("1.5", points=4)
def _check_find_team0(find_team0: Any) -> None:
    """Return the (x, y) positions, in metres, of all n team-0 players from the model share(x, y)."""
    for label, pos, teams in _cases():
        truth = pos[teams == 0]
        n = len(truth)
        est = _as_positions(find_team0(_model(pos, teams), n), n)
        case = f"{label} ({n} team-0 players)"
        far = _matched(est, truth)
        if far.max() > TOLERANCE:
            swapped = _matched(est[:, ::-1], truth)
            expect(
                swapped.max() > 1.0,
                f"columns are (x, y) ({case})",
                expected=f"e.g. {_fmt(truth[:2])}",
                got=_fmt(est[:2]),
                hint="Your rows are (y, x): a grid from np.meshgrid(xs, ys) is indexed "
                "[row = y, column = x]. Return x first.",
            )
            expect(
                est.max() <= WIDTH + 1 and est.min() >= -1,
                f"positions are in metres ({case})",
                expected=f"x in [0, {WIDTH:g}], y in [0, {HEIGHT:g}]",
                got=_fmt(est),
                hint="Convert grid indices back to metres: xs[j], ys[i].",
            )
            team1 = pos[teams == 1]
            near1 = np.hypot(*(est[:, None, :] - team1[None]).transpose(2, 0, 1)).min(1) < 1.0
            expect(
                near1.mean() < 0.5,
                f"the estimates are team-0 players ({case})",
                expected="points where team 0's share is close to 1",
                got=f"{int(near1.sum())} of {n} estimates sit on team-1 players",
                hint="Team 0's players are where the share is highest (close to 1): look for "
                "maxima of share, not minima.",
            )
            gaps = np.hypot(*(est[:, None, :] - est[None]).transpose(2, 0, 1))
            gaps[np.diag_indices(n)] = np.inf
            expect(
                gaps.min() > 1.0,
                f"one estimate per player ({case})",
                expected="n different players",
                got=f"estimates {gaps.min():.2f} m apart, e.g. {_fmt(est[np.argsort(gaps.min(1))[:2]])}",
                hint="Several of your estimates sit on the same player: the n highest grid "
                "cells crowd around the strongest peaks. Keep only local maxima (higher than "
                "all their neighbours), or suppress the neighbourhood of each peak you take.",
            )
            nearest = np.hypot(*(truth[:, None, :] - est[None]).transpose(2, 0, 1)).min(1)
            missed = truth[nearest > 1.5]
            expect(
                len(missed) == 0,
                f"every team-0 player is found ({case})",
                expected=f"an estimate near each of the {n} players",
                got=f"no estimate within 1.5 m of {_fmt(missed)}",
                hint="A player next to an opponent, or close to a team mate, has a small "
                "island of its own: scan the whole field (edges included) on a grid finer "
                "than the gaps between players, about 0.5 m.",
            )
            expect(
                False,
                f"every player within {TOLERANCE} m ({case})",
                expected=f"matched distances <= {TOLERANCE} m",
                got=f"largest distance {far.max():.2f} m",
                hint="You have found every player, roughly: refine each peak, e.g. scan a "
                "small, finer grid around it and repeat (or maximise share with "
                "scipy.optimize.minimize from the peak).",
            )
