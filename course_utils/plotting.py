"""Plot style and small plotting helpers shared by the notebooks.

Every helper takes ``ax=None`` (a new figure is made when it is None) and returns the axes.
Colours come from the Okabe-Ito palette, which stays distinguishable with the common forms of
colour blindness. Text alternatives for static figures (``describe``, ``figure_summary``,
``DescribedFigure``) live in :mod:`course_utils.alt_text` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

from .alt_text import DescribedFigure, describe, figure_summary

__all__ = [
    "OKABE_ITO",
    "TEAM_COLORS",
    "TEAM_CMAP",
    "use_style",
    "get_ax",
    "share_map",
    "plot_label_mix",
    "plot_images",
    "figure_with_controls",
    "Blitter",
    "figure_summary",
    "describe",
    "DescribedFigure",
]

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
    kw = {
        "cmap": TEAM_CMAP,
        "vmin": 0.0,
        "vmax": 1.0,
        "origin": "lower",
        "interpolation": "nearest",
        "aspect": "equal",
    }
    kw.update(imshow_kw)
    ax.imshow(np.asarray(share), extent=extent, **kw)
    return ax


def plot_label_mix(hist: np.ndarray, *, ax: object = None, title: str | None = None) -> object:
    """Heat map of a :func:`course_utils.federated.label_histogram`: clients left to right, classes bottom to top.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_label_mix(np.eye(3, dtype=int) * 5)
    >>> len(ax.images)
    1
    >>> plt.close("all")
    """
    hist = np.asarray(hist)
    if hist.ndim != 2:
        raise ValueError(f"hist must have shape (n_clients, n_classes), got {hist.shape}")
    ax = get_ax(ax)
    ax.imshow(hist.T, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xlabel("client")
    ax.set_ylabel("class (digit)")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def plot_images(
    images: Any,
    *,
    titles: Sequence[str] | None = None,
    ax: Any = None,
    shape: tuple[int, int] = (8, 8),
    cmap: str = "gray_r",
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
) -> np.ndarray:
    """Draw flat images (digits by default) side by side, one axes each, without ticks.

    Parameters
    ----------
    images : array-like of shape (n, shape[0] * shape[1]), or one image
    titles : sequence of str, optional
        One per image.
    ax : sequence of matplotlib Axes, optional
        At least one per image (a row of ``plt.subplots``); by default a new one-row figure.
    shape : (rows, cols), default (8, 8)
    cmap : str, default "gray_r" (ink dark on white)
    vmin, vmax : float or None, default 0 and 1
        Colour range shared by all images (pixels in [0, 1]); None scales each image to its own
        range, as for a gradient or a perturbation.

    Returns
    -------
    ndarray of matplotlib Axes

    Examples
    --------
    >>> axes = plot_images(np.zeros((3, 64)), titles=["a", "b", "c"])
    >>> len(axes), axes[1].get_title()
    (3, 'b')
    >>> plt.close("all")
    """
    imgs = np.atleast_2d(np.asarray(images, dtype=float))
    if imgs.ndim != 2 or imgs.shape[1] != shape[0] * shape[1]:
        raise ValueError(
            f"images must have {shape[0] * shape[1]} pixels for shape {shape}, got shape {imgs.shape}"
        )
    if titles is not None and len(titles) != len(imgs):
        raise ValueError(f"titles must have one entry per image ({len(imgs)}), got {len(titles)}")
    if ax is None:
        _, ax = plt.subplots(1, len(imgs), figsize=(0.9 * len(imgs) + 0.3, 1.3), squeeze=False)
        ax = ax[0]
    axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if len(axes) < len(imgs):
        raise ValueError(f"ax must hold at least one axes per image ({len(imgs)}), got {len(axes)}")
    for i, (a, img) in enumerate(zip(axes, imgs, strict=False)):
        a.imshow(img.reshape(shape), cmap=cmap, vmin=vmin, vmax=vmax)
        a.set_xticks([])
        a.set_yticks([])
        a.grid(False)
        if titles is not None:
            a.set_title(titles[i], fontsize=9)
    return axes


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


class Blitter:
    """Fast redraws of a live figure: the parts that change are drawn over a saved picture of the rest.

    A full matplotlib draw re-lays out and re-renders every tick label and title, which costs a
    toy most of its redraw time (about 80 ms of 85 on a 2-core cloud CPU). The ``artists`` that
    change are marked *animated*: a full draw paints everything else, this object saves that
    picture (the background) and paints the animated artists on top, in z-order. After that,
    :meth:`redraw` only restores the background and repaints the animated artists (matplotlib's
    blitting), unless the background is out of date: a new renderer (the figure was resized, or
    saved at another dpi), other axis limits (zoom, pan) or other static titles and labels. Then
    it draws in full. Other changes to artists not listed (a colour, a new line) are not
    noticed: call ``fig.canvas.draw()`` after them.

    Under ipympl the browser asks the kernel for a picture after every ``draw_idle``; that
    request is routed to :meth:`redraw` too, so dragging with the mouse also gets fast frames.
    Saved or static copies of the figure (``savefig``, ``%matplotlib inline``, the site build)
    are full draws and include the animated artists.

    Parameters
    ----------
    fig : matplotlib Figure
    artists : sequence of matplotlib Artists
        Everything whose appearance changes between redraws, and anything that must stay on top
        of those (an axes' spines over a heat map). One Blitter per figure.

    Attributes
    ----------
    full_draws, fast_draws : int
        How many redraws of each kind :meth:`redraw` did (for tests and benchmarks).

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> (line,) = ax.plot([0, 1], [0, 1])
    >>> blit = Blitter(fig, [line])
    >>> blit.redraw(); line.set_ydata([1, 0]); blit.redraw()
    >>> blit.full_draws, blit.fast_draws
    (1, 1)
    >>> ax.set_xlim(0, 2); blit.redraw(); blit.full_draws
    (0.0, 2.0)
    2
    >>> plt.close(fig)
    """

    def __init__(self, fig: Any, artists: Any) -> None:
        self.fig = fig
        self.artists = sorted(artists, key=lambda a: a.get_zorder())
        if not self.artists:
            raise ValueError("artists must name at least one artist that changes")
        if getattr(fig, "_course_blitter", None) is not None:
            raise ValueError(
                "this figure has a Blitter already; give one Blitter all its changing artists"
            )
        for artist in self.artists:
            if artist.figure is not fig:
                raise ValueError(f"{artist!r} does not belong to this figure")
            artist.set_animated(True)
        fig._course_blitter = self
        self.full_draws = self.fast_draws = 0
        self._background: Any = None
        self._key: Any = None
        canvas = fig.canvas
        canvas.mpl_connect("draw_event", self._on_draw)
        if hasattr(canvas, "handle_draw"):  # ipympl / WebAgg: the browser's request for a picture
            canvas.handle_draw = lambda event: self.redraw()

    def _static_key(self) -> tuple:
        """What the saved background depends on, besides the renderer."""
        key = []
        for ax in self.fig.axes:
            key.append(tuple(ax.viewLim.bounds))
            for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
                if not text.get_animated():
                    key.append(text.get_text())
        return tuple(key)

    def _on_draw(self, event: Any) -> None:
        # A full draw skipped the animated artists: save the picture without them, then add them.
        renderer, canvas = event.renderer, event.canvas
        if (
            canvas is self.fig.canvas
            and hasattr(canvas, "copy_from_bbox")
            and renderer is canvas.get_renderer()
        ):
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._key = (renderer, self._static_key())
        else:  # another backend's canvas (savefig to svg / pdf): nothing to reuse
            self._background = None
        for artist in self.artists:
            artist.draw(renderer)

    def redraw(self) -> None:
        """Show the current state: a fast repaint of the animated artists, or a full draw."""
        canvas = self.fig.canvas
        fresh = (
            self._background is not None
            and self._key[0] is canvas.get_renderer()
            and self._key[1] == self._static_key()
        )
        if not fresh:
            self.full_draws += 1
            canvas.draw()  # the draw event saves the new background
            return
        self.fast_draws += 1
        canvas.restore_region(self._background)
        for artist in self.artists:
            self.fig.draw_artist(artist)
        canvas.blit(self.fig.bbox)
        # The picture is current. Left stale, the figure would be drawn again in full after the
        # next widget message (IPython's post_execute hook redraws stale figures, and ipykernel
        # fires it for every comm message too) - an endless loop of redraws under ipympl.
        self.fig.stale = False
