"""Wrong and unusual-but-correct answers of exercise set 01 (motivation)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import numpy as np
"""

#: A correct answer to 1.1; each wrong answer written as ``edited(TEAM0_SHARE, ...)`` is it with
#: one mistake.
TEAM0_SHARE = """
def team0_share(positions, teams, point, power=3.0):
    w = 1 / np.linalg.norm(positions - point, axis=1) ** power
    return w[teams == 0].sum() / w.sum()
"""

#: A correct answer to 1.3; each wrong answer written as ``edited(INFER_SALARY, ...)`` is it with
#: one mistake.
INFER_SALARY = """
def infer_salary(model, years):
    grid = np.linspace(40_000, 90_000, 1001)
    return float(grid[np.argmax([model(years, s) for s in grid])])
"""

#: A correct answer to 1.4; each wrong answer written as ``edited(LEAKS_MORE, ...)`` is it with one
#: mistake.
LEAKS_MORE = """
def leaks_more(years, salary, i, j):
    dev = np.abs(years - years.mean())
    return i if dev[i] > dev[j] else j
"""

#: A correct answer to 1.2; each wrong answer written as ``edited(SLOPE_INFLUENCE, ...)`` is it
#: with one mistake.
SLOPE_INFLUENCE = """
def slope_influence(x, y):
    full = np.polyfit(x, y, 1)[0]
    return np.array([full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0]
                     for i in range(len(x))])
"""

