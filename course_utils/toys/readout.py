"""Text read-outs of the toys: what the figure shows, in words, for anyone who cannot see it.

A live figure is a ``<canvas>``: a screen reader finds nothing in it. Each toy therefore keeps a
short sentence describing its state next to its controls ("orange reaches the ball first on
61 % of the field; orange goalie at x = 3, y = 37") and rewrites it after every change. The
sentences are made here by pure functions of the toy's numbers (unit-tested, no widgets), and
:func:`live_html` wraps one in the markup a screen reader treats as a status message.

Formatting a sentence costs microseconds and touches no artist, so a read-out never adds a
redraw: the figures keep their fast repaints (:class:`course_utils.plotting.Blitter`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import check_int

__all__ = ["soccer_readout", "salary_readout", "live_html", "TEAM_NAMES"]

#: Team 0 and team 1 as the soccer figure colours them.
TEAM_NAMES: tuple[str, str] = ("orange", "blue")


def _point(x: float, y: float) -> str:
    return f"x = {x:.1f}, y = {y:.1f}"


def soccer_readout(
    share: Any,
    positions: Any,
    teams: Any,
    *,
    xs: Any,
    ys: Any,
    hidden: bool = False,
    moved: int | None = None,
    probe: tuple[float, float] | None = None,
    last_guess: tuple[float, float, float] | None = None,
    goalie: int = 0,
) -> str:
    """Describe the soccer toy: who controls how much of the field, and where the players are.

    Parameters
    ----------
    share : array of shape (len(ys), len(xs))
        The model's team-0 share per grid cell (``team_share``).
    positions : array of shape (n, 2); teams : array of shape (n,)
        The players.
    xs, ys : 1-d arrays
        The cell centres of ``share``.
    hidden : bool
        The guessing game is on: player positions are not told (that would give the game away).
    moved : int, optional
        The player last moved; its position is told (as is the goalie's).
    probe : (x, y), optional
        In the game, the point the guess sliders are on: the read-out gives the model's share
        there, so the game can be played without seeing the colours.
    last_guess : (x, y, distance), optional
        The guess just made: reveals the goalie.
    goalie : int
        Index of the orange goalie.

    Examples
    --------
    >>> xs, ys = np.array([0.5, 1.5]), np.array([0.5])
    >>> soccer_readout([[0.9, 0.2]], [[0.0, 0.5], [2.0, 0.5]], [0, 1], xs=xs, ys=ys)
    'Orange reaches the ball first on 50 % of the field, blue on 50 %. Orange goalie at x = 0.0, y = 0.5.'
    >>> soccer_readout([[0.9, 0.2]], [[0.0, 0.5], [2.0, 0.5]], [0, 1], xs=xs, ys=ys,
    ...                hidden=True, probe=(1.4, 0.5))
    'Orange reaches the ball first on 50 % of the field, blue on 50 %. Players hidden. At the guess point x = 1.4, y = 0.5 the model gives orange 20 %.'
    """
    share = np.asarray(share, dtype=float)
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    positions, teams = np.asarray(positions, dtype=float), np.asarray(teams)
    if share.ndim != 2 or share.shape != (ys.size, xs.size):
        raise ValueError(
            f"share must have shape (len(ys), len(xs)) = ({ys.size}, {xs.size}), got {share.shape}"
        )
    if positions.ndim != 2 or positions.shape[1] != 2 or teams.shape != (len(positions),):
        raise ValueError(
            f"positions must have shape (n, 2) and teams shape (n,), got {positions.shape} and "
            f"{teams.shape}"
        )
    n = len(positions)
    goalie = check_int(goalie, "goalie", min_val=0, max_val=n - 1)
    orange, blue = 100 * np.mean(share > 0.5), 100 * np.mean(share < 0.5)
    parts = [f"Orange reaches the ball first on {orange:.0f} % of the field, blue on {blue:.0f} %."]
    if last_guess is not None:
        gx, gy = positions[goalie]
        parts.append(
            f"Your guess was {last_guess[2]:.1f} field units from the orange goalie, who stands "
            f"at {_point(gx, gy)}."
        )
    elif hidden:
        parts.append("Players hidden.")
        if probe is not None:
            i = int(np.abs(ys - probe[1]).argmin())
            j = int(np.abs(xs - probe[0]).argmin())
            parts.append(
                f"At the guess point {_point(*probe)} the model gives orange {100 * share[i, j]:.0f} %."
            )
    else:
        parts.append(f"Orange goalie at {_point(*positions[goalie])}.")
        if moved is not None and moved != goalie:
            moved = check_int(moved, "moved", min_val=0, max_val=n - 1)
            team = TEAM_NAMES[int(teams[moved])]
            parts.append(f"{team.capitalize()} player {moved} at {_point(*positions[moved])}.")
    return " ".join(parts)


def salary_readout(
    years: Any,
    salary: Any,
    groups: Any,
    *,
    people: Sequence[int] = (),
    epsilon: float | None = None,
    attack_error: float | None = None,
    slope_error: float | None = None,
) -> str:
    """Describe the salary toy: the people the sliders move, both slopes, the DP dial.

    Parameters
    ----------
    years, salary, groups : arrays of shape (n,)
        The study (group 0 = men, 1 = women).
    people : sequence of int
        People to describe first (the ones the sliders move).
    epsilon : float, optional
        The DP dial; None when it is off.
    attack_error, slope_error : float, optional
        With the dial on: the attacker's median error on the new hire ($) and how far the noisy
        slopes move ($/year).

    Examples
    --------
    >>> years = np.array([0.5, 10.0, 20.0, 5.0, 15.0])
    >>> salary = np.array([41e3, 60e3, 85e3, 50e3, 70e3])
    >>> print(salary_readout(years, salary, np.array([0, 0, 0, 1, 1]), people=[0]))
    person 0 (men): 0.5 years, $41,000
    men's slope +2,259 $/year, women's slope +2,000 $/year
    """
    from .salary import GROUP_NAMES, group_lines

    years, salary, groups = np.asarray(years, float), np.asarray(salary, float), np.asarray(groups)
    lines = []
    if people:
        said = []
        for p in people:
            p = check_int(p, "people", min_val=0, max_val=len(years) - 1)
            said.append(
                f"person {p} ({GROUP_NAMES[int(groups[p])]}): {years[p]:.1f} years, "
                f"${salary[p]:,.0f}"
            )
        lines.append("; ".join(said))
    slopes = {g: s for g, (s, _) in group_lines(years, salary, groups).items()}
    lines.append(
        ", ".join(f"{GROUP_NAMES[g]}'s slope {s:+,.0f} $/year" for g, s in sorted(slopes.items()))
    )
    if epsilon is not None:
        if attack_error is None or slope_error is None:
            raise ValueError("attack_error and slope_error must be given with epsilon")
        lines.append(
            f"epsilon = {epsilon:g}: attacker's median error on the new hire "
            f"${attack_error:,.0f}, slopes move by {slope_error:,.0f} $/year"
        )
    return "\n".join(lines)


def live_html(text: str) -> str:
    """``text`` as a polite status message (``role="status"``), for an ``ipywidgets.HTML``.

    ipywidgets has no ``aria-live`` setting, so the role travels inside the widget's HTML. An
    ``HTML`` widget replaces its content on every update, so the status element is new each
    time; screen readers differ in whether they announce a status that replaces the last one
    (those that do not still find it next to the controls).

    Examples
    --------
    >>> live_html("a < b\\nc")
    '<div role="status" aria-live="polite" aria-atomic="true" class="course-readout">a &lt; b<br>c</div>'
    """
    body = "<br>".join(html.escape(line, quote=False) for line in str(text).split("\n"))
    return (
        f'<div role="status" aria-live="polite" aria-atomic="true" class="course-readout">'
        f"{body}</div>"
    )
