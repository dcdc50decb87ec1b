"""The gradebook: one row per submission, keyed by its path relative to the graded folder.

Written only by the grader's main process, atomically (temporary file, ``fsync``, rename) and
keeping the file's permission bits. Rows of an existing gradebook that a run does not regrade
are kept; ``--resume`` skips submissions whose ``sha256`` and ``checks_version`` are already in
it. The CSV has the columns ``file, student, name, set``, one column per question (the union of
every set's questions in the book), then ``total, max, late, penalty, score, override, flags,
errors, seconds, sha256, sandbox, checks_version, graded_at, grader_version, late_policy``; the
JSON holds the same rows with every question's status, message, expected, got and hint
(``{"questions": [...], "submissions": [...]}``). Instructor-only questions
(``--extra-checks``) add the columns ``extra:N.k``, ``extra_total`` and ``extra_max`` after the
public questions (and ``"extra_questions"`` and each row's ``"extra"`` in the JSON).

A regraded row keeps the instructor's ``override`` (a score typed in by hand: grading never
writes it) and the row's ``name``, ``late`` and ``late_policy`` unless the run says otherwise
(:mod:`.classroom` fills those from a roster and the file names). ``penalty`` and ``score`` are
derived (:func:`.late.final_score`) and recomputed at every write. When a CSV and a JSON
gradebook are both given, the CSV's ``override``, ``late`` and ``late_policy`` cells win: the CSV
is the file people edit.

Examples
--------
>>> import tempfile, pathlib
>>> from course_utils.grading.results import QuestionGrade, SubmissionGrade
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> g = SubmissionGrade("b/alice.ipynb", "alice", 1, sha256="ab", sandbox="none")
>>> g.add_question(QuestionGrade("1.1", "f", 2, 2, "passed"))
>>> book = Gradebook(csv_path=folder / "g.csv")
>>> row = book.add(g)
>>> book.write()
>>> (folder / "g.csv").read_text().splitlines()[1]
'b/alice.ipynb,alice,,1,2,2,2,,0,2,,,,0.0,ab,none,,...,flag'
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from .files import atomic_write_text, tree_hash
from .late import LatePolicy, final_score, format_points
from .results import SubmissionGrade

__all__ = [
    "EXTRA_PREFIX",
    "EXTRA_TOTALS",
    "INSTRUCTOR_COLUMNS",
    "LEADING",
    "TRAILING",
    "Gradebook",
    "grader_version",
    "write_gradebook",
]

LEADING = ("file", "student", "name", "set")
TRAILING = (
    "total",
    "max",
    "late",
    "penalty",
    "score",
    "override",
    "flags",
    "errors",
    "seconds",
    "sha256",
    "sandbox",
    "checks_version",
    "graded_at",
    "grader_version",
    "late_policy",
)
#: Cells an instructor edits; the CSV's win over the JSON's when both files are given.
INSTRUCTOR_COLUMNS = ("override", "late", "late_policy")
#: Text columns stored as they are (``penalty`` and ``score`` are derived at every write).
_TEXT = (
    "name",
    "sha256",
    "sandbox",
    "checks_version",
    "graded_at",
    "grader_version",
    *INSTRUCTOR_COLUMNS,
)
#: What a regraded row keeps from its previous version unless the run sets it.
_KEPT = ("name", "late", "late_policy", "override")
#: Instructor-only questions (``--extra-checks``) get columns ``extra:N.k`` after the public
#: ones, then these two; a book without them has neither.
EXTRA_PREFIX = "extra:"
EXTRA_TOTALS = ("extra_total", "extra_max")
_SEP = " | "


@lru_cache(maxsize=1)
def grader_version() -> str:
    """``course_utils``'s version and a hash of the grader's code, e.g. ``0.1.0+3f2a9c1d``: the
    gradebook's ``grader_version``."""
    from .. import __version__

    return f"{__version__}+{tree_hash(Path(__file__).parent)[:8]}"


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


