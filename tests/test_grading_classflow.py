"""One assignment cycle through ``course-grade`` with real kernels (issue 26): a class handed in
as one folder per student plus a Canvas download, graded with a roster and a late policy; an
override typed into the gradebook; one notebook regraded on its own; the Canvas export. Three
notebooks and one regrade, to keep it to seconds."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from pathlib import Path

import pytest

from course_utils.checks import questions
from course_utils.grading import main
from course_utils.grading.late import format_points
from tests.repo_support import ROOT

FULL = sum(q.points for q in questions(1))  # set 01's total, read from the registry

SAMPLES = ROOT / "tests" / "sample_submissions"
pytestmark = pytest.mark.slow

ROSTER = """id,name,email,canvas_id,section
S1,Ada Lovelace,ada@uni.edu,101,A
S2,Alan Turing,alan@uni.edu,102,A
S3,Grace Hopper,grace@uni.edu,103,B
"""


def _rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["file"]: r for r in csv.DictReader(path.open(encoding="utf-8"))}


@pytest.fixture(scope="module")
def cycle(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("cycle")
    subs = tmp / "submissions"
    for who, sample in (("ada", "alice_full"), ("mallory", "carol_broken")):
        (subs / who).mkdir(parents=True)
        shutil.copy(SAMPLES / f"{sample}.ipynb", subs / who / "01_motivation.ipynb")
    late = "hoppergrace_LATE_103_777_01_motivation.ipynb"  # as Canvas names a late upload
    shutil.copy(SAMPLES / "bob_partial.ipynb", subs / late)
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    book, js, fb = tmp / "grades.csv", tmp / "grades.json", tmp / "feedback"
    common = ["--csv", str(book), "--json", str(js), "--timeout", "90", "--jobs", "2", "-q"]
    out = io.StringIO()

    with contextlib.redirect_stdout(out):
        rc = main(
            [str(subs), "--roster", str(tmp / "roster.csv"), "--feedback", str(fb)]
            + ["--late-policy", "10%/day", *common]
        )
    return dict(
        tmp=tmp,
        subs=subs,
        late=late,
        book=book,
        js=js,
        fb=fb,
        rc=rc,
        out=out.getvalue(),
        common=common,
    )


def test_students_are_read_from_folders_and_canvas_names(cycle) -> None:
    assert cycle["rc"] == 0
    rows = _rows(cycle["book"])
    got = {k: (r["student"], r["name"], r["total"], r["late"], r["score"]) for k, r in rows.items()}
    assert got == {
        "ada/01_motivation.ipynb": ("S1", "Ada Lovelace", str(FULL), "", str(FULL)),
        # 2 points minus 10 % of the set's total
        cycle["late"]: ("S3", "Grace Hopper", "2", "yes", format_points(2 - 0.1 * FULL)),
        "mallory/01_motivation.ipynb": ("mallory", "", "5", "", "5"),
    }
    assert all(r["late_policy"] == "10%/day" and r["graded_at"] for r in rows.values())


def test_the_run_lists_missing_and_unknown_students(cycle) -> None:
    out = cycle["out"]
    assert "set 01: 2 of 3 submitted; no submission: S2 (Alan Turing)" in out
    assert "1 file(s) match nobody on the roster" in out and "mallory/01_motivation.ipynb" in out
    assert "late: 1 submission(s), policy 10%/day: S3 (yes)" in out


def test_feedback_files_carry_no_flags(cycle) -> None:
    text = (cycle["fb"] / "ada" / "01_motivation.txt").read_text()
    assert text.startswith(f"Exercise set 01: {FULL}/{FULL} points") and "Flagged" not in text


def test_a_single_regrade_keeps_the_other_rows_and_the_override(cycle, capsys) -> None:
    book = cycle["book"]
    rows = _rows(book)
    rows[cycle["late"]]["override"] = "6"  # the instructor accepts Grace's reason
    with book.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(next(iter(rows.values()))))
        w.writeheader()
        w.writerows(rows.values())
    before = _rows(book)
    # regrade one notebook alone (no roster given this time): its row is found and updated
    assert main([str(cycle["subs"] / "ada" / "01_motivation.ipynb"), *cycle["common"]]) == 0
    after = _rows(book)
    assert set(after) == set(before)
    ada = after["ada/01_motivation.ipynb"]
    assert (ada["student"], ada["name"], ada["total"]) == ("S1", "Ada Lovelace", str(FULL))
    assert ada["graded_at"] >= before["ada/01_motivation.ipynb"]["graded_at"]
    grace = after[cycle["late"]]
    assert (grace["override"], grace["score"], grace["total"]) == ("6", "6", "2")
    assert after["mallory/01_motivation.ipynb"] == before["mallory/01_motivation.ipynb"]
    # and the LMS gets the override
    canvas = cycle["tmp"] / "canvas.csv"
    argv = ["export", str(cycle["js"]), "--roster", str(cycle["tmp"] / "roster.csv")]
    assert main([*argv, "--canvas", str(canvas)]) == 0
    lines = list(csv.reader(canvas.open()))
    assert lines[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert lines[2:] == [
        ["Lovelace, Ada", "101", "S1", "", "A", str(FULL)],
        ["Hopper, Grace", "103", "S3", "", "B", "6"],
    ]
