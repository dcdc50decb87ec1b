"""The check registry: registration, expectations, results, display, auto-discovery."""

from __future__ import annotations

import importlib
import inspect
import sys
import types

import numpy as np
import pytest

import course_utils.checks as checks
from course_utils.checks import (
    REGISTRY,
    CheckFailure,
    CheckResult,
    check,
    expect,
    expect_number,
    get_question,
    question,
    questions,
    run_check,
    task_from_docstring,
)


@pytest.fixture
def scratch_registry():
    """The questions a test registers (throw-away sets 9x) are removed afterwards, with their
    failure counts."""
    before = set(REGISTRY)
    yield REGISTRY
    for qid in set(REGISTRY) - before:
        del REGISTRY[qid]
        checks.FAILED_ATTEMPTS.pop(qid, None)


@pytest.fixture
def toy_question(scratch_registry):
    """Register a throw-away question 98.1 (answer: ``double``); it is removed afterwards."""

    @question("98.1", points=3, answer="double", task="return twice the input")
    def _check_double(double):
        got = double(2)
        expect(
            got == 4, "double(2) is 4", expected=4, got=got, hint="multiply by two, do not add two"
        )
        expect(double(-1) == -2, "double(-1) is -2", hint="negative numbers too")

    return REGISTRY["98.1"]


def test_pass_and_points(toy_question) -> None:
    r = run_check("98.1", lambda x: x * 2)
    assert r.passed and r.status == "passed"
    assert (r.points, r.max_points) == (3, 3)
    assert r.hint == ""


def test_typical_mistake_gets_its_hint(toy_question) -> None:
    r = run_check("98.1", lambda x: x + 2)  # right at 2, wrong at -1
    assert not r.passed and r.status == "failed" and r.points == 0
    assert r.message == "double(-1) is -2" and "negative" in r.hint
    r = run_check("98.1", lambda x: x + 3)
    assert r.expected == "4" and r.got == "5" and "multiply" in r.hint


def test_not_implemented_missing_and_student_exception(toy_question) -> None:
    def unfinished(x):
        raise NotImplementedError("Exercise 98.1: return twice the input")

    r = run_check("98.1", unfinished)
    assert r.status == "not implemented" and "not implemented yet" in r.message
    assert run_check("98.1", None).status == "missing"
    r = run_check("98.1", lambda x: 1 / 0)
    assert r.status == "failed" and "ZeroDivisionError" in r.message


def test_unknown_question_never_raises() -> None:
    r = check("0.9", print)
    assert r.status == "error" and "unknown question" in r.message and r.max_points == 0


def test_check_prints_outside_jupyter(toy_question, capsys) -> None:
    r = check("98.1", lambda x: x * 2)
    out = capsys.readouterr().out
    assert "Exercise 98.1: passed (3/3 points)" in out
    assert isinstance(r, CheckResult) and r.passed


def test_html_is_escaped_and_labelled(toy_question) -> None:
    r = run_check("98.1", lambda x: "<b>" * x)
    html = r._repr_html_()
    assert "<b>" in r.got and "&lt;b&gt;" in html  # the raw value is escaped in the box
    assert 'role="status"' in html and "not yet" in html
    assert "\u2718" in str(r)  # a mark, not only colour


def test_check_inside_ipython_displays_once(toy_question) -> None:
    shown = []

    class FakeShell:
        execution_count = 5

    import IPython
    import IPython.display

    shell = FakeShell()
    orig_get, orig_display = IPython.get_ipython, IPython.display.display
    IPython.get_ipython = lambda: shell
    IPython.display.display = lambda obj, raw=False: shown.append(obj)
    try:
        r = check("98.1", lambda x: x * 2)
        assert len(shown) == 1 and "text/html" in shown[0] and "text/plain" in shown[0]
        r._ipython_display_()  # the same cell's value right after check(): suppressed
        assert len(shown) == 1
        r2 = check("98.1", lambda x: x * 2)  # `r2 = check(...)` then `r2` in a later cell
        shell.execution_count += 1
        r2._ipython_display_()
        assert len(shown) == 3
    finally:
        IPython.get_ipython, IPython.display.display = orig_get, orig_display


def test_expect_handles_arrays_and_messages() -> None:
    import numpy as np

    expect(np.bool_(True), "numpy bools work")
    with pytest.raises(CheckFailure) as info:
        expect(np.array([True, False]), "ambiguous arrays count as failure", hint="h")
    assert info.value.what.startswith("ambiguous") and info.value.hint == "h"


