"""Toy latency: one model update plus a full redraw (Agg), median over repeated drags."""

from __future__ import annotations

import time

import numpy as np


def _drag_40_times(toy) -> tuple[list[float], int]:
    """Drag player 3 forty times after a warm-up draw: each update's seconds, and how many of the
    forty were fast repaints."""
    toy.drag(3, 10, 10)  # warm-up draw
    times = []
    for k in range(40):
        toy.drag(3, 10 + k, 20 + k % 7)
        times.append(toy.update_seconds)
    return times, toy.blitter.fast_draws


def _update_row(what: str, times: list[float], fast: int) -> dict:
    """One toy update's median latency against the 50 ms target."""
    return {
        "name": f"{what}, median of {len(times)}",
        "value": 1e3 * float(np.median(times)),
        "unit": "ms",
        "note": f"target < 50 ms; {fast} of {len(times)} were fast repaints",
    }


def run() -> list[dict]:
    import matplotlib

    matplotlib.use("Agg")
    from course_utils.data import pair_players, salary_view
    from course_utils.toys.salary import SalaryToy, dp_dial
    from course_utils.toys.soccer import SoccerToy, cell_centres, team_share

    rows = []
    toy = SoccerToy()
    times, fast = _drag_40_times(toy)
    full = []
    for _ in range(10):  # what every update cost before the fast repaints (Blitter)
        start = time.perf_counter()
        toy.fig.canvas.draw()
        full.append(time.perf_counter() - start)
    toy.close()
    rows.append(_update_row("soccer toy update (model + redraw)", times, fast))
    rows.append(
        {
            "name": "soccer toy full redraw, median of 10",
            "value": 1e3 * float(np.median(full)),
            "unit": "ms",
            "note": "first draw, resize, zoom: what a fast repaint avoids",
        }
    )
    toy = SoccerToy()
    toy.controls()  # with its widgets: every update also rewrites the text read-out
    times, fast = _drag_40_times(toy)
    toy.close()
    rows.append(_update_row("soccer toy update with controls and text read-out", times, fast))
    positions, teams = pair_players()
    xs, ys = cell_centres()
    start = time.perf_counter()
    for _ in range(200):
        team_share(positions, teams, xs, ys)
    rows.append(
        {
            "name": "team_share on 640 patches",
            "value": 1e3 * (time.perf_counter() - start) / 200,
            "unit": "ms",
            "note": "model only",
        }
    )
    salary_toy = SalaryToy()
    times = []
    for k in range(20):
        start = time.perf_counter()
        # one slider release: new lines, then one repaint (fast after the first, full, draw)
        salary_toy.set_salary(0, 41_000 + 1_000 * k)
        times.append(time.perf_counter() - start)
    fast = salary_toy.blitter.fast_draws
    salary_toy.close()
    rows.append(_update_row("salary toy slider update (lines + redraw)", times, fast))
    years, salary = salary_view(pair_players("playersleaklow")[0])
    rng = np.random.default_rng(0)
    for eps in (1.0, 1000.0):
        d = dp_dial(years, salary, teams, epsilon=eps, n_draws=500, rng=rng)
        rows.append(
            {
                "name": f"DP dial eps={eps:g}: attacker median error",
                "value": d["attack_error"],
                "unit": "$",
                "note": f"slope error {d['slope_error']:.0f} $/year",
            }
        )
    return rows
