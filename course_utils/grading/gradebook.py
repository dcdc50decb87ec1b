"""The gradebook: one row per submission, keyed by its path relative to the graded folder.

Written only by the grader's main process, atomically (temporary file, ``fsync``, rename) and
keeping the file's permission bits. Rows of an existing gradebook that a run does not regrade
are kept; ``--resume`` skips submissions whose ``sha256`` and ``checks_version`` are already in
it. The CSV has the columns ``file, student, set``, one column per question (the union of every
set's questions in the book), then ``total, max, flags, errors, seconds, sha256, sandbox,
checks_version``; the JSON holds the same rows with every question's status, message, expected,
got and hint (``{"questions": [...], "submissions": [...]}``). Instructor-only questions
(``--extra-checks``) add the columns ``extra:N.k``, ``extra_total`` and ``extra_max`` after the
public questions (and ``"extra_questions"`` and each row's ``"extra"`` in the JSON).

Later tools (rosters, LMS export, regrading) extend a row: add a key to the row dict and, for
the CSV, a name to :data:`TRAILING`.

Examples
--------
>>> import tempfile, pathlib
>>> from course_utils.grading.results import QuestionGrade, SubmissionGrade
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> g = SubmissionGrade("b/alice.ipynb", "alice", 1, sha256="ab", sandbox="none")
>>> g.add_question(QuestionGrade("1.1", "f", 2, 2, "passed"))
>>> book = Gradebook(csv_path=folder / "g.csv")
>>> book.add(g)
>>> book.write()
>>> (folder / "g.csv").read_text().splitlines()[1]
'b/alice.ipynb,alice,1,2,2,2,,,0.0,ab,none,'
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .files import atomic_write_text
from .results import SubmissionGrade

__all__ = ["EXTRA_PREFIX", "EXTRA_TOTALS", "LEADING", "TRAILING", "Gradebook", "write_gradebook"]

LEADING = ("file", "student", "set")
TRAILING = ("total", "max", "flags", "errors", "seconds", "sha256", "sandbox", "checks_version")
#: Instructor-only questions (``--extra-checks``) get columns ``extra:N.k`` after the public
#: ones, then these two; a book without them has neither.
EXTRA_PREFIX = "extra:"
EXTRA_TOTALS = ("extra_total", "extra_max")
_SEP = " | "


def _qid_key(qid: str) -> tuple:
    try:
        return tuple(int(p) for p in qid.split("."))
    except ValueError:
        return (10**9, qid)


def _int_or(text: Any, default: Any = None) -> Any:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


class Gradebook:
    """Rows (dicts in the JSON format, keyed by ``path``) read from and written to the CSV and/or
    JSON files.

    Parameters
    ----------
    csv_path, json_path : path, optional
        The files; at least one. :meth:`load` reads the JSON when it exists, else the CSV.
    """

    def __init__(self, *, csv_path: str | Path | None = None, json_path: str | Path | None = None):
        self.csv_path = Path(csv_path) if csv_path is not None else None
        self.json_path = Path(json_path) if json_path is not None else None
        self.rows: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ reading
    def load(self) -> int:
        """Read the existing rows; their number. ``ValueError`` when a file exists but cannot be
        read as a gradebook (it is then left alone rather than overwritten)."""
        if self.json_path is not None and self.json_path.exists():
            self._load_json(self.json_path)
        elif self.csv_path is not None and self.csv_path.exists():
            self._load_csv(self.csv_path)
        return len(self.rows)

    def _load_json(self, path: Path) -> None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            subs = doc["submissions"]
            if not isinstance(subs, list):
                raise TypeError("submissions is not a list")
            for row in subs:
                if not isinstance(row, dict) or not isinstance(row.get("path"), str):
                    raise TypeError("a row without a path")
                self.rows[row["path"]] = row
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"cannot read the existing gradebook {path} ({type(exc).__name__}: {exc}); "
                "move it away or choose another file"
            ) from None

    def _load_csv(self, path: Path) -> None:
        try:
            reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
            fields = reader.fieldnames or []
            if "file" not in fields or "total" not in fields:
                raise ValueError("no 'file' and 'total' columns")
            qids = [
                f
                for f in fields
                if f not in LEADING
                and f not in TRAILING
                and f not in EXTRA_TOTALS
                and not f.startswith(EXTRA_PREFIX)
            ]
            extra_qids = [f for f in fields if f.startswith(EXTRA_PREFIX)]
            for rec in reader:
                key = rec.get("file") or ""
                if not key:
                    continue
                self.rows[key] = {
                    "path": key,
                    "student": rec.get("student", ""),
                    "set_number": _int_or(rec.get("set")),
                    "questions": [
                        {"qid": q, "points": _int_or(rec[q], 0)}
                        for q in qids
                        if rec.get(q) not in (None, "")
                    ],
                    "flags": [f for f in (rec.get("flags") or "").split(_SEP) if f],
                    "errors": [e for e in (rec.get("errors") or "").split(_SEP) if e],
                    "seconds": float(rec.get("seconds") or 0.0),
                    "total": _int_or(rec.get("total"), 0),
                    "max_total": _int_or(rec.get("max"), 0),
                    **{k: rec.get(k, "") or "" for k in ("sha256", "sandbox", "checks_version")},
                }
                extra = [
                    {"qid": q[len(EXTRA_PREFIX) :], "points": _int_or(rec[q], 0)}
                    for q in extra_qids
                    if rec.get(q) not in (None, "")
                ]
                if extra:
                    self.rows[key]["extra"] = extra
                    self.rows[key]["extra_max"] = _int_or(rec.get("extra_max"), 0)
        except (OSError, ValueError, csv.Error) as exc:
            raise ValueError(
                f"cannot read the existing gradebook {path} ({exc}); move it away or choose another file"
            ) from None

    # ------------------------------------------------------------------ rows
    def add(self, grade: SubmissionGrade) -> None:
        """Add or replace the row of ``grade.path``."""
        self.rows[grade.path] = grade.to_dict()

    def is_current(self, key: str, sha256: str, checks_version: str) -> bool:
        """Is ``key`` already graded from this exact file by these checks (``--resume``)?"""
        row = self.rows.get(key)
        return (
            row is not None
            and bool(sha256)
            and row.get("sha256") == sha256
            and row.get("checks_version") == checks_version
        )

    def qids(self) -> list[str]:
        found = {
            q["qid"]
            for row in self.rows.values()
            for q in row.get("questions", [])
            if isinstance(q, dict) and isinstance(q.get("qid"), str)
        }
        return sorted(found, key=_qid_key)

    def extra_qids(self) -> list[str]:
        """Ids of the instructor-only questions in the book (``--extra-checks``)."""
        found = {
            q["qid"]
            for row in self.rows.values()
            for q in row.get("extra", [])
            if isinstance(q, dict) and isinstance(q.get("qid"), str)
        }
        return sorted(found, key=_qid_key)

    def csv_text(self) -> str:
        qids = self.qids()
        extra_qids = self.extra_qids()
        extra_cols = [EXTRA_PREFIX + q for q in extra_qids] + (
            list(EXTRA_TOTALS) if extra_qids else []
        )
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([*LEADING, *qids, *extra_cols, *TRAILING])
        for key in sorted(self.rows):
            row = self.rows[key]
            pts = {
                q.get("qid"): q.get("points", "")
                for q in row.get("questions", [])
                if isinstance(q, dict)
            }
            set_number = row.get("set_number")
            extra = {
                q.get("qid"): q.get("points", "")
                for q in row.get("extra", [])
                if isinstance(q, dict)
            }
            extra_vals = [extra.get(q, "") for q in extra_qids]
            if extra_qids:
                has = bool(extra)
                extra_vals += [
                    sum(int(v or 0) for v in extra.values()) if has else "",
                    row.get("extra_max", "") if has else "",
                ]
            w.writerow(
                [
                    key,
                    row.get("student", ""),
                    "" if set_number is None else set_number,
                    *[pts.get(q, "") for q in qids],
                    *extra_vals,
                    row.get("total", 0),
                    row.get("max_total", 0),
                    _SEP.join(row.get("flags", [])),
                    _SEP.join(row.get("errors", [])),
                    row.get("seconds", 0.0),
                    *[row.get(k, "") for k in ("sha256", "sandbox", "checks_version")],
                ]
            )
        return buf.getvalue()

    def json_text(self) -> str:
        doc: dict[str, Any] = {"questions": self.qids()}
        if self.extra_qids():
            doc["extra_questions"] = self.extra_qids()
        doc["submissions"] = [self.rows[k] for k in sorted(self.rows)]
        return json.dumps(doc, indent=1) + "\n"

    def write(self) -> None:
        """Rewrite the file(s) atomically, keeping their permission bits."""
        if self.csv_path is not None:
            atomic_write_text(self.csv_path, self.csv_text())
        if self.json_path is not None:
            atomic_write_text(self.json_path, self.json_text())


def write_gradebook(
    grades: list[SubmissionGrade],
    *,
    csv_path: str | Path | None = None,
    json_path: str | Path | None = None,
) -> None:
    """Write ``grades`` as a new gradebook (atomically; existing rows are not merged - use
    :class:`Gradebook` for that)."""
    book = Gradebook(csv_path=csv_path, json_path=json_path)
    for g in grades:
        book.add(g)
    book.write()
