"""Static figures a screen reader can read: a one-sentence summary of what a figure shows
(:func:`figure_summary`) and a display object pairing the picture with that text as its ``alt``
and an author's caption (:func:`describe`). Re-exported by :mod:`course_utils.plotting`.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

__all__ = ["figure_summary", "describe", "DescribedFigure"]

_TEX = {
    r"\varepsilon": "ε",
    r"\epsilon": "ε",
    r"\delta": "δ",
    r"\sigma": "σ",
    r"\mu": "μ",
    r"\alpha": "α",
    r"\lambda": "λ",
    r"\le": "≤",
    r"\ge": "≥",
    r"\times": "×",
    "{": "",
    "}": "",
}


def _words(text: str) -> str:
    """A figure text as plain words: ``$\\varepsilon$`` as ε, ``\\$`` as $, one line."""
    import re

    def plain(match: Any) -> str:
        inner = match.group(1)
        for tex, char in _TEX.items():
            inner = inner.replace(tex, char)
        return inner.replace("\\", "")

    text = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", plain, str(text)).replace("\\$", "$")
    return " ".join(text.split())


def figure_summary(fig: Any) -> str:
    """What a figure says about itself, in one sentence: titles, axis labels, legend entries.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [1, 0], label="noisy"); _ = ax.legend()
    >>> _ = ax.set(title="Error against epsilon", xlabel="epsilon", ylabel="error ($)")
    >>> figure_summary(fig)
    'Error against epsilon (x axis: epsilon; y axis: error ($); legend: noisy)'
    >>> _ = ax.set(xlabel=r"$\\varepsilon$ (log scale)"); figure_summary(fig)[:45]
    'Error against epsilon (x axis: ε (log scale);'
    >>> plt.close(fig)
    """
    panels = []
    for ax in fig.axes:
        if getattr(ax, "_colorbar", None) is not None:  # a colour bar describes another panel
            continue
        said = [
            f"{k} axis: {_words(v)}"
            for k, v in (("x", ax.get_xlabel()), ("y", ax.get_ylabel()))
            if v
        ]
        legend = ax.get_legend()
        if legend is not None:
            said.append("legend: " + ", ".join(_words(t.get_text()) for t in legend.get_texts()))
        title = _words(ax.get_title()) or "plot"
        panels.append(title + (f" ({'; '.join(said)})" if said else ""))
    suptitle = _words(fig._suptitle.get_text()) if fig._suptitle is not None else ""
    if len(panels) > 1:
        body = f"{len(panels)} panels: " + "; ".join(f"({i}) {p}" for i, p in enumerate(panels, 1))
    else:
        body = panels[0] if panels else "empty figure"
    return f"{suptitle}. {body}" if suptitle else body


class DescribedFigure:
    """A static figure shown with a text alternative (made by :func:`describe`).

    Attributes
    ----------
    alt : str
        The picture in words (:func:`figure_summary`), the ``alt`` of its ``<img>``.
    caption : str
        The author's one line on what to see, shown under the picture to everyone.
    png : bytes
        The picture, with ``alt`` in its PNG metadata (``Description``).
    """

    def __init__(self, png: bytes, alt: str, caption: str) -> None:
        self.png, self.alt, self.caption = png, alt, caption

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import base64
        import html

        data = base64.b64encode(self.png).decode("ascii")
        caption = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        figure = (
            f'<figure class="course-figure" style="margin: 0">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}">{caption}</figure>'
        )
        plain = f"[Figure: {self.alt}]" + (f"\n{self.caption}" if self.caption else "")
        return {"text/html": figure, "image/png": data, "text/plain": plain}

    def __repr__(self) -> str:
        return f"DescribedFigure(alt={self.alt!r}, caption={self.caption!r})"


def describe(fig: Any, caption: str = "", *, close: bool = True) -> DescribedFigure:
    """Show a static figure the way a screen reader can read it: picture, alt text and caption.

    JupyterLab 4 shows a figure as an ``<img>`` with no ``alt`` attribute (its image renderer
    ignores the output's metadata), so a screen reader meets an unnamed graphic. Returned as a
    cell's last value, this object is displayed as HTML instead - ``<figure>`` holding the
    ``<img>`` with :func:`figure_summary` as its ``alt`` and ``caption`` as a visible
    ``<figcaption>`` - which JupyterLab renders (its sanitizer keeps ``data:`` images and
    ``alt``), and so does the static site (``text/html`` comes first there too). The PNG also
    carries the summary as its ``Description``, so a saved picture keeps it.

    For static figures only: a live ``%matplotlib widget`` figure is a canvas (the toys describe
    themselves with a text read-out, see :mod:`course_utils.toys.readout`).

    Parameters
    ----------
    fig : matplotlib Figure
    caption : str
        One line on what the reader should see ("the newest hire moves the slope most").
    close : bool, default True
        Close ``fig`` so the backend does not show it a second time without its description.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> _ = ax.bar([0, 1], [3, 1]); _ = ax.set(title="Influence", ylabel="slope change")
    >>> shown = describe(fig, "Person 0 moves the slope three times more.")
    >>> shown.alt
    'Influence (y axis: slope change)'
    >>> bundle = shown._repr_mimebundle_()
    >>> 'alt="Influence (y axis: slope change)"' in bundle["text/html"], plt.fignum_exists(fig.number)
    (True, False)
    """
    import io

    if not isinstance(caption, str) or "\n" in caption.strip():
        raise ValueError(f"caption must be one line of text, got {caption!r}")
    alt = figure_summary(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Description": alt})
    if close:
        plt.close(fig)
    return DescribedFigure(buf.getvalue(), alt, caption.strip())
