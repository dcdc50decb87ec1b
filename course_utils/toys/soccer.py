"""The soccer toy: which team reaches a loose ball first, learned from 22 player positions.

The model is a nearest-neighbour vote in disguise: every grid cell asks all players, weights each
by ``1 / d**power`` (``d`` = distance from the cell centre to the player) and is coloured by the
weighted share of team 0. Because nearby players dominate the vote, the picture shows where the
players are - the point of notebook 01.

:func:`team_share` is the pure, vectorised model. :class:`SoccerToy` wires it to an interactive
matplotlib figure (ipympl: drag players with the mouse) plus keyboard-usable controls (a player
picker and x / y sliders), a "move players" button, a "hide players" toggle and the
guess-the-goalie game. Every action has a method, so the toy can be driven headless.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..plotting import TEAM_COLORS, Blitter, figure_with_controls, share_map
from .players import FIELD_HEIGHT, FIELD_WIDTH, pair_players
from .readout import live_html, soccer_readout

__all__ = ["team_share", "cell_centres", "SoccerToy", "SOCCER_LAYOUTS", "GOALIE"]

#: The layouts the "move players" button cycles through.
SOCCER_LAYOUTS: tuple[str, ...] = ("players0", "players1", "players2")
#: Index of team 0's goalie (the player the guessing game hides).
GOALIE: int = 0


def _check_players(positions: Any, teams: Any) -> tuple[np.ndarray, np.ndarray]:
    positions = np.asarray(positions, dtype=float)
    teams = np.asarray(teams)
    if positions.ndim != 2 or positions.shape[1] != 2 or len(positions) == 0:
        raise ValueError(f"positions must have shape (n, 2) with n >= 1, got {positions.shape}")
    if teams.shape != (len(positions),):
        raise ValueError(
            f"teams must have shape ({len(positions)},) to match positions, got {teams.shape}"
        )
    if not np.isin(teams, (0, 1)).all():
        raise ValueError(f"teams must hold only 0 and 1, got values {np.unique(teams).tolist()}")
    if not np.isfinite(positions).all():
        raise ValueError("positions must be finite")
    return positions, teams.astype(float)


def team_share(
    positions: np.ndarray,
    teams: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    *,
    power: float = 3.0,
) -> np.ndarray:
    """Weighted share of team 0 at every cell centre ``(xs[j], ys[i])``.

    Each player votes for its team with weight ``1 / d**power``; the result is
    ``sum(w * [team == 0]) / sum(w)``. A cell centre that sits exactly on one or more players takes
    their team (the share among those players), the limit of the formula as ``d -> 0``.

    Parameters
    ----------
    positions : array-like of shape (n, 2)
        Player ``(x, y)`` positions.
    teams : array-like of shape (n,)
        0 or 1 per player.
    xs, ys : 1-d array-like
        Cell-centre coordinates along x and along y.
    power : float, default 3.0
        Exponent of the inverse-distance weights; must be positive. Larger is "more flexible".

    Returns
    -------
    ndarray of shape (len(ys), len(xs))
        Values in [0, 1]; row ``i`` is ``ys[i]``.

    Examples
    --------
    >>> share = team_share([[0, 0], [10, 0]], [0, 1], xs=[0, 2, 5, 10], ys=[0])
    >>> share.round(3).tolist()
    [[1.0, 0.985, 0.5, 0.0]]
    """
    positions, teams_f = _check_players(positions, teams)
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.ndim != 1 or ys.ndim != 1 or xs.size == 0 or ys.size == 0:
        raise ValueError(
            f"xs and ys must be non-empty 1-d arrays, got shapes {xs.shape} and {ys.shape}"
        )
    if not power > 0:
        raise ValueError(f"power must be positive, got {power}")
    dx = xs[None, :, None] - positions[None, None, :, 0]  # (1, nx, n)
    dy = ys[:, None, None] - positions[None, None, :, 1]  # (ny, 1, n)
    d2 = dx * dx + dy * dy  # (ny, nx, n)
    on_player = d2 == 0.0
    with np.errstate(divide="ignore"):
        weights = d2 ** (-power / 2.0)
    hit = on_player.any(axis=2, keepdims=True)
    weights = np.where(hit, on_player.astype(float), weights)
    is_team0 = 1.0 - teams_f
    return (weights @ is_team0) / weights.sum(axis=2)


def cell_centres(cell: float = 3.75) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres covering the field with square cells of side ``cell`` (field units).

    Examples
    --------
    >>> xs, ys = cell_centres(3.75)
    >>> len(xs), len(ys), float(xs[0])
    (32, 20, 1.875)
    """
    if not cell > 0:
        raise ValueError(f"cell must be positive, got {cell}")
    xs = np.arange(cell / 2, FIELD_WIDTH, cell)
    ys = np.arange(cell / 2, FIELD_HEIGHT, cell)
    return xs, ys


