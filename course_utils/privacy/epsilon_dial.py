"""The epsilon dial: what a mechanism's outputs look like on two neighbouring datasets.

:func:`neighbour_densities` (a pure function) computes the output densities of the Laplace or
Gaussian mechanism on D and its neighbour D' and their log ratio, :func:`plot_neighbour_densities`
draws them, and :class:`EpsilonDial` wires an epsilon slider to both.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ..results import Result
from ..validation import check_choice, check_positive
from .mechanisms import gaussian_sigma

__all__ = ["NeighbourDensities", "neighbour_densities", "plot_neighbour_densities", "EpsilonDial"]


@dataclass(frozen=True)
class NeighbourDensities(Result):
    """What :func:`neighbour_densities` computes on its grid of outputs.

    ``density`` and ``density_prime`` are the output densities on D and D', ``log_ratio`` the
    log of their ratio; ``scale`` is the Laplace ``b`` or the Gaussian ``sigma``;
    ``max_abs_log_ratio`` the largest ``|log_ratio|`` on the grid; ``ratio_exceeds`` =
    ``P_D[|log ratio| > epsilon]`` (0 for Laplace; for Gaussian, the outputs where the ratio
    leaves the band - delta covers only the excess probability there, which is smaller).
    """

    grid: np.ndarray
    density: np.ndarray
    density_prime: np.ndarray
    log_ratio: np.ndarray
    scale: float
    max_abs_log_ratio: float
    ratio_exceeds: float


def neighbour_densities(
    grid: Any,
    *,
    value: float,
    value_prime: float,
    sensitivity: float,
    epsilon: float,
    delta: float = 1e-5,
    mechanism: str = "laplace",
) -> NeighbourDensities:
    """Output densities of a mechanism on two neighbouring datasets, and their log ratio.

    A pure function behind the notebook's epsilon slider. The query answers ``value`` (on D)
    and ``value_prime`` (on the neighbour D') must differ by at most ``sensitivity``.

    Parameters
    ----------
    grid : array_like
        Output values at which to evaluate the densities.
    value, value_prime : float
        True answers on D and D'.
    sensitivity, epsilon
        Mechanism calibration (the noise does not depend on the data).
    delta : float, default 1e-5
        Used by the Gaussian mechanism only.
    mechanism : {"laplace", "gaussian"}

    Returns
    -------
    NeighbourDensities

    Examples
    --------
    >>> out = neighbour_densities(np.linspace(-5, 6, 101), value=0, value_prime=1,
    ...                           sensitivity=1, epsilon=0.5)
    >>> round(out.max_abs_log_ratio, 6)  # Laplace: never more than epsilon
    0.5
    >>> g = neighbour_densities(np.linspace(-60, 60, 2001), value=0, value_prime=1, sensitivity=1,
    ...                         epsilon=0.5, mechanism="gaussian")
    >>> g["max_abs_log_ratio"] > 0.5  # Gaussian: unbounded in the tails ...
    True
    >>> g["ratio_exceeds"] < 1e-3     # ... but only where it is very unlikely
    True
    """
    check_choice(mechanism, "mechanism", ("laplace", "gaussian"))
    x = np.asarray(grid, dtype=float)
    sensitivity = check_positive(sensitivity, "sensitivity")
    if abs(float(value) - float(value_prime)) > sensitivity + 1e-12:
        raise ValueError(
            f"value and value_prime differ by {abs(float(value) - float(value_prime))}, "
            f"more than sensitivity={sensitivity}: they are not neighbouring answers"
        )
    if mechanism == "laplace":
        scale = sensitivity / check_positive(epsilon, "epsilon")
        dist, dist_prime = stats.laplace(value, scale), stats.laplace(value_prime, scale)
    else:
        scale = gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)
        dist, dist_prime = stats.norm(value, scale), stats.norm(value_prime, scale)
    log_ratio = dist.logpdf(x) - dist_prime.logpdf(x)
    exceeds = 0.0
    if mechanism == "gaussian" and value != value_prime:
        # log ratio is linear in x: |ratio| > eps outside [x_lo, x_hi]
        gap = float(value_prime) - float(value)
        mid = (float(value) + float(value_prime)) / 2.0
        half = epsilon * scale**2 / abs(gap)
        exceeds = float(dist.cdf(mid - half) + dist.sf(mid + half))
    return NeighbourDensities(
        grid=x,
        density=dist.pdf(x),
        density_prime=dist_prime.pdf(x),
        log_ratio=log_ratio,
        scale=float(scale),
        max_abs_log_ratio=float(np.max(np.abs(log_ratio))) if x.size else 0.0,
        ratio_exceeds=exceeds,
    )


def plot_neighbour_densities(result: NeighbourDensities, *, epsilon: float, ax: Any = None) -> Any:
    """Draw :func:`neighbour_densities` output: the two densities (left), the log ratio (right).

    Parameters
    ----------
    result : NeighbourDensities
        Output of :func:`neighbour_densities`.
    epsilon : float
        Drawn as the +-epsilon band on the ratio panel.
    ax : pair of matplotlib Axes, optional
        The two panels; created side by side when None.

    Returns
    -------
    pair of matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> res = neighbour_densities(np.linspace(-4, 5, 50), value=0, value_prime=1, sensitivity=1, epsilon=1)
    >>> ax1, ax2 = plot_neighbour_densities(res, epsilon=1)
    >>> len(ax1.lines), len(ax2.lines)
    (2, 3)
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    from course_utils.plotting import OKABE_ITO

    if ax is None:
        _, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax1, ax2 = ax
    ax1.clear()
    ax2.clear()
    x = result.grid
    ax1.plot(x, result.density, color=OKABE_ITO["blue"], label="output density on D")
    ax1.plot(x, result.density_prime, color=OKABE_ITO["orange"], ls="--", label="on neighbour D'")
    ax1.set(xlabel="released value", ylabel="density")
    ax1.legend(loc="upper right", fontsize=8)
    ax2.plot(x, result.log_ratio, color=OKABE_ITO["green"], label="ln(density / density')")
    for sign in (1, -1):
        ax2.axhline(
            sign * epsilon,
            color=OKABE_ITO["vermillion"],
            ls=":",
            label="+-epsilon" if sign > 0 else None,
        )
    ax2.set(xlabel="released value", ylabel="log likelihood ratio")
    lim = max(1.5 * epsilon, 1.2 * min(result.max_abs_log_ratio, 4 * epsilon))
    ax2.set_ylim(-lim, lim)
    ax2.legend(loc="lower right", fontsize=8)
    return ax1, ax2


class EpsilonDial:
    """Slider over epsilon showing a mechanism's outputs on two neighbours and their ratio.

    The widget is thin: :meth:`update` recomputes with :func:`neighbour_densities` and redraws;
    the slider only calls it. Drive it headless with ``dial.update(epsilon=...)`` or by setting
    ``dial.slider.value``; :attr:`state` holds the last result and ``dial.image.value`` the PNG
    of the current figure.

    Parameters
    ----------
    value, value_prime : float
        Query answers on D and D' (e.g. a count with and without one person).
    sensitivity : float
    epsilon : float
        Initial epsilon.
    mechanism : {"laplace", "gaussian"}
    delta : float
        For the Gaussian mechanism.

    Examples
    --------
    >>> dial = EpsilonDial(value=10, value_prime=11, sensitivity=1, epsilon=1.0)
    >>> dial.update(epsilon=0.25).scale
    4.0
    >>> dial.slider.value = 2.0           # what dragging the slider does
    >>> dial.state.scale
    0.5
    >>> dial.close()
    """

    def __init__(
        self,
        *,
        value: float = 10.0,
        value_prime: float = 11.0,
        sensitivity: float = 1.0,
        epsilon: float = 1.0,
        mechanism: str = "laplace",
        delta: float = 1e-5,
    ) -> None:
        import ipywidgets as w
        import matplotlib.pyplot as plt

        self.value, self.value_prime = float(value), float(value_prime)
        self.sensitivity, self.delta = float(sensitivity), float(delta)
        self.mechanism = mechanism
        self.fig, self.axes = plt.subplots(1, 2, figsize=(9, 3.2))
        plt.close(self.fig)  # shown as a PNG in an Image widget, not by the inline backend
        self.slider = w.FloatLogSlider(
            value=epsilon,
            base=10,
            min=-1,
            max=1,
            step=0.05,
            description="epsilon",
            continuous_update=False,
        )
        self.kind = w.ToggleButtons(options=["laplace", "gaussian"], value=mechanism)
        self.image = w.Image(format="png")
        self.label = w.HTML()
        self.slider.observe(lambda change: self.update(epsilon=change["new"]), names="value")
        self.kind.observe(lambda change: self.update(mechanism=change["new"]), names="value")
        self.state: NeighbourDensities | None = None
        self._laid_out = False
        self.update(epsilon=epsilon, mechanism=mechanism)

    def update(
        self, *, epsilon: float | None = None, mechanism: str | None = None
    ) -> NeighbourDensities:
        """Recompute and redraw for a new epsilon and/or mechanism; return the new state."""
        if epsilon is not None:
            self.epsilon = check_positive(epsilon, "epsilon")
        if mechanism is not None:
            self.mechanism = mechanism
        if self.mechanism == "gaussian":
            scale = gaussian_sigma(
                sensitivity=self.sensitivity, epsilon=self.epsilon, delta=self.delta
            )
        else:
            scale = self.sensitivity / self.epsilon
        margin = (
            7 * scale + self.sensitivity
        )  # wide enough to show the Gaussian's tails leave the band
        lo = min(self.value, self.value_prime) - margin
        hi = max(self.value, self.value_prime) + margin
        self.state = neighbour_densities(
            np.linspace(lo, hi, 801),
            value=self.value,
            value_prime=self.value_prime,
            sensitivity=self.sensitivity,
            epsilon=self.epsilon,
            delta=self.delta,
            mechanism=self.mechanism,
        )
        plot_neighbour_densities(self.state, epsilon=self.epsilon, ax=self.axes)
        self.axes[0].set_title(f"{self.mechanism}, scale {self.state.scale:.2f}")
        self.axes[1].set_title(f"max |log ratio| on screen {self.state.max_abs_log_ratio:.2f}")
        if not self._laid_out:
            self.fig.tight_layout()  # once: the layout hardly changes and it is slow
            self._laid_out = True
        self.label.value = f"P[|log ratio| &gt; epsilon] = {self.state.ratio_exceeds:.2g}"
        self._redraw()
        return self.state

    def _redraw(self) -> None:
        # A PNG in an Image widget works with any matplotlib backend (inline, Agg, ipympl) and
        # needs no output clearing, so it also renders in static exports of the notebook.
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=72)
        self.image.value = buffer.getvalue()

    def widget(self) -> Any:
        """The ipywidgets box (slider, mechanism switch, figure)."""
        import ipywidgets as w

        return w.VBox([w.HBox([self.slider, self.kind]), self.label, self.image])

    def show(self) -> None:
        """Display the widget in Jupyter, or the static figure elsewhere."""
        from IPython.display import display

        from course_utils.quiz import has_frontend

        display(self.widget() if has_frontend() else self.fig)

    def close(self) -> None:
        """Close the widgets and the figure."""
        import matplotlib.pyplot as plt

        for widget in (self.slider, self.kind, self.image, self.label):
            widget.close()
        plt.close(self.fig)
