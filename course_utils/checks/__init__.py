"""Self-checks for the exercise sets: one registry, used by the notebooks and by the autograder.

A check is a plain function that receives the learner's answer (usually a function), tries it on
several cases and calls :func:`expect` for every property it wants. It returns ``None`` on pass;
the first failed :func:`expect` raises :class:`CheckFailure`, which the framework turns into a
friendly result. Registering it takes one decorator::

    @question("3.2", points=2, answer="laplace_mechanism", task="add Laplace noise of scale ...")
    def _check_laplace(laplace_mechanism):
        out = laplace_mechanism(0.0, sensitivity=1.0, epsilon=1.0)
        expect(np.isfinite(out), "returns a finite number", got=out)

In a notebook ``check("3.2", laplace_mechanism)`` runs the check, shows a coloured box (plain text
outside Jupyter) and returns a :class:`CheckResult`. It never raises: a student's exception, a
``NotImplementedError`` from an unfinished exercise, an endless loop (the check stops after
:data:`CHECK_TIMEOUT` seconds) or an unknown question id all become results. The autograder
(:mod:`course_utils.grading`) runs the same checks through :func:`run_check`.

A check treats the answer as an opaque callable: it calls it and inspects what comes back and
what happened to the arguments (never its code or globals). The learner's failures reach the check
as :class:`AnswerError` (from :func:`as_answer` in this process, from the grader's proxy in a
sandboxed kernel); return values are read with the ``expect_*`` helpers (``expect_tensor``,
``expect_array``, ``expect_number``, ``expect_integer``), which fail with "expected a torch tensor,
got numpy.ndarray" rather than crash, and ``snapshot``/``expect_unchanged`` test that the
arguments were not modified in place.

Every module of this package (``exNN_<topic>.py``) is imported on import, so each exercise set
registers its own questions. A new set also needs its wrong-answer suite,
``tests/wrong_answers/exNN.py``: at least four plausible wrong answers per question, each with the
phrase its feedback must contain, and two unusual-but-correct ones (a test fails otherwise). A module that fails to import is reported in :data:`LOAD_ERRORS` and
as a warning; the other sets keep working.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AnswerError",
    "CHECK_TIMEOUT",
    "CheckFailure",
    "CheckResult",
    "FAILED_ATTEMPTS",
    "FULL_HINT_AFTER",
    "GradedQuestion",
    "LOAD_ERRORS",
    "REGISTRY",
    "TimeLimit",
    "as_answer",
    "check",
    "describe_call",
    "expect",
    "expect_array",
    "expect_integer",
    "expect_number",
    "expect_raises",
    "expect_tensor",
    "expect_unchanged",
    "exercise_set",
    "is_guarded",
    "get_question",
    "question",
    "questions",
    "run_check",
    "snapshot",
    "type_name",
]

_QID = re.compile(r"^(\d+)\.(\d+)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------
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
#: ``{module name: error text}`` for check modules that failed to import.
LOAD_ERRORS: dict[str, str] = {}


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


# ---------------------------------------------------------------------------------------------
# expectations
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# running a check: the answer wrapper, return-value readers, results
# ---------------------------------------------------------------------------------------------
# (imported here, after AnswerError and expect exist: these modules use them)
from ._answer import Deadline, TimeLimit, as_answer, describe_call  # noqa: E402
from ._results import CheckResult, _display, _execution_count, _short  # noqa: E402
from ._values import (  # noqa: E402
    expect_array,
    expect_integer,
    expect_number,
    expect_raises,
    expect_tensor,
    expect_unchanged,
    snapshot,
    type_name,
)

#: Seconds the notebook's :func:`check` lets a check run (the grader's ``--check-timeout``).
CHECK_TIMEOUT = 30.0
#: Failed attempts at a question after which the notebook's :func:`check` shows a failure's
#: ``full_hint`` (the nudge ``hint`` before that; the grader shows the nudge only).
FULL_HINT_AFTER = 2
#: ``{qid: failed attempts}`` of the notebook's :func:`check` in this kernel (a plain dict: the
#: grader compares this module's attributes by identity, and its contents may change).
FAILED_ATTEMPTS: dict[str, int] = {}


def _tiered_hint(failure: CheckFailure, failures_before: int | None) -> str:
    """The hint a failure shows: its nudge, or its full hint after repeated failures."""
    if not failure.full_hint:
        return failure.hint
    if failures_before is None:  # the grader, or a caller that keeps no count: the nudge only
        return failure.hint
    if failures_before >= FULL_HINT_AFTER:
        return failure.full_hint
    left = FULL_HINT_AFTER - failures_before
    more = "once more" if left == 1 else f"{left} more times"
    return f"{failure.hint} (If the check fails {more}, it shows a fuller hint.)"


_SIGNATURE_HINT = (
    "Keep the function's name, its argument names and their order exactly as the exercise gives "
    "them (arguments after * are keyword-only: the check passes them by name)."
)
_RAISED_HINT = (
    "The error happened inside your function, at the line shown. Call your function yourself on "
    "inputs like the ones above to reproduce it."
)
_BAD_RETURN_HINT = (
    "Return plain data: a number, a string, a numpy array, a torch tensor, or a list, tuple or "
    "dict of those."
)


#: "Exercise 7.3" in the NotImplementedError of an unfinished generated answer.
_QUESTION_IN_MESSAGE = re.compile(r"\bExercise (\d+\.\d+)\b")


def _where(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    return f"line {last[0].lineno} of {last[0].name}" if last else "unknown line"


def _answer_error_result(q: GradedQuestion, exc: AnswerError, base: dict[str, Any]) -> CheckResult:
    name = f"`{q.answer}`"
    call = getattr(exc, "call", "")
    if exc.kind == "signature":
        return CheckResult(
            status="failed",
            points=0,
            message=f"calling your {name} failed before it ran: {exc.message}",
            hint=_SIGNATURE_HINT,
            **base,
        )
    other = _QUESTION_IN_MESSAGE.search(exc.message) if exc.kind == "raised" else None
    earlier = REGISTRY.get(other.group(1)) if other else None
    if (
        exc.exc_type == "NotImplementedError"
        and other
        and other.group(1) != q.qid
        and (earlier is None or earlier.answer != q.answer)  # not the same function checked twice
    ):
        # the answer calls the (unfinished) answer of an earlier exercise, as its task says
        return CheckResult(
            status="failed",
            points=0,
            message=f"your {name} calls your answer to exercise {other.group(1)}, which is not "
            f"implemented yet ({exc.message})",
            hint=f"This question builds on exercise {other.group(1)}: do {other.group(1)} first "
            "(run its check until it passes), then run this check again.",
            **base,
        )
    if exc.kind == "raised" and exc.exc_type == "NotImplementedError":
        return CheckResult(
            status="not implemented",
            points=0,
            message=f"{name} is not implemented yet"
            + (f" ({exc.message})" if exc.message else "")
            + ". Replace the `raise NotImplementedError` line with your code.",
            **base,
        )
    if exc.kind == "raised":
        where = f" at {exc.line}" if exc.line else ""
        how = f" (the check called {call})" if call else ""
        return CheckResult(
            status="failed",
            points=0,
            message=f"your {name} raised {exc.exc_type}: {exc.message}{where}{how}",
            hint=_RAISED_HINT,
            **base,
        )
    if exc.kind == "timeout":
        return CheckResult(
            status="timeout",
            points=0,
            message=f"your {name} ran out of time ({exc.message or 'it did not finish'}).",
            hint="Look for a loop whose stopping test is never met (a while loop whose condition "
            "stays true), or a computation far larger than the task needs.",
            **base,
        )
    return CheckResult(  # bad_return
        status="failed",
        points=0,
        message=f"what your {name} returned could not be checked: {exc.message}",
        hint=_BAD_RETURN_HINT,
        **base,
    )


def run_check(
    qid: str,
    answer_obj: Any,
    *,
    timeout: float | None = None,
    failures_before: int | None = None,
) -> CheckResult:
    """Run question ``qid`` on ``answer_obj`` and return the :class:`CheckResult`; never raises
    (except ``KeyboardInterrupt``, so that a grader or the notebook's stop button still works).

    The answer is wrapped with :func:`as_answer`, so that its failures reach the check as
    :class:`AnswerError` and become results whose hint fits them: a call that does not bind
    (signature), an exception inside the learner's code (type, message, the learner's line), a
    time-out. An exception of the check's *own* code is reported as status ``"error"`` ("the check
    itself failed"), never as the learner's mistake. An answer that raises :class:`AnswerError`
    itself (the autograder's proxy) is used as it is.

    Parameters
    ----------
    qid : str
        Question id such as ``"3.2"``.
    answer_obj : object
        The learner's answer (a function), or ``None`` when it is not defined.
    timeout : float, optional
        Seconds the whole check may take (``None``: no limit); see :class:`TimeLimit`.
    failures_before : int, optional
        How often this question failed before (the notebook's :func:`check` counts). A failure
        with a ``full_hint`` shows it from :data:`FULL_HINT_AFTER` on, and before that its nudge
        with a note that more help follows; ``None`` (the grader) always shows the nudge alone.

    Examples
    --------
    >>> run_check("0.0", None).status
    'error'
    """
    try:
        q = get_question(qid)
    except ValueError as exc:
        return CheckResult(str(qid), "error", 0, 0, str(exc))
    base = dict(qid=q.qid, max_points=q.points, task=q.task)
    if answer_obj is None:
        return CheckResult(
            status="missing",
            points=0,
            message=f"`{q.answer}` is not defined (or is None); run the cell that defines it first.",
            **base,
        )
    if not callable(answer_obj):
        return CheckResult(
            status="failed",
            points=0,
            message=f"`{q.answer}` should be a function; it is of type {type_name(answer_obj)}.",
            hint=f"Define it with `def {q.answer}(...):` as the exercise shows, and do not assign "
            f"another value to the name `{q.answer}` afterwards.",
            **base,
        )
    answer = as_answer(answer_obj, q.answer)
    outcome: BaseException | None = None
    limit = TimeLimit(timeout)
    try:
        with limit:
            q.func(answer)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - every outcome becomes a result
        outcome = exc
    if outcome is None:
        return CheckResult(status="passed", points=q.points, message="All cases passed.", **base)
    if isinstance(outcome, CheckFailure):
        return CheckResult(
            status="failed",
            points=0,
            message=outcome.what,
            hint=_tiered_hint(outcome, failures_before),
            expected="" if outcome.expected is None else _short(outcome.expected),
            got="" if outcome.got is None else _short(outcome.got),
            **base,
        )
    if isinstance(outcome, AnswerError):
        return _answer_error_result(q, outcome, base)
    if isinstance(outcome, Deadline):
        spent = getattr(answer, "seconds", 0.0)
        share = (
            f"; {spent:.0f} s of it inside your `{q.answer}`"
            if timeout and spent >= 0.5 * timeout
            else ""
        )
        return CheckResult(
            status="timeout",
            points=0,
            message=f"the check did not finish within {timeout:g} s{share}.",
            hint="Your function is too slow for the check's cases: look for repeated work inside "
            "loops (refitting, recomputing the same thing) or a loop that stops too late."
            if share
            else "The machine may be busy: run the check again.",
            **base,
        )
    return CheckResult(
        status="error",
        points=0,
        message=f"the check itself failed ({type(outcome).__name__}: {_short(str(outcome), 200)}, "
        f"{_where(outcome)}). This is a gap in the check, not a verdict on your answer.",
        hint="Compare what your function returns with what the task asks (type and shape), and "
        "please tell your instructor about this message.",
        **base,
    )


def check(qid: str, answer_obj: Any, *, timeout: float | None = CHECK_TIMEOUT) -> CheckResult:
    """Run question ``qid`` on the learner's answer and show the result; never raises.

    In Jupyter the result appears as a coloured box; elsewhere it is printed. The
    :class:`CheckResult` is returned too (its ``passed``, ``points``, ``message``, ``hint``).
    A check that runs longer than ``timeout`` seconds (30 by default, like the grader's
    ``--check-timeout``) stops and says so instead of hanging the kernel. Failed attempts are
    counted per question in :data:`FAILED_ATTEMPTS`: a check whose first hint is only a nudge
    shows its fuller hint from the :data:`FULL_HINT_AFTER`-th failure on.

    Examples
    --------
    >>> r = check("0.0", None)  # doctest: +ELLIPSIS
    ! Exercise 0.0: could not check (0/0 points)
      unknown question '0.0'; ...
    >>> r.passed
    False
    """
    key = str(qid)
    try:
        result = run_check(
            qid, answer_obj, timeout=timeout, failures_before=FAILED_ATTEMPTS.get(key, 0)
        )
    except (KeyboardInterrupt, SystemExit):
        result = CheckResult(key, "error", 0, 0, "the check was interrupted")
    if result.status == "failed":
        FAILED_ATTEMPTS[key] = FAILED_ATTEMPTS.get(key, 0) + 1
    try:
        _display(result)
        result._shown = _execution_count()
    except Exception:  # a broken display must never break a notebook
        print(str(result))
    return result


# ---------------------------------------------------------------------------------------------
# auto-discovery of the exercise sets' check modules
# ---------------------------------------------------------------------------------------------
def _discover() -> None:
    # The autograder sets COURSE_CHECKS_SET=N in a submission's kernel so that only that set's
    # module (exNN_*.py) is imported - other sets' imports (scipy, torch...) would cost seconds.
    only = os.environ.get("COURSE_CHECKS_SET", "").strip()
    only_set = int(only) if only.isdigit() else None
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        m = re.match(r"ex(\d+)_", info.name)
        if only_set is not None and m and int(m.group(1)) != only_set:
            continue
        name = f"{__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # one broken set must not take the others down
            LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"could not load check module {name}: {exc}", stacklevel=2)


_discover()
