"""The player layouts of the PAIR explorable "Why Some Models Leak Data" and their salary reading.

The layouts ship as package data (Apache-2.0, see ``data_files/README.md``). The soccer toy
reads them as positions on a field, the salary toy as (years at the company, salary).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = [
    "FIELD_WIDTH",
    "FIELD_HEIGHT",
    "N_PLAYERS",
    "PAIR_SOURCE",
    "pair_layout_names",
    "pair_players",
    "salary_view",
    "positions_from_salary",
]


#: Width and height of the explorable's field, in its own units.
FIELD_WIDTH: float = 120.0


FIELD_HEIGHT: float = 75.0


N_PLAYERS: int = 22


#: Citation for the player layouts.
PAIR_SOURCE: str = (
    "Player layouts from 'Why Some Models Leak Data' by Adam Pearce and Ellen Jiang "
    "(Google PAIR, 2020), PAIR-code/ai-explorables, source/data-leak/players0.js, Apache-2.0."
)


@lru_cache(maxsize=1)
def _pair_file() -> dict:
    text = resources.files("course_utils").joinpath("data_files/pair_data_leak_players.json")
    return json.loads(text.read_text(encoding="utf-8"))


def pair_layout_names() -> list[str]:
    """Names of the shipped player layouts.

    Examples
    --------
    >>> pair_layout_names()[:3]
    ['players0', 'players1', 'players2']
    """
    return list(_pair_file()["layouts"])


def pair_players(layout: str = "players0") -> tuple[np.ndarray, np.ndarray]:
    """Player positions and teams of one layout of the PAIR explorable.

    Parameters
    ----------
    layout : str, default "players0"
        One of :func:`pair_layout_names`: ``players0``, ``players1``, ``players2`` (the soccer
        layouts) and ``playersleaklow`` / ``playersleakhigh`` (the "subtle leaks" pair).

    Returns
    -------
    positions : ndarray of shape (22, 2), float
        ``(x, y)`` in field units, x in [0, 120], y in [0, 75]; y grows downwards as on screen.
    teams : ndarray of shape (22,), int
        0 for indices 0-10 (team 0, "men" in the salary view), 1 for indices 11-21.
        Team 0's goalie is index 0 and team 1's is index 20 in ``players0``.

    Examples
    --------
    >>> positions, teams = pair_players()
    >>> positions.shape, teams.shape, int(teams.sum())
    ((22, 2), (22,), 11)
    """
    layouts = _pair_file()["layouts"]
    if layout not in layouts:
        raise ValueError(f"unknown layout {layout!r}; choose one of {sorted(layouts)}")
    positions = np.array(layouts[layout], dtype=float)
    teams = (np.arange(N_PLAYERS) >= 11).astype(int)
    return positions, teams


def salary_view(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read player positions as (years at company, salary in USD).

    ``years = x / 6`` (0 to 20 years) and ``salary = 90000 - y / 75 * 50000`` ($40k to $90k), so
    a player near the top of the field is well paid.

    Parameters
    ----------
    positions : array-like of shape (n, 2)

    Returns
    -------
    years, salary_usd : ndarrays of shape (n,)

    Examples
    --------
    >>> years, salary = salary_view([[60.0, 37.5]])
    >>> float(years[0]), float(salary[0])
    (10.0, 65000.0)
    """
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must have shape (n, 2), got {positions.shape}")
    years = positions[:, 0] / 6.0
    salary = 90000.0 - positions[:, 1] / FIELD_HEIGHT * 50000.0
    return years, salary


def positions_from_salary(years: np.ndarray, salary_usd: np.ndarray) -> np.ndarray:
    """Inverse of :func:`salary_view`: field positions from years and salaries.

    Examples
    --------
    >>> positions_from_salary([10.0], [65000.0]).tolist()
    [[60.0, 37.5]]
    """
    years = np.asarray(years, dtype=float)
    salary_usd = np.asarray(salary_usd, dtype=float)
    if years.shape != salary_usd.shape or years.ndim != 1:
        raise ValueError(
            f"years and salary_usd must be 1-d of equal length, got {years.shape} and {salary_usd.shape}"
        )
    y = (90000.0 - salary_usd) / 50000.0 * FIELD_HEIGHT
    return np.column_stack([years * 6.0, y])