class SoccerToy:
    """Interactive soccer field: drag players and watch the model's picture follow them.

    Parameters
    ----------
    layout : str, default "players0"
        Starting layout (see :func:`course_utils.toys.players.pair_players`).
    cell : float, default 3.75
        Side of a grid cell in field units (32 x 20 = 640 cells, like the original's ~700).
    power : float, default 3.0
        Exponent of the ``1 / d**power`` vote.
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.

    Attributes
    ----------
    positions, teams : ndarray
        Current player positions (copied; the toy never mutates shipped data) and teams.
    share : ndarray
        The model's current grid (``team_share`` at the cell centres).
    update_seconds : float
        Wall time of the last update: model plus redraw.
    last_guess : tuple or None
        ``(x, y, distance)`` of the last goalie guess.

    Examples
    --------
    >>> toy = SoccerToy()
    >>> before = toy.share_at(60, 37.5)
    >>> toy.drag(5, 60, 37.5)            # put a team-0 player on that spot
    >>> toy.share_at(60, 37.5) > before
    True
    >>> toy.hide_players(True); toy.move_players()
    'players1'
    >>> round(toy.guess(*toy.positions[0]), 6)
    0.0
    >>> toy.close()
    """

    pick_radius: float = 4.0

    def __init__(
        self, layout: str = "players0", *, cell: float = 3.75, power: float = 3.0, ax: Any = None
    ) -> None:
        import matplotlib.pyplot as plt

        self.power = float(power)
        self.xs, self.ys = cell_centres(cell)
        self.layout = layout
        self.positions, self.teams = pair_players(layout)
        self.hidden = False
        self.revealed = False
        self.last_guess: tuple[float, float, float] | None = None
        self.update_seconds = float("nan")
        self._dragging: int | None = None
        self._controls: Any = None
        self._moved: int | None = None  # told by the text read-out
        self._probe: tuple[float, float] | None = None  # the guess sliders' point

        if ax is None:
            with plt.ioff():
                self.fig, self.ax = plt.subplots(figsize=(6.4, 4.4))
        else:
            self.fig, self.ax = ax.figure, ax
        self.share = self._model()
        extent = (0.0, FIELD_WIDTH, 0.0, FIELD_HEIGHT)
        share_map(self.share, extent, ax=self.ax)
        self.image = self.ax.images[-1]
        colours = np.array(TEAM_COLORS)[self.teams]
        self.dots = self.ax.scatter(
            *self.positions.T, c=colours, s=60, edgecolors="black", linewidths=0.8, zorder=3
        )
        (self.guess_marker,) = self.ax.plot(
            [], [], marker="x", color="black", ms=12, mew=3, ls="", zorder=4
        )
        (self.truth_marker,) = self.ax.plot(
            [], [], marker="o", mfc="none", mec="black", ms=16, mew=2, ls="", zorder=4
        )
        (self.guess_line,) = self.ax.plot([], [], color="black", ls=":", lw=1.5, zorder=4)
        self.ax.set_xlim(0, FIELD_WIDTH)
        self.ax.set_ylim(FIELD_HEIGHT, 0)  # y grows downwards, as in the original explorable
        self.ax.set_xlabel("field x")
        self.ax.set_ylabel("field y")
        self.ax.grid(False)
        self._set_title()
        self.fig.tight_layout()
        # everything a drag, a guess or a new layout changes, and the frame that must stay on top;
        # fast repaints only in a figure of our own (other axes may share a figure we were given)
        self.blitter = (
            None
            if ax is not None
            else Blitter(
                self.fig,
                [
                    self.image,
                    self.dots,
                    self.guess_marker,
                    self.truth_marker,
                    self.guess_line,
                    *self.ax.spines.values(),
                ],
            )
        )
        canvas = self.fig.canvas
        self._cids = [
            canvas.mpl_connect("button_press_event", self._on_press),
            canvas.mpl_connect("motion_notify_event", self._on_motion),
            canvas.mpl_connect("button_release_event", self._on_release),
        ]

    # ----------------------------------------------------------------- model
    def _model(self) -> np.ndarray:
        return team_share(self.positions, self.teams, self.xs, self.ys, power=self.power)

    def share_at(self, x: float, y: float) -> float:
        """The current model's team-0 share at the cell containing ``(x, y)``."""
        j = int(
            np.clip(
                np.searchsorted(self.xs + (self.xs[1] - self.xs[0]) / 2, x), 0, len(self.xs) - 1
            )
        )
        i = int(
            np.clip(
                np.searchsorted(self.ys + (self.ys[1] - self.ys[0]) / 2, y), 0, len(self.ys) - 1
            )
        )
        return float(self.share[i, j])

    def _refresh(self, *, draw: str = "full") -> None:
        start = time.perf_counter()
        self.share = self._model()
        self.image.set_data(self.share)
        self.dots.set_offsets(self.positions)
        self.dots.set_visible(not self.hidden)
        self._set_title()
        if draw == "full" and self.blitter is not None:
            self.blitter.redraw()
        elif draw == "full":
            self.fig.canvas.draw()
        else:  # mouse drags: the browser asks for a picture when it is ready (ipympl), then redraw()
            self.fig.canvas.draw_idle()
        self._show_readout()
        self.update_seconds = time.perf_counter() - start

    def readout(self) -> str:
        """The toy's state in words (:func:`~course_utils.toys.readout.soccer_readout`)."""
        return soccer_readout(
            self.share,
            self.positions,
            self.teams,
            xs=self.xs,
            ys=self.ys,
            goalie=GOALIE,
            hidden=self.hidden,
            moved=self._moved,
            probe=self._probe,
            last_guess=self.last_guess if self.revealed else None,
        )

    def _show_readout(self) -> None:
        if self._controls is not None:  # text only: no artist changes, no extra draw
            self._controls.readout.value = live_html(self.readout())

    def _set_title(self) -> None:
        if self.hidden and not self.revealed:
            self.ax.set_title("Players hidden - where is the orange goalie? Click to guess.")
        elif self.revealed and self.last_guess is not None:
            self.ax.set_title(
                f"Your guess was {self.last_guess[2]:.1f} field units from the goalie"
            )
        else:
            self.ax.set_title(f"Layout {self.layout}: orange = team 0 reaches the ball first")

    # --------------------------------------------------------------- actions
    def drag(self, index: int, x: float, y: float, *, draw: str = "full") -> None:
        """Move player ``index`` to ``(x, y)`` (clipped to the field) and update the model."""
        if not 0 <= index < len(self.positions):
            raise ValueError(f"index must be in 0..{len(self.positions) - 1}, got {index}")
        self.positions[index] = (
            float(np.clip(x, 0, FIELD_WIDTH)),
            float(np.clip(y, 0, FIELD_HEIGHT)),
        )
        self._moved = index
        self._refresh(draw=draw)
        self._sync_sliders()

    def set_layout(self, layout: str) -> None:
        """Load one of the shipped layouts."""
        self.positions, self.teams = pair_players(layout)
        self.layout = layout
        self.dots.set_facecolors(np.array(TEAM_COLORS)[self.teams])
        self._clear_guess()
        self._refresh()
        self._sync_sliders()

    def move_players(self) -> str:
        """Cycle to the next layout (players0 -> players1 -> players2 -> players0); return its name."""
        i = SOCCER_LAYOUTS.index(self.layout) if self.layout in SOCCER_LAYOUTS else -1
        self.set_layout(SOCCER_LAYOUTS[(i + 1) % len(SOCCER_LAYOUTS)])
        return self.layout

    def hide_players(self, hidden: bool = True) -> None:
        """Show or hide the dots (the model's picture stays)."""
        self.hidden = bool(hidden)
        self.revealed = False
        self._clear_guess()
        self._message("")
        self._refresh()

    def guess(self, x: float, y: float) -> float:
        """Guess team 0's goalie position; reveal the truth and return the distance (field units)."""
        truth = self.positions[GOALIE]
        distance = float(np.hypot(x - truth[0], y - truth[1]))
        self.last_guess = (float(x), float(y), distance)
        self.revealed = True
        self.guess_marker.set_data([x], [y])
        self.truth_marker.set_data([truth[0]], [truth[1]])
        self.guess_line.set_data([x, truth[0]], [y, truth[1]])
        self._refresh()  # the title reports the guess too
        self._message(
            f"Your guess was <b>{distance:.1f}</b> field units from the goalie "
            f"(the field is {FIELD_WIDTH:.0f} wide)."
        )
        return distance

    def _clear_guess(self) -> None:
        self.last_guess = None
        for artist in (self.guess_marker, self.truth_marker, self.guess_line):
            artist.set_data([], [])

    def close(self) -> None:
        """Disconnect the mouse handlers and close the figure."""
        import matplotlib.pyplot as plt

        for cid in self._cids:
            self.fig.canvas.mpl_disconnect(cid)
        plt.close(self.fig)

    # ----------------------------------------------------------- mouse events
    def nearest_player(self, x: float, y: float) -> int | None:
        """Index of the visible player within ``pick_radius`` of ``(x, y)``, or None."""
        d = np.hypot(self.positions[:, 0] - x, self.positions[:, 1] - y)
        i = int(d.argmin())
        return i if d[i] <= self.pick_radius else None

    def _on_press(self, event: Any) -> None:
        if event.inaxes is not self.ax or event.xdata is None:
            return
        if self.hidden and not self.revealed:
            self.guess(event.xdata, event.ydata)
        elif not self.hidden:
            self._dragging = self.nearest_player(event.xdata, event.ydata)

    def _on_motion(self, event: Any) -> None:
        if self._dragging is None or event.inaxes is not self.ax or event.xdata is None:
            return
        self.drag(self._dragging, event.xdata, event.ydata, draw="idle")

    def _on_release(self, event: Any) -> None:
        self._dragging = None

    # --------------------------------------------------------------- widgets
    def controls(self) -> Any:
        """Keyboard-usable controls: buttons, a player picker with x / y sliders, a message line."""
        import ipywidgets as w

        if self._controls is not None:
            return self._controls
        move = w.Button(
            description="Move players", icon="random", tooltip="Cycle to the next layout"
        )
        hide = w.ToggleButton(description="Hide players", icon="eye-slash", value=self.hidden)
        picker = w.Dropdown(
            options=[
                (
                    f"{'orange' if t == 0 else 'blue'} player {i}"
                    + (" (goalie)" if i == GOALIE else ""),
                    i,
                )
                for i, t in enumerate(self.teams)
            ],
            description="Player",
        )
        sx = w.FloatSlider(
            min=0, max=FIELD_WIDTH, step=0.5, description="x", continuous_update=True
        )
        sy = w.FloatSlider(
            min=0, max=FIELD_HEIGHT, step=0.5, description="y", continuous_update=True
        )
        gx = w.FloatSlider(
            min=0, max=FIELD_WIDTH, step=0.5, value=FIELD_WIDTH / 2, description="guess x"
        )
        gy = w.FloatSlider(
            min=0, max=FIELD_HEIGHT, step=0.5, value=FIELD_HEIGHT / 2, description="guess y"
        )
        submit = w.Button(
            description="Guess goalie here", icon="crosshairs", layout=w.Layout(width="auto")
        )
        message = w.HTML()
        readout = w.HTML()  # the figure in words, for screen readers (see toys/readout.py)
        self._syncing = False

        def on_pick(_: Any = None) -> None:
            self._sync_sliders()

        def on_slide(_: Any) -> None:
            if not self._syncing:
                self.drag(picker.value, sx.value, sy.value, draw="idle")

        move.on_click(lambda _: self.move_players())
        hide.observe(lambda ch: self.hide_players(ch["new"]), names="value")
        picker.observe(on_pick, names="value")
        sx.observe(on_slide, names="value")
        sy.observe(on_slide, names="value")
        submit.on_click(lambda _: self.guess(gx.value, gy.value))

        def on_probe(_: Any = None) -> None:
            self._probe = (gx.value, gy.value)
            self._show_readout()

        gx.observe(on_probe, names="value")
        gy.observe(on_probe, names="value")
        self._controls = w.VBox(
            [
                w.HBox([move, hide]),
                w.HBox([picker, sx, sy]),
                w.HBox([gx, gy, submit]),
                readout,
                message,
            ]
        )
        self._controls.picker, self._controls.sx, self._controls.sy = picker, sx, sy
        self._controls.message, self._controls.readout = message, readout
        self._sync_sliders()
        on_probe()
        return self._controls

    def _sync_sliders(self) -> None:
        c = self._controls
        if c is None:
            return
        self._syncing = True
        try:
            c.sx.value, c.sy.value = (float(v) for v in self.positions[c.picker.value])
        finally:
            self._syncing = False

    def _message(self, html: str) -> None:
        if self._controls is not None:
            self._controls.message.value = html

    def widget(self) -> Any:
        """Figure and controls in one box: live with ``%matplotlib widget``, a picture otherwise."""
        return figure_with_controls(self.fig, self.controls())
