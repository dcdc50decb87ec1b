"""Whose notebook is it? The student id of a submission, read from its path (``--ids``).

* ``canvas`` - Canvas's "Download Submissions" names:
  ``{name}{_LATE}_{user id}_{submission id}_{file as uploaded}``, e.g.
  ``turingalan_LATE_23456_678902_01_motivation.ipynb``: name ``turingalan`` (the sortable name
  in lower case, run together), Canvas user id ``23456``, and late.
* ``moodle`` - Moodle's "Download all submissions", in folders (``Alan Turing_1234567_
  assignsubmission_file_/01_motivation.ipynb``) or not (``Alan Turing_1234567_assignsubmission_
  file_01_motivation.ipynb``): the full name and Moodle's participant number for this assignment
  (not the user id; with blind marking the name is "Participant"). Moodle does not mark late work
  in the name.
* ``folder`` - one sub-folder per student (hub home folders, a script's copy):
  ``ada/01_motivation.ipynb`` is ``ada``.
* ``file`` - the file name without ``.ipynb`` (``ada_lovelace.ipynb`` is ``ada_lovelace``).
* ``auto`` (the default) - Canvas's pattern, else Moodle's, else ``folder`` when the file sits in
  a sub-folder and its name is an exercise set's (``01_motivation.ipynb``) or repeats in several
  folders, else ``file``.

With a roster (:mod:`.roster`) the id found is matched to one student; a file nobody matches
keeps the id read from its name and is listed, never dropped.

Examples
--------
>>> i = identify(["turingalan_LATE_23456_678902_01_motivation.ipynb"])[0]
>>> i.student, i.name, i.canvas_id, i.late, i.how
('23456', 'turingalan', '23456', 'yes', 'canvas')
>>> [i.student for i in identify(["ada/01_motivation.ipynb", "bob/01_motivation.ipynb"])]
['ada', 'bob']
>>> identify(["Ada Lovelace_7_assignsubmission_file_/ex.ipynb"])[0].name
'Ada Lovelace'
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from .files import escape_name
from .generator import set_number_from_name
from .roster import Roster, Student

__all__ = ["MODES", "Identity", "identify", "infer_root", "match"]

MODES = ("auto", "canvas", "moodle", "folder", "file")
_CANVAS = re.compile(r"^(?P<name>[^\W_]+)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_[a-z]+_(?P<file>.*)$")


@dataclass(frozen=True)
class Identity:
    """Who a submission (row ``key``) belongs to, as far as its path tells.

    ``student`` is the gradebook's ``student`` (the roster id once matched), ``name`` the
    student's name when known, ``how`` the rule that read it, ``late`` ``"yes"`` when the file name
    marks it late, ``canvas_id`` Canvas's user id, ``on_roster`` whether a roster matched it
    (``None``: no roster).
    """

    key: str
    student: str
    name: str = ""
    how: str = "file"
    late: str = ""
    canvas_id: str = ""
    on_roster: bool | None = None


def _stem(name: str) -> str:
    return name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name


def _moodle(parts: tuple[str, ...]) -> re.Match | None:
    for part in parts:
        m = _MOODLE.match(part)
        if m:
            return m
    return None


def identify(keys: list[str], mode: str = "auto") -> list[Identity]:
    """The :class:`Identity` of every row key (paths relative to the graded folder, ``/``)."""
    if mode not in MODES:
        raise ValueError(f"ids must be one of {', '.join(MODES)}, got {mode!r}")
    parts = {k: PurePosixPath(k).parts for k in keys}
    repeated = Counter(p[-1] for p in parts.values() if len(p) > 1)
    out = []
    for key in keys:
        p = parts[key]
        base = p[-1] if p else key
        how = mode
        if mode == "auto":
            if _CANVAS.match(base):
                how = "canvas"
            elif _moodle(p):
                how = "moodle"
            elif len(p) > 1 and (set_number_from_name(base) is not None or repeated[base] > 1):
                how = "folder"
            else:
                how = "file"
        m_canvas = _CANVAS.match(base) if how == "canvas" else None
        m_moodle = _moodle(p) if how == "moodle" else None
        if m_canvas:
            uid = m_canvas.group("uid")
            late = "yes" if m_canvas.group("late") else ""
            out.append(Identity(key, uid, m_canvas.group("name"), "canvas", late, uid))
        elif m_moodle:
            name = m_moodle.group("name").strip()
            out.append(Identity(key, f"{name} ({m_moodle.group('pid')})", name, "moodle"))
        elif how == "folder" and len(p) > 1:
            out.append(Identity(key, p[0], "", "folder"))
        else:  # "file", or a rule that does not fit this key: the file name
            out.append(Identity(key, _stem(base), "", "file"))
    return out


def match(identities: list[Identity], roster: Roster) -> list[Identity]:
    """``identities`` with the roster's student where exactly one matches (``student`` becomes
    the roster id, ``name`` the roster name); the others keep what their file name says."""
    out = []
    for ident in identities:
        who: Student | None = None
        if ident.how == "canvas":
            who = roster.find_token(ident.canvas_id) or roster.find_name(ident.name, sortable=True)
            who = who or roster.find_name(ident.name)
        elif ident.how == "moodle":
            who = roster.find_name(ident.name)
            if who is None and "-" in ident.name:  # a team submission: "Group A-Ada Lovelace"
                who = roster.find_name(ident.name.split("-", 1)[1])
        else:
            who = roster.find_token(ident.student)
        if who is None:
            out.append(replace(ident, on_roster=False))
        else:
            out.append(replace(ident, student=who.id, name=who.name, on_roster=True))
    return out


def infer_root(files: list[str], keys: list[str]) -> str | None:
    """The folder under which ``files`` (absolute paths) have the row keys ``keys`` of an
    existing gradebook, so that regrading ``submissions/ada/01_x.ipynb`` alone updates the row
    ``ada/01_x.ipynb`` instead of adding a row ``01_x.ipynb``; ``None`` unless one folder fits
    every file.

    Examples
    --------
    >>> infer_root(["/c/subs/ada/01_x.ipynb"], ["ada/01_x.ipynb", "bob/01_x.ipynb"])
    '/c/subs'
    >>> infer_root(["/c/new/z.ipynb"], ["ada/01_x.ipynb"]) is None
    True
    >>> infer_root(["/c/s/ada/01_x.ipynb", "/c/s/bob/01_x.ipynb"], ["01_x.ipynb"]) is None
    True
    """
    fitting: list[set[str]] = []
    for f in files:
        name = escape_name(str(f)).replace(os.sep, "/")
        fitting.append({name[: -len(k) - 1] or "/" for k in keys if name.endswith("/" + k)})
    common = set.intersection(*fitting) if fitting else set()
    return min(common, key=len) if common else None
