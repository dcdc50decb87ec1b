"""The salary toy: the soccer numbers read as (years at company, salary) for two groups.

Pure functions - the flexible patch model's read-off, per-group least-squares lines, each
point's influence on a slope, an attacker who inverts a published slope, and an epsilon-DP version
of the per-group lines. :class:`SalaryToy`, the thin widget over them, lives in
:mod:`course_utils.toys.salary_toy` and is importable from here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..results import Result
from ..validation import RNGLike, as_rng, check_int, check_positive
from .players import positions_from_salary
from .soccer import cell_centres, team_share

__all__ = [
    "SALARY_BOUNDS",
    "GROUP_NAMES",
    "group_lines",
    "slope_weights",
    "loo_slope_influence",
    "infer_salary_from_slope",
    "patch_salary_readout",
    "dp_group_lines",
    "dp_dial",
    "DialReadout",
]

#: Public bounds of the salary study: years in [0, 20], salaries in [$40k, $90k].
SALARY_BOUNDS: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 20.0), (40_000.0, 90_000.0))
#: Group 0 is "men" (team 0), group 1 is "women" (team 1).
GROUP_NAMES: dict[int, str] = {0: "men", 1: "women"}


def _check_xy(years: Any, salary: Any, groups: Any = None) -> tuple[np.ndarray, ...]:
    years = np.asarray(years, dtype=float)
    salary = np.asarray(salary, dtype=float)
    if years.ndim != 1 or salary.shape != years.shape:
        raise ValueError(
            f"years and salary must be 1-d and of equal length, got {years.shape} and {salary.shape}"
        )
    if not (np.isfinite(years).all() and np.isfinite(salary).all()):
        raise ValueError("years and salary must be finite")
    if groups is None:
        return years, salary
    groups = np.asarray(groups)
    if groups.shape != years.shape:
        raise ValueError(
            f"groups must have the same length as years ({len(years)}), got {groups.shape}"
        )
    return years, salary, groups


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError("a line needs at least two points with different years")
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    return slope, float(y.mean() - slope * x.mean())


def group_lines(
    years: np.ndarray, salary: np.ndarray, groups: np.ndarray
) -> dict[Any, tuple[float, float]]:
    """Least-squares line ``salary = slope * years + intercept`` for every group.

    Parameters
    ----------
    years, salary, groups : array-like of shape (n,)

    Returns
    -------
    dict
        ``{group: (slope, intercept)}`` with the slope in $ per year; groups in sorted order.

    Examples
    --------
    >>> lines = group_lines([0, 1, 2, 0, 1], [10, 12, 14, 5, 5], [0, 0, 0, 1, 1])
    >>> lines[0], lines[1]
    ((2.0, 10.0), (0.0, 5.0))
    """
    years, salary, groups = _check_xy(years, salary, groups)
    return {g.item(): _fit(years[groups == g], salary[groups == g]) for g in np.unique(groups)}


def slope_weights(years: np.ndarray) -> np.ndarray:
    """How much each person's salary moves the least-squares slope: d slope / d salary_i.

    The slope is linear in the salaries, ``slope = sum_i c_i * salary_i`` with
    ``c_i = (x_i - mean(x)) / sum_j (x_j - mean(x))**2``: people far from the average tenure have
    large weights (their salary can be read back from the slope), typical people have weights
    near zero.

    Examples
    --------
    >>> slope_weights([0.0, 1.0, 2.0]).tolist()
    [-0.5, 0.0, 0.5]
    """
    years = np.asarray(years, dtype=float)
    if years.ndim != 1 or len(years) < 2 or np.ptp(years) == 0:
        raise ValueError("years must be 1-d with at least two different values")
    xc = years - years.mean()
    return xc / (xc @ xc)


def loo_slope_influence(years: np.ndarray, salary: np.ndarray) -> np.ndarray:
    """Leave-one-out influence: ``slope(all) - slope(all but i)`` for every point ``i``.

    Examples
    --------
    >>> loo_slope_influence([0, 1, 2, 3], [0, 1, 2, 9]).round(2).tolist()
    [-1.2, 0.09, -0.34, 1.8]
    """
    years, salary = _check_xy(years, salary)
    if len(years) < 3:
        raise ValueError("leave-one-out needs at least three points")
    full, _ = _fit(years, salary)
    keep = ~np.eye(len(years), dtype=bool)
    return np.array([full - _fit(years[k], salary[k])[0] for k in keep])


def infer_salary_from_slope(
    years: np.ndarray, salary: np.ndarray, index: int, slope: float
) -> float:
    """The attacker's inversion: the salary of person ``index`` that makes the line's slope ``slope``.

    The attacker knows everyone's tenure and every *other* salary in the group (the usual
    worst case in differential privacy) and reads the published slope. ``salary[index]`` is
    ignored - it is what the attacker wants to find.

    Examples
    --------
    >>> years, salary = np.array([0.0, 5, 6, 7]), np.array([41e3, 60e3, 55e3, 61e3])
    >>> true_slope = group_lines(years, salary, np.zeros(4))[0][0]
    >>> round(infer_salary_from_slope(years, salary, 0, true_slope))
    41000
    """
    years, salary = _check_xy(years, salary)
    if not 0 <= index < len(years):
        raise ValueError(f"index must be in 0..{len(years) - 1}, got {index}")
    c = slope_weights(years)
    if c[index] == 0:
        raise ValueError(
            f"person {index} sits at the mean tenure: the slope says nothing about them"
        )
    others = np.delete(c, index) @ np.delete(salary, index)
    return float((slope - others) / c[index])


def patch_salary_readout(
    years: np.ndarray,
    salary: np.ndarray,
    groups: np.ndarray,
    *,
    tenure: float,
    group: int = 0,
    power: float = 3.0,
    cell: float = 3.75,
) -> float:
    """Read a salary off the flexible patch model: the attack on the published heat map.

    The patch model is the soccer model on the salary view (cells of ``cell`` field units, votes
    weighted ``1 / d**power``). The attacker looks at the column of patches at ``tenure`` and
    returns the salary at the centre of the patch where ``group`` is most dominant.

    Examples
    --------
    >>> years, salary = np.array([0.4, 8, 9, 10]), np.array([43_750, 60e3, 62e3, 61e3])
    >>> round(patch_salary_readout(years, salary, [0, 1, 1, 1], tenure=0.4))
    43750
    """
    years, salary, groups = _check_xy(years, salary, groups)
    positions = positions_from_salary(years, salary)
    xs, ys = cell_centres(cell)
    column = xs[np.argmin(np.abs(xs - tenure * 6.0))]
    share = team_share(positions, (groups != group).astype(int), [column], ys, power=power)[:, 0]
    best_y = ys[int(np.argmax(share))]
    return float(90_000.0 - best_y / 75.0 * 50_000.0)


def _check_bounds(bounds: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        (x_lo, x_hi), (y_lo, y_hi) = bounds
        x_lo, x_hi, y_lo, y_hi = (float(v) for v in (x_lo, x_hi, y_lo, y_hi))
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be ((years_lo, years_hi), (salary_lo, salary_hi)), got {bounds!r}"
        ) from None
    if not (x_lo < x_hi and y_lo < y_hi):
        raise ValueError(f"bounds need lo < hi for years and for salary, got {bounds!r}")
    return (x_lo, x_hi), (y_lo, y_hi)


def dp_group_lines(
    years: np.ndarray,
    salary: np.ndarray,
    groups: np.ndarray,
    *,
    epsilon: float,
    bounds: tuple[tuple[float, float], tuple[float, float]] = SALARY_BOUNDS,
    rng: RNGLike,
) -> dict[Any, tuple[float, float]]:
    """Per-group least-squares lines released with epsilon-differential privacy.

    Mechanism (noisy sufficient statistics): years and salaries are clipped to ``bounds`` and
    rescaled to [0, 1]; for each group the five statistics ``(n, sum x, sum y, sum x^2, sum xy)``
    get independent Laplace noise of scale ``5 / epsilon``; slope and intercept are computed from the
    noisy statistics and mapped back to years and dollars.

    Proof sketch. Neighbouring datasets add or remove one person. After clipping, one person
    changes each of the five statistics of their own group by at most 1, so the L1 sensitivity of
    the 5-vector is 5 and the Laplace mechanism with scale 5 / epsilon is epsilon-DP for it.
    A person belongs to one group, so the groups' releases touch disjoint data (parallel
    composition): the whole dictionary is epsilon-DP. Turning statistics into lines is
    post-processing, including the fallback to a flat line when the noisy denominator is not
    positive. The group labels present (which groups exist) are treated as public.

    Values outside ``bounds`` are clipped, not rejected: raising on an outlier would itself reveal
    that an outlier exists. Clipping biases the lines when the bounds are too tight.

    Parameters
    ----------
    years, salary, groups : array-like of shape (n,)
    epsilon : float
        Privacy budget, > 0. Small = more noise.
    bounds : ((years_lo, years_hi), (salary_lo, salary_hi))
        Public bounds; must not be chosen by looking at the data.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    dict
        ``{group: (slope, intercept)}`` as :func:`group_lines`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> years, salary = np.array([1.0, 5, 10, 15]), np.array([50e3, 60e3, 70e3, 80e3])
    >>> slope, _ = dp_group_lines(years, salary, [0] * 4, epsilon=1e6, rng=rng)[0]
    >>> round(slope), round(group_lines(years, salary, [0] * 4)[0][0])
    (2122, 2122)
    """
    years, salary, groups = _check_xy(years, salary, groups)
    epsilon = check_positive(epsilon, "epsilon")
    (x_lo, x_hi), (y_lo, y_hi) = _check_bounds(bounds)
    rng = as_rng(rng)
    wx, wy = x_hi - x_lo, y_hi - y_lo
    x = (np.clip(years, x_lo, x_hi) - x_lo) / wx
    y = (np.clip(salary, y_lo, y_hi) - y_lo) / wy
    lines = {}
    for g in np.unique(groups):
        m = groups == g
        stats = np.array([m.sum(), x[m].sum(), y[m].sum(), (x[m] ** 2).sum(), (x[m] * y[m]).sum()])
        n, sx, sy, sxx, sxy = stats + rng.laplace(scale=5.0 / epsilon, size=5)
        n = max(n, 1.0)
        denom = n * sxx - sx * sx
        slope01 = (n * sxy - sx * sy) / denom if denom > 0 else 0.0
        icpt01 = (sy - slope01 * sx) / n
        slope = slope01 * wy / wx
        lines[g.item()] = (float(slope), float(y_lo + wy * icpt01 - slope * x_lo))
    return lines


@dataclass(frozen=True)
class DialReadout(Result):
    """What :func:`dp_dial` measures over its noise draws.

    ``attack_error`` is the median absolute error of the attacker's salary guess ($),
    ``slope_error`` the median absolute change of the slopes over groups and draws ($/year);
    ``slopes`` and ``intercepts`` (n_draws, n_groups) are the released lines and ``guesses``
    (n_draws,) the attacker's guesses.
    """

    attack_error: float
    slope_error: float
    slopes: np.ndarray
    intercepts: np.ndarray
    guesses: np.ndarray


def dp_dial(
    years: np.ndarray,
    salary: np.ndarray,
    groups: np.ndarray,
    *,
    epsilon: float,
    index: int = 0,
    bounds: tuple[tuple[float, float], tuple[float, float]] = SALARY_BOUNDS,
    n_draws: int = 200,
    rng: RNGLike,
) -> DialReadout:
    """What the DP dial shows: attack error and utility loss over many noise draws.

    For each of ``n_draws`` releases of :func:`dp_group_lines`, the attacker of
    :func:`infer_salary_from_slope` inverts the slope of person ``index``'s group (clipping the
    guess to the public salary bounds), and the utility loss is how far each group's slope moved
    from the non-private one.

    Returns
    -------
    DialReadout

    Examples
    --------
    >>> from course_utils.toys.players import pair_players, salary_view
    >>> positions, teams = pair_players("playersleaklow")
    >>> years, salary = salary_view(positions)
    >>> rng = np.random.default_rng(0)
    >>> loose = dp_dial(years, salary, teams, epsilon=0.5, rng=rng)
    >>> tight = dp_dial(years, salary, teams, epsilon=1e4, rng=rng)
    >>> bool(loose.attack_error > 10 * tight.attack_error)
    True
    """
    years, salary, groups = _check_xy(years, salary, groups)
    n_draws = check_int(n_draws, "n_draws", min_val=1)
    rng = as_rng(rng)  # one stream for all the draws
    (_, _), (y_lo, y_hi) = _check_bounds(bounds)
    exact = group_lines(years, salary, groups)
    keys = list(exact)
    target_group = groups[index].item()
    members = np.flatnonzero(groups == groups[index])
    local = int(np.flatnonzero(members == index)[0])
    slopes = np.empty((n_draws, len(keys)))
    intercepts = np.empty((n_draws, len(keys)))
    guesses = np.empty(n_draws)
    for k in range(n_draws):
        released = dp_group_lines(years, salary, groups, epsilon=epsilon, bounds=bounds, rng=rng)
        slopes[k] = [released[g][0] for g in keys]
        intercepts[k] = [released[g][1] for g in keys]
        guess = infer_salary_from_slope(
            years[members], salary[members], local, released[target_group][0]
        )
        guesses[k] = np.clip(guess, y_lo, y_hi)
    exact_slopes = np.array([exact[g][0] for g in keys])
    return DialReadout(
        attack_error=float(np.median(np.abs(guesses - salary[index]))),
        slope_error=float(np.median(np.abs(slopes - exact_slopes))),
        slopes=slopes,
        intercepts=intercepts,
        guesses=guesses,
    )


def __getattr__(name: str) -> object:
    """The widget lives in :mod:`course_utils.toys.salary_toy`; ``salary.SalaryToy`` still works."""
    if name == "SalaryToy":
        from .salary_toy import SalaryToy

        return SalaryToy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
