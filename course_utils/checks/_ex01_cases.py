"""Inputs and reference values of the exercise-set-01 checks: the weighted vote and its usual
mistakes, leave-one-out slopes, the flexible salary model, and the rules of who leaks more.

Private to :mod:`course_utils.checks.ex01_motivation` (kept apart so that each module stays short).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..data import pair_players, salary_view

__all__ = [
    "FIELD_HEIGHT",
    "LEAK_RULES",
    "PatchModel",
    "leak_cases",
    "leak_truth",
    "loo",
    "loo_mistakes",
    "pick",
    "salary_cases",
    "share",
    "share_mistakes",
    "slope",
    "weights",
]

FIELD_HEIGHT = 75.0


def weights(positions: Any, point: Any, power: float, metric: str = "l2") -> np.ndarray:
    diff = np.asarray(positions, float) - np.asarray(point, float)
    d = np.abs(diff).sum(1) if metric == "l1" else np.hypot(*diff.T)
    return 1.0 / np.maximum(d, 1e-12) ** power


def share(positions: np.ndarray, teams: np.ndarray, point: Any, power: float) -> float:
    w = weights(positions, point, power)
    return float(w[np.asarray(teams) == 0].sum() / w.sum())


def share_mistakes(positions: np.ndarray, teams: np.ndarray, point: Any, power: float) -> list:
    """(value, what, hint) of the usual mistakes at one point."""
    w = weights(positions, point, power)
    zero = teams == 0
    share = w[zero].sum() / w.sum()
    w_l1 = weights(positions, point, power, "l1")
    return [
        (
            1 - share,
            "share of team 0, not team 1",
            "You returned team 1's share: sum the weights of the players with team == 0.",
        ),
        (
            weights(positions, point, -power)[zero].sum() / weights(positions, point, -power).sum(),
            "closer players weigh more",
            "The weight is 1 / d**power (near players dominate), not d**power.",
        ),
        (
            weights(positions, point, 2 * power)[zero].sum()
            / weights(positions, point, 2 * power).sum(),
            "d is the Euclidean distance",
            "You raised the squared distance to the power: use d = sqrt(dx**2 + dy**2).",
        ),
        (
            w_l1[zero].sum() / w_l1.sum(),
            "d is the Euclidean distance",
            "You used |dx| + |dy|: the distance is Euclidean, d = sqrt(dx**2 + dy**2).",
        ),
        (
            w[zero].sum(),
            "the weights are normalised",
            "You returned team 0's total weight: divide it by the total weight of all players.",
        ),
        (
            w[zero].mean() / w.mean(),
            "a share of the summed weights",
            "Sum the weights (team 0's sum / everyone's sum); averages divide by different "
            "numbers of players.",
        ),
        (
            100 * share,
            "a share between 0 and 1",
            "Return a fraction between 0 and 1, not a percentage.",
        ),
    ]


def slope(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def loo(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    full = slope(x, y)
    return np.array([full - slope(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])


def loo_mistakes(x: np.ndarray, y: np.ndarray) -> list:
    exp = loo(x, y)

    def icpt(a, b):
        return b.mean() - slope(a, b) * a.mean()

    without = np.array([slope(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])
    return [
        (
            np.zeros_like(exp),
            "removing a point changes the slope",
            "Drop point i from BOTH x and y (np.delete(x, i)) before refitting.",
        ),
        (
            -exp,
            "sign: slope(all) - slope(without i)",
            "You computed slope(without i) - slope(all); flip the sign.",
        ),
        (
            np.array([icpt(x, y) - icpt(np.delete(x, i), np.delete(y, i)) for i in range(len(x))]),
            "the slope, not the intercept",
            "np.polyfit(x, y, 1) returns [slope, intercept]: take element 0.",
        ),
        (
            np.roll(exp, 1),
            "entry i belongs to point i",
            "Off by one: entry i must leave out exactly point i (check your index range).",
        ),
        (
            np.roll(exp, -1),
            "entry i belongs to point i",
            "Off by one: entry i must leave out exactly point i (check your index range).",
        ),
        (
            np.abs(exp),
            "the influence keeps its sign",
            "Do not take abs(): a point can pull the slope down (negative influence).",
        ),
        (
            without,
            "the influence is a difference of slopes",
            "You returned slope(without i) itself: subtract it from slope(all points).",
        ),
    ]


class PatchModel:
    """The flexible model of notebook 01 on the salary view, ``model(years, salary) -> share``.

    It remembers the tenures it was asked about, so that a wrong answer's hint can say that the
    model was queried at the wrong tenure or with its arguments swapped.
    """

    def __init__(self, years: np.ndarray, salary: np.ndarray, groups: np.ndarray) -> None:
        self.px = years * 6.0
        self.py = (90_000.0 - salary) / 50_000.0 * FIELD_HEIGHT
        self.groups = groups
        self.asked_years: list[float] = []

    def __call__(self, at_years: Any, at_salary: Any) -> Any:
        qy_years = np.asarray(at_years, float)
        self.asked_years.extend(np.unique(qy_years).tolist()[:5])
        qx = qy_years * 6.0
        qy = (90_000.0 - np.asarray(at_salary, float)) / 50_000.0 * FIELD_HEIGHT
        d = np.hypot(qx[..., None] - self.px, qy[..., None] - self.py)
        w = 1.0 / np.maximum(d, 1e-9) ** 3.0
        share = (w * (self.groups == 0)).sum(-1) / w.sum(-1)
        return float(share) if np.ndim(share) == 0 else share


def salary_cases() -> list[tuple[float, float, PatchModel]]:
    rng = np.random.default_rng(13)
    out = []
    for target_years, target_salary in [
        (0.5, 71_000.0),
        (0.5, 46_500.0),
        (19.5, 83_000.0),
        (10.0, 52_000.0),
    ]:
        # the target is the only group-0 person near `target_years`; group 1 surrounds them
        others_years = np.clip(target_years + rng.uniform(-3, 3, 8), 0, 20)
        far = np.abs(others_years - target_years) < 1.2
        others_years[far] += np.where(others_years[far] > 10, -1.5, 1.5)
        others_salary = rng.uniform(41_000, 89_000, 8)
        men_years = np.where(target_years < 10, rng.uniform(14, 20, 6), rng.uniform(0, 6, 6))
        years = np.concatenate([[target_years], others_years, men_years])
        salary = np.concatenate([[target_salary], others_salary, rng.uniform(50_000, 70_000, 6)])
        groups = np.array([0] + [1] * 8 + [0] * 6)
        out.append((target_years, target_salary, PatchModel(years, salary, groups)))
    return out


def pick(score: np.ndarray, i: int, j: int) -> int:
    return i if score[i] > score[j] else j


#: (rule, hint) of the usual wrong rules; the right rule is "farther from the mean tenure".
LEAK_RULES: list[tuple[Callable[..., int], str]] = [
    (
        lambda x, s, i, j: pick(-np.abs(x - x.mean()), i, j),
        "You picked the person who leaks LESS: return the one whose salary moves the slope more.",
    ),
    (
        lambda x, s, i, j: pick(np.abs(s - s.mean()), i, j),
        "How unusual the tenure is matters, not how unusual the salary is: the slope moves by "
        "(x_k - mean(x)) / sum((x - mean(x))**2) per dollar of person k's salary.",
    ),
    (
        lambda x, s, i, j: pick(s, i, j),
        "Not the higher salary: the person whose salary moves the slope more, i.e. whose tenure "
        "is farther from the mean tenure.",
    ),
    (
        lambda x, s, i, j: pick(x, i, j),
        "Use the size of the effect, abs(...): an early hire far below the mean tenure moves the "
        "slope as much as a late one far above it (the effect is only negative).",
    ),
    (
        lambda x, s, i, j: pick(-x, i, j),
        "Not simply the newest hire: the person whose tenure is farther from the mean tenure, "
        "on either side.",
    ),
    (
        lambda x, s, i, j: i,
        "Compare the two people by the size of their effect, whatever the argument order.",
    ),
    (
        lambda x, s, i, j: pick(np.abs(loo(x, s)), i, j),
        "Not the leave-one-out influence of 1.2: removing a person moves the slope by an amount "
        "that also depends on how far their salary is from the line. Per dollar of salary the "
        "slope moves by (x_k - mean(x)) / sum((x - mean(x))**2): compare the tenures.",
    ),
]


def leak_truth(x: np.ndarray, s: np.ndarray, i: int, j: int) -> int:
    return pick(np.abs(x - x.mean()), i, j)


def leak_cases() -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Cases on which every rule of :data:`LEAK_RULES` answers differently from the truth."""
    years = np.array([0.5, 7.0, 6.5, 8.0, 7.5, 6.0, 8.5])
    salary = np.array([85_000, 60_000, 60_500, 61_000, 59_500, 60_000, 61_500.0])
    salary2 = salary.copy()
    salary2[[0, 1]] = [60_000, 89_000]
    years3 = np.array([1.0, 9.0, 10.0, 11.0, 12.0, 13.0])
    salary3 = np.array([50_000, 70_000, 72_000, 69_000, 75_000, 74_000.0])
    cases = [
        (years, salary, 0, 1),  # the newest hire (unusual tenure and salary) vs a typical one
        (years, salary2, 0, 1),  # typical tenure with an extreme salary
        (years, salary2, 1, 0),  # the same, arguments swapped
        (years3, salary3, 0, 5),  # an early hire far below the mean vs a late one just above
        (years3, salary3, 5, 2),  # both above the mean: the longer tenure
    ]
    positions, teams = pair_players("playersleaklow")
    y0, s0 = salary_view(positions[teams == 0])
    rng = np.random.default_rng(14)
    while len(cases) < 11:
        i, j = (int(k) for k in rng.choice(len(y0), 2, replace=False))
        if abs(abs(y0[i] - y0.mean()) - abs(y0[j] - y0.mean())) > 0.05:
            cases.append((y0, s0, i, j))
    return cases
