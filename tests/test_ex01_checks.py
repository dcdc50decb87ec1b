"""Exercise set 01: each check passes the reference answer and answers written differently, and
fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with, passes, solution_namespace

SOL = solution_namespace("01_motivation", np=np)


def test_set01_is_registered_with_points_and_references() -> None:
    qs = {q: REGISTRY[q] for q in ("1.1", "1.2", "1.3", "1.4")}
    assert [q.points for q in qs.values()] == [2, 2, 2, 1]
    assert {q.answer for q in qs.values()} == {
        "team0_share",
        "slope_influence",
        "infer_salary",
        "leaks_more",
    }
    assert all(q.reference for q in qs.values())


def test_1_1_team0_share() -> None:
    passes("1.1", SOL["team0_share"])

    def vectorised_differently(positions, teams, point, power=3.0):
        dx, dy = (positions - point).T
        w = (dx * dx + dy * dy) ** (-power / 2)
        return np.sum(w * (teams == 0)) / np.sum(w)

    passes("1.1", vectorised_differently)

    def inverted(positions, teams, point, power=3.0):  # weight d**power: far players dominate
        w = np.linalg.norm(positions - point, axis=1) ** power
        return w[teams == 0].sum() / w.sum()

    fails_with("1.1", inverted, "1 / d**power")

    def squared(positions, teams, point, power=3.0):  # squared distance to the power
        w = 1 / (((positions - point) ** 2).sum(1)) ** power
        return w[teams == 0].sum() / w.sum()

    fails_with("1.1", squared, "squared distance")

    def team1(positions, teams, point, power=3.0):
        w = 1 / np.linalg.norm(positions - point, axis=1) ** power
        return w[teams == 1].sum() / w.sum()

    fails_with("1.1", team1, "team 1")

    def fixed_power(positions, teams, point, power=3.0):
        return SOL["team0_share"](positions, teams, point, 3.0)

    fails_with("1.1", fixed_power, "power")


def test_1_2_slope_influence() -> None:
    passes("1.2", SOL["slope_influence"])

    def closed_form(x, y):  # leverage formula instead of refitting
        xc = x - x.mean()
        sxx = xc @ xc
        resid = y - (y.mean() + (xc @ (y - y.mean()) / sxx) * xc)
        h = 1 / len(x) + xc**2 / sxx
        return xc * resid / (sxx * (1 - h))

    passes("1.2", closed_form)

    def sign_flipped(x, y):
        return -SOL["slope_influence"](x, y)

    fails_with("1.2", sign_flipped, "flip the sign")

    def off_by_one(x, y):  # leaves out point i+1 (wrapping around)
        return np.roll(SOL["slope_influence"](x, y), -1)

    fails_with("1.2", off_by_one, "off by one")

    def intercept(x, y):
        full = np.polyfit(x, y, 1)[1]
        return np.array(
            [full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[1] for i in range(len(x))]
        )

    fails_with("1.2", intercept, "element 0")

    def drops_nothing(x, y):  # slicing x[:i] + x[i:] keeps every point
        full = np.polyfit(x, y, 1)[0]
        return np.array(
            [
                full - np.polyfit(np.r_[x[:i], x[i:]], np.r_[y[:i], y[i:]], 1)[0]
                for i in range(len(x))
            ]
        )

    fails_with("1.2", drops_nothing, "np.delete")


def test_1_3_infer_salary() -> None:
    passes("1.3", SOL["infer_salary"])

    def vectorised(model, years):
        grid = np.arange(40_000, 90_001, 250.0)
        return grid[np.argmax(model(np.full_like(grid, years), grid))]

    passes("1.3", vectorised)

    def argmin(model, years):  # scale inverted: weakest instead of strongest
        grid = np.linspace(40_000, 90_000, 1001)
        return float(grid[np.argmin([model(years, s) for s in grid])])

    fails_with("1.3", argmin, "highest")

    def index(model, years):
        grid = np.linspace(40_000, 90_000, 1001)
        return int(np.argmax([model(years, s) for s in grid]))

    fails_with("1.3", index, "grid[index]")

    def coarse(model, years):  # a $10k grid cannot resolve a person
        grid = np.linspace(40_000, 90_000, 6)
        return float(grid[np.argmax([model(years, s) for s in grid])])

    fails_with("1.3", coarse, "grid step")


def test_1_4_leaks_more() -> None:
    passes("1.4", SOL["leaks_more"])

    def closed_form(years, salary, i, j):
        dev = np.abs(years - years.mean())
        return i if dev[i] >= dev[j] else j

    passes("1.4", closed_form)

    def by_salary(years, salary, i, j):  # the usual mistake: unusual salary = leaks more
        dev = np.abs(salary - salary.mean())
        return i if dev[i] > dev[j] else j

    fails_with("1.4", by_salary, "not how unusual the salary")

    def inverted(years, salary, i, j):
        return j if closed_form(years, salary, i, j) == i else i

    fails_with("1.4", inverted, "leaks less")

    def signed(years, salary, i, j):  # forgets abs(): early hires look harmless
        dev = years - years.mean()
        return i if dev[i] > dev[j] else j

    fails_with("1.4", signed)

    def returns_bool(years, salary, i, j):
        return closed_form(years, salary, i, j) == i

    fails_with("1.4", returns_bool, "index itself")


@pytest.mark.parametrize("qid", ["1.1", "1.2", "1.3", "1.4"])
def test_unfinished_answers_are_reported_not_implemented(qid) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}: ...")

    assert run_check(qid, unfinished).status == "not implemented"
