"""The registry of graded questions: :class:`GradedQuestion`, the :func:`question` decorator
that fills :data:`REGISTRY`, and the look-ups :func:`get_question`, :func:`questions` and
:func:`exercise_set` (all re-exported by :mod:`course_utils.checks`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_QID = re.compile(r"^(\d+)\.(\d+)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class GradedQuestion:
    """One registered, graded exercise question (a multiple-choice item of a notebook's quiz is
    :class:`course_utils.quiz.Question`, a different thing).

    Attributes
    ----------
    qid : str
        ``"N.k"``: exercise set ``N``, question ``k``.
    points : int
        Points awarded when the check passes (all or nothing).
    answer : str
        Name the learner's notebook defines (the grader looks it up in the executed namespace).
    task : str
        One line "what to implement", used in the generated ``NotImplementedError``.
    func : callable
        The check: ``func(answer_obj) -> None``, raising :class:`CheckFailure` on a failed case.
    reference : tuple of str
        Dotted names of the course's own implementation(s) of the asked function
        (``"course_utils.toys.soccer.team_share"``); a submission importing one is flagged.
    """

    qid: str
    points: int
    answer: str
    task: str
    func: Callable[[Any], None] = field(repr=False)
    reference: tuple[str, ...] = ()

    @property
    def set_number(self) -> int:
        """Exercise set number ``N`` of ``"N.k"``."""
        return int(self.qid.split(".")[0])


#: All registered questions, keyed by qid (``"1.2"``).
REGISTRY: dict[str, GradedQuestion] = {}


def _qid_key(qid: str) -> tuple[int, int]:
    a, b = qid.split(".")
    return int(a), int(b)


def question(
    qid: str,
    *,
    points: int,
    answer: str,
    task: str,
    reference: str | tuple[str, ...] | list[str] = (),
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Decorator registering a check function under ``qid``.

    Parameters
    ----------
    qid : str
        ``"N.k"`` with ``N`` the exercise set number and ``k`` the question number.
    points : int
        Positive number of points for a passing answer.
    answer : str
        The name (a Python identifier) the exercise notebook defines, e.g. ``"team0_share"``.
    task : str
        One non-empty line saying what to implement.
    reference : str or tuple of str, optional
        Dotted path(s) of the course's implementation of the same thing; importing it in a
        submission is flagged by the autograder.

    Returns
    -------
    callable
        The decorator; it returns the check function unchanged.

    Examples
    --------
    >>> from course_utils.checks import expect, run_check
    >>> @question("99.1", points=1, answer="double", task="return twice the input")
    ... def _check_double(double):
    ...     expect(double(2) == 4, "double(2) == 4", expected=4, got=double(2))
    >>> run_check("99.1", lambda x: 2 * x).passed
    True
    >>> del REGISTRY["99.1"]
    """
    if not isinstance(qid, str) or not _QID.match(qid):
        raise ValueError(f"qid must look like 'N.k' (e.g. '1.2'), got {qid!r}")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    if not isinstance(answer, str) or not _IDENTIFIER.match(answer):
        raise ValueError(
            f"answer must be a Python identifier naming the learner's object, got {answer!r}"
        )
    if not isinstance(task, str) or not task.strip() or "\n" in task.strip():
        raise ValueError(f"task must be one non-empty line, got {task!r}")
    refs = (reference,) if isinstance(reference, str) else tuple(reference)
    for ref in refs:
        if not isinstance(ref, str) or "." not in ref:
            raise ValueError(f"reference must be dotted paths like 'pkg.mod.func', got {ref!r}")

    def register(func: Callable[[Any], None]) -> Callable[[Any], None]:
        if not callable(func):
            raise ValueError(f"@question({qid!r}) must decorate a function, got {func!r}")
        old = REGISTRY.get(qid)
        if old is not None and (old.func.__module__, old.func.__qualname__) != (
            func.__module__,
            func.__qualname__,
        ):
            raise ValueError(
                f"question {qid!r} is registered twice: by {old.func.__module__}.{old.func.__qualname__} "
                f"and {func.__module__}.{func.__qualname__}"
            )
        REGISTRY[qid] = GradedQuestion(qid, points, answer, task.strip(), func, refs)
        return func

    return register


def get_question(qid: str) -> GradedQuestion:
    """The registered :class:`GradedQuestion` ``qid``; ``ValueError`` naming the known ids
    otherwise.

    Examples
    --------
    >>> get_question("0.0")
    Traceback (most recent call last):
    ...
    ValueError: unknown question '0.0'; ...
    """
    if qid not in REGISTRY:
        known = ", ".join(sorted(REGISTRY, key=_qid_key)) or "none"
        raise ValueError(f"unknown question {qid!r}; registered questions: {known}")
    return REGISTRY[qid]


def questions(set_number: int | str | None = None) -> list[GradedQuestion]:
    """Registered questions in order, optionally only those of one exercise set.

    Parameters
    ----------
    set_number : int or str, optional
        ``1``, ``"1"`` or ``"01"``; ``None`` returns every question.

    Examples
    --------
    >>> all(q.set_number == 1 for q in questions("01"))
    True
    """
    qs = sorted(REGISTRY.values(), key=lambda q: _qid_key(q.qid))
    if set_number is None:
        return qs
    try:
        n = int(set_number)
    except (TypeError, ValueError):
        raise ValueError(
            f"set_number must be an integer like 1 or '01', got {set_number!r}"
        ) from None
    return [q for q in qs if q.set_number == n]


def exercise_set(set_number: int | str) -> dict[str, GradedQuestion]:
    """``{qid: GradedQuestion}`` of one exercise set (empty if none is registered)."""
    return {q.qid: q for q in questions(set_number)}