def test_expect_number_reads_one_number_or_fails_with_what_came_back() -> None:
    import numpy as np
    import torch

    assert expect_number(np.float32(0.25), "x") == 0.25
    assert expect_number(torch.tensor([3.0]), "x") == 3.0
    assert expect_number(np.array([[7]]), "x") == 7.0
    for bad in ([1.0, 2.0], "abc", {"a": 1}, np.zeros(3)):
        with pytest.raises(CheckFailure) as info:
            expect_number(bad, "returns one number", "Return a float.")
        assert info.value.what == "returns one number" and info.value.hint == "Return a float."
        assert info.value.expected == "one number" and info.value.got is bad


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(qid="1", points=1, answer="f", task="t"), "qid"),
        (dict(qid="1.1.1", points=1, answer="f", task="t"), "qid"),
        (dict(qid="97.1", points=0, answer="f", task="t"), "points"),
        (dict(qid="97.1", points=True, answer="f", task="t"), "points"),
        (dict(qid="97.1", points=1, answer="not a name", task="t"), "answer"),
        (dict(qid="97.1", points=1, answer="f", task=""), "task"),
        (dict(qid="97.1", points=1, answer="f", task="two\nlines"), "task"),
        (dict(qid="97.1", points=1, answer="f", task="t", reference="nodots"), "reference"),
    ],
)
def test_question_rejects_bad_arguments(kwargs, needle) -> None:
    with pytest.raises(ValueError, match=needle):
        question(**kwargs)


def test_answer_and_task_default_to_the_parameter_and_the_docstring(scratch_registry) -> None:
    @question("97.2", points=1)
    def _check_halve(halve):
        """Return half
        the input.

        The first paragraph is the task; this one is not.
        """

    @question("97.3", points=1, answer="third", task="return a third")
    def _check_other(x):
        """Not the task: task= wins."""

    assert (get_question("97.2").answer, get_question("97.2").task) == (
        "halve",
        "Return half the input",
    )
    assert (get_question("97.3").answer, get_question("97.3").task) == ("third", "return a third")


def test_a_check_without_parameter_or_docstring_says_what_to_add(scratch_registry) -> None:
    with pytest.raises(ValueError, match="one parameter, named like it"):

        @question("97.4", points=1, task="t")
        def _no_parameter():
            pass

    with pytest.raises(ValueError, match="in the check's docstring"):

        @question("97.4", points=1)
        def _no_docstring(f):
            pass

    assert "97.4" not in REGISTRY


def test_every_course_check_is_documented_by_its_task() -> None:
    """The course's checks leave answer= and task= out: the parameter and docstring say them."""
    for q in questions():
        if q.func.__module__.startswith("course_utils.checks."):
            assert list(inspect.signature(q.func).parameters) == [q.answer], q.qid
            assert task_from_docstring(q.func.__doc__) == q.task, q.qid


def test_duplicate_qid_from_another_function_is_an_error(toy_question) -> None:
    with pytest.raises(ValueError, match="registered twice"):

        @question("98.1", points=1, answer="g", task="t")
        def _other(g):
            pass


def test_lookup_helpers(toy_question) -> None:
    assert get_question("98.1").answer == "double"
    assert [q.qid for q in questions(98)] == ["98.1"]
    assert questions("098")[0].set_number == 98
    with pytest.raises(ValueError, match="set_number"):
        questions("one")
    with pytest.raises(ValueError, match="unknown question"):
        get_question("98.7")


def test_autodiscovery_imports_every_module_and_survives_a_broken_one(
    tmp_path, monkeypatch, scratch_registry
) -> None:
    """Every ``exNN_*.py`` of the package registers itself; a broken module is reported, not fatal."""
    assert not checks.LOAD_ERRORS, checks.LOAD_ERRORS
    pkg_dir = tmp_path / "fakechecks"
    pkg_dir.mkdir()
    (pkg_dir / "ex97_good.py").write_text(
        "from course_utils.checks import question\n"
        "@question('97.1', points=1, answer='f', task='t')\n"
        "def _c(f):\n    pass\n"
    )
    (pkg_dir / "ex96_broken.py").write_text("raise RuntimeError('oops')\n")
    fake = types.ModuleType("fakechecks")
    fake.__path__ = [str(pkg_dir)]
    monkeypatch.setitem(sys.modules, "fakechecks", fake)
    errors: dict[str, str] = {}
    monkeypatch.setattr(checks, "LOAD_ERRORS", errors)
    monkeypatch.setattr(checks, "__path__", [str(pkg_dir)])
    monkeypatch.setattr(checks, "__name__", "fakechecks")
    try:
        with pytest.warns(UserWarning, match="ex96_broken"):
            checks._discover()
        assert "97.1" in REGISTRY and "fakechecks.ex96_broken" in errors
    finally:
        sys.modules.pop("fakechecks.ex97_good", None)
        sys.modules.pop("fakechecks.ex96_broken", None)


