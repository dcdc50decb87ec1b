"""The check registry: registration, expectations, results, display, auto-discovery."""

from __future__ import annotations

import importlib
import sys
import types

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
)


@pytest.fixture
def toy_question():
    """Register a throw-away question 98.1 (answer: ``double``) and remove it afterwards."""

    @question("98.1", points=3, answer="double", task="return twice the input")
    def _check_double(double):
        got = double(2)
        expect(
            got == 4, "double(2) is 4", expected=4, got=got, hint="multiply by two, do not add two"
        )
        expect(double(-1) == -2, "double(-1) is -2", hint="negative numbers too")

    yield REGISTRY["98.1"]
    REGISTRY.pop("98.1", None)


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
    tmp_path, monkeypatch
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
        REGISTRY.pop("97.1", None)
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
