"""What a check raises: :class:`CheckFailure` for a wrong value (through :func:`expect`) and
:class:`AnswerError` for the learner's code failing (all re-exported by
:mod:`course_utils.checks`)."""

from __future__ import annotations

from typing import Any


class CheckFailure(AssertionError):
    """A failed case of a check: what was tested, what was expected, what came back, a hint.

    ``hint`` is what every run shows (in the notebook and in the grader's report); a check that
    must not give the answer away at once makes it a nudge and puts the fuller advice in
    ``full_hint``, which only the notebook's :func:`check` shows, after :data:`FULL_HINT_AFTER`
    failed attempts at the same question (see :func:`run_check`).
    """

    def __init__(
        self,
        what: str,
        *,
        expected: Any = None,
        got: Any = None,
        hint: str = "",
        full_hint: str = "",
    ) -> None:
        super().__init__(what)
        self.what = what
        self.expected = expected
        self.got = got
        self.hint = hint
        self.full_hint = full_hint


class AnswerError(Exception):
    """The learner's answer raised, or did not finish, while a check was calling it.

    The one shape in which a check sees a failure *of the learner's code* (as opposed to a wrong
    value), whether the answer ran in this process (the notebook's ``check()``) or in a
    sandboxed kernel that the autograder talks to through a proxy. It is a contract between
    :mod:`course_utils.checks` and :mod:`course_utils.grading`: both raise it, the checks
    framework turns it into a result whose hint fits its ``kind``.

    Parameters
    ----------
    kind : str
        ``"signature"`` - the call itself did not bind (a ``TypeError`` about arguments: wrong
        names, order or count); ``"raised"`` - an exception inside the learner's code;
        ``"timeout"`` - it did not finish within its time limit; ``"bad_return"`` - it returned
        something that cannot be brought back to the checker (grader only: an object that is
        not plain data, a value too large).
    exc_type : str
        Class name of the learner's exception (``"ValueError"``); ``""`` for a timeout.
    message : str
        The exception's message (already shortened by whoever raised this).
    line : str or None
        The learner's own source line where it happened, e.g. ``"line 4: return x / n"``.
    """

    KINDS = ("signature", "raised", "timeout", "bad_return")

    def __init__(self, kind: str, exc_type: str = "", message: str = "", line: str | None = None):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        super().__init__(f"{exc_type}: {message}" if exc_type else message)
        self.kind = kind
        self.exc_type = exc_type
        self.message = message
        self.line = line


# Both are public as course_utils.checks.CheckFailure / .AnswerError: tracebacks and doctests
# name them there, not in this private module.
CheckFailure.__module__ = AnswerError.__module__ = __package__


def is_guarded(answer_obj: Any) -> bool:
    """True for an answer object that enforces its own time limit and raises
    :class:`AnswerError` itself: the autograder's proxy (``course_utils.grading.proxy``), whose
    class sets ``__answer_guarded__ = True``. Code that wraps the learner's answer before a check
    runs should hand such an object to the check unchanged.

    Examples
    --------
    >>> is_guarded(len), is_guarded(type("P", (), {"__answer_guarded__": True})())
    (False, True)
    """
    return getattr(type(answer_obj), "__answer_guarded__", False) is True


def expect(
    condition: Any,
    what: str,
    *,
    expected: Any = None,
    got: Any = None,
    hint: str = "",
    full_hint: str = "",
) -> None:
    """Raise :class:`CheckFailure` unless ``condition`` is true.

    Parameters
    ----------
    condition : bool-like
        The property being tested (numpy booleans are fine).
    what : str
        The case in words, e.g. ``"share is 1 next to a team-0 player"``.
    expected, got : optional
        Shown to the learner; summarise arrays (shape, a few values) rather than dumping them.
    hint : str
        Advice aimed at the mistake that usually causes this failure.
    full_hint : str
        Fuller advice that would give the answer away as a first hint: the notebook's
        :func:`check` shows it instead of ``hint`` once the learner has failed this question
        :data:`FULL_HINT_AFTER` times; the grader always shows ``hint``.

    Examples
    --------
    >>> expect(1 + 1 == 2, "arithmetic works")
    >>> expect(False, "never", hint="it was bound to fail")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: never
    """
    try:
        ok = bool(condition)
    except Exception:  # e.g. an array with several elements
        ok = False
    if not ok:
        raise CheckFailure(what, expected=expected, got=got, hint=hint, full_hint=full_hint)
