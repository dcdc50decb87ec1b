"""The salary toy: the soccer numbers read as (years at company, salary) for two groups.

Pure functions first - the flexible patch model's read-off, per-group least-squares lines, each
point's influence on a slope, an attacker who inverts a published slope, and an epsilon-DP version
of the per-group lines - then :class:`SalaryToy`, a thin widget over them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import positions_from_salary
from ..plotting import TEAM_COLORS, Blitter, figure_with_controls, share_map
from .readout import live_html, salary_readout
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
    "SalaryToy",
]

#: Public bounds of the salary study: years in [0, 20], salaries in [$40k, $90k].
SALARY_BOUNDS: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 20.0), (40_000.0, 90_000.0))
#: Group 0 is "men" (team 0), group 1 is "women" (team 1).
GROUP_NAMES: dict[int, str] = {0: "men", 1: "women"}


def _check_xy(years: Any, salary: Any, groups: Any = None) -> tuple[np.ndarray, ...]:
    years = np.asarray(years, dtype=float)
    salary = np.asarray(salary, dtype=float)
    if years.ndim != 1 or salary.shape != years.shape:
        raise ValueError(f"years and salary must be 1-d and of equal length, got {years.shape} and {salary.shape}")
    if not (np.isfinite(years).all() and np.isfinite(salary).all()):
        raise ValueError("years and salary must be finite")
    if groups is None:
        return years, salary
    groups = np.asarray(groups)
    if groups.shape != years.shape:
        raise ValueError(f"groups must have the same length as years ({len(years)}), got {groups.shape}")
    return years, salary, groups


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError("a line needs at least two points with different years")
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    return slope, float(y.mean() - slope * x.mean())


def group_lines(years: np.ndarray, salary: np.ndarray, groups: np.ndarray) -> dict[Any, tuple[float, float]]:
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


def infer_salary_from_slope(years: np.ndarray, salary: np.ndarray, index: int, slope: float) -> float:
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
        raise ValueError(f"person {index} sits at the mean tenure: the slope says nothing about them")
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
        raise ValueError(f"bounds must be ((years_lo, years_hi), (salary_lo, salary_hi)), got {bounds!r}") from None
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
    rng: np.random.Generator,
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
    rng : numpy.random.Generator

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
    if not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive number, got {epsilon}")
    (x_lo, x_hi), (y_lo, y_hi) = _check_bounds(bounds)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(0))")
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


def dp_dial(
    years: np.ndarray,
    salary: np.ndarray,
    groups: np.ndarray,
    *,
    epsilon: float,
    index: int = 0,
    bounds: tuple[tuple[float, float], tuple[float, float]] = SALARY_BOUNDS,
    n_draws: int = 200,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """What the DP dial shows: attack error and utility loss over many noise draws.

    For each of ``n_draws`` releases of :func:`dp_group_lines`, the attacker of
    :func:`infer_salary_from_slope` inverts the slope of person ``index``'s group (clipping the
    guess to the public salary bounds), and the utility loss is how far each group's slope moved
    from the non-private one.

    Returns
    -------
    dict with
        ``attack_error`` : median absolute error of the attacker's salary guess ($),
        ``slope_error`` : median absolute slope change over groups and draws ($/year),
        ``slopes``, ``intercepts`` : arrays (n_draws, n_groups) of the released lines,
        ``guesses`` : array (n_draws,) of the attacker's guesses.

    Examples
    --------
    >>> from course_utils.data import pair_players, salary_view
    >>> positions, teams = pair_players("playersleaklow")
    >>> years, salary = salary_view(positions)
    >>> rng = np.random.default_rng(0)
    >>> loose = dp_dial(years, salary, teams, epsilon=0.5, rng=rng)
    >>> tight = dp_dial(years, salary, teams, epsilon=1e4, rng=rng)
    >>> bool(loose["attack_error"] > 10 * tight["attack_error"])
    True
    """
    years, salary, groups = _check_xy(years, salary, groups)
    if n_draws < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws}")
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
        guess = infer_salary_from_slope(years[members], salary[members], local, released[target_group][0])
        guesses[k] = np.clip(guess, y_lo, y_hi)
    exact_slopes = np.array([exact[g][0] for g in keys])
    return {
        "attack_error": float(np.median(np.abs(guesses - salary[index]))),
        "slope_error": float(np.median(np.abs(slopes - exact_slopes))),
        "slopes": slopes,
        "intercepts": intercepts,
        "guesses": guesses,
    }


class SalaryToy:
    """Salary study widget: two groups, their lines, salary sliders and a DP dial.

    Parameters
    ----------
    layout : str, default "playersleaklow"
        Player layout read as salaries (see :func:`course_utils.data.salary_view`).
    show_patches : bool, default False
        Draw the flexible patch model behind the points.
    rng : numpy.random.Generator, optional
        Noise source for the DP dial.

    Examples
    --------
    >>> toy = SalaryToy()
    >>> round(toy.slopes()[0])
    1807
    >>> toy.set_salary(0, 75_333)            # the new hire is paid well
    >>> toy.slopes()[0] < 0
    True
    >>> toy.close()
    """

    def __init__(
        self,
        layout: str = "playersleaklow",
        *,
        show_patches: bool = False,
        rng: np.random.Generator | None = None,
        ax: Any = None,
    ) -> None:
        import matplotlib.pyplot as plt

        from ..data import pair_players, salary_view

        positions, self.groups = pair_players(layout)
        self.years, self.salary = salary_view(positions)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.epsilon: float | None = None
        self.show_patches = show_patches
        self._controls: Any = None
        self._own_figure = ax is None
        if ax is None:
            with plt.ioff():
                self.fig, self.ax = plt.subplots(figsize=(6.4, 4.2))
        else:
            self.fig, self.ax = ax.figure, ax
        self._draw()

    # ------------------------------------------------------------ numbers
    def slopes(self) -> dict[int, float]:
        """Non-private slope per group ($/year)."""
        return {g: s for g, (s, _) in group_lines(self.years, self.salary, self.groups).items()}

    def set_salary(self, index: int, salary: float) -> None:
        """Change one person's salary (clipped to the study's bounds) and redraw."""
        if not 0 <= index < len(self.salary):
            raise ValueError(f"index must be in 0..{len(self.salary) - 1}, got {index}")
        lo, hi = SALARY_BOUNDS[1]
        self.salary[index] = float(np.clip(salary, lo, hi))
        self._draw()

    def set_epsilon(self, epsilon: float | None) -> None:
        """Turn the DP dial: None shows exact lines, a number shows epsilon-DP releases."""
        if epsilon is not None and not epsilon > 0:
            raise ValueError(f"epsilon must be positive or None, got {epsilon}")
        self.epsilon = epsilon
        self._draw()

    def readout(self, people: tuple[int, ...] = ()) -> str:
        """The read-out in the title and, with the slider people first, next to the sliders:
        slopes, and with DP on, the attacker's error (:func:`~.readout.salary_readout`)."""
        dp = (
            {}
            if self.epsilon is None
            else {
                "attack_error": self.dial["attack_error"],
                "slope_error": self.dial["slope_error"],
            }
        )
        return salary_readout(
            self.years, self.salary, self.groups, people=people, epsilon=self.epsilon, **dp
        )

    # ------------------------------------------------------------ drawing
    _N_FAINT = 20  # noisy releases drawn when the DP dial is on

    def _build(self) -> None:
        """Create every artist once; :meth:`_draw` only updates their data (fast redraws)."""
        ax = self.ax
        self._patches = None
        if self.show_patches:
            share_map(np.zeros((20, 32)), (0, 20, 40_000, 90_000), ax=ax, aspect="auto", alpha=0.6)
            self._patches = ax.images[-1]
        self._dots, self._lines, self._faint = {}, {}, {}
        for g in np.unique(self.groups).tolist():
            colour = TEAM_COLORS[g]
            self._faint[g] = [ax.plot([], [], color=colour, alpha=0.2, lw=1)[0] for _ in range(self._N_FAINT)]
            self._dots[g] = ax.scatter([], [], color=colour, edgecolors="black", s=40, zorder=3, label=GROUP_NAMES[g])
            (self._lines[g],) = ax.plot([], [], color=colour, lw=2.5, zorder=2)
        self._ring = ax.scatter([], [], s=160, facecolors="none", edgecolors="black", lw=1.5, zorder=4)
        self._label = ax.annotate("newest hire", (0, 0), xytext=(8, -4), textcoords="offset points")
        ax.set_xlim(0, 20)
        ax.set_ylim(40_000, 90_000)
        ax.set_xlabel("years at company")
        ax.set_ylabel("salary (USD)")
        ax.legend(loc="lower right")  # away from the new hire (left) and the lines (upper right)
        # what a slider or the DP dial changes (drawn above the static legend) and the frame, to
        # stay above the patches; fast repaints only in a figure of our own
        changing = [*self._dots.values(), *self._lines.values(), *sum(self._faint.values(), []),
                    self._ring, self._label, ax.title]
        if self._patches is not None:
            changing += [self._patches, *ax.spines.values()]
        self.blitter = Blitter(self.fig, changing) if self._own_figure else None

    def _draw(self) -> None:
        if not hasattr(self, "_dots"):
            self._build()
        if self._patches is not None:
            positions = positions_from_salary(self.years, self.salary)
            xs, ys = cell_centres()
            self._patches.set_data(team_share(positions, self.groups, xs, ys)[::-1])
        grid = np.array([0.0, 20.0])
        if self.epsilon is not None:
            self.dial = dp_dial(self.years, self.salary, self.groups, epsilon=self.epsilon, n_draws=60, rng=self.rng)
        for col, (g, (slope, icpt)) in enumerate(group_lines(self.years, self.salary, self.groups).items()):
            m = self.groups == g
            self._dots[g].set_offsets(np.column_stack([self.years[m], self.salary[m]]))
            self._lines[g].set_data(grid, icpt + slope * grid)
            for k, line in enumerate(self._faint[g]):
                line.set_visible(self.epsilon is not None)  # a hidden line costs nothing to draw
                if self.epsilon is None:
                    line.set_data([], [])
                else:
                    s_k, b_k = self.dial["slopes"][k, col], self.dial["intercepts"][k, col]
                    line.set_data(grid, b_k + s_k * grid)
        self._ring.set_offsets([[self.years[0], self.salary[0]]])
        self._label.xy = (self.years[0], self.salary[0])
        self.ax.set_title(self.readout().replace("$", r"\$"), fontsize=8)
        if self.blitter is not None:
            self.blitter.redraw()
        else:
            self.fig.canvas.draw_idle()
        if self._controls is not None:  # text only: no artist changes, no extra draw
            self._controls.readout.value = live_html(self.readout(self._controls.people))

    def close(self) -> None:
        """Close the figure."""
        import matplotlib.pyplot as plt

        plt.close(self.fig)

    # ------------------------------------------------------------ widgets
    def controls(self, typical: int = 18) -> Any:
        """Sliders for the new hire's (index 0) and a typical person's salary, and the DP dial."""
        import ipywidgets as w

        lo, hi = SALARY_BOUNDS[1]
        new_hire = w.FloatSlider(value=self.salary[0], min=lo, max=hi, step=500, description="new hire $",
                                 readout_format=",.0f", continuous_update=False)
        typical_s = w.FloatSlider(value=self.salary[typical], min=lo, max=hi, step=500,
                                  description=f"person {typical} $", readout_format=",.0f", continuous_update=False)
        # 0 stands for "DP off" (a SelectionSlider cannot hold None); the dial starts where the
        # toy is (set_epsilon may have been called first, with a value off the usual stops)
        stops = sorted({0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0} | ({self.epsilon} if self.epsilon else set()))
        dial = w.SelectionSlider(options=[("off", 0.0)] + [(f"{e:g}", e) for e in stops],
                                 value=self.epsilon or 0.0, description="epsilon")
        readout = w.HTML(live_html(self.readout((0, typical))))  # for screen readers too
        new_hire.observe(lambda ch: self.set_salary(0, ch["new"]), names="value")
        typical_s.observe(lambda ch: self.set_salary(typical, ch["new"]), names="value")
        dial.observe(lambda ch: self.set_epsilon(ch["new"] or None), names="value")
        self._controls = w.VBox([w.HBox([new_hire, typical_s]), dial, readout])
        self._controls.readout, self._controls.people = readout, (0, typical)
        self._controls.new_hire, self._controls.typical, self._controls.dial = new_hire, typical_s, dial
        return self._controls

    def widget(self, typical: int = 18) -> Any:
        """Figure and controls in one box: live with ``%matplotlib widget``, a picture otherwise."""
        return figure_with_controls(self.fig, self.controls(typical))
