"""Results of a check: :class:`CheckResult`, its coloured box and its plain-text form."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CheckResult"]


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
_STATUS_STYLE = {
    # status: (mark, label, colour) - Okabe-Ito colours, and a mark so colour is never the only cue
    "passed": ("\u2714", "passed", "#009E73"),
    "failed": ("\u2718", "not yet", "#D55E00"),
    "not implemented": ("\u2026", "not implemented yet", "#E69F00"),
    "missing": ("?", "answer not found", "#E69F00"),
    "error": ("!", "could not check", "#CC79A7"),
    "timeout": ("\u29d6", "timed out", "#D55E00"),
}
# How each detail below the title is laid out, as plain text and as HTML (in display order).
_TEXT_LINE = {
    "message": "  {}",
    "expected": "  expected: {}",
    "got": "  got:      {}",
    "hint": "  hint: {}",
}
_HTML_ROW = {
    "message": "<div>{}</div>",
    "expected": "<div><b>expected:</b> <code>{}</code></div>",
    "got": "<div><b>got:</b> <code>{}</code></div>",
    "hint": "<div><b>hint:</b> {}</div>",
}


def _short(value: Any, limit: int = 300) -> str:
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.shape == ()):
        value = value.item()  # np.int64(3) -> 3, np.float64(0.5) -> 0.5: shown as plain numbers
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class CheckResult:
    """Outcome of one check; renders as a coloured box in Jupyter and as text elsewhere.

    Attributes
    ----------
    qid : str
    status : str
        ``"passed"``, ``"failed"``, ``"not implemented"``, ``"missing"``, ``"error"`` or
        ``"timeout"``.
    points, max_points : int
        Awarded points (``max_points`` when passed, else 0) and the question's points.
    message : str
        One line: what passed, or which case failed.
    hint : str
        Advice for the failed case ("" when passed).
    expected, got : str
        Short reprs shown with a failure ("" when not given).
    task : str
        The question's task line.
    """

    qid: str
    status: str
    points: int
    max_points: int
    message: str
    hint: str = ""
    expected: str = ""
    got: str = ""
    task: str = ""
    _shown: int | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when the check passed."""
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of the public fields."""
        return {
            "qid": self.qid,
            "status": self.status,
            "passed": self.passed,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
            "hint": self.hint,
            "expected": self.expected,
            "got": self.got,
            "task": self.task,
        }

    def _details(self) -> list[tuple[str, str]]:
        """``(field, text)`` of the non-empty details shown below the title, in display order."""
        return [(name, getattr(self, name)) for name in _TEXT_LINE if getattr(self, name)]

    def __str__(self) -> str:
        mark, label, _ = _STATUS_STYLE.get(self.status, ("?", self.status, ""))
        lines = [f"{mark} Exercise {self.qid}: {label} ({self.points}/{self.max_points} points)"]
        lines += [_TEXT_LINE[name].format(text) for name, text in self._details()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        mark, label, colour = _STATUS_STYLE.get(self.status, ("?", self.status, "#999999"))
        esc = html.escape
        rows = [
            f'<div style="font-weight:600">{mark} Exercise {esc(self.qid)}: {esc(label)} '
            f'<span style="font-weight:400">({self.points}/{self.max_points} points)</span></div>'
        ]
        rows += [_HTML_ROW[name].format(esc(text)) for name, text in self._details()]
        return (
            f'<div role="status" aria-label="Exercise {esc(self.qid)} {esc(label)}" '
            f'style="border-left:6px solid {colour};padding:6px 10px;margin:4px 0;'
            f'background:{colour}18;border-radius:3px">' + "".join(rows) + "</div>"
        )

    def _ipython_display_(self) -> None:
        # check() has already shown this result in the current cell: showing it again as the
        # cell's value would duplicate the box. In any later cell `r` displays normally.
        if self._shown is not None and self._shown == _execution_count():
            self._shown = None
            return
        _display(self)

    def __repr__(self) -> str:
        return f"CheckResult(qid={self.qid!r}, status={self.status!r}, points={self.points}/{self.max_points})"


def _execution_count() -> int | None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    shell = get_ipython()
    return getattr(shell, "execution_count", None) if shell is not None else None


def _display(result: CheckResult) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with the course
        print(str(result))
        return
    if get_ipython() is None:
        print(str(result))
    else:
        display({"text/html": result._repr_html_(), "text/plain": str(result)}, raw=True)
