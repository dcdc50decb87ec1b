"""Self-checks for the exercise sets: one registry, used by the notebooks and by the autograder.

A check is a plain function that receives the learner's answer (usually a function), tries it on
several cases and calls :func:`expect` for every property it wants. It returns ``None`` on pass;
the first failed :func:`expect` raises :class:`CheckFailure`, which the framework turns into a
friendly result. Registering it takes one decorator; the check's parameter is named after the
object the learner defines, and its docstring is the task (``answer=`` and ``task=`` may be given
instead)::

    @question("3.2", points=2)
    def _check_laplace(laplace_mechanism):
        "Add Laplace noise of scale sensitivity / epsilon to value."
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
phrase its feedback must contain, and two unusual-but-correct ones (a test fails otherwise). A
module that fails to import is reported in :data:`LOAD_ERRORS` and as a warning; the other sets
keep working.

The framework lives in private modules whose public names are re-exported here: ``_registry``
(the :func:`question` decorator, :data:`REGISTRY`, :class:`GradedQuestion`,
:func:`task_from_docstring`), ``_expect``
(:func:`expect`, :class:`CheckFailure`, :class:`AnswerError`), ``_values`` (the ``expect_*``
readers; also ``call_unchanged``, ``as_floats`` and ``expect_reproducible``, which only the check
modules use), ``_answer`` (:func:`as_answer`, :class:`TimeLimit`), ``_run`` (:func:`run_check`,
:func:`check`) and ``_results`` (:class:`CheckResult`). Modules named ``_exNN_*`` hold one
set's cases and support code.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import warnings

from ._answer import TimeLimit, as_answer, describe_call
from ._expect import AnswerError, CheckFailure, expect, is_guarded
from ._registry import (
    REGISTRY,
    GradedQuestion,
    exercise_set,
    get_question,
    question,
    questions,
    task_from_docstring,
)
from ._results import CheckResult
from ._run import CHECK_TIMEOUT, FAILED_ATTEMPTS, FULL_HINT_AFTER, check, run_check
from ._values import (
    expect_array,
    expect_integer,
    expect_number,
    expect_raises,
    expect_tensor,
    expect_unchanged,
    snapshot,
    type_name,
)

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
    "task_from_docstring",
    "type_name",
]

#: ``{module name: error text}`` for check modules that failed to import.
LOAD_ERRORS: dict[str, str] = {}


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
