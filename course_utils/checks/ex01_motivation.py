"""Checks of exercise set 01 (motivation: flexible models memorise, outliers leak).

Expected values are computed here with plain numpy, never with the course's toys, so a check
cannot pass because an answer copied the toy; and every check tests properties on several cases
(a correct answer written differently passes) and diagnoses the usual mistakes for its hint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import pair_players, salary_view
from . import expect, expect_number, question

__all__: list[str] = []

FIELD_HEIGHT = 75.0


def _share(positions: np.ndarray, teams: np.ndarray, point: Any, power: float) -> float:
    d = np.hypot(*(np.asarray(positions, float) - np.asarray(point, float)).T)
    w = 1.0 / np.maximum(d, 1e-12) ** power
    return float(w[np.asarray(teams) == 0].sum() / w.sum())


# ---------------------------------------------------------------------------------------------
# 1.1  the 1/d**power weighted share of team 0 at one point
# ---------------------------------------------------------------------------------------------
@question(
    "1.1",
    points=2,
    answer="team0_share",
    task="return team 0's share of the 1/d**power weighted vote at one point",
    reference="course_utils.toys.soccer.team_share",
)
def _check_team0_share(team0_share: Any) -> None:
    def call(positions, teams, point, power=3.0):
        args = (np.array(positions, float), np.array(teams), np.array(point, float))
        return expect_number(
            team0_share(*args, power=power),
            "team0_share returns one number",
            "Return a single float: team 0's total weight divided by everyone's total weight.",
        )

    # three players on a line: team 0 at distance 1, team 1 at distances 2 and 3
    pos, teams = [[0.0, 0.0], [3.0, 0.0], [4.0, 0.0]], [0, 1, 1]

    def formula(p: float, dist=(1.0, 2.0, 3.0)) -> float:
        w = np.asarray(dist) ** -p
        return float(w[0] / w.sum())

    got = call(pos, teams, [1.0, 0.0])
    exp = formula(3.0)
    mistakes = [
        (
            1 - exp,
            "share of team 0, not team 1",
            "You returned team 1's share: sum the weights of the players with team == 0.",
        ),
        (
            formula(-3.0),
            "closer players weigh more",
            "The weight is 1 / d**power (near players dominate), not d**power.",
        ),
        (
            formula(6.0),
            "d is the Euclidean distance",
            "Raise the distance d = sqrt(dx**2 + dy**2) to the power, not the squared distance.",
        ),
    ]
    expect(
        0 <= got <= 1,
        "the share lies between 0 and 1",
        expected="0 <= share <= 1",
        got=got,
        hint="Divide team 0's weight by the weight of all players.",
    )
    for wrong, what, hint in mistakes:
        expect(not np.isclose(got, wrong), what, expected=round(exp, 4), got=got, hint=hint)
    expect(
        np.isclose(got, exp),
        "team 0 at distance 1, team 1 at distances 2 and 3, power 3",
        expected=round(exp, 4),
        got=got,
        hint="Weights 1/1**3, 1/2**3 and 1/3**3.",
    )
    got1 = call(pos, teams, [1.0, 0.0], power=1.0)
    expect(
        np.isclose(got1, formula(1.0)),
        "the same point with power=1",
        expected=round(formula(1.0), 4),
        got=got1,
        hint="Use the `power` argument instead of a fixed 3.",
    )
    mid = call(pos[:2], teams[:2], [1.5, 4.0])
    expect(
        np.isclose(mid, 0.5),
        "a point equally far from two players",
        expected=0.5,
        got=mid,
        hint="Equal distances must give equal weights.",
    )

    # the real layout at a few points and powers
    positions, teams22 = pair_players("players0")
    rng = np.random.default_rng(11)
    for power in (1.0, 2.0, 3.0, 5.0):
        point = rng.uniform([5, 5], [115, 70])
        before = positions.copy()
        got = call(positions, teams22, point, power=power)
        exp = _share(positions, teams22, point, power)
        expect(
            np.isclose(got, exp, rtol=1e-6, atol=1e-9),
            f"22 players, point ({point[0]:.1f}, {point[1]:.1f}), power {power:g}",
            expected=round(exp, 6),
            got=got,
            hint="Use every player: weights 1/d**power, share = weight of team 0 / total weight.",
        )
        expect(
            np.array_equal(before, positions),
            "positions are left unchanged",
            hint="Work on a copy; do not modify the arguments in place.",
        )
    near = positions[np.flatnonzero(teams22 == 0)[3]] + [0.3, 0.0]
    got = call(positions, teams22, near, power=3.0)
    expect(
        got > 0.9,
        "right next to a team-0 player team 0 dominates",
        expected="> 0.9",
        got=got,
        hint="The nearest player must dominate: weight 1 / d**power.",
    )


# ---------------------------------------------------------------------------------------------
# 1.2  leave-one-out influence on a least-squares slope
# ---------------------------------------------------------------------------------------------
def _slope(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def _loo(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    full = _slope(x, y)
    return np.array([full - _slope(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])


def _loo_intercept(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def icpt(a, b):
        return b.mean() - _slope(a, b) * a.mean()

    return np.array([icpt(x, y) - icpt(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])


@question(
    "1.2",
    points=2,
    answer="slope_influence",
    task="return slope(all points) - slope(all but point i) for every point i",
    reference="course_utils.toys.salary.loo_slope_influence",
)
def _check_slope_influence(slope_influence: Any) -> None:
    def call(x, y):
        x, y = np.array(x, float), np.array(y, float)
        out = slope_influence(x.copy(), y.copy())
        try:
            return np.asarray(out, dtype=float)
        except Exception:
            expect(
                False, "returns an array of numbers", got=out, hint="Return one number per point."
            )

    x, y = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 5.0, 7.0, 19.0])
    got = call(x, y)
    exp = _loo(x, y)
    expect(
        got.shape == (5,),
        "one influence per point",
        expected="shape (5,)",
        got=f"shape {got.shape}",
        hint="Return an array with one entry per point, in the order of the inputs.",
    )
    expect(
        not np.allclose(got, 0),
        "removing a point changes the slope",
        expected=np.round(exp, 3),
        got=np.round(got, 3),
        hint="Drop point i from BOTH x and y (np.delete(x, i)) before refitting.",
    )
    expect(
        not np.allclose(got, -exp),
        "sign: slope(all) - slope(without i)",
        expected=np.round(exp, 3),
        got=np.round(got, 3),
        hint="You computed slope(without i) - slope(all); flip the sign.",
    )
    expect(
        not np.allclose(got, _loo_intercept(x, y)),
        "the slope, not the intercept",
        expected=np.round(exp, 3),
        got=np.round(got, 3),
        hint="np.polyfit(x, y, 1) returns [slope, intercept]: take element 0.",
    )
    for shift in (1, -1):
        expect(
            not np.allclose(got, np.roll(exp, shift)),
            "entry i belongs to point i",
            expected=np.round(exp, 3),
            got=np.round(got, 3),
            hint="Off by one: entry i must leave out exactly point i (check your index range).",
        )
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-9),
        "five points, the last one an outlier",
        expected=np.round(exp, 3),
        got=np.round(got, 3),
        hint="For each i: fit a line to all points, fit one without point i, subtract the slopes.",
    )

    line = call(x, 2 * x + 1)
    expect(
        np.allclose(line, 0, atol=1e-9),
        "points on a perfect line have zero influence",
        expected="all 0",
        got=np.round(line, 6),
    )

    # the salary data of the "subtle leaks" layout: the new hire dominates the slope
    positions, teams = pair_players("playersleakhigh")
    years, salary = salary_view(positions[teams == 0])
    got = call(years, salary)
    exp = _loo(years, salary)
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-6 * np.abs(exp).max()),
        "11 salaries (USD) against years",
        expected=np.round(exp, 1),
        got=np.round(got, 1),
    )
    expect(
        int(np.argmax(np.abs(got))) == int(np.argmin(years)),
        "the newest hire has the largest influence",
        expected=int(np.argmin(years)),
        got=int(np.argmax(np.abs(got))),
    )
    rng = np.random.default_rng(12)
    xr = rng.uniform(0, 20, 9)
    yr = 40_000 + 1_500 * xr + rng.normal(0, 4_000, 9)
    got, exp = call(xr, yr), _loo(xr, yr)
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-6 * np.abs(exp).max()),
        "nine random points",
        expected=np.round(exp, 1),
        got=np.round(got, 1),
    )


# ---------------------------------------------------------------------------------------------
# 1.3  read a hidden salary back from a flexible model
# ---------------------------------------------------------------------------------------------
def _patch_model(years: np.ndarray, salary: np.ndarray, groups: np.ndarray, power: float = 3.0):
    """The flexible model of notebook 01 on the salary view, as a function of (years, salary)."""
    px = years * 6.0
    py = (90_000.0 - salary) / 50_000.0 * FIELD_HEIGHT

    def model(at_years: Any, at_salary: Any) -> Any:
        qx = np.asarray(at_years, float) * 6.0
        qy = (90_000.0 - np.asarray(at_salary, float)) / 50_000.0 * FIELD_HEIGHT
        d = np.hypot(qx[..., None] - px, qy[..., None] - py)
        w = 1.0 / np.maximum(d, 1e-9) ** power
        share = (w * (groups == 0)).sum(-1) / w.sum(-1)
        return float(share) if np.ndim(share) == 0 else share

    return model


@question(
    "1.3",
    points=2,
    answer="infer_salary",
    task="return the salary in [40000, 90000] where model(years, salary) gives group 0 the highest share",
    reference="course_utils.toys.salary.patch_salary_readout",
)
def _check_infer_salary(infer_salary: Any) -> None:
    rng = np.random.default_rng(13)
    cases = [(0.5, 71_000.0), (0.5, 46_500.0), (19.5, 83_000.0), (10.0, 52_000.0)]
    for target_years, target_salary in cases:
        # the target is the only group-0 person near `target_years`; group 1 surrounds them
        others_years = np.clip(target_years + rng.uniform(-3, 3, 8), 0, 20)
        far = np.abs(others_years - target_years) < 1.2
        others_years[far] += np.where(others_years[far] > 10, -1.5, 1.5)
        others_salary = rng.uniform(41_000, 89_000, 8)
        men_years = np.where(target_years < 10, rng.uniform(14, 20, 6), rng.uniform(0, 6, 6))
        years = np.concatenate([[target_years], others_years, men_years])
        salary = np.concatenate([[target_salary], others_salary, rng.uniform(50_000, 70_000, 6)])
        groups = np.array([0] + [1] * 8 + [0] * 6)
        model = _patch_model(years, salary, groups)
        got = expect_number(
            infer_salary(model, target_years),
            "infer_salary returns one number",
            "Return a single salary in USD (a float), e.g. grid[np.argmax(shares)].",
        )
        expect(
            got >= 1_000,
            "returns a salary in USD, not a grid index",
            expected=f"about {target_salary:,.0f}",
            got=got,
            hint="np.argmax gives the position in your grid: return grid[index].",
        )
        lowest = (
            40_000 + 50_000 * np.argmin(model(target_years, np.linspace(40_000, 90_000, 501))) / 500
        )
        expect(
            not abs(got - lowest) < 1_000 or abs(got - target_salary) < 1_000,
            "where group 0 is strongest, not weakest",
            expected=f"about {target_salary:,.0f}",
            got=got,
            hint="Take the salary with the HIGHEST share of group 0 (argmax, not argmin).",
        )
        expect(
            40_000 <= got <= 90_000,
            "the salary lies in the model's range $40k-$90k",
            expected="40000 <= salary <= 90000",
            got=got,
            hint="Scan salaries from 40,000 to 90,000, e.g. np.linspace(40_000, 90_000, 501).",
        )
        expect(
            abs(got - target_salary) <= 1_000,
            f"a person with {target_years:g} years of tenure (within $1,000)",
            expected=f"about {target_salary:,.0f}",
            got=round(got),
            hint="Query the model at the given `years` for many salaries and keep the salary "
            "where group 0's share is highest; use a grid step of at most $500.",
        )


# ---------------------------------------------------------------------------------------------
# 1.4  which of two people does the slope leak more about?
# ---------------------------------------------------------------------------------------------
@question(
    "1.4",
    points=1,
    answer="leaks_more",
    task="return i or j: the person whose salary moves the fitted slope more per dollar",
    reference="course_utils.toys.salary.slope_weights",
)
def _check_leaks_more(leaks_more: Any) -> None:
    def call(years, salary, i, j):
        out = leaks_more(np.array(years, float), np.array(salary, float), i, j)
        expect(
            isinstance(out, (int, np.integer)) and not isinstance(out, bool) and out in (i, j),
            f"returns one of the two indices ({i} or {j})",
            expected=f"{i} or {j}",
            got=out,
            hint="Return the index itself (i or j), not a bool or a salary.",
        )
        return int(out)

    def truth(years, i, j):
        dev = np.abs(np.asarray(years, float) - np.mean(years))
        return i if dev[i] > dev[j] else j

    # person 0: unusual tenure AND unusual salary; person 1: typical on both
    years = np.array([0.5, 7.0, 6.5, 8.0, 7.5, 6.0, 8.5])
    salary = np.array([85_000, 60_000, 60_500, 61_000, 59_500, 60_000, 61_500.0])
    got = call(years, salary, 0, 1)
    expect(
        got == 0,
        "the newest hire versus a typical colleague",
        expected=0,
        got=got,
        hint="You picked the person who leaks LESS: return the one whose salary moves the slope more.",
    )
    # now person 1 keeps a typical tenure but gets an extreme salary
    salary[[0, 1]] = [60_000, 89_000]
    got = call(years, salary, 0, 1)
    expect(
        got == 0,
        "the newest hire versus a typical tenure with an extreme salary",
        expected=0,
        got=got,
        hint="How unusual the years are matters, not how unusual the salary is: the slope moves "
        "by (x_k - mean(x)) / sum((x - mean(x))**2) per dollar of person k's salary. Change each "
        "salary by $1,000, refit, and compare how far the slope moves.",
    )
    got = call(years, salary, 1, 0)
    expect(
        got == 0,
        "swapping the arguments gives the same person",
        expected=0,
        got=got,
        hint="Compare the two people by the size of their effect, whatever the argument order.",
    )

    # an early hire below the mean versus a late one slightly above it: the sign must not matter
    years2 = np.array([1.0, 9.0, 10.0, 11.0, 12.0, 13.0])
    salary2 = np.array([50_000, 70_000, 72_000, 69_000, 75_000, 74_000.0])
    expect(
        call(years2, salary2, 0, 5) == 0,
        "an early hire (far below the mean tenure) leaks more",
        expected=0,
        got=call(years2, salary2, 0, 5),
        hint="Use the size of the effect, abs(...): a negative weight leaks as much as a positive one.",
    )

    rng = np.random.default_rng(14)
    positions, teams = pair_players("playersleaklow")
    y0, s0 = salary_view(positions[teams == 0])
    for _ in range(6):
        i, j = (int(k) for k in rng.choice(len(y0), 2, replace=False))
        if abs(abs(y0[i] - y0.mean()) - abs(y0[j] - y0.mean())) < 0.05:
            continue
        exp = truth(y0, i, j)
        got = call(y0, s0, i, j)
        expect(
            got == exp,
            f"people {i} and {j} of the 'subtle leaks' company",
            expected=exp,
            got=got,
            hint="Nudge salary i by $1,000, refit the slope, measure the change; do the same for j.",
        )
