"""The autograder on real notebook files built here: every bad-submission case gets its own
notebook and its own test. The notebooks are graded in a few batches (two kernels at a time,
module-scoped fixtures) to keep the suite fast.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

from course_utils import checks
from course_utils.grading import (
    SubmissionGrade,
    checks_version,
    grade_paths,
    grade_submission,
    main,
)
from course_utils.grading.sandbox import resolve_sandbox
from tests.grading_support import submission
from tests.repo_support import ROOT, set_notebook

pytestmark = pytest.mark.slow
SANDBOX = resolve_sandbox("auto")[0]


def _answers(path: Path) -> dict[str, str]:
    """qid -> the reference answer cell of a solutions notebook (a function definition)."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    out = {}
    for i, src in enumerate(code):
        if "# BEGIN SOLUTION" in src:
            later = next(s for s in code[i + 1 :] if "check(" in s)
            out[re.search(r"""check\(\s*["'](\d+\.\d+)""", later).group(1)] = src
    return out


ANSWERS = _answers(ROOT / "solutions" / "01_motivation.ipynb")
#: Set 01's total (the reference answers score all of it), read from the registry.
POINTS = sum(q.points for q in checks.questions(1))
HEAD = "import numpy as np\nfrom course_utils.checks import check"


def _nb(*sources: str, meta_set: int | None = 1) -> nbformat.NotebookNode:
    """A small submission of set 01: no setup() so it runs fast; a markdown title for realism."""
    return submission(*sources, set_number=meta_set, title="01 exercises")


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


def _one_answer(set_number: int, qid: str) -> nbformat.NotebookNode:
    """A notebook of another set answering only ``qid`` (with its solution)."""
    path = set_notebook(set_number)
    imports = "import math\nimport numpy as np\nimport torch\nfrom course_utils.checks import check"
    return _nb(imports, _answers(path)[qid], meta_set=set_number)


WRONG_11 = "def team0_share(positions, teams, point, power=3.0):\n    return 0.5"
SWALLOW = "import signal\nsignal.signal(signal.SIGINT, lambda *args: None)\n"

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
    "huge_exception": _nb(*_full(extra_after={"1.1": "raise ValueError('v' * 20_000_000)"})),
    "out_of_memory": _nb(*_full(extra_after={"1.1": "big = np.ones(3 * 2**30 // 8)"})),
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
    "set03": _one_answer(3, "3.2"),
    "set05": _one_answer(5, "5.1"),
    "set07": _one_answer(7, "7.1"),
}

CASES_B = {  # short time limits
    "infinite_loop": _nb(*_full(extra_after={"1.2": "while True:\n    pass"})),
    "loop_inside_answer": _nb(
        *_full(replace={"1.3": "def infer_salary(model, years):\n    while True:\n        pass"})
    ),
    "cell_swallows_interrupts": _nb(*_full(extra_after={"1.2": SWALLOW + "while True:\n    pass"})),
    "answer_swallows_interrupts": _nb(
        *_full(
            replace={
                "1.1": SWALLOW
                + "def team0_share(positions, teams, point, power=3.0):\n    while True:\n        pass"
            }
        )
    ),
}


