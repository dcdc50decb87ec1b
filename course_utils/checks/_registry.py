"""The registry of graded questions: :class:`GradedQuestion`, the :func:`question` decorator
that fills :data:`REGISTRY`, and the look-ups :func:`get_question`, :func:`questions` and
:func:`exercise_set` (all re-exported by :mod:`course_utils.checks`)."""

from __future__ import annotations

import inspect
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


def _check_answer(answer: Any) -> str:
    if not isinstance(answer, str) or not _IDENTIFIER.match(answer):
        raise ValueError(
            f"answer must be a Python identifier naming the learner's object, got {answer!r}"
        )
    return answer


def _check_task(task: Any) -> str:
    if not isinstance(task, str) or not task.strip() or "\n" in task.strip():
        raise ValueError(f"task must be one non-empty line, got {task!r}")
    return task.strip()


def _first_parameter(qid: str, func: Callable[..., Any]) -> str:
    """The name of ``func``'s first parameter: the learner's object the check receives."""
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        params = []
    if not params:
        raise ValueError(
            f"@question({qid!r}): the check takes the learner's object as its one parameter, "
            f"named like it (or pass answer=); {func!r} has no parameter"
        )
    return params[0]


def task_from_docstring(doc: str | None) -> str:
    """The task line a check's docstring gives: its first paragraph as one line, without a final
    full stop (``""`` for no docstring). ``tools/lab_notes.py`` reads the checks' source with it.

    Examples
    --------
    >>> task_from_docstring("Return twice\\n    the input.\\n\\n    More detail.")
    'Return twice the input'
    """
    first = " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())
    return first.removesuffix(".")


def _docstring_task(qid: str, func: Callable[..., Any]) -> str:
    first = task_from_docstring(func.__doc__)
    if not first:
        raise ValueError(
            f"@question({qid!r}): say what to implement in the check's docstring (or pass task=)"
        )
    return first


def question(
    qid: str,
    *,
    points: int,
    answer: str | None = None,
    task: str | None = None,
    reference: str | tuple[str, ...] | list[str] = (),
) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Decorator registering a check function under ``qid``.

    The check function is written as the learner's object would be used: its one parameter is
    named after the object the exercise notebook defines, and its docstring says what to
    implement. So ``answer`` and ``task`` are usually left out (the course's own checks leave them
    out); given, they win.

    Parameters
    ----------
    qid : str
        ``"N.k"`` with ``N`` the exercise set number and ``k`` the question number.
    points : int
        Positive number of points for a passing answer.
    answer : str, optional
        The name (a Python identifier) the exercise notebook defines, e.g. ``"team0_share"``.
        Default: the name of the check function's first parameter.
    task : str, optional
        One non-empty line saying what to implement. Default: the first paragraph of the check
        function's docstring, as one line, without its final full stop.
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
    >>> @question("99.1", points=1)
    ... def _check_double(double):
    ...     "Return twice the input."
    ...     expect(double(2) == 4, "double(2) == 4", expected=4, got=double(2))
    >>> q = get_question("99.1")
    >>> q.answer, q.task
    ('double', 'Return twice the input')
    >>> run_check("99.1", lambda x: 2 * x).passed
    True
    >>> del REGISTRY["99.1"]
    """
    if not isinstance(qid, str) or not _QID.match(qid):
        raise ValueError(f"qid must look like 'N.k' (e.g. '1.2'), got {qid!r}")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    if answer is not None:
        _check_answer(answer)
    if task is not None:
        _check_task(task)
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
        name = _check_answer(_first_parameter(qid, func) if answer is None else answer)
        what = _check_task(_docstring_task(qid, func) if task is None else task)
        REGISTRY[qid] = GradedQuestion(qid, points, name, what, func, refs)
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
