"""Checks of exercise set 01 (motivation: flexible models memorise, outliers leak).

Expected values are computed here with plain numpy, never with the course's toys, so a check
cannot pass because an answer copied the toy; and every check tests properties on several cases
(a correct answer written differently passes). The usual mistakes are recomputed on the same
inputs, so that a hint names the mistake that was actually made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..data import pair_players, salary_view
from . import (
    expect,
    expect_array,
    expect_number,
    expect_unchanged,
    question,
    snapshot,
    type_name,
)

__all__: list[str] = []

FIELD_HEIGHT = 75.0


def _weights(positions: Any, point: Any, power: float, metric: str = "l2") -> np.ndarray:
    diff = np.asarray(positions, float) - np.asarray(point, float)
    d = np.abs(diff).sum(1) if metric == "l1" else np.hypot(*diff.T)
    return 1.0 / np.maximum(d, 1e-12) ** power


def _share(positions: np.ndarray, teams: np.ndarray, point: Any, power: float) -> float:
    w = _weights(positions, point, power)
    return float(w[np.asarray(teams) == 0].sum() / w.sum())


# ---------------------------------------------------------------------------------------------
# 1.1  the 1/d**power weighted share of team 0 at one point
# ---------------------------------------------------------------------------------------------
def _share_mistakes(positions: np.ndarray, teams: np.ndarray, point: Any, power: float) -> list:
    """(value, what, hint) of the usual mistakes at one point."""
    w = _weights(positions, point, power)
    zero = teams == 0
    share = w[zero].sum() / w.sum()
    w_l1 = _weights(positions, point, power, "l1")
    return [
        (
            1 - share,
            "share of team 0, not team 1",
            "You returned team 1's share: sum the weights of the players with team == 0.",
        ),
        (
            _weights(positions, point, -power)[zero].sum()
            / _weights(positions, point, -power).sum(),
            "closer players weigh more",
            "The weight is 1 / d**power (near players dominate), not d**power.",
        ),
        (
            _weights(positions, point, 2 * power)[zero].sum()
            / _weights(positions, point, 2 * power).sum(),
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


@question(
    "1.1",
    points=2,
    answer="team0_share",
    task="return team 0's share of the 1/d**power weighted vote at one point",
    reference="course_utils.toys.soccer.team_share",
)
def _check_team0_share(team0_share: Any) -> None:
    def call(positions, teams, point, power=3.0):
        return expect_number(
            team0_share(positions, teams, point, power=power),
            "team0_share returns one number",
            "Return a single float: team 0's total weight divided by everyone's total weight.",
        )

    def diagnose(got, exp, positions, teams, point, power):
        for wrong, what, hint in _share_mistakes(positions, teams, point, power):
            if np.isclose(got, wrong, rtol=1e-6) and not np.isclose(wrong, exp, rtol=1e-6):
                expect(False, what, expected=round(exp, 6), got=got, hint=hint)

    # three players on a line: team 0 at distance 1, team 1 at distances 2 and 3
    pos = np.array([[0.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    teams = np.array([0, 1, 1])
    point = np.array([1.0, 0.0])
    got = call(pos.copy(), teams.copy(), point.copy())
    exp = _share(pos, teams, point, 3.0)
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
        np.isclose(got1, _share(pos, teams, point, 1.0)),
        "the same point with power=1",
        expected=round(_share(pos, teams, point, 1.0), 4),
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
        saved = snapshot((positions, teams22, point))
        got = call(positions, teams22, point, power=power)
        expect_unchanged(
            saved,
            (positions, teams22, point),
            "positions, teams and point are left unchanged",
            "Work on new arrays (d = positions - point); `positions -= point` changes the "
            "caller's data.",
        )
        exp = _share(positions, teams22, point, power)
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
def _slope(x: np.ndarray, y: np.ndarray) -> float:
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def _loo(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    full = _slope(x, y)
    return np.array([full - _slope(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])


def _loo_mistakes(x: np.ndarray, y: np.ndarray) -> list:
    exp = _loo(x, y)

    def icpt(a, b):
        return b.mean() - _slope(a, b) * a.mean()

    without = np.array([_slope(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])
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
    exp = _loo(x, y)
    if not np.allclose(got, exp, rtol=1e-6, atol=1e-9):
        for wrong, what, hint in _loo_mistakes(x, y):
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
    exp = _loo(years, salary)
    expect(
        np.allclose(got, exp, rtol=1e-6, atol=1e-6 * np.abs(exp).max()),
        "11 salaries (USD) against years",
        expected=np.round(exp, 1),
        got=np.round(got, 1),
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
class _PatchModel:
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


def _salary_cases() -> list[tuple[float, float, _PatchModel]]:
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
        out.append((target_years, target_salary, _PatchModel(years, salary, groups)))
    return out


@question(
    "1.3",
    points=2,
    answer="infer_salary",
    task="return the salary in [40000, 90000] where model(years, salary) gives group 0 the highest share",
    reference="course_utils.toys.salary.patch_salary_readout",
)
def _check_infer_salary(infer_salary: Any) -> None:
    for target_years, target_salary, model in _salary_cases():
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
def _pick(score: np.ndarray, i: int, j: int) -> int:
    return i if score[i] > score[j] else j


#: (rule, hint) of the usual wrong rules; the right rule is "farther from the mean tenure".
_LEAK_RULES: list[tuple[Callable[..., int], str]] = [
    (
        lambda x, s, i, j: _pick(-np.abs(x - x.mean()), i, j),
        "You picked the person who leaks LESS: return the one whose salary moves the slope more.",
    ),
    (
        lambda x, s, i, j: _pick(np.abs(s - s.mean()), i, j),
        "How unusual the tenure is matters, not how unusual the salary is: the slope moves by "
        "(x_k - mean(x)) / sum((x - mean(x))**2) per dollar of person k's salary.",
    ),
    (
        lambda x, s, i, j: _pick(s, i, j),
        "Not the higher salary: the person whose salary moves the slope more, i.e. whose tenure "
        "is farther from the mean tenure.",
    ),
    (
        lambda x, s, i, j: _pick(x, i, j),
        "Use the size of the effect, abs(...): an early hire far below the mean tenure moves the "
        "slope as much as a late one far above it (the effect is only negative).",
    ),
    (
        lambda x, s, i, j: _pick(-x, i, j),
        "Not simply the newest hire: the person whose tenure is farther from the mean tenure, "
        "on either side.",
    ),
    (
        lambda x, s, i, j: i,
        "Compare the two people by the size of their effect, whatever the argument order.",
    ),
]


def _leak_truth(x: np.ndarray, s: np.ndarray, i: int, j: int) -> int:
    return _pick(np.abs(x - x.mean()), i, j)


def _leak_cases() -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Cases on which every rule of :data:`_LEAK_RULES` answers differently from the truth."""
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


@question(
    "1.4",
    points=1,
    answer="leaks_more",
    task="return i or j: the person whose salary moves the fitted slope more per dollar",
    reference="course_utils.toys.salary.slope_weights",
)
def _check_leaks_more(leaks_more: Any) -> None:
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

    cases = _leak_cases()
    got = [call(*case) for case in cases]
    want = [_leak_truth(*case) for case in cases]
    if got == want:
        return
    for rule, hint in _LEAK_RULES:
        if got == [rule(*case) for case in cases]:
            k = next(n for n in range(len(cases)) if got[n] != want[n])
            expect(
                False,
                f"people {cases[k][2]} and {cases[k][3]}: who leaks more",
                expected=want[k],
                got=got[k],
                hint=hint,
            )
    k = next(n for n in range(len(cases)) if got[n] != want[n])
    expect(
        False,
        f"people {cases[k][2]} and {cases[k][3]}: who leaks more",
        expected=want[k],
        got=got[k],
        hint="Nudge salary i by $1,000, refit the slope, measure the change; do the same for j, "
        "and return the one whose change is larger in size.",
    )
