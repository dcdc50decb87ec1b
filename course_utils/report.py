"""The audit report card: one page a reviewer can read, as Markdown or as one offline HTML file.

An :class:`AuditReport` holds a title, the models it compares, a few lines of context (data,
claims, threat model) and a list of :class:`Section` s. Each section says **what was tested**,
lists its numbers - each one for a model, with its interval and a note on how it was measured -
and states **what the numbers show and what they do not show**. Figures are rendered to PNG once,
when they are added, and embedded as ``data:`` URIs, so the HTML page is a single file that opens
offline and keeps no reference to the live matplotlib figure.

Examples
--------
>>> report = AuditReport("Audit of two digit classifiers", models=["non-private", "DP-SGD"],
...                      context={"DP claim": "epsilon = 2, delta = 1e-5 (add/remove-one, RDP)"})
>>> s = report.section("Membership inference", tested="RMIA with 4 reference models",
...                    shows="how many members a strong attacker finds at 1 % FPR",
...                    does_not_show="what a stronger attack could do")
>>> _ = s.add("TPR at 1 % FPR", "non-private", 0.042, interval=(0.026, 0.064), fmt="{:.1%}")
>>> _ = s.add("TPR at 1 % FPR", "DP-SGD", 0.014, interval=(0.006, 0.029), fmt="{:.1%}")
>>> print(report.to_markdown().splitlines()[12])
| TPR at 1 % FPR | 4.2% [2.6%, 6.4%] | 1.4% [0.6%, 2.9%] |  |
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Measurement", "Section", "AuditReport"]


def _text(value: Any, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ValueError(
            f"{name} must be a {'' if allow_empty else 'non-empty '}string, got {value!r:.60}"
        )
    return value.strip()


def _format(value: float, fmt: str) -> str:
    return fmt.format(value)


@dataclass(frozen=True)
class Measurement:
    """One number of the report: a measure, for one model, with an optional interval.

    Attributes
    ----------
    measure : str
        What was measured, e.g. ``"TPR at 1 % FPR (RMIA)"``.
    model : str
        One of the report's models.
    value : float or str
        The estimate (a str for a verdict such as ``"caught"``).
    interval : (float, float) or None
        Lower and upper end, e.g. a 95 % Clopper-Pearson interval.
    fmt : str
        ``str.format`` pattern for the value and the interval, e.g. ``"{:.1%}"``.
    note : str
        How it was measured (method, sample size, confidence).
    """

    measure: str
    model: str
    value: float | str
    interval: tuple[float, float] | None = None
    fmt: str = "{:.3f}"
    note: str = ""

    def cell(self) -> str:
        """The value and its interval as text: ``"4.2% [2.6%, 6.4%]"``."""
        if isinstance(self.value, str):
            text = self.value
        else:
            text = _format(self.value, self.fmt)
        if self.interval is not None:
            lo, hi = self.interval
            text += f" [{_format(lo, self.fmt)}, {_format(hi, self.fmt)}]"
        return text


@dataclass
class Section:
    """One part of the report: what was tested, its numbers, its figures, what they show.

    Create sections with :meth:`AuditReport.section`, then :meth:`add` numbers and
    :meth:`add_figure` figures (both return the section, so calls can be chained).
    """

    title: str
    tested: str
    shows: str
    does_not_show: str
    models: tuple[str, ...]
    measurements: list[Measurement] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list, repr=False)

    def add(
        self,
        measure: str,
        model: str,
        value: float | str,
        *,
        interval: tuple[float, float] | None = None,
        fmt: str = "{:.3f}",
        note: str = "",
    ) -> Section:
        """Record ``value`` (with its ``interval``) of ``measure`` for ``model``.

        Raises ``ValueError`` for an unknown model, a non-finite value, an interval whose ends
        are not finite and ordered, a value outside its interval, or a ``fmt`` that cannot format
        a number.
        """
        measure = _text(measure, "measure")
        if model not in self.models:
            raise ValueError(
                f"model must be one of this section's models {list(self.models)}, got {model!r}"
            )
        if not isinstance(value, str):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                and not hasattr(value, "__float__")
            ):
                raise ValueError(f"value must be a number or a string, got {value!r:.60}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"value must be finite, got {value!r}")
        if not isinstance(fmt, str):
            raise ValueError(f"fmt must be a format string such as '{{:.3f}}', got {fmt!r}")
        try:
            _format(1.0, fmt)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(
                f"fmt must format one number, like '{{:.3f}}', got {fmt!r} ({exc})"
            ) from None
        if interval is not None:
            try:
                lo, hi = (float(v) for v in interval)
            except (TypeError, ValueError):
                raise ValueError(
                    f"interval must be a pair (low, high) of numbers, got {interval!r:.60}"
                ) from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
                raise ValueError(f"interval must be finite with low <= high, got {interval!r}")
            if not isinstance(value, str) and not lo - 1e-12 <= value <= hi + 1e-12:
                raise ValueError(f"value {value} lies outside its interval [{lo}, {hi}]")
            interval = (lo, hi)
        self.measurements.append(
            Measurement(measure, model, value, interval, fmt, _text(note, "note", allow_empty=True))
        )
        return self

    def add_figure(self, figure: Any, *, caption: str, dpi: int = 100) -> Section:
        """Render a matplotlib ``figure`` (or take PNG ``bytes``) and keep it with its caption."""
        caption = _text(caption, "caption")
        if isinstance(figure, (bytes, bytearray)):
            png = bytes(figure)
            if not png.startswith(b"\x89PNG\r\n\x1a\n"):
                raise ValueError("figure bytes must be a PNG image")
        elif hasattr(figure, "savefig"):
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
            png = buffer.getvalue()
        else:
            raise ValueError(
                f"figure must be a matplotlib Figure or PNG bytes, got {type(figure).__name__}"
            )
        self.figures.append((caption, png))
        return self

    def rows(self) -> list[tuple[str, dict[str, str], str]]:
        """``(measure, {model: cell}, notes)`` per measure, in the order measures were added."""
        order: list[str] = []
        cells: dict[str, dict[str, str]] = {}
        notes: dict[str, list[str]] = {}
        for m in self.measurements:
            if m.measure not in cells:
                order.append(m.measure)
                cells[m.measure], notes[m.measure] = {}, []
            cells[m.measure][m.model] = m.cell()
            if m.note and m.note not in notes[m.measure]:
                notes[m.measure].append(m.note)
        return [(k, cells[k], "; ".join(notes[k])) for k in order]


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { border-bottom: 3px solid #0072B2; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8rem 0; }
th, td { border: 1px solid #bbb; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef4fa; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.context { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.context dt { font-weight: 600; }
dl.context dd { margin: 0; }
p.shows { border-left: 4px solid #009E73; padding-left: .6rem; }
p.limits { border-left: 4px solid #D55E00; padding-left: .6rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #444; }
"""


