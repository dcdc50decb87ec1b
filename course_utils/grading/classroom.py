"""Grading a real class: who each notebook belongs to, late work, and what the run tells the
instructor about the class (``--roster``, ``--ids``, ``--late-policy``, ``--late``, ``--due``,
``--root``).

:class:`ClassBook` is the gradebook of such a run: each row graded gets the student's id and name
(:mod:`.identity`, :mod:`.roster`) and its ``late`` value, and every row the run's late policy
(:mod:`.late`). Where lateness comes from, first found wins:

1. ``--late FILE``: a CSV with ``student`` (or ``id``), ``days`` and optionally ``set`` - your
   list of late days and extensions (``0`` excuses); applied to every row of those students;
2. Canvas's ``_LATE`` in the download name: ``yes`` (days unknown);
3. ``--due 2026-12-01T23:59``: days after the deadline by the file's modification time - only
   where that time is the submission's (files read in place on a hub, unzipped with their times);
4. otherwise a regraded row keeps the ``late`` it had.

:class:`ClassRun` holds one ``course-grade`` run's class options; :meth:`ClassRun.report` lists the
roster members with no submission, the files that match nobody, two files for one student and
set, and the late ones - listed, never dropped.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from .gradebook import Gradebook
from .identity import MODES, Identity, identify, infer_root, match
from .late import LatePolicy, parse_late
from .results import SubmissionGrade
from .roster import Roster

__all__ = ["ClassBook", "ClassRun", "add_options", "read_late_file"]


def add_options(parser: argparse.ArgumentParser) -> None:
    """The class options of ``course-grade`` (one argument group)."""
    g = parser.add_argument_group(
        "a class",
        "who each notebook belongs to, and late work (INSTRUCTORS.md, 'Running a class').\n"
        "An 'override' column you fill in by hand is never touched by a regrade.",
    )
    g.add_argument("--roster", metavar="CSV", help="id,name,email (or a Canvas/Moodle export)")
    g.add_argument(
        "--ids",
        choices=MODES,
        default="auto",
        help="where the student id is read: Canvas or Moodle download names, one folder per "
        "student, or the file name (default auto)",
    )
    g.add_argument(
        "--late-policy",
        metavar="POLICY",
        default=None,
        help="flag (default: record, deduct nothing), P%% once, P%%/day, or zero",
    )
    g.add_argument("--late", metavar="CSV", dest="late_file", help="student,days[,set] per line")
    g.add_argument("--due", metavar="DATETIME", help="deadline; late days by file time")
    g.add_argument(
        "--root",
        metavar="DIR",
        default=None,
        help="folder the gradebook's keys are relative to (default: the graded folder, or the "
        "one where a single regraded file has its row)",
    )


def read_late_file(path: str | Path) -> dict[tuple[str, int | None], int | str]:
    """``{(student, set or None): late}`` from a CSV with ``student`` (or ``id``), ``days`` and
    optionally ``set`` columns.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "late.csv"
    >>> _ = f.write_text("student,days,set\\nS1,2,1\\nS2,0,\\n")
    >>> read_late_file(f)
    {('S1', 1): 2, ('S2', None): 0}
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the late file {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    cols = {c.strip().lower(): c for c in reader.fieldnames or []}
    who = cols.get("student") or cols.get("id")
    if who is None or "days" not in cols:
        raise ValueError(f"the late file {path} needs 'student' (or 'id') and 'days' columns")
    out: dict[tuple[str, int | None], int | str] = {}
    for n, rec in enumerate(reader, start=2):
        student = (rec.get(who) or "").strip()
        if not student:
            continue
        text_set = (rec.get(cols.get("set", ""), "") or "").strip()
        try:
            key = (student, int(text_set) if text_set else None)
            out[key] = parse_late(rec.get(cols["days"]) or "0") or 0
        except ValueError as exc:
            raise ValueError(f"{path}, line {n}: {exc}") from None
    return out


def _late_from(table: dict[tuple[str, int | None], int | str], student: str, set_number: Any):
    for key in ((student, set_number), (student, None)):
        if key in table:
            return table[key]
    return None


class ClassBook(Gradebook):
    """A :class:`.gradebook.Gradebook` that fills ``student``, ``name`` and ``late`` of the rows a
    run grades (and, with a roster, re-reads every row's student)."""

    def __init__(self, run: ClassRun, **kwargs: Any) -> None:
        super().__init__(late_policy=run.late_policy, **kwargs)
        self.run = run

    def load(self) -> int:
        n = super().load()
        if self.run.roster is not None and self.rows:
            keys = sorted(self.rows)
            for ident in match(identify(keys, self.run.ids), self.run.roster):
                if ident.on_roster:
                    self.rows[ident.key].update(student=ident.student, name=ident.name)
        for row in self.rows.values():
            late = _late_from(self.run.late_table, row.get("student", ""), row.get("set_number"))
            if late is not None:
                row["late"] = str(late)
        return n

    def add(self, grade: SubmissionGrade) -> dict[str, Any]:
        old = dict(self.rows.get(grade.path) or {})
        row = super().add(grade)
        ident = self.run.identities.get(grade.path)
        if ident is None:
            return row
        keep_old = (
            self.run.roster is None and old.get("name") and old.get("student") != ident.student
        )
        if keep_old:  # without a roster, a row a roster once named keeps its student
            row.update(student=old["student"], name=old["name"])
        else:
            row.update(student=ident.student, name=ident.name or old.get("name", ""))
        late = self.run.late_for(ident, row.get("set_number"), row["student"])
        if late is not None:
            row["late"] = str(late)
        return row


class ClassRun:
    """The class options of one ``course-grade`` run (see the module docstring)."""

    def __init__(
        self,
        *,
        roster: Roster | None = None,
        ids: str = "auto",
        late_policy: str | None = None,
        late_table: dict[tuple[str, int | None], int | str] | None = None,
        due: datetime | None = None,
        root: str | None = None,
    ) -> None:
        if ids not in MODES:
            raise ValueError(f"ids must be one of {', '.join(MODES)}, got {ids!r}")
        self.roster = roster
        self.ids = ids
        self.late_policy = LatePolicy.parse(late_policy).text if late_policy is not None else None
        self.late_table = late_table or {}
        self.due = due
        self.root = root
        self.identities: dict[str, Identity] = {}
        self.paths: dict[str, Path] = {}
        self.last_book: ClassBook | None = None

    @classmethod
    def from_args(cls, a: argparse.Namespace, error: Callable[[str], Any]) -> ClassRun:
        """From ``course-grade``'s options; ``error(message)`` for a bad one (exits)."""
        try:
            roster = Roster.read(a.roster) if a.roster else None
            late_table = read_late_file(a.late_file) if a.late_file else None
            due = datetime.fromisoformat(a.due) if a.due else None
            run = cls(
                roster=roster,
                ids=a.ids,
                late_policy=a.late_policy,
                late_table=late_table,
                due=due,
                root=a.root,
            )
            if run.root is None and (a.csv or a.json):
                run.root = run._root_from_gradebook(a.paths, a.csv, a.json)
        except ValueError as exc:
            return error(str(exc))
        return run

    def _root_from_gradebook(self, paths: list[str], csv_path: Any, json_path: Any) -> str | None:
        from .batch import collect

        old = Gradebook(csv_path=csv_path, json_path=json_path)
        if not old.load():
            return None
        items, _ = collect(paths)
        if any(key in old.rows for key, _ in items):
            return None  # the usual keys already fit
        return infer_root([str(p) for _, p in items], list(old.rows))

    def identify(self, items: list[tuple[str, Path]]) -> None:
        """Read the identity of every ``(row key, file)`` of this run."""
        idents = identify([k for k, _ in items], self.ids)
        if self.roster is not None:
            idents = match(idents, self.roster)
        self.identities = {i.key: i for i in idents}
        self.paths = dict(items)

    def book(self, *, csv_path: Any = None, json_path: Any = None) -> ClassBook | None:
        """The gradebook of this run (``None`` without a file)."""
        if csv_path is None and json_path is None:
            return None
        self.last_book = ClassBook(self, csv_path=csv_path, json_path=json_path)
        return self.last_book

    def late_for(self, ident: Identity, set_number: Any, student: str) -> int | str | None:
        """The ``late`` value of a graded row, or ``None`` when this run knows nothing about it."""
        listed = _late_from(self.late_table, student, set_number)
        if listed is not None:
            return listed
        if ident.late:
            return ident.late
        if self.due is not None and ident.key in self.paths:
            try:
                mtime = os.stat(self.paths[ident.key]).st_mtime
            except OSError:
                return None
            due = self.due.timestamp()
            return math.ceil((mtime - due) / 86_400) if mtime > due else ""
        return None

    # ------------------------------------------------------------------ the report
    def report(self, grades: list[SubmissionGrade], book: Gradebook | None = None) -> list[str]:
        """Lines about the class after a run: who has not submitted (per set graded), files that
        match nobody on the roster, two files for one student and set, late submissions."""
        rows: dict[str, dict[str, Any]] = {}
        if book is not None:
            rows.update({k: book.rows[k] for k in book.rows})
        for g in grades:
            if g.path not in rows:
                ident = self.identities.get(g.path)
                rows[g.path] = {
                    "student": ident.student if ident else g.student,
                    "name": ident.name if ident else "",
                    "set_number": g.set_number,
                    "late": ident.late if ident else "",
                }
        lines = []
        sets = sorted({g.set_number for g in grades if g.set_number is not None})
        if self.roster is not None:
            lines.append(f"roster: {len(self.roster)} students ({self.roster.source})")
            for s in sets:
                done = {r.get("student") for r in rows.values() if r.get("set_number") == s}
                missing = [st for st in self.roster if st.id not in done]
                line = f"  set {s:02d}: {len(self.roster) - len(missing)} of {len(self.roster)} submitted"
                if missing:
                    shown = ", ".join(
                        f"{st.id} ({st.name})" if st.name else st.id for st in missing
                    )
                    line += f"; no submission: {shown}"
                lines.append(line)
            strangers = [i for k, i in sorted(self.identities.items()) if i.on_roster is False]
            if strangers:
                lines.append(
                    f"  {len(strangers)} file(s) match nobody on the roster (graded under the id "
                    "in the file name; fix the roster or the name and regrade with --resume):"
                )
                lines += [
                    f"    {i.key}  ({i.how}: {i.student} {i.name})".rstrip() for i in strangers
                ]
        by_student: dict[tuple[Any, Any], list[str]] = defaultdict(list)
        for key, r in sorted(rows.items()):
            by_student[(r.get("student"), r.get("set_number"))].append(key)
        twice = {k: v for k, v in by_student.items() if len(v) > 1 and k[1] in sets}
        for (student, s), keys in sorted(twice.items(), key=str):
            lines.append(
                f"  {len(keys)} files for {student} in set {s:02d}: {', '.join(keys)} "
                "(the LMS export takes the highest score; remove the others and regrade)"
            )
        late = [(k, rows[k]) for k in sorted(rows) if rows[k].get("late") not in ("", "0", 0, None)]
        late = [(k, r) for k, r in late if any(g.path == k for g in grades)]
        if late:
            policy = book.default_policy() if book is not None else (self.late_policy or "flag")
            shown = ", ".join(f"{r.get('student')} ({r.get('late')})" for _, r in late)
            lines.append(f"late: {len(late)} submission(s), policy {policy}: {shown}")
        return lines
