"""The grader's pure parts, without kernels: the exercise generator, reading notebooks (v3,
garbage), the static integrity flags, row keys and escaped names, the gradebook (atomic, mode
kept, rows merged), feedback text, size caps and the command line's usage errors.

Real grading lives in ``test_grading_batch.py`` (bad submissions), ``test_grading_proxy.py``
(the answer proxy) and ``test_grading_hostile.py`` (attacks).
"""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_utils import grading
from course_utils.grading import (
    Gradebook,
    QuestionGrade,
    SubmissionGrade,
    collect,
    detect_set,
    exercise_notebook,
    main,
    read_notebook,
    static_flags,
    strip_solution,
    write_gradebook,
)
from course_utils.grading import files as grading_files
from course_utils.grading.cli import summary
from course_utils.grading.files import cap, escape_name
from tests.grading_support import submission
from tests.repo_support import ROOT

SOLUTIONS = ROOT / "solutions" / "01_motivation.ipynb"


# --- the generator ---------------------------------------------------------------------------------
def test_strip_solution_keeps_surroundings_and_indentation() -> None:
    src = "def f(x):\n    y = 1\n    # BEGIN SOLUTION\n    return x + y\n    # END SOLUTION\n\nprint(f)"
    assert strip_solution(src, "Exercise 9.9: add") == (
        'def f(x):\n    y = 1\n    raise NotImplementedError("Exercise 9.9: add")\n\nprint(f)'
    )
    with pytest.raises(ValueError, match="without a"):
        strip_solution("# END SOLUTION\n", "m")
    with pytest.raises(ValueError, match="nested"):
        strip_solution("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "m")


def test_generator_needs_a_registered_question() -> None:
    nb = new_notebook(
        cells=[
            new_code_cell("def unknown_fn():\n    # BEGIN SOLUTION\n    pass\n    # END SOLUTION")
        ]
    )
    with pytest.raises(ValueError, match="register the question"):
        exercise_notebook(nb, set_number=1, name="x.ipynb")


def test_generate_check_mode_and_stale_files(tmp_path) -> None:
    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir()
    nbformat.write(nbformat.read(SOLUTIONS, as_version=4), src / "01_motivation.ipynb")
    assert grading.generate(src, dst, check=True) == [dst / "01_motivation.ipynb"]
    assert not dst.exists()
    assert main(["generate", str(src), str(dst)]) == 0
    assert main(["generate", str(src), str(dst), "--check"]) == 0
    (dst / "99_old.ipynb").write_text("{}")
    assert main(["generate", str(src), str(dst), "--check"]) == 1
    assert main(["generate", str(src), str(dst)]) == 0 and not (dst / "99_old.ipynb").exists()
    with pytest.raises(ValueError, match="src_dir"):
        grading.generate(tmp_path / "missing", dst)


# --- reading a submission ------------------------------------------------------------------------
def test_detect_set_order_of_evidence() -> None:
    nb = submission('check("4.2", f)', set_number=None)
    assert detect_set(nb, "09_x.ipynb") == 4
    nb.metadata["course_grade"] = {"set": 5}
    assert detect_set(nb) == 5
    assert detect_set(submission("x = 1", set_number=None), "09_x.ipynb") == 9
    assert detect_set(submission("x = 1", set_number=None), "notes.ipynb") is None


def test_read_notebook_garbage() -> None:
    cases = {
        b"\x89PNG\r\n\x1a\n\x00binary": "not UTF-8",
        b'{"cells": [ {"cell_type": "code", "sour': "invalid JSON",
        b'{"name": "alice"}': "without a list of cells",
        b"[1, 2]": "not an object",
        b"[" * 100_000: "invalid JSON",
    }
    for raw, needle in cases.items():
        nb, err = read_notebook(raw)
        assert nb is None and needle in err, (raw[:20], err)


def test_a_v3_notebook_is_upgraded() -> None:
    v3 = nbformat.v3
    old = v3.new_notebook(
        worksheets=[v3.new_worksheet(cells=[v3.new_code_cell(input='check("1.1", f)')])]
    )
    nb, err = read_notebook(nbformat.v3.writes_json(old).encode())
    assert err is None and nb.nbformat == 4 and nb.cells[0].source == 'check("1.1", f)'
    broken = b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": 5, "metadata": {}}'
    assert read_notebook(broken)[1] == "old notebook format 3: open and save it in Jupyter"


def test_static_flags_catch_patching_without_false_alarms() -> None:
    from course_utils.checks import questions

    qs = questions(1)
    innocent = [
        (
            0,
            "my_checks = {}\nmy_checks.update(a=1)\nexpect = 3\ncheck_count = 2\nself_check = print",
        ),
        (1, "import numpy as np\nnp.random.seed(0)\nprint('the solutions are below')"),
        (2, "from course_utils.checks import check\ncheck('1.1', f)"),
        (3, "from course_utils.toys.soccer import SoccerToy\ntoy = SoccerToy()"),
    ]
    assert static_flags(innocent, qs) == []
    bad = {
        "def check(q, f):\n    pass": "redefines `check`",
        "check = lambda q, f: None": "assigns to `check`",
        "import course_utils.checks as cc\ncc.run_check = print": "patches `cc.run_check`",
        "from course_utils.checks import REGISTRY\nREGISTRY.pop('1.1')": "modifies the check registry",
        "from course_utils import checks\nsetattr(checks, 'check', print)": "setattr()",
        "from course_utils.checks import ex01_motivation as m\nm._share = max": "patches `m._share`",
        "import course_utils.toys.salary as s\nf = s.loo_slope_influence": "loo_slope_influence",
        "open('../solutions/01_motivation.ipynb')": "solutions/ folder",
        "%time x = 1\nfrom course_utils.toys.soccer import team_share": "team_share",
    }
    for src, needle in bad.items():
        got = static_flags([(0, src)], qs)
        assert any(needle in f for f in got), (src, got)


# --- row keys and names ---------------------------------------------------------------------------
def test_rows_are_keyed_by_relative_path(tmp_path) -> None:
    for sub in ("group1", "group2"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "alice.ipynb").write_text("{}")
    (tmp_path / "group1" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "group1" / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text("{}")
    items, problems = collect([tmp_path])
    assert [k for k, _ in items] == ["group1/alice.ipynb", "group2/alice.ipynb"] and not problems
    one, _ = collect([tmp_path / "group1" / "alice.ipynb"])
    assert [k for k, _ in one] == ["alice.ipynb"]
    _, problems = collect([tmp_path / "nope", tmp_path])
    assert any("no such file" in p for p in problems)


def test_non_utf8_names_are_escaped(tmp_path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.ipynb"
    with open(raw, "w") as fh:
        fh.write("{}")
    items, _ = collect([tmp_path])
    key = items[0][0]
    assert key == "caf\\xe9.ipynb" and key.encode("utf-8")
    assert escape_name("ok.ipynb") == "ok.ipynb"


# --- results, caps and feedback ---------------------------------------------------------------------
def test_messages_are_capped() -> None:
    q = QuestionGrade("1.1", "f", 0, 2, "failed", "m" * 20_000_000, hint="h" * 5_000)
    assert len(q.message) < 2_100 and q.message.endswith("19998000 more characters")
    g = SubmissionGrade("a.ipynb", "a", 1)
    g.add_error("e" * 20_000_000)
    g.add_error("e" * 20_000_000)  # a repeated problem is kept once
    assert len(g.errors) == 1 and len(g.errors[0]) < 2_100
    assert cap("abc", 2) == "ab... 1 more characters"


def test_feedback_shows_what_the_notebooks_check_shows() -> None:
    from course_utils.checks import CheckResult

    g = SubmissionGrade("x/alice.ipynb", "alice", 1)
    g.add_question(
        QuestionGrade(
            "1.2",
            "slope_influence",
            0,
            2,
            "failed",
            "sign: slope(all) - slope(without i)",
            hint="flip the sign",
            expected="[1, 2]",
            got="[-1, -2]",
        )
    )
    g.add_question(QuestionGrade("1.3", "infer_salary", 0, 2, "timeout", "did not finish"))
    g.add_error("question 1.3: timed out after 30 s")
    text = g.feedback()
    box = str(
        CheckResult(
            "1.2",
            "failed",
            0,
            2,
            "sign: slope(all) - slope(without i)",
            "flip the sign",
            "[1, 2]",
            "[-1, -2]",
        )
    )
    assert box in text and "expected: [1, 2]" in text and "got:      [-1, -2]" in text
    assert "hint: flip the sign" in text and "timed out" in text and "question 1.3" in text


def test_summary_has_one_line_per_set() -> None:
    a = SubmissionGrade("a.ipynb", "a", 3, [QuestionGrade("3.1", "f", 2, 2, "passed")])
    b = SubmissionGrade(
        "b.ipynb", "b", 5, [QuestionGrade("5.1", "g", 0, 2, "failed")], errors=["x"]
    )
    c = SubmissionGrade("c.ipynb", "c", None, errors=["unreadable"])
    assert summary([a, b, c]) == [
        "set 03: 1 graded, mean 2.0/2, 0 flagged, 0 with errors",
        "set 05: 1 graded, mean 0.0/2, 0 flagged, 1 with errors",
        "set ?: 1 graded, mean 0.0/0, 0 flagged, 1 with errors",
    ]


# --- the gradebook --------------------------------------------------------------------------------
def _grade(key: str, set_number: int, pts: dict[str, int], sha: str = "s1") -> SubmissionGrade:
    g = SubmissionGrade(
        key, Path(key).stem, set_number, sha256=sha, sandbox="bwrap", checks_version="v1"
    )
    for qid, p in pts.items():
        g.add_question(QuestionGrade(qid, "f", p, 2, "passed" if p else "failed"))
    return g


def test_gradebook_write_is_atomic_and_keeps_the_mode(tmp_path, monkeypatch) -> None:
    target = tmp_path / "grades.csv"
    write_gradebook([_grade("a.ipynb", 1, {"1.1": 2})], csv_path=target)
    os.chmod(target, 0o640)
    before = target.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(grading_files.os, "replace", boom)
    with pytest.raises(OSError):
        write_gradebook([_grade("b.ipynb", 1, {"1.1": 0})], csv_path=target)
    assert target.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["grades.csv"]
    monkeypatch.undo()
    write_gradebook([_grade("b.ipynb", 1, {"1.1": 0})], csv_path=target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_gradebook_keeps_rows_it_does_not_regrade_and_unions_the_sets(tmp_path) -> None:
    csv_path, json_path = tmp_path / "g.csv", tmp_path / "g.json"
    write_gradebook(
        [_grade("old/a.ipynb", 3, {"3.1": 2, "3.2": 0}), _grade("b.ipynb", 1, {"1.1": 2})],
        csv_path=csv_path,
    )
    book = Gradebook(csv_path=csv_path, json_path=json_path)
    assert book.load() == 2
    assert book.is_current("b.ipynb", "s1", "v1") and not book.is_current("b.ipynb", "s2", "v1")
    assert not book.is_current("b.ipynb", "s1", "v2")
    book.add(_grade("b.ipynb", 1, {"1.1": 0}, sha="s2"))
    book.add(_grade("c.ipynb", 7, {"7.1": 2}))
    book.write()
    rows = {r["file"]: r for r in csv.DictReader(csv_path.open())}
    assert set(rows) == {"old/a.ipynb", "b.ipynb", "c.ipynb"}
    assert rows["old/a.ipynb"]["3.1"] == "2" and rows["old/a.ipynb"]["total"] == "2"
    assert rows["b.ipynb"]["1.1"] == "0" and rows["b.ipynb"]["sha256"] == "s2"
    assert rows["c.ipynb"]["3.1"] == "" and rows["c.ipynb"]["sandbox"] == "bwrap"
    doc = json.loads(json_path.read_text())
    assert doc["questions"] == ["1.1", "3.1", "3.2", "7.1"] and len(doc["submissions"]) == 3
    again = Gradebook(csv_path=csv_path, json_path=json_path)
    assert again.load() == 3 and again.csv_text() == book.csv_text()


def test_an_unreadable_gradebook_is_left_alone(tmp_path) -> None:
    bad = tmp_path / "g.csv"
    bad.write_text("this is, not\na gradebook\n")
    with pytest.raises(ValueError, match="cannot read the existing gradebook"):
        Gradebook(csv_path=bad).load()
    assert bad.read_text() == "this is, not\na gradebook\n"


# --- the command line ------------------------------------------------------------------------------
def test_cli_usage_errors_exit_2(tmp_path, capsys) -> None:
    for argv in (
        [str(tmp_path / "nope")],
        [str(tmp_path), "--timeout", "0"],
        [],
        [str(tmp_path), "--memory", "lots"],
        [str(tmp_path), "--sandbox", "docker"],
        [str(tmp_path), "--any-set", "--set", "1"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv


def test_help_says_what_the_sandbox_promises(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for needle in (
        "--sandbox",
        "bwrap",
        "read-only",
        "no network",
        "PID namespace",
        "no isolation",
        "--memory",
        "--resume",
        "does not",
        "root",
    ):
        assert needle in out, needle


def test_grade_submission_rejects_bad_timeouts(tmp_path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        grading.grade_submission(tmp_path / "x.ipynb", timeout=0)
