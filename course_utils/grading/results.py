"""What grading one submission produces: a :class:`QuestionGrade` per question and a
:class:`SubmissionGrade` per notebook, with the per-question table ``course-grade`` prints and the
feedback text written for the learner.

Every stored message is capped (:func:`.files.cap`), so a 20 MB exception message costs 2,000
characters in the gradebook, not 20 MB.

Examples
--------
>>> g = SubmissionGrade("alice.ipynb", "alice", 1)
>>> g.add_question(QuestionGrade("1.1", "f", 0, 2, "failed", "a case", expected="1", got="2"))
>>> print(g.feedback())  # doctest: +NORMALIZE_WHITESPACE
Exercise set 01: 0/2 points
<BLANKLINE>
✘ Exercise 1.1: not yet (0/2 points)
  a case
  expected: 1
  got:      2
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .files import cap

__all__ = ["QuestionGrade", "SubmissionGrade"]


@dataclass
class QuestionGrade:
    """Grade of one question of one submission (the fields of the notebook's ``CheckResult``)."""

    qid: str
    answer: str
    points: int
    max_points: int
    status: str
    message: str = ""
    hint: str = ""
    expected: str = ""
    got: str = ""
    task: str = ""

    def __post_init__(self) -> None:
        for name in ("message", "hint", "expected", "got", "task"):
            setattr(self, name, cap(getattr(self, name)))

    def check_text(self) -> str:
        """The plain text the notebook's ``check()`` shows for this result."""
        from ..checks import CheckResult

        return str(
            CheckResult(
                self.qid,
                self.status,
                self.points,
                self.max_points,
                self.message,
                self.hint,
                self.expected,
                self.got,
                self.task,
            )
        )


@dataclass
class SubmissionGrade:
    """Grade of one submission: per-question results, flags (integrity) and errors.

    ``path`` is the notebook's path relative to the folder being graded (escaped when the name is
    not UTF-8): the gradebook's row key. ``sha256`` is the hash of the file as it was graded,
    ``sandbox`` the isolation used (``"bwrap"`` or ``"none"``), ``checks_version`` a hash of the
    checks' source code.
    """

    path: str
    student: str
    set_number: int | None
    questions: list[QuestionGrade] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sha256: str = ""
    sandbox: str = ""
    checks_version: str = ""
    #: Instructor-only questions (``--extra-checks``): outside ``total``, and only in the
    #: feedback with ``--feedback-extra``; ``extra_errors`` are the problems they met.
    extra: list[QuestionGrade] = field(default_factory=list)
    extra_errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(q.points for q in self.questions)

    @property
    def max_total(self) -> int:
        return sum(q.max_points for q in self.questions)

    @property
    def extra_total(self) -> int:
        return sum(q.points for q in self.extra)

    @property
    def extra_max(self) -> int:
        return sum(q.max_points for q in self.extra)

    def add_question(self, grade: QuestionGrade) -> None:
        self.questions.append(grade)

    def add_extra(self, grade: QuestionGrade) -> None:
        """Record the grade of an instructor-only question."""
        self.extra.append(grade)

    def add_extra_error(self, text: str) -> None:
        """Record a problem met while grading an instructor-only question."""
        text = cap(text)
        if text not in self.extra_errors:
            self.extra_errors.append(text)

    def add_error(self, text: str) -> None:
        """Record a problem (capped; a repeated text is kept once)."""
        text = cap(text)
        if text not in self.errors:
            self.errors.append(text)

    def add_flag(self, text: str) -> None:
        text = cap(text)
        if text not in self.flags:
            self.flags.append(text)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(total=self.total, max_total=self.max_total)
        if self.extra or self.extra_errors:
            d.update(extra_total=self.extra_total, extra_max=self.extra_max)
        else:  # a row without extra checks looks as it always did
            del d["extra"], d["extra_errors"]
        return d

    def feedback(self, *, extra: bool = False) -> str:
        """The learner's report: score, then each question exactly as the notebook's ``check()``
        shows it (case, expected, got, hint), then the problems met while running it.
        Instructor-only questions appear only with ``extra=True`` (``--feedback-extra``), in their
        own section.

        Integrity flags are **not** in it: they are for the instructor to review first (the
        gradebook's ``flags`` column, ``course-grade similar``), never sent to a learner."""
        set_txt = f"{self.set_number:02d}" if self.set_number is not None else "?"
        lines = [f"Exercise set {set_txt}: {self.total}/{self.max_total} points", ""]
        for q in self.questions:
            lines.append(q.check_text())
        if extra and self.extra:
            lines += ["", f"Additional checks: {self.extra_total}/{self.extra_max} points", ""]
            lines += [q.check_text() for q in self.extra]
        errors = self.errors + (self.extra_errors if extra else [])
        if errors:
            lines += ["", "Problems while running your notebook:"]
            lines += [f"  - {e}" for e in errors]
        return "\n".join(lines) + "\n"

    def table(self) -> str:
        """The per-question table printed by ``course-grade``."""
        set_txt = f"set {self.set_number:02d}" if self.set_number is not None else "set ?"
        lines = [f"{self.path}  ({set_txt}, {self.seconds:.1f} s, sandbox {self.sandbox or '?'})"]
        width = max([len(q.answer) for q in self.questions] + [6])
        for q in self.questions:
            detail = q.message if q.status != "passed" else ""
            row = f"  {q.qid:<5} {q.answer:<{width}}  {q.points:>2}/{q.max_points:<2}  {q.status:<15} {detail}"
            lines.append(row[:160].rstrip())
        lines.append(f"  total {self.total}/{self.max_total}")
        for q in self.extra:
            detail = q.message if q.status != "passed" else ""
            row = f"  extra:{q.qid:<5} {q.answer:<{width}}  {q.points:>2}/{q.max_points:<2}  {q.status:<15} {detail}"
            lines.append(row[:160].rstrip())
        if self.extra:
            lines.append(f"  extra total {self.extra_total}/{self.extra_max}")
        lines += [f"  ERROR (extra) {e[:300]}" for e in self.extra_errors]
        lines += [f"  FLAG  {f[:300]}" for f in self.flags]
        lines += [f"  ERROR {e[:300]}" for e in self.errors]
        return "\n".join(lines)
