"""Toy latency: one model update plus a full redraw (Agg), median over repeated drags."""

from __future__ import annotations

import time

import numpy as np


def run() -> list[dict]:
    import matplotlib

    matplotlib.use("Agg")
    from course_utils.data import pair_players, salary_view
    from course_utils.toys.salary import SalaryToy, dp_dial
    from course_utils.toys.soccer import SoccerToy, cell_centres, team_share

    rows = []
    toy = SoccerToy()
    toy.drag(3, 10, 10)  # warm-up draw
    times = []
    for k in range(40):
        toy.drag(3, 10 + k, 20 + k % 7)
        times.append(toy.update_seconds)
    toy.close()
    rows.append({"name": "soccer toy update (model + redraw), median of 40", "value": 1e3 * float(np.median(times)),
                 "unit": "ms", "note": "target < 50 ms"})
    positions, teams = pair_players()
    xs, ys = cell_centres()
    start = time.perf_counter()
    for _ in range(200):
        team_share(positions, teams, xs, ys)
    rows.append({"name": "team_share on 640 patches", "value": 1e3 * (time.perf_counter() - start) / 200,
                 "unit": "ms", "note": "model only"})
    salary_toy = SalaryToy()
    times = []
    for k in range(20):
        start = time.perf_counter()
        # under Agg, draw_idle (called by set_salary) draws at once: this is one full redraw,
        # as ipympl does one per slider release; a second canvas.draw() would count it twice
        salary_toy.set_salary(0, 41_000 + 1_000 * k)
        times.append(time.perf_counter() - start)
    salary_toy.close()
    rows.append({"name": "salary toy slider update (lines + redraw), median of 20", "value": 1e3 * float(np.median(times)),
                 "unit": "ms", "note": "target < 50 ms"})
    years, salary = salary_view(pair_players("playersleaklow")[0])
    rng = np.random.default_rng(0)
    for eps in (1.0, 1000.0):
        d = dp_dial(years, salary, teams, epsilon=eps, n_draws=500, rng=rng)
        rows.append({"name": f"DP dial eps={eps:g}: attacker median error", "value": d["attack_error"], "unit": "$",
                     "note": f"slope error {d['slope_error']:.0f} $/year"})
    return rows
