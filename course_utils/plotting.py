"""Plot style and small plotting helpers shared by the notebooks.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the axes.
Colours come from the Okabe-Ito palette, which stays distinguishable with the common forms of
colour blindness.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

__all__ = ["OKABE_ITO", "TEAM_COLORS", "TEAM_CMAP", "use_style", "get_ax", "share_map", "figure_with_controls"]

#: Okabe-Ito colour-blind-safe palette.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
#: Team 0 and team 1 (also "men" and "women" in the salary view).
TEAM_COLORS: tuple[str, str] = (OKABE_ITO["orange"], OKABE_ITO["blue"])
#: Diverging map from team 1's colour (share 0) through white to team 0's colour (share 1).
TEAM_CMAP = LinearSegmentedColormap.from_list(
    "team_share", [TEAM_COLORS[1], "#f7f7f7", TEAM_COLORS[0]]
)


def use_style() -> None:
    """Set the course's matplotlib rcParams (no named styles, so nothing can go missing).

    Examples
    --------
    >>> use_style()
    >>> mpl.rcParams["axes.spines.top"]
    False
    """
    mpl.rcParams.update(
        {
            "figure.figsize": (6.0, 3.8),
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.frameon": False,
            "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO.values())),
            "image.cmap": "viridis",
        }
    )


def get_ax(ax: Any = None, **subplot_kw: Any) -> Any:
    """Return ``ax``, or the axes of a new figure when ``ax`` is None.

    Examples
    --------
    >>> ax = get_ax()
    >>> ax is get_ax(ax)
    True
    >>> plt.close("all")
    """
    if ax is None:
        _, ax = plt.subplots(**subplot_kw)
    return ax


def share_map(
    share: np.ndarray,
    extent: tuple[float, float, float, float],
    *,
    ax: Any = None,
    **imshow_kw: Any,
) -> Any:
    """Draw a team-share grid (values in [0, 1]) as an image with the team colour map.

    Parameters
    ----------
    share : ndarray of shape (n_rows, n_cols)
        Row ``i`` is the i-th y cell centre from the bottom.
    extent : (x_lo, x_hi, y_lo, y_hi)
        Data coordinates of the grid's outer edges.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> ax = share_map(np.full((3, 4), 0.5), (0, 4, 0, 3))
    >>> len(ax.images)
    1
    >>> plt.close("all")
    """
    ax = get_ax(ax)
    kw = {"cmap": TEAM_CMAP, "vmin": 0.0, "vmax": 1.0, "origin": "lower", "interpolation": "nearest", "aspect": "equal"}
    kw.update(imshow_kw)
    ax.imshow(np.asarray(share), extent=extent, **kw)
    return ax


def figure_with_controls(fig: Any, controls: Any) -> Any:
    """Lay out an interactive figure with its ipywidgets controls, the controls first.

    With the ipympl backend (``%matplotlib widget``) the box holds the controls and, below them,
    the live canvas. The controls come first because the canvas is a keyboard trap: ipympl 0.10
    gives its canvas ``div`` ``tabindex=0`` and its ``keydown`` handler calls ``preventDefault`` and
    ``stopPropagation`` on every key (``MPLCanvasView.key_event`` in jupyter-matplotlib), so Tab,
    Shift+Tab and Escape never leave a focused figure. With the controls above it, a keyboard
    user tabbing down the page reaches every control before the figure.

    With any other backend (a static site build, ``%matplotlib inline``) the figure is displayed
    once as a picture and only the controls are returned, so the page still shows what the toy
    looks like.

    Examples
    --------
    >>> import ipywidgets as w
    >>> fig, _ = plt.subplots()
    >>> box = figure_with_controls(fig, w.HTML("controls"))  # Agg here: the figure is displayed
    Figure(...)
    >>> len(box.children)
    1
    >>> plt.close(fig)
    """
    import ipywidgets as w
    from IPython.display import display

    canvas = fig.canvas
    if isinstance(canvas, w.DOMWidget):
        canvas.header_visible = False
        # Inside a box ipympl never sizes the canvas model (a direct display does, in
        # _repr_mimebundle_), so under "Run All" the view can stay 0x0 px (ipympl#472).
        canvas._repr_mimebundle_()
        return w.VBox([controls, canvas])
    display(fig)
    return w.VBox([controls])
