"""Checks of exercise set 01 (motivation: flexible models memorise, outliers leak).

Expected values are computed here with plain numpy, never with the course's toys, so a check
cannot pass because an answer copied the toy; and every check tests properties on several cases
(a correct answer written differently passes). The usual mistakes are recomputed on the same
inputs, so that a hint names the mistake that was actually made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import pair_players, salary_view
from . import (
    expect,
    expect_array,
    expect_number,
    question,
    type_name,
)
from ._ex01_cases import (
    LEAK_RULES,
    leak_cases,
    leak_truth,
    loo,
    loo_mistakes,
    salary_cases,
    share,
    share_mistakes,
)
from ._values import call_unchanged

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# 1.1  the 1/d**power weighted share of team 0 at one point
# ---------------------------------------------------------------------------------------------


@question("1.1", points=2, reference="course_utils.toys.soccer.team_share")
def _check_team0_share(team0_share: Any) -> None:
    """Return team 0's share of the 1/d**power weighted vote at one point."""

    def call(positions, teams, point, power=3.0):
        return expect_number(
            team0_share(positions, teams, point, power=power),
            "team0_share returns one number",
            "Return a single float: team 0's total weight divided by everyone's total weight.",
        )

    def diagnose(got, exp, positions, teams, point, power):
        for wrong, what, hint in share_mistakes(positions, teams, point, power):
            if np.isclose(got, wrong, rtol=1e-6) and not np.isclose(wrong, exp, rtol=1e-6):
                expect(False, what, expected=round(exp, 6), got=got, hint=hint)

    # three players on a line: team 0 at distance 1, team 1 at distances 2 and 3
    pos = np.array([[0.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    teams = np.array([0, 1, 1])
    point = np.array([1.0, 0.0])
    got = call(pos.copy(), teams.copy(), point.copy())
    exp = share(pos, teams, point, 3.0)
    diagnose(got, exp, pos, teams, point, 3.0)
    expect(
        0 <= got <= 1,
        "the share lies between 0 and 1",
        expected="0 <= share <= 1",
        got=got,
        hint="Divide team 0's weight by the weight of all players.",
    )
    expect(
        np.isclose(got, exp),
        "team 0 at distance 1, team 1 at distances 2 and 3, power 3",
        expected=round(exp, 4),
        got=got,
        hint="Weights 1/1**3, 1/2**3 and 1/3**3; share = team 0's weight / the sum.",
    )
    got1 = call(pos.copy(), teams.copy(), point.copy(), power=1.0)
    expect(
        np.isclose(got1, share(pos, teams, point, 1.0)),
        "the same point with power=1",
        expected=round(share(pos, teams, point, 1.0), 4),
        got=got1,
        hint="Use the `power` argument instead of a fixed 3.",
    )
    mid = call(pos[:2].copy(), teams[:2].copy(), np.array([1.5, 4.0]))
    expect(
        np.isclose(mid, 0.5),
        "a point equally far from two players",
        expected=0.5,
        got=mid,
        hint="Equal distances must give equal weights.",
    )

    # the real layout (off the line, so that every distance matters) at a few points and powers
    positions, teams22 = pair_players("players0")
    rng = np.random.default_rng(11)
    for power in (1.0, 2.0, 3.0, 5.0):
        point = rng.uniform([5, 5], [115, 70])
        got = call_unchanged(
            call,
            positions,
            teams22,
            point,
            power=power,
            what="positions, teams and point are left unchanged",
            hint="Work on new arrays (d = positions - point); `positions -= point` changes the "
            "caller's data.",
        )
        exp = share(positions, teams22, point, power)
        diagnose(got, exp, positions, teams22, point, power)
        expect(
            np.isclose(got, exp, rtol=1e-6, atol=1e-9),
            f"22 players, point ({point[0]:.1f}, {point[1]:.1f}), power {power:g}",
            expected=round(exp, 6),
            got=got,
            hint="Use every player: weights 1/d**power, share = weight of team 0 / total weight.",
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


@question("1.2", points=2, reference="course_utils.toys.salary.loo_slope_influence")
def _check_slope_influence(slope_influence: Any) -> None:
    """Return slope(all points) - slope(all but point i) for every point i."""

    def call(x, y):
        x, y = np.array(x, float), np.array(y, float)
        return expect_array(
            slope_influence(x.copy(), y.copy()),
            "returns a numpy array with one influence per point",
            shape=x.shape,
            strict=True,
            hint="Return a numpy array with one entry per point, in the order of the inputs "
            "(np.array(list_of_values) if you collected them in a list).",
        )

    x, y = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 5.0, 7.0, 19.0])
    got = call(x, y)
    exp = loo(x, y)
    if not np.allclose(got, exp, rtol=1e-6, atol=1e-9):
        for wrong, what, hint in loo_mistakes(x, y):
            if np.allclose(got, wrong, rtol=1e-6, atol=1e-9):
                expect(False, what, expected=np.round(exp, 3), got=np.round(got, 3), hint=hint)
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
    exp = loo(years, salary)
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-6 * np.abs(exp).max()),
        "11 salaries (USD) against years",
        expected=np.round(exp, 1),
        got=np.round(got, 1),
    )
    rng = np.random.default_rng(12)
    xr = rng.uniform(0, 20, 9)
    yr = 40_000 + 1_500 * xr + rng.normal(0, 4_000, 9)
    got, exp = call(xr, yr), loo(xr, yr)
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-6 * np.abs(exp).max()),
        "nine random points",
        expected=np.round(exp, 1),
        got=np.round(got, 1),
    )