WRONG = {
    "1.1": [
        Wrong(
            "returns team 1's share",
            "team 1's share",
            edited(TEAM0_SHARE, "== 0].sum() /", "== 1].sum() /"),
        ),
        Wrong(
            "weights d**power (far players dominate)",
            "not d**power",
            edited(TEAM0_SHARE, "1 / np.linalg.norm(positions", "np.linalg.norm(positions"),
        ),
        Wrong(
            "squared distance raised to the power",
            "squared distance",
            edited(
                TEAM0_SHARE,
                "np.linalg.norm(positions - point, axis=1)",
                "((positions - point) ** 2).sum(axis=1)",
            ),
        ),
        Wrong(
            "Manhattan distance |dx| + |dy|",
            "|dx| + |dy|",
            edited(
                TEAM0_SHARE,
                "np.linalg.norm(positions - point, axis=1)",
                "np.abs(positions - point).sum(axis=1)",
            ),
        ),
        Wrong(
            "team 0's total weight, not divided by everyone's",
            "divide it by the total weight",
            edited(TEAM0_SHARE, "0].sum() / w.sum()", "0].sum()"),
        ),
        Wrong(
            "ratio of mean weights instead of sums",
            "sum the weights",
            edited(TEAM0_SHARE, "0].sum() / w.sum()", "0].mean() / w.mean()"),
        ),
        Wrong(
            "a percentage instead of a fraction",
            "not a percentage",
            edited(TEAM0_SHARE, "return w[teams ==", "return 100 * w[teams =="),
        ),
        Wrong(
            "ignores the power argument (always 3)",
            "use the `power` argument",
            edited(TEAM0_SHARE, "axis=1) ** power", "axis=1) ** 3"),
        ),
        Wrong(
            "moves the players in place (positions -= point)",
            "left unchanged",
            edited(
                TEAM0_SHARE,
                "    w = 1 / np.linalg.norm(positions - point,",
                "    positions -= point\n    w = 1 / np.linalg.norm(positions,",
            ),
        ),
        Wrong(
            "returns every player's weight instead of one share",
            "returns one number",
            edited(TEAM0_SHARE, "w[teams == 0].sum()", "w"),
        ),
    ],
    "1.2": [
        Wrong(
            "slope(without i) - slope(all): the sign flipped",
            "flip the sign",
            edited(
                SLOPE_INFLUENCE,
                "np.array([full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0]",
                "np.array([np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0] - full",
            ),
        ),
        Wrong(
            "the intercept instead of the slope",
            "take element 0",
            edited(
                SLOPE_INFLUENCE,
                "np.polyfit(x, y, 1)[0]",
                "np.polyfit(x, y, 1)[1]",
                ("np.delete(y, i), 1)[0]", "np.delete(y, i), 1)[1]"),
            ),
        ),
        Wrong(
            "entry i leaves out point i + 1 (off by one)",
            "off by one",
            """
            def slope_influence(x, y):
                n = len(x)
                full = np.polyfit(x, y, 1)[0]
                return np.array([full - np.polyfit(np.delete(x, (i + 1) % n),
                                                   np.delete(y, (i + 1) % n), 1)[0]
                                 for i in range(n)])
            """,
        ),
        Wrong(
            "drops nothing (x[:i] + x[i:] keeps point i)",
            "np.delete",
            edited(
                SLOPE_INFLUENCE,
                "np.polyfit(np.delete(x, i), np.delete(y, i),",
                "np.polyfit(np.r_[x[:i], x[i:]], np.r_[y[:i], y[i:]],",
            ),
        ),
        Wrong(
            "abs() of the influence",
            "do not take abs()",
            edited(
                SLOPE_INFLUENCE,
                "np.array([full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0]",
                "np.array([abs(full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0])",
            ),
        ),
        Wrong(
            "returns slope(without i) instead of the difference",
            "subtract it from slope(all",
            edited(
                SLOPE_INFLUENCE,
                "    full = np.polyfit(x, y, 1)[0]\n",
                "",
                ("[full - np.polyfit", "[np.polyfit"),
            ),
        ),
        Wrong(
            "returns a Python list, not a numpy array",
            "expected a numpy array, got list",
            edited(
                SLOPE_INFLUENCE,
                "return np.array([full",
                "return [full",
                ("for i in range(len(x))])", "for i in range(len(x))]"),
            ),
        ),
        Wrong(
            "deletes point i from x only (lengths differ)",
            "raised TypeError",
            edited(SLOPE_INFLUENCE, "np.delete(y, i),", "y,"),
        ),
    ],
    "1.3": [
        Wrong(
            "returns the grid index (np.argmax) instead of the salary",
            "grid[index]",
            edited(
                INFER_SALARY,
                "float(grid[np.argmax([model(years, s) for s in grid])])",
                "int(np.argmax([model(years, s) for s in grid]))",
            ),
        ),
        Wrong(
            "argmin: the salary where group 0 is weakest",
            "highest share",
            edited(
                INFER_SALARY,
                "float(grid[np.argmax([model(years,",
                "float(grid[np.argmin([model(years,",
            ),
        ),
        Wrong(
            "a $10,000 grid, too coarse to resolve a person",
            "grid step",
            edited(INFER_SALARY, "90_000, 1001)", "90_000, 6)"),
        ),
        Wrong(
            "returns the highest share instead of the salary",
            "returned the highest share itself",
            edited(
                INFER_SALARY,
                "float(grid[np.argmax([model(years, s) for s in grid])])",
                "float(max(model(years, s) for s in grid))",
            ),
        ),
        Wrong(
            "calls model(salary, years): arguments swapped",
            "tenure first",
            edited(
                INFER_SALARY,
                "float(grid[np.argmax([model(years, s)",
                "float(grid[np.argmax([model(s, years)",
            ),
        ),
        Wrong(
            "queries the model at a fixed tenure instead of `years`",
            "not at a fixed tenure",
            edited(
                INFER_SALARY,
                "float(grid[np.argmax([model(years,",
                "float(grid[np.argmax([model(0.5,",
            ),
        ),
        Wrong(
            "the share-weighted mean salary instead of the best salary",
            "keep the salary where group 0's share is highest",
            """
            def infer_salary(model, years):
                grid = np.linspace(40_000, 90_000, 1001)
                shares = np.array([model(years, s) for s in grid])
                return float((grid * shares).sum() / shares.sum())
            """,
        ),
    ],
    "1.4": [
        Wrong(
            "returns the person who leaks less",
            "leaks less",
            edited(LEAKS_MORE, "dev[i] > dev[j]", "dev[i] < dev[j]"),
        ),
        Wrong(
            "the more unusual salary leaks more",
            "not how unusual the salary is",
            edited(LEAKS_MORE, "np.abs(years - years.mean())", "np.abs(salary - salary.mean())"),
        ),
        Wrong(
            "signed effect without abs()",
            "abs(...)",
            edited(
                LEAKS_MORE,
                "dev = np.abs(years - years.mean())",
                "weight = (years - years.mean()) / ((years - years.mean()) ** 2).sum()",
                ("dev[i] > dev[j]", "weight[i] > weight[j]"),
            ),
        ),
        Wrong(
            "always the newest hire",
            "not simply the newest hire",
            """
            def leaks_more(years, salary, i, j):
                return i if years[i] < years[j] else j
            """,
        ),
        Wrong(
            "the larger leave-one-out influence (1.2), not the effect per dollar",
            "not the leave-one-out influence",
            """
            def leaks_more(years, salary, i, j):
                full = np.polyfit(years, salary, 1)[0]
                moves = [abs(full - np.polyfit(np.delete(years, k), np.delete(salary, k), 1)[0])
                         for k in (i, j)]
                return i if moves[0] > moves[1] else j
            """,
        ),
        Wrong(
            "the higher salary",
            "not the higher salary",
            """
            def leaks_more(years, salary, i, j):
                return i if salary[i] > salary[j] else j
            """,
        ),
        Wrong(
            "returns a bool (is i the one?)",
            "return the index itself",
            edited(LEAKS_MORE, "i if dev[i] > dev[j] else j", "bool(dev[i] > dev[j])"),
        ),
        Wrong(
            "returns the changed slope instead of the index",
            "not a float",
            """
            def leaks_more(years, salary, i, j):
                base = np.polyfit(years, salary, 1)[0]
                moves = []
                for k in (i, j):
                    nudged = salary.copy()
                    nudged[k] += 1_000
                    moves.append(abs(np.polyfit(years, nudged, 1)[0] - base))
                return max(moves)
            """,
        ),
    ],
}

