"""``course-grade export``: one exercise set's scores as a file your LMS imports.

    course-grade export GRADEBOOK --roster CSV (--canvas FILE | --moodle FILE)
                        [--set N] [--assignment NAME] [--missing skip|zero] [--late-policy P]

The score exported is the gradebook's ``score``: the ``override`` when you typed one, else
``total`` minus the late ``penalty``. One file holds one set (one LMS assignment); ``--set N``
picks it when the gradebook holds several.

* **Canvas** (Grades > Import): the layout of Canvas's own gradebook export - the header
  ``Student, ID, SIS User ID, SIS Login ID, Section, <assignment>``, then a ``Points Possible``
  line, then one line per student. Canvas finds the student by ``ID`` (its user id: the roster's
  ``canvas_id``, a Canvas gradebook export used as the roster, or the id in Canvas's download
  names), ``SIS User ID`` or ``SIS Login ID``. Name the column ``Exercise set 01 (12345)`` with the assignment's Canvas id to fill an
  existing assignment; a name without an id makes Canvas create a new one.
* **Moodle** (Grades > Import > CSV file): a header ``First name, Last name, ID number, Email
  address, <assignment>`` and one line per student. On import choose "Map from" ``Email address``
  (to Email address) or ``ID number`` (to ID number) and map the grade column to the grade item.

Students with no submission are left out (``--missing skip``, the default: the LMS keeps whatever
it has) or given 0 (``--missing zero``); rows of the gradebook that match nobody on the roster are
listed and not exported. Grades are points out of the set's maximum (the ``Points Possible``).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from .files import atomic_write_text
from .gradebook import Gradebook
from .identity import MODES, identify, match
from .late import format_points
from .roster import Roster, Student

__all__ = ["CANVAS_COLUMNS", "MOODLE_COLUMNS", "canvas_csv", "main", "moodle_csv", "scores"]

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("First name", "Last name", "ID number", "Email address")


def _csv(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def scores(
    book: Gradebook, roster: Roster, set_number: int | None = None, *, ids: str = "auto"
) -> tuple[int, float, dict[str, float], list[str], dict[str, str]]:
    """``(set, points possible, {student id: score}, notes, {student id: Canvas id})`` of one set
    of ``book`` (Canvas ids read from Canvas download names, for rosters without them).

    A row counts for the roster student its ``student`` names, else the one its file name matches
    (:mod:`.identity`). With two rows for one student the higher score counts (and a note says
    so). ``ValueError`` when the set is ambiguous or a typed cell cannot be read.
    """
    bad = book.problems()
    if bad:
        raise ValueError("cells that cannot be read: " + "; ".join(bad))
    sets = sorted({r.get("set_number") for r in book.rows.values()} - {None})
    if set_number is None:
        if len(sets) != 1:
            raise ValueError(
                f"the gradebook holds sets {', '.join(f'{s:02d}' for s in sets) or 'none'}: "
                "choose one with --set N (one file per LMS assignment)"
            )
        set_number = sets[0]
    keys = sorted(k for k, r in book.rows.items() if r.get("set_number") == set_number)
    if not keys:
        raise ValueError(f"the gradebook has no rows of set {set_number:02d}")
    matched = {i.key: i for i in match(identify(keys, ids), roster)}
    notes: list[str] = []
    got: dict[str, list[tuple[float, str]]] = defaultdict(list)
    canvas_ids: dict[str, str] = {}
    maxes = set()
    for key in keys:
        row = book.finished(key)
        maxes.add(float(row.get("max_total") or 0))
        student = row.get("student", "")
        if student not in roster.by_id:
            ident = matched[key]
            if not ident.on_roster:
                notes.append(f"not on the roster, not exported: {key} ({student})")
                continue
            student = ident.student
        got[student].append((float(row["score"]), key))
        if matched[key].canvas_id:
            canvas_ids[student] = matched[key].canvas_id
    for student, found in got.items():
        if len(found) > 1:
            best = max(found)
            others = ", ".join(k for _, k in found if k != best[1])
            notes.append(f"{student}: {len(found)} files; exported {best[1]}, not {others}")
    if len(maxes) > 1:
        notes.append(f"rows of set {set_number:02d} have different maxima {sorted(maxes)}")
    best_scores = {s: max(found)[0] for s, found in got.items()}
    return set_number, max(maxes), best_scores, notes, canvas_ids


def _column(assignment: str | None, set_number: int) -> str:
    return assignment or f"Exercise set {set_number:02d}"


def _canvas_name(s: Student) -> str:
    if s.canvas_name or "," in s.name:  # already "Last, First"
        return s.canvas_name or s.name
    first, last = s.given_family
    return f"{last}, {first}" if first and last else s.name or s.id


def _chosen(roster: Roster, got: dict[str, float], missing: str) -> list[tuple[Student, float]]:
    out = []
    for s in roster:
        if s.id in got:
            out.append((s, got[s.id]))
        elif missing == "zero":
            out.append((s, 0.0))
    return out


def canvas_csv(
    roster: Roster,
    got: dict[str, float],
    *,
    set_number: int,
    points: float,
    assignment: str | None = None,
    missing: str = "skip",
    canvas_ids: dict[str, str] | None = None,
) -> str:
    """The Canvas gradebook import file (see the module docstring); ``canvas_ids`` fill the
    ``ID`` of students whose roster entry has none.

    Examples
    --------
    >>> r = Roster.from_text("id,name,canvas_id,section\\nS1,Ada Lovelace,101,A\\nS2,Alan Turing,102,A\\n")
    >>> print(canvas_csv(r, {"S1": 6.5}, set_number=1, points=7), end="")
    Student,ID,SIS User ID,SIS Login ID,Section,Exercise set 01
        Points Possible,,,,,7
    "Lovelace, Ada",101,S1,,A,6.5
    """
    rows: list[list[Any]] = [
        [*CANVAS_COLUMNS, _column(assignment, set_number)],
        ["    Points Possible", "", "", "", "", format_points(points)],
    ]
    for s, score in _chosen(roster, got, missing):
        cid = s.canvas_id or (canvas_ids or {}).get(s.id, "")
        ids = (cid, s.sis_user_id, s.sis_login_id, s.section)
        rows.append([_canvas_name(s), *ids, format_points(score)])
    return _csv(rows)


def moodle_csv(
    roster: Roster,
    got: dict[str, float],
    *,
    set_number: int,
    assignment: str | None = None,
    missing: str = "skip",
) -> str:
    """The Moodle grade import file (see the module docstring).

    Examples
    --------
    >>> r = Roster.from_text("id,name,email\\nS1,Ada Lovelace,ada@uni.edu\\n")
    >>> print(moodle_csv(r, {"S1": 7}, set_number=1), end="")
    First name,Last name,ID number,Email address,Exercise set 01
    Ada,Lovelace,S1,ada@uni.edu,7
    """
    rows: list[list[Any]] = [[*MOODLE_COLUMNS, _column(assignment, set_number)]]
    for s, score in _chosen(roster, got, missing):
        first, last = s.given_family
        rows.append([first, last, s.id, s.email, format_points(score)])
    return _csv(rows)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="course-grade export",
        description="Write one exercise set's scores (override, else total minus the late "
        "penalty) as a Canvas or Moodle grade import file.",
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("gradebook", help="the gradebook (.csv or .json) course-grade wrote")
    p.add_argument(
        "--roster", required=True, metavar="CSV", help="id,name,email,... (or an LMS export)"
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--canvas", metavar="FILE", help="write Canvas's gradebook import CSV")
    out.add_argument("--moodle", metavar="FILE", help="write Moodle's grade import CSV")
    p.add_argument(
        "--set", dest="set_number", type=int, default=None, metavar="N", help="the exercise set"
    )
    p.add_argument("--assignment", default=None, help="column name (default 'Exercise set NN')")
    p.add_argument(
        "--missing",
        choices=("skip", "zero"),
        default="skip",
        help="students with no submission: left out (default) or 0",
    )
    p.add_argument("--late-policy", metavar="POLICY", help="apply this policy to every row")
    p.add_argument("--ids", choices=MODES, default="auto", help="as for grading")
    return p


def main(argv: list[str] | None = None) -> int:
    """``course-grade export``; exit status 0, or 2 for a usage error."""
    p = _parser()
    a = p.parse_args(argv)
    path = Path(a.gradebook)
    if not path.exists():
        p.error(f"no gradebook {path}")
    try:
        kind = "json_path" if path.suffix.lower() == ".json" else "csv_path"
        book = Gradebook(**{kind: path}, late_policy=a.late_policy)
        book.load()
        roster = Roster.read(a.roster)
        set_number, points, got, notes, canvas_ids = scores(book, roster, a.set_number, ids=a.ids)
    except ValueError as exc:
        p.error(str(exc))
    if a.canvas:
        target = Path(a.canvas)
        text = canvas_csv(
            roster,
            got,
            set_number=set_number,
            points=points,
            assignment=a.assignment,
            missing=a.missing,
            canvas_ids=canvas_ids,
        )
        blind = [
            s.id
            for s in roster
            if s.id in got
            and not (s.canvas_id or canvas_ids.get(s.id) or s.sis_user_id or s.sis_login_id)
        ]
        if blind:
            notes.append(
                f"no Canvas ID, SIS User ID or SIS Login ID (Canvas will not find them): {', '.join(blind)}"
            )
    else:
        target = Path(a.moodle)
        text = moodle_csv(
            roster, got, set_number=set_number, assignment=a.assignment, missing=a.missing
        )
        blind = [s.id for s in roster if s.id in got and not s.email]
        if blind:
            notes.append(
                f"no email address (map Moodle's import from 'ID number'): {', '.join(blind)}"
            )
    atomic_write_text(target, text)
    absent = [s for s in roster if s.id not in got]
    print(
        f"wrote {target}: set {set_number:02d} as '{_column(a.assignment, set_number)}', "
        f"{len(got)} of {len(roster)} students, points possible {format_points(points)}"
    )
    if absent:
        what = "given 0" if a.missing == "zero" else "left out"
        print(f"  no submission ({what}): " + ", ".join(f"{s.id} ({s.name})" for s in absent))
    for note in notes:
        print(f"  note: {note}", file=sys.stderr)
    return 0
