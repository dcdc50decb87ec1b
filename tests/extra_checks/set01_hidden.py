"""Instructor-only checks for exercise set 01: an example for ``course-grade --extra-checks``.

Keep a file like this next to your gradebook, never in the course repository you hand out:

    course-grade submissions/ --csv grades.csv --extra-checks set01_hidden.py

Learners cannot run these checks (they are not in ``exercises/`` nor in the installed package),
so they test what a public check cannot reveal without giving the answer away: the same
functions on inputs the learner never saw. Ids start at N.101 so that a public question added to
the set later never collides with them. Their scores land in the gradebook's ``extra:1.101``,
``extra:1.102``, ``extra:1.103``, ``extra_total`` and ``extra_max`` columns, outside the total.
"""

import numpy as np

from course_utils.checks import expect, expect_number, question


@question(
    "1.101",
    points=1,
    answer="team0_share",
    task="hidden: the weighted vote of 40 players for powers 1 and 2.5",
)
def _hidden_share(team0_share):
    gen = np.random.default_rng(2024)
    positions = gen.uniform(0.0, 100.0, (40, 2))
    teams = gen.integers(0, 2, 40)
    point = np.array([50.5, 49.5])
    for power in (1.0, 2.5):
        w = 1.0 / np.linalg.norm(positions - point, axis=1) ** power
        want = float(w[teams == 0].sum() / w.sum())
        got = expect_number(team0_share(positions, teams, point, power=power), "one share")
        expect(
            abs(got - want) < 1e-9,
            f"40 players, power = {power:g}",
            expected=round(want, 6),
            got=round(got, 6),
            hint="Use the `power` argument in the weights 1 / d**power.",
        )


@question(
    "1.102",
    points=1,
    answer="slope_influence",
    task="hidden: points on a line move the slope by nothing",
)
def _hidden_collinear(slope_influence):
    x = np.linspace(0.0, 20.0, 15)
    got = np.asarray(slope_influence(x, 3.0 * x + 40_000.0), dtype=float)
    expect(
        got.shape == (15,) and np.allclose(got, 0.0, atol=1e-6),
        "15 points exactly on a line: dropping any of them leaves the slope unchanged",
        expected="15 zeros",
        got=np.round(got, 6),
    )


@question(
    "1.103",
    points=2,
    answer="infer_salary",
    task="hidden: a model with one group-0 person among 30 (a closure sent to the kernel)",
)
def _hidden_salary(infer_salary):
    # A function defined inside the check travels to the learner's kernel by value (the kernel
    # cannot import this file), so the model is built here, not at the file's top level.
    gen = np.random.default_rng(7)
    years = gen.uniform(0.0, 20.0, 30)
    salary = gen.uniform(40_000.0, 90_000.0, 30)
    years[0], salary[0] = 12.0, 61_500.0
    groups = np.ones(30, dtype=int)
    groups[0] = 0
    far = np.abs(years - 12.0) < 1.5
    far[0] = False
    years[far] += 3.0

    def model(at_years, at_salary):
        qx = np.asarray(at_years, float) * 6.0
        qy = (90_000.0 - np.asarray(at_salary, float)) / 50_000.0 * 75.0
        d = np.hypot(
            qx[..., None] - years * 6.0, qy[..., None] - (90_000.0 - salary) / 50_000.0 * 75.0
        )
        w = 1.0 / np.maximum(d, 1e-9) ** 3
        share = (w * (groups == 0)).sum(-1) / w.sum(-1)
        return float(share) if np.ndim(share) == 0 else share

    got = expect_number(infer_salary(model, 12.0), "one salary")
    expect(
        abs(got - 61_500.0) <= 1_000.0,
        "the salary of the one group-0 person with 12 years",
        expected="about 61,500",
        got=round(got),
    )
