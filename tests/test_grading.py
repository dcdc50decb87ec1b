"""The autograder against real notebook files built here: every bad-submission case and every
integrity case of issue 3 gets its own notebook and its own test. The notebooks are graded in two
batches (through :func:`grade_paths`, two kernels in parallel) to keep the suite fast."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_utils import grading
from course_utils.grading import (
    SubmissionGrade,
    detect_set,
    exercise_notebook,
    grade_paths,
    main,
    strip_solution,
    write_gradebook,
)

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "01_motivation.ipynb"

pytestmark = pytest.mark.slow


def _answers() -> dict[str, str]:
    """qid -> the reference answer cell of set 01 (a function definition)."""
    nb = nbformat.read(SOLUTIONS, as_version=4)
    out = {}
    cells = nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source:
            nxt = cells[i + 1].source
            out[nxt.split('"')[1]] = cell.source
    return out


ANSWERS = _answers()
HEAD = "import numpy as np\nfrom course_utils.checks import check"


def _nb(*sources: str, meta_set: int | None = 1) -> nbformat.NotebookNode:
    """A small submission of set 01: no setup() so it runs fast; markdown in between for realism."""
    cells = [new_markdown_cell("# 01 exercises")]
    for src in sources:
        cells.append(new_code_cell(src))
    md = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    if meta_set is not None:
        md["course_grade"] = {"set": meta_set}
    return new_notebook(cells=cells, metadata=md)


def _full(
    *, replace: dict[str, str] | None = None, extra_after: dict[str, str] | None = None
) -> list[str]:
    replace, extra_after = replace or {}, extra_after or {}
    cells = [HEAD]
    for qid, src in ANSWERS.items():
        if qid in replace:
            if replace[qid]:
                cells.append(replace[qid])
        else:
            cells.append(src)
        cells.append(f'check("{qid}", {src.split("def ")[1].split("(")[0]})')
        if qid in extra_after:
            cells.append(extra_after[qid])
    return cells


WRONG_11 = "def team0_share(positions, teams, point, power=3.0):\n    return 0.5"

CASES_A = {
    "full": _nb(*_full()),
    "syntax_error": _nb(
        *_full(replace={"1.1": "def team0_share(positions, teams, point, power=3.0)\n    return 1"})
    ),
    "unrelated_exception": _nb(
        *_full(extra_after={"1.2": "results = {}\nresults['missing_key'] + 1"})
    ),
    "sys_exit": _nb(*_full(extra_after={"1.1": "import sys\nsys.exit(3)"})),
    "kernel_crash": _nb(*_full(extra_after={"1.2": "import os\nos._exit(1)"})),
    "huge_output": _nb(
        *_full(extra_after={"1.1": "for _ in range(300):\n    print('x' * 10_000)"})
    ),
    "missing_answer": _nb(*_full(replace={"1.4": ""})),
    "crash_inside_check": _nb(
        *_full(replace={"1.4": "import os\ndef leaks_more(years, salary, i, j):\n    os._exit(1)"})
    ),
    "redefines_check": _nb(
        *_full(
            replace={"1.1": WRONG_11},
            extra_after={"1.1": "def check(qid, f):\n    print('passed!')"},
        )
    ),
    "patches_registry": _nb(
        *_full(
            replace={"1.1": WRONG_11},
            extra_after={
                "1.1": "import course_utils.checks as cc\n"
                "cc.REGISTRY['1.1'].func.__code__ = (lambda f: None).__code__\n"
                "cc.expect = lambda *a, **k: None"
            },
        )
    ),
    "imports_reference": _nb(
        *_full(
            replace={
                "1.1": "from course_utils.toys.soccer import team_share\n"
                "def team0_share(positions, teams, point, power=3.0):\n"
                "    return float(team_share(positions, teams, [point[0]], [point[1]], power=power)[0, 0])"
            }
        )
    ),
    "reads_solutions": _nb(
        *_full(
            extra_after={
                "1.1": "import course_utils, pathlib\n"
                "root = pathlib.Path(course_utils.__file__).parents[1]\n"
                "peek = (root / 'solutions' / '01_motivation.ipynb').read_text()"
            }
        )
    ),
}

CASES_B = {  # short time limits
    "infinite_loop": _nb(*_full(extra_after={"1.2": "while True:\n    pass"})),
    "loop_inside_answer": _nb(
        *_full(replace={"1.3": "def infer_salary(model, years):\n    while True:\n        pass"})
    ),
}


def _write(folder: Path, cases: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in cases.items():
        nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def batch_a(tmp_path_factory) -> dict[str, SubmissionGrade]:
    folder = tmp_path_factory.mktemp("subs_a")
    _write(folder, CASES_A)
    (folder / "empty.ipynb").write_text(nbformat.writes(new_notebook()))
    (folder / "invalid_json.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour')
    (folder / "not_a_notebook.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (folder / "json_not_notebook.ipynb").write_text('{"name": "alice", "answers": [1, 2]}')
    nbformat.write(
        _nb('def f(x):\n    return x\ncheck("2.1", f)', meta_set=2), folder / "other_set.ipynb"
    )
    out = tmp_path_factory.mktemp("out")
    grades = grade_paths(
        [folder],
        set_number=1,
        timeout=90,
        check_timeout=30,
        jobs=2,
        csv_path=out / "g.csv",
        json_path=out / "g.json",
    )
    by_name = {Path(g.path).stem: g for g in grades}
    by_name["_csv"] = out / "g.csv"  # type: ignore[assignment]
    by_name["_json"] = out / "g.json"  # type: ignore[assignment]
    return by_name


@pytest.fixture(scope="module")
def batch_b(tmp_path_factory) -> dict[str, SubmissionGrade]:
    folder = tmp_path_factory.mktemp("subs_b")
    _write(folder, CASES_B)
    grades = grade_paths([folder], set_number=1, timeout=15, check_timeout=8, jobs=2)
    return {Path(g.path).stem: g for g in grades}


def _statuses(g: SubmissionGrade) -> dict[str, str]:
    return {q.qid: q.status for q in g.questions}


# --- the reference ------------------------------------------------------------------------------
def test_full_submission_scores_full_marks(batch_a) -> None:
    g = batch_a["full"]
    assert (g.total, g.max_total) == (7, 7), g.table()
    assert not g.flags and not g.errors, g.table()


# --- bad submissions -----------------------------------------------------------------------------
def test_syntax_error(batch_a) -> None:
    g = batch_a["syntax_error"]
    assert _statuses(g)["1.1"] == "missing" and g.total == 5, g.table()
    assert any("SyntaxError" in e for e in g.errors)


def test_exception_in_unrelated_cell(batch_a) -> None:
    g = batch_a["unrelated_exception"]
    assert g.total == 7 and any("KeyError" in e for e in g.errors), g.table()


def test_sys_exit(batch_a) -> None:
    g = batch_a["sys_exit"]
    assert g.total == 7 and any("SystemExit" in e for e in g.errors), g.table()


def test_kernel_crash(batch_a) -> None:
    g = batch_a["kernel_crash"]
    assert g.total == 7, g.table()  # graded again with the crashing cell skipped
    assert any("kernel died" in e for e in g.errors) and any("skipped" in e for e in g.errors)


def test_crash_inside_a_check(batch_a) -> None:
    g = batch_a["crash_inside_check"]
    st = _statuses(g)
    assert st["1.4"] == "error" and g.total == 6, g.table()
    assert any("crashed the kernel" in e for e in g.errors)


def test_huge_output(batch_a) -> None:
    g = batch_a["huge_output"]
    assert g.total == 7 and any("huge output" in e for e in g.errors), g.table()


def test_empty_notebook(batch_a) -> None:
    g = batch_a["empty"]
    assert g.total == 0 and g.max_total == 7 and "empty notebook" in g.errors[0], g.table()


def test_invalid_json(batch_a) -> None:
    g = batch_a["invalid_json"]
    assert g.total == 0 and g.max_total == 7 and "invalid JSON" in g.errors[0], g.table()


def test_file_that_is_not_a_notebook(batch_a) -> None:
    assert "not a notebook" in batch_a["not_a_notebook"].errors[0]
    assert "not a notebook" in batch_a["json_not_notebook"].errors[0]


def test_notebook_of_another_set(batch_a) -> None:
    g = batch_a["other_set"]
    assert "exercise set 02" in g.errors[0] and g.total == 0 and g.max_total == 7, g.table()
    assert set(_statuses(g).values()) == {"not graded"}


def test_missing_answer_function(batch_a) -> None:
    g = batch_a["missing_answer"]
    st = _statuses(g)
    assert st["1.4"] == "missing" and g.total == 6, g.table()
    assert "not defined" in [q for q in g.questions if q.qid == "1.4"][0].message


def test_infinite_loop_times_out_and_keeps_earlier_answers(batch_b) -> None:
    g = batch_b["infinite_loop"]
    st = _statuses(g)
    assert st["1.1"] == st["1.2"] == "passed", g.table()
    assert st["1.3"] == st["1.4"] == "passed", (
        g.table()
    )  # the loop was interrupted, later cells ran
    assert any("time limit" in e for e in g.errors)
    assert g.seconds < 60


def test_endless_loop_inside_an_answer(batch_b) -> None:
    g = batch_b["loop_inside_answer"]
    st = _statuses(g)
    assert st["1.3"] == "timeout" and st["1.4"] == "passed" and g.total == 5, g.table()


# --- integrity -----------------------------------------------------------------------------------
def test_redefined_check_is_flagged(batch_a) -> None:
    g = batch_a["redefines_check"]
    assert any("redefines `check`" in f for f in g.flags), g.table()
    assert any("not course_utils.checks.check" in f for f in g.flags)
    assert (
        _statuses(g)["1.1"] == "failed"
    )  # the fake check printed "passed!"; the grader did not care


def test_patched_registry_is_flagged_and_ignored(batch_a) -> None:
    g = batch_a["patches_registry"]
    assert any("patched course_utils.checks" in f for f in g.flags), g.table()
    assert any("patches" in f for f in g.flags)
    assert _statuses(g)["1.1"] == "failed" and g.total == 5  # graded by the freshly imported checks


def test_importing_the_reference_implementation_is_flagged(batch_a) -> None:
    g = batch_a["imports_reference"]
    assert any("course_utils.toys.soccer.team_share" in f and "1.1" in f for f in g.flags), (
        g.table()
    )
    assert any("uses the course's implementation" in f for f in g.flags)
    assert g.total == 7  # score kept, flag shown


def test_reading_solutions_is_flagged(batch_a) -> None:
    g = batch_a["reads_solutions"]
    assert any("solutions/" in f and "01_motivation.ipynb" in f for f in g.flags), g.table()
    assert g.total == 7


# --- gradebook and command line --------------------------------------------------------------------
def test_gradebook_has_one_row_per_submission(batch_a) -> None:
    rows = list(csv.DictReader(batch_a["_csv"].open()))
    assert len(rows) == len(CASES_A) + 5
    assert {"1.1", "1.2", "1.3", "1.4", "total", "max", "flags", "errors"} <= set(rows[0])
    full = next(r for r in rows if r["student"] == "full")
    assert (full["total"], full["max"], full["1.1"]) == ("7", "7", "2")
    doc = json.loads(batch_a["_json"].read_text())
    assert doc["questions"] == ["1.1", "1.2", "1.3", "1.4"] and len(doc["submissions"]) == len(rows)
    assert not list(batch_a["_csv"].parent.glob(".*tmp")), "temporary gradebook files left behind"


def test_gradebook_write_is_atomic(tmp_path, monkeypatch) -> None:
    g = SubmissionGrade("a.ipynb", "a", 1)
    target = tmp_path / "grades.csv"
    write_gradebook([g], csv_path=target)
    before = target.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(grading.os, "replace", boom)
    with pytest.raises(OSError):
        write_gradebook([g, SubmissionGrade("b.ipynb", "b", 1)], csv_path=target)
    assert target.read_text() == before and [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_cli_usage_errors_exit_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "nope")])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path), "--timeout", "0"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def test_cli_grades_and_exits_0_even_with_low_scores(tmp_path, capsys) -> None:
    path = tmp_path / "alice.ipynb"
    nbformat.write(_nb(HEAD, WRONG_11, 'check("1.1", team0_share)'), path)
    fb = tmp_path / "feedback"
    args = [
        str(path),
        "--csv",
        str(tmp_path / "g.csv"),
        "--timeout",
        "60",
        "--jobs",
        "1",
        "--feedback",
        str(fb),
    ]
    code = main(args)
    out = capsys.readouterr().out
    assert code == 0
    assert "1.1" in out and "failed" in out and "total 0/7" in out and "graded 1 submission" in out
    assert (tmp_path / "g.csv").exists()
    text = (fb / "alice.txt").read_text()
    assert (
        text.startswith("Exercise set 01: 0/7 points")
        and "hint:" in text
        and "1.4 `leaks_more`" in text
    )


def test_batch_set_is_inferred_from_the_majority(tmp_path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.ipynb").write_text(nbformat.writes(_nb(HEAD, meta_set=1)))
    (tmp_path / "c.ipynb").write_text(nbformat.writes(_nb(HEAD, meta_set=3)))
    grades = grade_paths([tmp_path], timeout=60, jobs=1)
    assert [g.set_number for g in grades] == [1, 1, 1]
    assert "exercise set 03" in grades[2].errors[0]


# --- pure helpers (fast) -----------------------------------------------------------------------------
def test_detect_set_order_of_evidence() -> None:
    nb = _nb('check("4.2", f)', meta_set=None)
    assert detect_set(nb, "09_x.ipynb") == 4
    nb.metadata["course_grade"] = {"set": 5}
    assert detect_set(nb) == 5
    assert detect_set(_nb("x = 1", meta_set=None), "09_x.ipynb") == 9
    assert detect_set(_nb("x = 1", meta_set=None), "notes.ipynb") is None


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


def test_grade_submission_rejects_bad_timeouts(tmp_path) -> None:
    with pytest.raises(ValueError, match="timeout"):
        grading.grade_submission(tmp_path / "x.ipynb", timeout=0)


def test_kernel_runs_this_interpreter(tmp_path) -> None:
    """The grader's kernel is the venv's Python (the course package is importable there)."""
    path = tmp_path / "who.ipynb"
    code = (
        "import sys\nfrom course_utils.checks import check\n"
        f"assert sys.executable == {__import__('sys').executable!r}, sys.executable"
    )
    nbformat.write(_nb(code), path)
    g = grading.grade_submission(path, set_number=1, timeout=60)
    assert not any("AssertionError" in e for e in g.errors), g.errors


def test_sample_submissions(tmp_path) -> None:
    """The instructor kit's three samples grade as their README says."""
    folder = ROOT / "tests" / "sample_submissions"
    grades = {
        g.student: g
        for g in grade_paths([folder], timeout=120, jobs=2, csv_path=tmp_path / "g.csv")
    }
    assert {k: v.total for k, v in grades.items()} == {
        "alice_full": 7,
        "bob_partial": 2,
        "carol_broken": 5,
    }
    bob = {q.qid: q for q in grades["bob_partial"].questions}
    assert bob["1.3"].status == "not implemented" and "flip the sign" in bob["1.2"].hint
    carol = grades["carol_broken"]
    assert {q.qid: q.status for q in carol.questions}["1.2"] == "missing"
    assert any("SyntaxError" in e for e in carol.errors) and any(
        "NameError" in e for e in carol.errors
    )
    assert not any(g.flags for g in grades.values())


def test_static_flags_catch_patching_without_false_alarms() -> None:
    from course_utils.checks import questions

    qs = questions(1)
    flags = grading._static_flags

    innocent = [
        (
            0,
            "my_checks = {}\nmy_checks.update(a=1)\nexpect = 3\ncheck_count = 2\nself_check = print",
        ),
        (1, "import numpy as np\nnp.random.seed(0)\nprint('the solutions are below')"),
        (2, "from course_utils.checks import check\ncheck('1.1', f)"),
        (3, "from course_utils.toys.soccer import SoccerToy\ntoy = SoccerToy()"),
    ]
    assert flags(innocent, qs) == []
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
        got = flags([(0, src)], qs)
        assert any(needle in f for f in got), (src, got)


def test_any_set_grades_each_notebook_as_its_own_set(tmp_path, capsys) -> None:
    (tmp_path / "a.ipynb").write_text(nbformat.writes(_nb(HEAD, meta_set=1)))
    (tmp_path / "b.ipynb").write_text(nbformat.writes(_nb("x = 1", meta_set=98)))
    assert main([str(tmp_path), "--any-set", "--jobs", "1", "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "sets 01, 98" in out and "no questions are registered for exercise set 98" in out
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--any-set", "--set", "1"])