def test_fresh_import_rebuilds_the_registry() -> None:
    """What the grader relies on: purging and re-importing gives an independent, complete registry."""
    before = sorted(REGISTRY)
    saved = {k: v for k, v in sys.modules.items() if k.startswith("course_utils.checks")}
    try:
        for k in saved:
            del sys.modules[k]
        fresh = importlib.import_module("course_utils.checks")
        assert fresh is not checks and fresh.REGISTRY is not REGISTRY
        # (other sets may land on disk meanwhile: every question known before must be there again)
        assert {q for q in before if not q.startswith("98.")} <= set(fresh.REGISTRY)
    finally:
        for k in list(sys.modules):
            if k.startswith("course_utils.checks"):
                del sys.modules[k]
        sys.modules.update(saved)


def test_course_checks_set_limits_discovery_to_one_set() -> None:
    """The grader's kernels import only the graded set's module (COURSE_CHECKS_SET=N)."""
    import os
    import subprocess

    code = "import course_utils.checks as c; print(sorted({q.split('.')[0] for q in c.REGISTRY}))"
    env = dict(os.environ, COURSE_CHECKS_SET="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['1']"


# ---------------------------------------------------------------------------------------------
# how the learner's failures are told apart (issue #28)
# ---------------------------------------------------------------------------------------------
def test_a_call_that_does_not_bind_gets_the_signature_hint(toy_question) -> None:
    r = run_check("98.1", lambda x, y: x * 2)  # one argument too many in the definition
    assert r.status == "failed" and "failed before it ran" in r.message
    assert "missing a required argument: 'y'" in r.message and "double(2)" in r.message
    assert "argument names" in r.hint


def test_an_error_inside_the_answer_shows_type_message_and_the_learners_line(toy_question) -> None:
    """Issue #28: a TypeError raised *inside* the learner's code is not a signature problem."""

    def double(x):
        total = len(x)  # TypeError inside the learner's code
        return 2 * total

    r = run_check("98.1", double)
    assert r.status == "failed"
    assert "raised TypeError: object of type 'int' has no len()" in r.message
    assert "total = len(x)  # TypeError inside the learner's code" in r.message
    assert "double(2)" in r.message  # how the check called it
    assert "signature" not in r.hint.lower() and "argument names" not in r.hint
    assert "at the line shown" in r.hint


def test_sys_exit_inside_the_answer_is_the_answers_error(toy_question) -> None:
    import sys

    r = run_check("98.1", lambda x: sys.exit(3))
    assert r.status == "failed" and "raised SystemExit" in r.message


def test_a_check_that_crashes_is_an_error_not_the_learners_fault(toy_question) -> None:
    """A bug in the check's own code (here: calling .detach() on what came back) says so."""

    @question("98.2", points=1, answer="f", task="t")
    def _buggy(f):
        f(1).detach()

    r = run_check("98.2", lambda x: np.zeros(2))
    assert r.status == "error" and "the check itself failed" in r.message
    assert "AttributeError" in r.message and "your" not in r.message.split("(")[0]
    assert "signature" not in r.hint.lower()


def test_an_answer_that_is_not_a_function(toy_question) -> None:
    r = run_check("98.1", 42)
    assert r.status == "failed" and "should be a function" in r.message and "int" in r.message


@pytest.mark.parametrize(
    "kind, status, needle, hint_needle",
    [
        ("signature", "failed", "failed before it ran", "argument names"),
        ("raised", "failed", "raised KeyError: 'a'", "at the line shown"),
        ("timeout", "timeout", "ran out of time", "stopping test"),
        ("bad_return", "failed", "could not be checked", "plain data"),
    ],
)
def test_a_proxy_raising_answer_error_gets_the_result_of_its_kind(
    toy_question, kind, status, needle, hint_needle
) -> None:
    """The autograder's proxy raises AnswerError itself: it is reported, not wrapped again."""
    from course_utils.checks import AnswerError

    class Proxy:
        def __call__(self, *args, **kwargs):
            exc_type = {"signature": "TypeError", "raised": "KeyError"}.get(kind, "")
            raise AnswerError(kind, exc_type, "'a'" if kind == "raised" else "", "line 3: d['a']")

    r = run_check("98.1", Proxy())
    assert r.status == status and needle in r.message and hint_needle in r.hint, str(r)


def test_numpy_integers_are_shown_as_plain_integers(toy_question) -> None:
    r = run_check("98.1", lambda x: np.int64(x * 2 + 1))
    assert r.got == "5" and "np.int64" not in str(r)


def test_expect_number_refuses_strings_and_bools() -> None:
    for bad in ("0.5", True, None, np.bool_(False)):
        with pytest.raises(CheckFailure):
            expect_number(bad, "one number")


def test_expect_raises_reads_the_answer_error() -> None:
    from course_utils.checks import as_answer, expect_raises

    def f(x):
        if x < 0:
            raise ValueError("negative")
        assert x != 0
        return x

    ans = as_answer(f, "f")
    expect_raises("ValueError", ans, -1, what="x < 0 raises ValueError")
    with pytest.raises(CheckFailure, match="got AssertionError"):
        expect_raises("ValueError", ans, 0, what="x = 0 raises ValueError")
    with pytest.raises(CheckFailure, match="got no error"):
        expect_raises("ValueError", ans, 1, what="x = 1 raises ValueError")


def test_expect_reproducible_tells_rng_driven_answers_from_the_rest() -> None:
    from course_utils.checks._values import expect_reproducible

    global_state = np.random.default_rng(99)  # stands for np.random's global generator

    def answers(kind):
        def draw(seed):
            rng = np.random.default_rng(seed)
            if kind == "own seed":
                rng = np.random.default_rng(0)
            elif kind == "global" or (kind == "global above 5" and seed > 5):
                rng = global_state
            return rng.laplace(size=3) if kind != "list" else rng.integers(0, 9, 4).tolist()

        return draw

    what, hint = "same seed, same output", "Use the rng you are given."
    for kind in ("rng", "list"):
        expect_reproducible(answers(kind), what, seeds=range(3), other_seed=7, hint=hint)
    expect_reproducible(answers("own seed"), what, seeds=[5], hint=hint)  # no other_seed
    expect_reproducible(lambda seed: np.full(2, np.nan), what, seeds=[1])  # NaN is NaN again
    for kind, seeds, other in [
        ("global", [5], None),
        ("global above 5", range(4, 8), None),
        ("own seed", [5], 6),
    ]:
        with pytest.raises(CheckFailure) as info:
            expect_reproducible(answers(kind), what, seeds=seeds, other_seed=other, hint=hint)
        assert (info.value.what, info.value.hint, info.value.got) == (what, hint, None), kind
    with pytest.raises(CheckFailure) as info:
        expect_reproducible(answers("global"), what, seeds=[5], describe=lambda v: "x")
    assert info.value.got == "seed 5: x, again: x"
    with pytest.raises(CheckFailure) as info:
        expect_reproducible(answers("own seed"), what, seeds=[5], other_seed=6, describe=len)
    assert info.value.got == "seed 5: 3, seed 6: 3"


# ---------------------------------------------------------------------------------------------
# the time limit (issue #28: check() must not hang on an endless answer)
# ---------------------------------------------------------------------------------------------
def _endless(x):
    while True:
        pass


def _endless_swallowing(x):
    import time as _time

    while True:
        try:
            _time.sleep(0.05)
            sum(range(1000))
        except:  # noqa: E722 - the learner's bare except must not eat the time limit
            pass


def _nothing_left_behind(threads_before: int, trace_before) -> None:
    import signal
    import sys
    import threading

    assert threading.active_count() == threads_before
    assert sys.gettrace() is trace_before
    if hasattr(signal, "setitimer"):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler)