# ---------------------------------------------------------------------------------------------
# 1.3  read a hidden salary back from a flexible model
# ---------------------------------------------------------------------------------------------


@question("1.3", points=2, reference="course_utils.toys.salary.patch_salary_readout")
def _check_infer_salary(infer_salary: Any) -> None:
    """Return the salary in [40000, 90000] where model(years, salary) gives group 0 the highest
    share."""
    for target_years, target_salary, model in salary_cases():
        got = expect_number(
            infer_salary(model, target_years),
            "infer_salary returns one number",
            "Return a single salary in USD (a float), e.g. grid[np.argmax(shares)].",
        )
        if abs(got - target_salary) <= 1_000:
            continue
        expected = f"about {target_salary:,.0f}"
        asked = np.asarray(model.asked_years, float)
        if asked.size and np.all(asked > 1_000):
            expect(
                False,
                "the model is asked model(years, salary)",
                expected=expected,
                got=got,
                hint="You passed the salary as the first argument: call model(years, salary), "
                "tenure first.",
            )
        if asked.size and not np.any(np.isclose(asked, target_years)):
            expect(
                False,
                "the model is asked at the given tenure",
                expected=expected,
                got=got,
                hint=f"Query the model at the `years` argument ({target_years:g} here), "
                "not at a fixed tenure.",
            )
        if 0 <= got <= 1:  # a share; grid indices 0 and 1 would be salaries at the range's edge
            expect(
                False,
                "returns a salary, not a share",
                expected=expected,
                got=got,
                hint="You returned the highest share itself: return the SALARY at which the "
                "share is highest, e.g. grid[np.argmax(shares)].",
            )
        expect(
            got >= 1_000,
            "returns a salary in USD, not a grid index",
            expected=expected,
            got=got,
            hint="np.argmax gives the position in your grid: return grid[index].",
        )
        grid = np.linspace(40_000, 90_000, 501)
        lowest = grid[np.argmin(model(np.full_like(grid, target_years), grid))]
        expect(
            abs(got - lowest) >= 1_000,
            "where group 0 is strongest, not weakest",
            expected=expected,
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
            False,
            f"a person with {target_years:g} years of tenure (within $1,000)",
            expected=expected,
            got=round(got),
            hint="Query the model at the given `years` for many salaries and keep the salary "
            "where group 0's share is highest; use a grid step of at most $500.",
        )


# ---------------------------------------------------------------------------------------------
# 1.4  which of two people does the slope leak more about?
# ---------------------------------------------------------------------------------------------


@question("1.4", points=1, reference="course_utils.toys.salary.slope_weights")
def _check_leaks_more(leaks_more: Any) -> None:
    """Return i or j: the person whose salary moves the fitted slope more per dollar."""

    def call(years, salary, i, j):
        out = leaks_more(years.copy(), salary.copy(), i, j)
        if isinstance(out, bool | np.bool_):
            hint = "You returned True/False: return the index itself, i or j."
        elif isinstance(out, float | np.floating):
            hint = f"Return the index itself ({i} or {j}, an int), not a float or a salary."
        else:
            hint = f"Return one of the two indices you were given ({i} or {j})."
        ok = isinstance(out, int | np.integer) and not isinstance(out, bool) and out in (i, j)
        expect(
            ok,
            f"returns one of the two indices ({i} or {j})",
            expected=f"{i} or {j}",
            got=f"{out!r} ({type_name(out)})",
            hint=hint,
        )
        return int(out)

    cases = leak_cases()
    got = [call(*case) for case in cases]
    want = [leak_truth(*case) for case in cases]
    if got == want:
        return
    hint = (
        "Nudge salary i by $1,000, refit the slope, measure the change; do the same for j, "
        "and return the one whose change is larger in size."
    )
    for rule, rule_hint in LEAK_RULES:  # a known wrong rule that gives all the answers got
        if got == [rule(*case) for case in cases]:
            hint = rule_hint
            break
    k = next(n for n in range(len(cases)) if got[n] != want[n])  # the first case it gets wrong
    expect(
        False,
        f"people {cases[k][2]} and {cases[k][3]}: who leaks more",
        expected=want[k],
        got=got[k],
        hint=hint,
    )