RIGHT = {
    "1.1": [
        Right(
            "a loop with math.hypot",
            """
            import math

            def team0_share(positions, teams, point, power=3.0):
                mine = total = 0.0
                for (px, py), team in zip(positions, teams):
                    w = math.hypot(px - point[0], py - point[1]) ** -power
                    total += w
                    if team == 0:
                        mine += w
                return mine / total
            """,
        ),
        Right(
            "squared distances raised to power / 2",
            """
            def team0_share(positions, teams, point, power=3.0):
                dx, dy = (positions - point).T
                w = (dx * dx + dy * dy) ** (-power / 2)
                return np.sum(w * (teams == 0)) / np.sum(w)
            """,
        ),
    ],
    "1.2": [
        Right(
            "closed form with leverages, no refit",
            """
            def slope_influence(x, y):
                xc = x - x.mean()
                sxx = xc @ xc
                resid = y - (y.mean() + (xc @ (y - y.mean()) / sxx) * xc)
                h = 1 / len(x) + xc**2 / sxx
                return xc * resid / (sxx * (1 - h))
            """,
        ),
        Right(
            "np.linalg.lstsq with a boolean mask",
            """
            def slope_influence(x, y):
                def slope(a, b):
                    A = np.column_stack([a, np.ones_like(a)])
                    return np.linalg.lstsq(A, b, rcond=None)[0][0]

                out = np.zeros(len(x))
                for i in range(len(x)):
                    keep = np.ones(len(x), bool)
                    keep[i] = False
                    out[i] = slope(x, y) - slope(x[keep], y[keep])
                return out
            """,
        ),
    ],
    "1.3": [
        Right(
            "one vectorised model call on a $250 grid",
            """
            def infer_salary(model, years):
                grid = np.arange(40_000, 90_001, 250.0)
                return grid[np.argmax(model(np.full_like(grid, years), grid))]
            """,
        ),
        Right(
            "coarse-to-fine search",
            """
            def infer_salary(model, years):
                lo, hi = 40_000.0, 90_000.0
                for _ in range(4):
                    grid = np.linspace(lo, hi, 41)
                    best = grid[int(np.argmax([model(years, s) for s in grid]))]
                    step = grid[1] - grid[0]
                    lo, hi = max(40_000.0, best - 2 * step), min(90_000.0, best + 2 * step)
                return float(best)
            """,
        ),
    ],
    "1.4": [
        Right(
            "closed form: the larger |x - mean(x)|",
            """
            def leaks_more(years, salary, i, j):
                dev = np.abs(years - years.mean())
                return i if dev[i] >= dev[j] else j
            """,
        ),
        Right(
            "refits with np.linalg.lstsq and compares slope changes",
            """
            def leaks_more(years, salary, i, j):
                A = np.column_stack([years, np.ones_like(years)])

                def slope(s):
                    return np.linalg.lstsq(A, s, rcond=None)[0][0]

                base = slope(salary)
                change = {}
                for k in (i, j):
                    bumped = salary.astype(float)
                    bumped[k] = bumped[k] + 1.0
                    change[k] = abs(slope(bumped) - base)
                return max((i, j), key=lambda k: change[k])
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(1, PRELUDE, WRONG, RIGHT),
    "1.5",
    importlib.import_module("tests.test_challenge_01"),  # the challenge's answers live there
)