def _num(text: Any, default: float = 0.0) -> float | int:
    try:
        x = float(text)
    except (TypeError, ValueError):
        return default
    return int(x) if x == int(x) else x


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Gradebook:
    """Rows (dicts in the JSON format, keyed by ``path``) read from and written to the CSV and/or
    JSON files.

    Parameters
    ----------
    csv_path, json_path : path, optional
        The files; at least one. :meth:`load` reads the JSON when it exists, else the CSV (and
        with both, the CSV's instructor columns over the JSON's).
    late_policy : str, optional
        Applied to every row (``--late-policy``); by default each row keeps its own and a new
        row gets the one the existing rows share (else ``flag``).
    """

    def __init__(
        self,
        *,
        csv_path: str | Path | None = None,
        json_path: str | Path | None = None,
        late_policy: str | None = None,
    ):
        self.csv_path = Path(csv_path) if csv_path is not None else None
        self.json_path = Path(json_path) if json_path is not None else None
        self.late_policy = LatePolicy.parse(late_policy).text if late_policy is not None else None
        self.rows: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ reading
    def load(self) -> int:
        """Read the existing rows; their number. ``ValueError`` when a file exists but cannot be
        read as a gradebook (it is then left alone rather than overwritten)."""
        if self.json_path is not None and self.json_path.exists():
            self._load_json(self.json_path)
            if self.csv_path is not None and self.csv_path.exists():
                edited = self._read_csv(self.csv_path)
                for key, row in self.rows.items():
                    if key in edited:
                        row.update({k: edited[key].get(k, "") for k in INSTRUCTOR_COLUMNS})
        elif self.csv_path is not None and self.csv_path.exists():
            self.rows.update(self._read_csv(self.csv_path))
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

    def _read_csv(self, path: Path) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        try:
            text = path.read_text(encoding="utf-8-sig")  # a spreadsheet may add a BOM
            reader = csv.DictReader(io.StringIO(text, newline=""))
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
                rows[key] = {
                    "path": key,
                    "student": rec.get("student", "") or "",
                    "set_number": _int_or(rec.get("set")),
                    "questions": [
                        {"qid": q, "points": _num(rec[q], 0)}
                        for q in qids
                        if rec.get(q) not in (None, "")
                    ],
                    "flags": [f for f in (rec.get("flags") or "").split(_SEP) if f],
                    "errors": [e for e in (rec.get("errors") or "").split(_SEP) if e],
                    "seconds": float(rec.get("seconds") or 0.0),
                    "total": _num(rec.get("total"), 0),
                    "max_total": _num(rec.get("max"), 0),
                    **{k: (rec.get(k) or "").strip() for k in _TEXT},
                }
                extra = [
                    {"qid": q[len(EXTRA_PREFIX) :], "points": _int_or(rec[q], 0)}
                    for q in extra_qids
                    if rec.get(q) not in (None, "")
                ]
                if extra:
                    rows[key]["extra"] = extra
                    rows[key]["extra_max"] = _int_or(rec.get("extra_max"), 0)
        except (OSError, ValueError, csv.Error) as exc:
            raise ValueError(
                f"cannot read the existing gradebook {path} ({exc}); move it away or choose another file"
            ) from None
        return rows

    # ------------------------------------------------------------------ rows
    def default_policy(self) -> str:
        """The policy of a new row: ``--late-policy``, else the one every existing row has."""
        if self.late_policy is not None:
            return self.late_policy
        found = Counter(str(r.get("late_policy") or "flag") for r in self.rows.values())
        return next(iter(found)) if len(found) == 1 else "flag"

    def add(self, grade: SubmissionGrade) -> dict[str, Any]:
        """Add or replace the row of ``grade.path`` (keeping its ``override``, ``name``, ``late``
        and ``late_policy``); the new row."""
        old = self.rows.get(grade.path) or {}
        row = grade.to_dict()
        for k in _KEPT:
            row[k] = old.get(k, "")
        row["late_policy"] = self.late_policy or old.get("late_policy") or self.default_policy()
        row.update(graded_at=_now(), grader_version=grader_version())
        self.rows[grade.path] = row
        return row

    def is_current(self, key: str, sha256: str, checks_version: str) -> bool:
        """Is ``key`` already graded from this exact file by these checks (``--resume``)?"""
        row = self.rows.get(key)
        return (
            row is not None
            and bool(sha256)
            and row.get("sha256") == sha256
            and row.get("checks_version") == checks_version
        )

    def _qids_in(self, section: str) -> list[str]:
        """Question ids found in the rows' ``section`` list ("questions" or "extra"), in order."""
        found = {
            q["qid"]
            for row in self.rows.values()
            for q in row.get(section, [])
            if isinstance(q, dict) and isinstance(q.get("qid"), str)
        }
        return sorted(found, key=_qid_key)

    def qids(self) -> list[str]:
        return self._qids_in("questions")

    def finished(self, key: str) -> dict[str, Any]:
        """Row ``key`` with its ``late_policy`` settled and ``penalty`` and ``score`` computed
        (both ``""`` when its ``late`` or ``override`` cell cannot be read: :meth:`problems`)."""
        row = self.rows[key]
        row["late_policy"] = self.late_policy or row.get("late_policy") or "flag"
        try:
            penalty, score = final_score(
                total=_num(row.get("total"), 0),
                max_total=_num(row.get("max_total"), 0),
                late=row.get("late", ""),
                policy=row.get("late_policy") or "flag",
                override=row.get("override", ""),
            )
            row["penalty"], row["score"] = _num(penalty), _num(score)
        except ValueError:
            row["penalty"] = row["score"] = ""
        return row

    def problems(self) -> list[str]:
        """Cells that cannot be read (a ``late``, ``late_policy`` or ``override`` typed by hand)."""
        out = []
        for key in sorted(self.rows):
            row = self.rows[key]
            try:
                final_score(
                    total=0,
                    max_total=0,
                    late=row.get("late", ""),
                    policy=row.get("late_policy") or "flag",
                    override=row.get("override", ""),
                )
            except ValueError as exc:
                out.append(f"{key}: {exc}")
        return out

    def extra_qids(self) -> list[str]:
        """Ids of the instructor-only questions in the book (``--extra-checks``)."""
        return self._qids_in("extra")

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
            row = self.finished(key)
            pts = {
                q.get("qid"): q.get("points", "")
                for q in row.get("questions", [])
                if isinstance(q, dict)
            }
            set_number = row.get("set_number")
            cells = {
                "file": key,
                "student": row.get("student", ""),
                "set": "" if set_number is None else set_number,
                "max": row.get("max_total", 0),
                "flags": _SEP.join(row.get("flags", [])),
                "errors": _SEP.join(row.get("errors", [])),
                "penalty": "" if row["penalty"] == "" else format_points(row["penalty"]),
                "score": "" if row["score"] == "" else format_points(row["score"]),
            }
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
                    *[cells[c] if c in cells else row.get(c, "") for c in LEADING],
                    *[pts.get(q, "") for q in qids],
                    *extra_vals,
                    *[cells[c] if c in cells else row.get(c, "") for c in TRAILING],
                ]
            )
        return buf.getvalue()

    def json_text(self) -> str:
        rows = [self.finished(k) for k in sorted(self.rows)]
        doc: dict[str, Any] = {"questions": self.qids()}
        if self.extra_qids():
            doc["extra_questions"] = self.extra_qids()
        doc["submissions"] = rows
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
