"""Late work: what the gradebook's ``late`` column holds, and the ``--late-policy`` that turns it
into a penalty.

A row's ``late`` is ``""`` (on time), a whole number of days (``"2"``; ``"0"`` means excused), or
``"yes"`` (late, days unknown: Canvas marks a late file ``_LATE`` in its download name but says
nothing about how late). The policy is one of

* ``flag`` (the default): record lateness, deduct nothing;
* ``P%``: deduct ``P`` percent of the points once for any late submission;
* ``P%/day``: deduct ``P`` percent per day late (at most everything); ``yes`` counts as one day.

``zero`` is ``100%``. The penalty and the exported ``score`` are recomputed from ``total``,
``max``, ``late``, ``late_policy`` and ``override`` every time the gradebook is written, so an
edited ``late`` cell takes effect at the next run or export.

Examples
--------
>>> p = LatePolicy.parse("10%/day")
>>> p.penalty("2", 7), p.penalty("yes", 7), p.penalty("", 7), p.penalty("0", 7)
(1.4, 0.7, 0.0, 0.0)
>>> LatePolicy.parse("20%").penalty("5", 10), LatePolicy.parse("flag").penalty("5", 10)
(2.0, 0.0)
>>> final_score(total=6, max_total=7, late="1", policy="10%/day", override="")
(0.7, 5.3)
>>> final_score(total=6, max_total=7, late="1", policy="10%/day", override="7")
(0.7, 7.0)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["LatePolicy", "final_score", "format_points", "parse_late"]

_POLICY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*(/\s*day)?\s*$", re.IGNORECASE)


def parse_late(value: object) -> int | str:
    """A ``late`` cell as ``""`` (on time), ``"yes"`` (days unknown) or a number of days.

    Examples
    --------
    >>> parse_late(""), parse_late("yes"), parse_late("LATE"), parse_late("2"), parse_late(1.2)
    ('', 'yes', 'yes', 2, 2)
    >>> parse_late("soon")
    Traceback (most recent call last):
    ...
    ValueError: late must be empty, 'yes' or a number of days >= 0, got 'soon'
    """
    text = "" if value is None else str(value).strip()
    if text.lower() in ("", "no", "on time", "false"):
        return ""
    if text.lower() in ("yes", "late", "true"):
        return "yes"
    try:
        days = float(text)
    except ValueError:
        days = float("nan")
    if not math.isfinite(days) or days < 0:
        raise ValueError(f"late must be empty, 'yes' or a number of days >= 0, got {value!r}")
    return math.ceil(days)


def format_points(x: float) -> str:
    """Points as short text: ``7``, ``5.3``, ``0.25``.

    Examples
    --------
    >>> format_points(7.0), format_points(5.30), format_points(1 / 3)
    ('7', '5.3', '0.33')
    """
    x = round(float(x), 2)
    return str(int(x)) if x == int(x) else f"{x:.2f}".rstrip("0")


@dataclass(frozen=True)
class LatePolicy:
    """A late policy: ``kind`` is ``"flag"``, ``"once"`` or ``"per_day"``; ``percent`` of the
    points deducted once or per day."""

    kind: str = "flag"
    percent: float = 0.0

    @classmethod
    def parse(cls, text: object) -> LatePolicy:
        """``"flag"``, ``"zero"``, ``"P%"`` or ``"P%/day"``; ``ValueError`` naming the format.

        Examples
        --------
        >>> LatePolicy.parse("15 %/day"), LatePolicy.parse("zero").text
        (LatePolicy(kind='per_day', percent=15.0), '100%')
        >>> LatePolicy.parse("-5%")
        Traceback (most recent call last):
        ...
        ValueError: late_policy must be 'flag', 'zero', 'P%' or 'P%/day' with 0 <= P <= 100 (e.g. 10%/day), got '-5%'
        """
        s = "" if text is None else str(text).strip().lower()
        if s in ("", "flag", "none", "0%"):
            return cls("flag", 0.0)
        if s == "zero":
            return cls("once", 100.0)
        m = _POLICY.match(s)
        if m is None or float(m.group(1)) > 100:
            raise ValueError(
                "late_policy must be 'flag', 'zero', 'P%' or 'P%/day' with 0 <= P <= 100 "
                f"(e.g. 10%/day), got {text!r}"
            )
        return cls("per_day" if m.group(2) else "once", float(m.group(1)))

    @property
    def text(self) -> str:
        """The policy as written in the gradebook's ``late_policy`` column."""
        if self.kind == "flag":
            return "flag"
        p = format_points(self.percent)
        return f"{p}%/day" if self.kind == "per_day" else f"{p}%"

    def penalty(self, late: object, max_total: float) -> float:
        """Points deducted from a submission worth ``max_total`` that is ``late``."""
        days = parse_late(late)
        if days == "" or days == 0 or self.kind == "flag":
            return 0.0
        n = 1 if days == "yes" else int(days)
        share = self.percent / 100 if self.kind == "once" else min(1.0, n * self.percent / 100)
        return round(share * float(max_total), 2)


def final_score(
    *, total: float, max_total: float, late: object, policy: object, override: object
) -> tuple[float, float]:
    """``(penalty, score)`` of a row: ``score`` is ``override`` when it is set, else
    ``total - penalty`` (never below 0)."""
    penalty = LatePolicy.parse(policy).penalty(late, max_total)
    text = "" if override is None else str(override).strip()
    if text:
        try:
            return penalty, round(float(text), 2)
        except ValueError:
            raise ValueError(f"override must be a number of points, got {override!r}") from None
    return penalty, round(max(0.0, float(total) - penalty), 2)
