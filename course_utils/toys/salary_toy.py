"""The salary study as a widget: two groups' lines, salary sliders and a DP dial.

A thin layer over the pure functions of :mod:`course_utils.toys.salary`: every number it shows
comes from them, and every control has a method that drives it headless (tests use them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..plotting import TEAM_COLORS, Blitter, figure_with_controls, share_map
from ..validation import RNGLike, as_rng, check_positive
from .players import positions_from_salary
from .readout import live_html, salary_readout
from .salary import GROUP_NAMES, SALARY_BOUNDS, dp_dial, group_lines
from .soccer import cell_centres, team_share

__all__ = ["SalaryToy"]


class SalaryToy:
    """Salary study widget: two groups, their lines, salary sliders and a DP dial.

    Parameters
    ----------
    layout : str, default "playersleaklow"
        Player layout read as salaries (see :func:`course_utils.toys.players.salary_view`).
    show_patches : bool, default False
        Draw the flexible patch model behind the points.
    rng : numpy.random.Generator, int seed or None, default 0
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
        rng: RNGLike = 0,
        ax: Any = None,
    ) -> None:
        import matplotlib.pyplot as plt

        from .players import pair_players, salary_view

        positions, self.groups = pair_players(layout)
        self.years, self.salary = salary_view(positions)
        self.rng = as_rng(rng)
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
        if epsilon is not None:
            epsilon = check_positive(epsilon, "epsilon")
        self.epsilon = epsilon
        self._draw()

    def readout(self, people: tuple[int, ...] = ()) -> str:
        """The read-out in the title and, with the slider people first, next to the sliders:
        slopes, and with DP on, the attacker's error (:func:`~.readout.salary_readout`)."""
        dp = (
            {}
            if self.epsilon is None
            else {"attack_error": self.dial.attack_error, "slope_error": self.dial.slope_error}
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
            self._faint[g] = [
                ax.plot([], [], color=colour, alpha=0.2, lw=1)[0] for _ in range(self._N_FAINT)
            ]
            self._dots[g] = ax.scatter(
                [], [], color=colour, edgecolors="black", s=40, zorder=3, label=GROUP_NAMES[g]
            )
            (self._lines[g],) = ax.plot([], [], color=colour, lw=2.5, zorder=2)
        self._ring = ax.scatter(
            [], [], s=160, facecolors="none", edgecolors="black", lw=1.5, zorder=4
        )
        self._label = ax.annotate("newest hire", (0, 0), xytext=(8, -4), textcoords="offset points")
        ax.set_xlim(0, 20)
        ax.set_ylim(40_000, 90_000)
        ax.set_xlabel("years at company")
        ax.set_ylabel("salary (USD)")
        ax.legend(loc="lower right")  # away from the new hire (left) and the lines (upper right)
        # what a slider or the DP dial changes (drawn above the static legend) and the frame, to
        # stay above the patches; fast repaints only in a figure of our own
        changing = [
            *self._dots.values(),
            *self._lines.values(),
            *sum(self._faint.values(), []),
            self._ring,
            self._label,
            ax.title,
        ]
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
            self.dial = dp_dial(
                self.years, self.salary, self.groups, epsilon=self.epsilon, n_draws=60, rng=self.rng
            )
        for col, (g, (slope, icpt)) in enumerate(
            group_lines(self.years, self.salary, self.groups).items()
        ):
            m = self.groups == g
            self._dots[g].set_offsets(np.column_stack([self.years[m], self.salary[m]]))
            self._lines[g].set_data(grid, icpt + slope * grid)
            for k, line in enumerate(self._faint[g]):
                line.set_visible(self.epsilon is not None)  # a hidden line costs nothing to draw
                if self.epsilon is None:
                    line.set_data([], [])
                else:
                    s_k, b_k = self.dial.slopes[k, col], self.dial.intercepts[k, col]
                    line.set_data(grid, b_k + s_k * grid)
        self._ring.set_offsets([[self.years[0], self.salary[0]]])
        self._label.xy = (self.years[0], self.salary[0])
        self.ax.set_title(self.readout().replace("$", r"\$"), fontsize=8)
        if self.blitter is not None:
            self.blitter.redraw()
        else:
            self.fig.canvas.draw_idle()
        if self._controls is not None:
            # text only: no artist changes, no extra draw
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
        new_hire = w.FloatSlider(
            value=self.salary[0],
            min=lo,
            max=hi,
            step=500,
            description="new hire $",
            readout_format=",.0f",
            continuous_update=False,
        )
        typical_s = w.FloatSlider(
            value=self.salary[typical],
            min=lo,
            max=hi,
            step=500,
            description=f"person {typical} $",
            readout_format=",.0f",
            continuous_update=False,
        )
        # 0 stands for "DP off" (a SelectionSlider cannot hold None); the dial starts where the
        # toy is (set_epsilon may have been called first, with a value off the usual stops)
        stops = sorted(
            {0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0}
            | ({self.epsilon} if self.epsilon else set())
        )
        dial = w.SelectionSlider(
            options=[("off", 0.0)] + [(f"{e:g}", e) for e in stops],
            value=self.epsilon or 0.0,
            description="epsilon",
        )
        readout = w.HTML(live_html(self.readout((0, typical))))  # for screen readers too
        new_hire.observe(lambda ch: self.set_salary(0, ch["new"]), names="value")
        typical_s.observe(lambda ch: self.set_salary(typical, ch["new"]), names="value")
        dial.observe(lambda ch: self.set_epsilon(ch["new"] or None), names="value")
        self._controls = w.VBox([w.HBox([new_hire, typical_s]), dial, readout])
        self._controls.readout, self._controls.people = readout, (0, typical)
        self._controls.new_hire, self._controls.typical, self._controls.dial = (
            new_hire,
            typical_s,
            dial,
        )
        return self._controls

    def widget(self, typical: int = 18) -> Any:
        """Figure and controls in one box: live with ``%matplotlib widget``, a picture otherwise."""
        return figure_with_controls(self.fig, self.controls(typical))