@pytest.mark.parametrize("answer", [_endless, _endless_swallowing], ids=["loop", "bare-except"])
def test_check_stops_an_endless_answer_within_its_limit(toy_question, answer, capsys) -> None:
    import sys
    import threading
    import time

    before, trace = threading.active_count(), sys.gettrace()
    start = time.perf_counter()
    r = check("98.1", answer, timeout=1.0)
    took = time.perf_counter() - start
    assert r.status == "timeout" and "ran out of time" in r.message, str(r)
    assert "timed out" in capsys.readouterr().out
    assert took < 1.0 + 2.0, took  # the limit plus slack for a busy machine
    _nothing_left_behind(before, trace)
    assert check("98.1", lambda x: 2 * x).passed  # and the next check runs normally


def test_the_time_limit_restores_a_trace_function_already_set(toy_question) -> None:
    """A debugger's or coverage's trace function is put back after the limit fired."""
    import sys
    import threading

    calls = []

    def tracer(frame, event, arg):
        calls.append(event)
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        r = run_check("98.1", _endless_swallowing, timeout=0.5)
        assert r.status == "timeout"
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(old)
    _nothing_left_behind(threading.active_count(), old)


def test_check_stops_an_endless_answer_outside_the_main_thread(toy_question) -> None:
    import threading

    results = []
    worker = threading.Thread(
        target=lambda: results.append(run_check("98.1", _endless, timeout=0.5))
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and results[0].status == "timeout"
    assert threading.active_count() == 1 or all(
        not t.name.startswith("course_utils.checks") for t in threading.enumerate()
    )


def test_a_slow_check_says_where_the_time_went(toy_question) -> None:
    import time

    def slow(x):
        time.sleep(0.3)
        return 2 * x

    @question("98.3", points=1, answer="f", task="t")
    def _many_calls(f):
        for _ in range(3):
            f(1)  # 0.9 s inside the answer...
        time.sleep(2)  # ...and the limit runs out in the check's own code

    r = run_check("98.3", slow, timeout=1.0)
    assert r.status == "timeout" and "inside your `f`" in r.message, str(r)


def test_nested_time_limits_keep_the_outer_one() -> None:
    import time

    from course_utils.checks import TimeLimit
    from course_utils.checks._answer import Deadline

    with pytest.raises(Deadline):
        with TimeLimit(0.3):
            with TimeLimit(10.0):
                time.sleep(2)
    with pytest.raises(ValueError, match="seconds"):
        TimeLimit(0)


@pytest.mark.slow
def test_check_in_a_jupyter_kernel_returns_on_an_endless_answer(tmp_path) -> None:
    """The notebook's check() in a real kernel's main thread: it reports the time-out, the kernel
    stays usable, and no alarm is left armed."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import time\n"
            "from course_utils.checks import check\n"
            "def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):\n"
            "    while True:\n"
            "        try:\n"
            "            time.sleep(0.1)\n"
            "        except:\n"
            "            pass\n"
            "start = time.time()\n"
            "r = check('4.3', find_noise_multiplier, timeout=2)\n"
            "print(r.status, round(time.time() - start))"
        ),
        nbformat.v4.new_code_cell(
            "import signal\nprint('alarm', signal.getitimer(signal.ITIMER_REAL))"
        ),
    ]
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    out = "".join(
        o.get("text", "") for o in nb.cells[0].outputs if o.get("output_type") == "stream"
    )
    assert out.split()[-2] == "timeout" and int(out.split()[-1]) <= 4, out
    html = [o for o in nb.cells[0].outputs if o.get("output_type") == "display_data"]
    assert html and "timed out" in html[0]["data"]["text/plain"]
    assert "alarm (0.0, 0.0)" in nb.cells[1].outputs[0]["text"]


def test_checks_modules_hold_no_state_the_grader_would_call_patched(toy_question) -> None:
    """The grader compares every course_utils.checks* module's attributes after a submission ran
    with a fresh import and flags differences. Module-level values are therefore plain (functions,
    classes, constants; dicts and lists may change), and running checks rebinds none of them."""
    import __future__

    import re
    import types

    plain = (types.FunctionType, type, types.ModuleType, str, int, float, tuple, dict, list)
    plain += (frozenset, bool, type(None), re.Pattern, __future__._Feature)
    mods = {k: v for k, v in sys.modules.items() if k.startswith("course_utils.checks")}
    odd = [
        f"{name}.{k}: {type(v).__name__}"
        for name, mod in mods.items()
        for k, v in vars(mod).items()
        if not k.startswith("__") and not isinstance(v, plain)
    ]
    assert not odd, odd
    before = {(n, k): id(v) for n, m in mods.items() for k, v in vars(m).items()}
    run_check("98.1", lambda x: 2 * x, timeout=5)
    run_check("98.1", _endless_swallowing, timeout=0.3)
    after = {(n, k): id(v) for n, m in mods.items() for k, v in vars(m).items()}
    assert before == after


def test_a_timed_out_answer_still_leaves_its_with_blocks(toy_question) -> None:
    """The time limit stops the learner's loop but lets `with` blocks clean up: torch.no_grad()
    is switched off again, and a TimeLimit used in user code is disarmed by its own `with`."""
    import signal
    import time

    import torch

    from course_utils.checks import TimeLimit
    from course_utils.checks._answer import Deadline

    def endless_without_grad(x):
        with torch.no_grad():
            while True:
                try:
                    sum(range(100))
                except:  # noqa: E722
                    pass

    assert torch.is_grad_enabled()
    r = run_check("98.1", endless_without_grad, timeout=0.5)
    assert r.status == "timeout" and torch.is_grad_enabled()
    with pytest.raises(Deadline):
        with TimeLimit(0.2):
            while True:
                time.sleep(0.01)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert TimeLimit._local.active is None


# --- tiered hints (#23): a nudge first, the full hint after repeated failures in the notebook ---
@pytest.fixture
def tiered_question(scratch_registry):
    """Question 98.2 (answer: ``halve``) whose failure has a nudge and a full hint."""

    @question("98.2", points=1, answer="halve", task="return half the input")
    def _check_halve(halve):
        got = halve(4)
        expect(
            got == 2,
            "halve(4) is 2",
            expected=2,
            got=got,
            hint="think about what undoes doubling",
            full_hint="think about what undoes doubling: divide by 2",
        )

    checks.FAILED_ATTEMPTS.pop("98.2", None)
    return REGISTRY["98.2"]


def test_the_grader_shows_the_nudge_only(tiered_question) -> None:
    """run_check without a count (the grader's call) never shows the full hint."""
    for _ in range(checks.FULL_HINT_AFTER + 2):
        r = run_check("98.2", lambda x: x * 2)
        assert r.hint == "think about what undoes doubling"
    assert "98.2" not in checks.FAILED_ATTEMPTS


def test_the_notebook_shows_the_full_hint_after_repeated_failures(tiered_question, capsys) -> None:
    wrong = lambda x: x * 2  # noqa: E731
    hints = [check("98.2", wrong).hint for _ in range(checks.FULL_HINT_AFTER + 1)]
    capsys.readouterr()
    assert all("divide by 2" not in h for h in hints[:-1])
    assert "fuller hint" in hints[0] and "once more" in hints[-2]
    assert hints[-1] == "think about what undoes doubling: divide by 2"
    assert checks.FAILED_ATTEMPTS["98.2"] == checks.FULL_HINT_AFTER + 1
    assert check("98.2", lambda x: x / 2).passed  # a pass adds no failure
    assert checks.FAILED_ATTEMPTS["98.2"] == checks.FULL_HINT_AFTER + 1
    for k in (0, 1, checks.FULL_HINT_AFTER):
        r = run_check("98.2", wrong, failures_before=k)
        assert ("divide by 2" in r.hint) == (k >= checks.FULL_HINT_AFTER)


def test_a_hint_without_a_full_hint_is_the_same_at_every_attempt(toy_question) -> None:
    hints = {run_check("98.1", lambda x: x + 3, failures_before=k).hint for k in range(4)}
    assert hints == {"multiply by two, do not add two"}


def test_an_unfinished_earlier_exercise_is_named_not_blamed_on_this_one(toy_question) -> None:
    """An answer that calls another exercise's unfinished answer (e.g. 7.4 calling 7.3) fails
    with "do 7.3 first" instead of being reported as not implemented itself."""

    def calls_7_3(x):
        raise NotImplementedError("Exercise 7.3: return (x_hat, y_hat)")

    r = run_check("98.1", calls_7_3)
    assert r.status == "failed" and "exercise 7.3" in r.message and "do 7.3 first" in r.hint
    own = run_check("98.1", lambda x: (_ for _ in ()).throw(NotImplementedError("Exercise 98.1")))
    assert own.status == "not implemented"
