"""Running a check: :func:`run_check` turns every outcome of a check into a
:class:`CheckResult` (passed, a failed case, the learner's code failing, a time-out, a gap in the
check itself); :func:`check` is the notebook's front end, which shows the result and counts
failed attempts for the tiered hints (all re-exported by :mod:`course_utils.checks`)."""

from __future__ import annotations

import re
import traceback
from typing import Any

from ._answer import Deadline, TimeLimit, as_answer
from ._expect import AnswerError, CheckFailure
from ._registry import REGISTRY, GradedQuestion, get_question
from ._results import CheckResult, _display, _execution_count, _short
from ._values import type_name

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