class AuditReport:
    """A privacy and robustness report card over several models.

    Parameters
    ----------
    title : str
    models : sequence of str
        Column names, one per audited model (at least one, no duplicates).
    summary : str, optional
        A short verdict shown under the title.
    context : dict of str to str, optional
        Facts a reviewer needs first: data, training, every privacy claim with its delta,
        neighbouring relation and accountant, the threat model.

    Examples
    --------
    >>> r = AuditReport("t", models=["a"])
    >>> _ = r.section("S", tested="x", shows="y", does_not_show="z").add("m", "a", 1.0, fmt="{:.0f}")
    >>> "| m | 1 |  |" in r.to_markdown()
    True
    """

    def __init__(
        self,
        title: str,
        *,
        models: Any,
        summary: str = "",
        context: dict[str, str] | None = None,
    ) -> None:
        self.title = _text(title, "title")
        names = list(models) if not isinstance(models, str) else []
        if not names or any(not isinstance(m, str) or not m.strip() for m in names):
            raise ValueError(f"models must be a non-empty list of model names, got {models!r:.60}")
        if len(set(names)) != len(names):
            raise ValueError(f"models must not repeat a name, got {names}")
        self.models = tuple(names)
        self.summary = _text(summary, "summary", allow_empty=True)
        context = {} if context is None else context
        if not isinstance(context, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in context.items()
        ):
            raise ValueError("context must be a dict of str to str")
        self.context = dict(context)
        self.sections: list[Section] = []

    def section(
        self, title: str, *, tested: str, shows: str, does_not_show: str, models: Any = None
    ) -> Section:
        """Start a new section (appended to the report) and return it.

        ``models`` (a subset of the report's models, in any order) limits the section's table to
        those columns, e.g. a section about one model's training code.
        """
        if models is None:
            columns = self.models
        else:
            columns = tuple(models) if not isinstance(models, str) else ()
            if (
                not columns
                or any(m not in self.models for m in columns)
                or len(set(columns)) < len(columns)
            ):
                raise ValueError(
                    f"models must be distinct names from the report's models {list(self.models)}, got {models!r}"
                )
        sec = Section(
            _text(title, "title"),
            _text(tested, "tested"),
            _text(shows, "shows"),
            _text(does_not_show, "does_not_show"),
            columns,
        )
        self.sections.append(sec)
        return sec

    # ------------------------------------------------------------------------------ Markdown
    def to_markdown(self, *, figures: bool = True) -> str:
        """The report as Markdown; figures inline as PNG data URIs (``figures=False`` leaves
        a one-line placeholder instead, e.g. for a plain-text review)."""
        out = [f"# {self.title}", ""]
        if self.summary:
            out += [self.summary, ""]
        if self.context:
            out += ["| | |", "|---|---|"]
            out += [f"| **{_md_cell(k)}** | {_md_cell(v)} |" for k, v in self.context.items()]
            out.append("")
        for sec in self.sections:
            out += [f"## {sec.title}", "", f"**What was tested.** {sec.tested}", ""]
            rows = sec.rows()
            if rows:
                out.append(
                    "| Measure | " + " | ".join(_md_cell(m) for m in sec.models) + " | Notes |"
                )
                out.append("|---" * (len(sec.models) + 2) + "|")
                for measure, cells, notes in rows:
                    values = " | ".join(_md_cell(cells.get(m, "-")) for m in sec.models)
                    out.append(f"| {_md_cell(measure)} | {values} | {_md_cell(notes)} |")
                out.append("")
            for caption, png in sec.figures:
                if figures:
                    out.append(f"![{_md_cell(caption)}]({_data_uri(png)})")
                    out.append(f"*{caption}*")
                else:
                    out.append(f"*[figure: {caption}]*")
                out.append("")
            out += [
                f"**What it shows.** {sec.shows}",
                "",
                f"**What it does not show.** {sec.does_not_show}",
                "",
            ]
        return "\n".join(out).rstrip() + "\n"

    # ---------------------------------------------------------------------------------- HTML
    def html(self) -> str:
        """The report as one self-contained HTML page (inline CSS, PNG data URIs, no scripts)."""
        esc = html.escape
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(self.title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{esc(self.title)}</h1>",
        ]
        if self.summary:
            parts.append(f'<p class="summary">{esc(self.summary)}</p>')
        if self.context:
            parts.append('<dl class="context">')
            parts += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in self.context.items()]
            parts.append("</dl>")
        for i, sec in enumerate(self.sections, start=1):
            parts.append(f'<section id="section-{i}">')
            parts.append(f"<h2>{esc(sec.title)}</h2>")
            parts.append(
                f'<p class="tested"><strong>What was tested.</strong> {esc(sec.tested)}</p>'
            )
            rows = sec.rows()
            if rows:
                head = "".join(f'<th scope="col">{esc(m)}</th>' for m in sec.models)
                parts.append(
                    f'<table><thead><tr><th scope="col">Measure</th>{head}<th scope="col">Notes</th></tr></thead><tbody>'
                )
                for measure, cells, notes in rows:
                    tds = "".join(
                        f'<td class="num">{esc(cells.get(m, "-"))}</td>' for m in sec.models
                    )
                    parts.append(
                        f'<tr><th scope="row">{esc(measure)}</th>{tds}<td>{esc(notes)}</td></tr>'
                    )
                parts.append("</tbody></table>")
            for caption, png in sec.figures:
                parts.append(
                    f'<figure><img src="{_data_uri(png)}" alt="{esc(caption)}">'
                    f"<figcaption>{esc(caption)}</figcaption></figure>"
                )
            parts.append(f'<p class="shows"><strong>What it shows.</strong> {esc(sec.shows)}</p>')
            parts.append(
                f'<p class="limits"><strong>What it does not show.</strong> {esc(sec.does_not_show)}</p>'
            )
            parts.append("</section>")
        parts += ["</body>", "</html>"]
        return "\n".join(parts) + "\n"

    def to_html(self, path: str | Path) -> Path:
        """Write :meth:`html` to ``path`` (UTF-8) and return the path. The folder must exist."""
        if not isinstance(path, (str, Path)) or not str(path):
            raise ValueError(f"path must be a file path, got {path!r:.60}")
        target = Path(path)
        if not target.parent.is_dir():
            raise ValueError(f"path must be in an existing folder, got {str(target)!r}")
        if target.is_dir():
            raise ValueError(f"path must be a file, not a folder: {str(target)!r}")
        target.write_text(self.html(), encoding="utf-8")
        return target

    def __repr__(self) -> str:
        return f"AuditReport({self.title!r}, models={list(self.models)}, sections={len(self.sections)})"