def _write(folder: Path, cases: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in cases.items():
        nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def batch_a(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("subs_a")
    _write(folder, CASES_A)
    (folder / "empty.ipynb").write_text(nbformat.writes(_nb()))
    (folder / "empty_no_metadata.ipynb").write_text(nbformat.writes(new_notebook()))
    (folder / "invalid_json.ipynb").write_text('{"cells": [ {"cell_type": "code", "sour')
    (folder / "not_a_notebook.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (folder / "json_not_notebook.ipynb").write_text('{"name": "alice", "answers": [1, 2]}')
    v3 = nbformat.v3
    cells = [v3.new_code_cell(input=src) for src in _full()]
    old = v3.new_notebook(
        worksheets=[v3.new_worksheet(cells=cells)], metadata={"course_grade": {"set": 1}}
    )
    (folder / "format3.ipynb").write_text(v3.writes_json(old))
    for sub in ("group1", "group2"):
        _write(
            folder / sub,
            {"alice": _nb(*_full(replace={"1.1": WRONG_11} if sub == "group2" else {}))},
        )
    with open(os.fsencode(str(folder)) + b"/caf\xe9.ipynb", "w") as fh:
        fh.write(nbformat.writes(_nb(*_full())))
    out = tmp_path_factory.mktemp("out")
    grades = grade_paths(
        [folder],
        timeout=90,
        check_timeout=30,
        jobs=2,
        csv_path=out / "g.csv",
        json_path=out / "g.json",
        feedback_dir=out / "feedback",
    )
    by_key: dict = {g.path.removesuffix(".ipynb"): g for g in grades}
    by_key.update(
        _csv=out / "g.csv", _json=out / "g.json", _feedback=out / "feedback", _folder=folder
    )
    return by_key


@pytest.fixture(scope="module")
def batch_b(tmp_path_factory) -> dict[str, SubmissionGrade]:
    folder = tmp_path_factory.mktemp("subs_b")
    _write(folder, CASES_B)
    grades = grade_paths([folder], set_number=1, timeout=15, check_timeout=5, jobs=2)
    return {Path(g.path).stem: g for g in grades}


def _statuses(g: SubmissionGrade) -> dict[str, str]:
    return {q.qid: q.status for q in g.questions}


# --- the reference ---------------------------------------------------------------------------------
def test_full_submission_scores_full_marks(batch_a) -> None:
    g = batch_a["full"]
    assert (g.total, g.max_total) == (POINTS, POINTS), g.table()
    assert not g.flags and not g.errors, g.table()
    assert g.sandbox == SANDBOX and g.checks_version == checks_version()
    data = (batch_a["_folder"] / "full.ipynb").read_bytes()
    assert g.sha256 == hashlib.sha256(data).hexdigest()


# --- bad submissions ---------------------------------------------------------------------------------
def test_syntax_error(batch_a) -> None:
    g = batch_a["syntax_error"]
    assert _statuses(g)["1.1"] == "missing" and g.total == POINTS - 2, g.table()
    assert any("SyntaxError" in e for e in g.errors)


def test_exception_in_unrelated_cell(batch_a) -> None:
    g = batch_a["unrelated_exception"]
    assert g.total == POINTS and any("KeyError" in e for e in g.errors), g.table()


def test_sys_exit(batch_a) -> None:
    g = batch_a["sys_exit"]
    assert g.total == POINTS and any("SystemExit" in e for e in g.errors), g.table()


def test_kernel_crash(batch_a) -> None:
    g = batch_a["kernel_crash"]
    assert g.total == POINTS, g.table()  # graded again with the crashing cell skipped
    assert any("kernel died" in e for e in g.errors) and any("skipped" in e for e in g.errors)


def test_crash_inside_a_check_costs_that_question_only(batch_a) -> None:
    g = batch_a["crash_inside_check"]
    assert _statuses(g)["1.4"] == "error" and g.total == POINTS - 1, g.table()
    assert any("question 1.4" in e and "crashed the kernel" in e for e in g.errors)


def test_huge_output(batch_a) -> None:
    g = batch_a["huge_output"]
    assert g.total == POINTS and any("huge output" in e for e in g.errors), g.table()


def test_a_20_mb_exception_message_is_capped(batch_a) -> None:
    g = batch_a["huge_exception"]
    assert g.total == POINTS, g.table()
    err = next(e for e in g.errors if "ValueError" in e)
    assert len(err) < 2_100 and "more characters" in err
    assert batch_a["_csv"].stat().st_size < 200_000 and batch_a["_json"].stat().st_size < 400_000


def test_running_out_of_memory_is_blamed_on_its_cell(batch_a) -> None:
    g = batch_a["out_of_memory"]
    assert g.total == POINTS, g.table()  # the later, correct answers are not blamed
    assert any(e.startswith("ran out of memory in cell 5") and "GiB" in e for e in g.errors), (
        g.errors
    )


def test_missing_answer_function(batch_a) -> None:
    g = batch_a["missing_answer"]
    assert _statuses(g)["1.4"] == "missing" and g.total == POINTS - 1, g.table()
    assert "not defined" in next(q for q in g.questions if q.qid == "1.4").message


def test_empty_and_unreadable_files(batch_a) -> None:
    assert "empty notebook" in batch_a["empty"].errors[0] and batch_a["empty"].max_total == POINTS
    assert "cannot tell which exercise set" in batch_a["empty_no_metadata"].errors[0]
    assert "invalid JSON" in batch_a["invalid_json"].errors[0]
    assert "not a notebook" in batch_a["not_a_notebook"].errors[0]
    assert "not a notebook" in batch_a["json_not_notebook"].errors[0]
    assert all(batch_a[k].total == 0 for k in ("empty", "invalid_json", "not_a_notebook"))


def test_a_v3_notebook_is_graded(batch_a) -> None:
    g = batch_a["format3"]
    assert g.total == POINTS and not any("not a notebook" in e for e in g.errors), g.table()


def test_same_name_in_two_folders_is_two_rows_and_two_feedback_files(batch_a) -> None:
    a1, a2 = batch_a["group1/alice"], batch_a["group2/alice"]
    assert (a1.total, a2.total) == (POINTS, POINTS - 2)
    fb = batch_a["_feedback"]
    assert f"{POINTS}/{POINTS} points" in (fb / "group1" / "alice.txt").read_text()
    assert f"{POINTS - 2}/{POINTS} points" in (fb / "group2" / "alice.txt").read_text()


def test_a_non_utf8_file_name_is_graded_and_shown_escaped(batch_a) -> None:
    g = batch_a["caf\\xe9"]
    assert g.total == POINTS and g.path == "caf\\xe9.ipynb", g.table()
    rows = {r["file"] for r in csv.DictReader(batch_a["_csv"].open(encoding="utf-8"))}
    assert "caf\\xe9.ipynb" in rows


def test_a_folder_of_mixed_sets_grades_each_under_its_own_set(batch_a) -> None:
    for n, points in ((3, 1), (5, 2), (7, 3)):
        g = batch_a[f"set{n:02d}"]
        assert g.set_number == n and g.total == points, g.table()
        assert {q.qid for q in g.questions} == {q.qid for q in checks.questions(n)}
    doc = json.loads(batch_a["_json"].read_text())
    assert {"1.1", "3.2", "5.1", "7.4"} <= set(doc["questions"])


# --- time limits -----------------------------------------------------------------------------------
def test_infinite_loop_times_out_and_keeps_earlier_answers(batch_b) -> None:
    g = batch_b["infinite_loop"]
    assert set(_statuses(g).values()) == {"passed"}, g.table()
    assert any("time limit" in e for e in g.errors) and g.seconds < 60


def test_endless_loop_inside_an_answer(batch_b) -> None:
    g = batch_b["loop_inside_answer"]
    st = _statuses(g)
    assert st["1.3"] == "timeout" and st["1.4"] == "passed" and g.total == POINTS - 2, g.table()
    assert any("question 1.3: timed out" in e for e in g.errors)


def test_a_cell_that_swallows_interrupts_is_killed_and_skipped(batch_b) -> None:
    g = batch_b["cell_swallows_interrupts"]
    assert g.total == POINTS, g.table()
    assert any("did not stop when interrupted" in e for e in g.errors) and any(
        "skipped" in e for e in g.errors
    )


def test_an_answer_that_swallows_interrupts_costs_only_its_question(batch_b) -> None:
    g = batch_b["answer_swallows_interrupts"]
    st = _statuses(g)
    assert st["1.1"] == "timeout" and g.total == POINTS - 2, g.table()
    assert any("question 1.1: timed out" in e for e in g.errors)


# --- integrity ---------------------------------------------------------------------------------------
def test_redefined_check_is_flagged_and_ignored(batch_a) -> None:
    g = batch_a["redefines_check"]
    assert any("redefines `check`" in f for f in g.flags), g.table()
    assert _statuses(g)["1.1"] == "failed" and g.total == POINTS - 2


def test_patched_registry_is_flagged_and_cannot_score(batch_a) -> None:
    g = batch_a["patches_registry"]
    assert any("patches" in f for f in g.flags), g.table()
    assert any("patched course_utils.checks" in f for f in g.flags)
    assert _statuses(g)["1.1"] == "failed" and g.total == POINTS - 2


def test_importing_the_reference_implementation_is_flagged(batch_a) -> None:
    g = batch_a["imports_reference"]
    assert any("course_utils.toys.soccer.team_share" in f and "1.1" in f for f in g.flags), (
        g.table()
    )
    assert g.total == POINTS  # score kept, flag shown


def test_reading_solutions_is_flagged(batch_a) -> None:
    g = batch_a["reads_solutions"]
    assert any("solutions/" in f for f in g.flags), g.table()
    if SANDBOX == "bwrap":  # the folder is not there at all
        assert any("FileNotFoundError" in e for e in g.errors), g.errors


# --- gradebook and feedback ---------------------------------------------------------------------------
def test_gradebook_has_one_row_per_submission(batch_a) -> None:
    rows = list(csv.DictReader(batch_a["_csv"].open(encoding="utf-8")))
    n_files = len(CASES_A) + 5 + 1 + 2 + 1
    assert len(rows) == n_files
    assert {
        "file",
        "student",
        "set",
        "1.1",
        "total",
        "max",
        "flags",
        "errors",
        "sha256",
        "sandbox",
        "checks_version",
    } <= set(rows[0])
    full = next(r for r in rows if r["file"] == "full.ipynb")
    assert (full["total"], full["max"], full["1.1"], full["sandbox"]) == (
        str(POINTS),
        str(POINTS),
        "2",
        SANDBOX,
    )
    doc = json.loads(batch_a["_json"].read_text())
    assert len(doc["submissions"]) == n_files
    assert not list(batch_a["_csv"].parent.glob(".*tmp")), "temporary gradebook files left behind"


def test_feedback_has_the_checks_expected_and_got_lines(batch_a) -> None:
    text = (batch_a["_feedback"] / "redefines_check.txt").read_text()
    q = next(q for q in batch_a["redefines_check"].questions if q.qid == "1.1")
    assert q.check_text() in text and "expected:" in text and "got:" in text and "hint:" in text


def test_check_timeouts_are_in_the_errors_column(tmp_path) -> None:
    folder = tmp_path / "subs"
    _write(folder, {"loop": CASES_B["loop_inside_answer"]})
    grade_paths([folder], timeout=30, check_timeout=3, jobs=1, csv_path=tmp_path / "g.csv")
    row = next(csv.DictReader((tmp_path / "g.csv").open()))
    assert "question 1.3: timed out after 3 s" in row["errors"] and row["total"] == str(POINTS - 2)


# --- runs, resume, the command line --------------------------------------------------------------------
def test_resume_skips_unchanged_submissions(tmp_path) -> None:
    folder = tmp_path / "subs"
    _write(folder, {"a": _nb(HEAD, WRONG_11), "b": _nb(HEAD)})
    book = tmp_path / "g.csv"
    first = grade_paths([folder], timeout=60, jobs=1, csv_path=book)
    assert len(first) == 2
    nbformat.write(_nb(HEAD, ANSWERS["1.1"]), folder / "b.ipynb")
    second = grade_paths([folder], timeout=60, jobs=1, csv_path=book, resume=True)
    assert [g.path for g in second] == ["b.ipynb"]
    rows = {r["file"]: r for r in csv.DictReader(book.open())}
    assert set(rows) == {"a.ipynb", "b.ipynb"} and rows["b.ipynb"]["1.1"] == "2"


def test_set_restricts_and_reports_other_sets(tmp_path, capsys) -> None:
    _write(tmp_path, {"one": _nb(HEAD, meta_set=1), "three": _nb("x = 1", meta_set=3)})
    assert main([str(tmp_path), "--set", "1", "--jobs", "1", "--timeout", "60", "-q"]) == 0
    out = capsys.readouterr().out
    assert "set 01: 2 graded" in out
    g = grade_submission(tmp_path / "three.ipynb", set_number=1, timeout=60)
    assert "another set's notebook" in g.errors[0] and g.total == 0 and g.max_total == POINTS


def test_cli_grades_without_a_sandbox_and_exits_0(tmp_path, capsys) -> None:
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
        "--sandbox",
        "none",
        "--memory",
        "1GiB",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert (
        "1.1" in out
        and "failed" in out
        and f"total 0/{POINTS}" in out
        and "graded 1 submission" in out
    )
    assert "sandbox: none" in out
    text = (fb / "alice.txt").read_text()
    assert (
        text.startswith(f"Exercise set 01: 0/{POINTS} points")
        and "hint:" in text
        and "Exercise 1.4" in text
    )


def test_kernel_runs_this_interpreter(tmp_path) -> None:
    """The grader's kernel is the venv's Python (the course package is importable there)."""
    path = tmp_path / "who.ipynb"
    code = (
        "import sys\nfrom course_utils.checks import check\n"
        f"assert sys.executable == {__import__('sys').executable!r}, sys.executable"
    )
    nbformat.write(_nb(code), path)
    g = grade_submission(path, set_number=1, timeout=60)
    assert not any("AssertionError" in e for e in g.errors), g.errors


def test_sample_submissions(tmp_path) -> None:
    """The instructor kit's three samples grade as their README says."""
    folder = ROOT / "tests" / "sample_submissions"
    grades = {
        g.student: g
        for g in grade_paths([folder], timeout=120, jobs=2, csv_path=tmp_path / "g.csv")
    }
    assert {k: v.total for k, v in grades.items()} == {
        "alice_full": 11,
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


def test_without_a_sandbox_the_kernels_processes_are_killed(tmp_path) -> None:
    """``--sandbox none`` isolates nothing, but what a notebook starts (a new session, a
    double-forked daemon) still carries the kernel's marker and is killed after grading."""
    import psutil

    token = f"leftover-{os.getpid()}-{id(tmp_path)}"
    spawn = (
        "import os, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {token!r}],\n"
        "                 start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', {token!r}])\n"
        "    os._exit(0)\n"
    )
    nbformat.write(_nb(HEAD, spawn, ANSWERS["1.1"]), tmp_path / "daemon.ipynb")
    g = grade_submission(tmp_path / "daemon.ipynb", timeout=60, sandbox="none")
    assert g.sandbox == "none" and g.total == 2, g.table()

    def left() -> list[int]:
        out = []
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if token in " ".join(proc.info["cmdline"] or []):
                    out.append(proc.pid)
            except psutil.Error:
                continue
        return out

    deadline = time.monotonic() + 5
    while left() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left() == []


def test_cli_with_a_non_utf8_name_on_an_ascii_terminal_grades_every_row(tmp_path) -> None:
    """A file name that is not UTF-8 once aborted the batch (rc 2, later rows missing)."""
    import subprocess
    import sys

    folder = tmp_path / "subs"
    folder.mkdir()
    with open(os.fsencode(str(folder)) + b"/caf\xe9 \xff.ipynb", "w") as fh:
        fh.write(nbformat.writes(_nb(HEAD, ANSWERS["1.1"])))
    nbformat.write(
        _nb(HEAD, "x = 'd\u00e9j\u00e0 vu \u2713'\nraise ValueError(x)"), folder / "z_later.ipynb"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="ascii", LC_ALL="C", LANG="C")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils.grading",
            str(folder),
            "--csv",
            str(tmp_path / "g.csv"),
            "--jobs",
            "1",
            "--timeout",
            "60",
        ],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-1000:]
    rows = {r["file"]: r for r in csv.DictReader((tmp_path / "g.csv").open(encoding="utf-8"))}
    assert set(rows) == {"caf\\xe9 \\xff.ipynb", "z_later.ipynb"}
    assert (
        rows["caf\\xe9 \\xff.ipynb"]["total"] == "2"
        and "ValueError" in rows["z_later.ipynb"]["errors"]
    )
    assert b"caf\\xe9 \\xff.ipynb" in run.stdout
