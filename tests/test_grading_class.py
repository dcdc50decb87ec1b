"""Running a real class (issue 26), without kernels: rosters, whose notebook is it (folders,
Canvas and Moodle download names), roster joins, the gradebook's update mode (rows kept,
overrides kept, late policy), the LMS files against the layouts Canvas and Moodle document, and
the student release. The grading run itself is in ``test_grading_classflow.py``."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from course_utils.grading import classroom, lms, release
from course_utils.grading.classroom import ClassBook, ClassRun, read_late_file
from course_utils.grading.gradebook import Gradebook
from course_utils.grading.identity import identify, infer_root, match
from course_utils.grading.late import LatePolicy, final_score, parse_late
from course_utils.grading.results import QuestionGrade, SubmissionGrade
from course_utils.grading.roster import Roster, name_key
from tests.repo_support import ROOT

ROSTER = """id,name,email,canvas_id,section
S1,Ada Lovelace,ada@uni.edu,101,A
S2,Alan Turing,alan@uni.edu,102,A
S3,Grace Hopper,grace@uni.edu,103,B
S4,Zoë O'Brien,zoe@uni.edu,,B
"""


@pytest.fixture
def roster() -> Roster:
    return Roster.from_text(ROSTER, source="roster.csv")


def _grade(
    key: str, set_number: int = 1, pts: dict[str, int] | None = None, **kw
) -> SubmissionGrade:
    g = SubmissionGrade(key, Path(key).stem, set_number, sha256="s", checks_version="v1", **kw)
    for qid, p in (pts or {"1.1": 2, "1.2": 2}).items():
        top = 1 if qid == "1.4" else 2
        g.add_question(QuestionGrade(qid, "f", p, top, "passed" if p == top else "failed"))
    return g


# --- rosters -----------------------------------------------------------------------------------------
def test_roster_layouts_are_read(roster) -> None:
    assert [s.id for s in roster] == ["S1", "S2", "S3", "S4"]
    assert roster.by_id["S1"].sis_user_id == "S1" and roster.by_id["S2"].canvas_id == "102"
    canvas = Roster.from_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Set 1 (9)\n"
        "    Points Possible,,,,,7\n"
        '"Lovelace, Ada",101,S1,ada,A,5\n'
        '"Student, Test",999,,,A,\n'
        '"Turing, Alan",102,,alan,A,\n'
    )
    assert [(s.id, s.name, s.canvas_id) for s in canvas] == [
        ("S1", "Ada Lovelace", "101"),
        ("alan", "Alan Turing", "102"),
    ]
    moodle = Roster.from_text(
        "\ufeffFirst name,Last name,ID number,Institution,Department,Email address\n"
        "Ada,Lovelace,S1,,,ada@uni.edu\nAlan,Turing,,,,alan@uni.edu\n"
    )
    assert [(s.id, s.name, s.email) for s in moodle] == [
        ("S1", "Ada Lovelace", "ada@uni.edu"),
        ("alan@uni.edu", "Alan Turing", "alan@uni.edu"),
    ]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name,email\nAda,a@x\n", "needs an 'id' column"),
        ("id,name\nS1,Ada\nS1,Bob\n", "appears twice"),
        ("", "is empty"),
    ],
)
def test_bad_rosters_say_what_is_wrong(text, needle) -> None:
    with pytest.raises(ValueError, match=needle):
        Roster.from_text(text)


def test_roster_finds_students_only_by_a_unique_match(roster) -> None:
    assert roster.find_token("ADA@uni.edu").id == "S1"
    assert roster.find_token("grace").id == "S3"  # the email's local part
    assert roster.find_token("zoe_obrien").id == "S4"  # a folder named after the student
    assert roster.find_name("obrienzoe", sortable=True).id == "S4"
    assert roster.find_token("nobody") is None
    twins = Roster.from_text("id,name\nA,Sam Lee\nB,Sam Lee\n")
    assert twins.find_name("Sam Lee") is None  # ambiguous: listed, never guessed
    assert name_key("  Zoë  O'Brien ") == "zoeobrien"


# --- whose notebook ---------------------------------------------------------------------------------
def test_per_folder_names() -> None:
    keys = ["ada/01_motivation.ipynb", "bob/01_motivation.ipynb", "group1/carol.ipynb"]
    got = [(i.student, i.how) for i in identify(keys)]
    assert got == [("ada", "folder"), ("bob", "folder"), ("carol", "file")]
    assert [i.student for i in identify(keys, "folder")] == ["ada", "bob", "group1"]
    assert [i.student for i in identify(["x/alice.ipynb", "y/alice.ipynb"])] == ["x", "y"]


def test_canvas_download_names() -> None:
    keys = [
        "turingalan_LATE_23456_678902_01_motivation.ipynb",
        "lovelaceada_101_678903_01_motivation-1.ipynb",
    ]
    late, ontime = identify(keys)
    assert (late.how, late.student, late.name, late.late) == (
        "canvas",
        "23456",
        "turingalan",
        "yes",
    )
    assert (ontime.student, ontime.late, ontime.canvas_id) == ("101", "", "101")


def test_moodle_download_names_in_folders_and_not() -> None:
    keys = [
        "Ada Lovelace_1234567_assignsubmission_file_/01_motivation.ipynb",
        "Alan Turing_7654321_assignsubmission_file_01_motivation.ipynb",
        "Participant_5555555_assignsubmission_file_/x.ipynb",
    ]
    idents = identify(keys)
    assert [(i.how, i.name) for i in idents] == [
        ("moodle", "Ada Lovelace"),
        ("moodle", "Alan Turing"),
        ("moodle", "Participant"),
    ]
    assert idents[0].student == "Ada Lovelace (1234567)"
    with pytest.raises(ValueError, match="ids must be one of"):
        identify(keys, "blackboard")


def test_roster_join_lists_missing_and_extra_students(roster) -> None:
    keys = [
        "lovelaceada_101_1_01_motivation.ipynb",  # Canvas id
        "turingalan_LATE_999_2_01_motivation.ipynb",  # unknown Canvas id, found by name
        "Grace Hopper_77_assignsubmission_file_/01_motivation.ipynb",
        "mallory/01_motivation.ipynb",  # not in the class
    ]
    idents = {i.key: i for i in match(identify(keys), roster)}
    assert [idents[k].student for k in keys] == ["S1", "S2", "S3", "mallory"]
    assert idents[keys[3]].on_roster is False and idents[keys[1]].late == "yes"
    run = ClassRun(roster=roster)
    run.identify([(k, Path(k)) for k in keys])
    grades = [_grade(k) for k in keys]
    text = "\n".join(run.report(grades))
    assert "set 01: 3 of 4 submitted; no submission: S4 (Zoë O'Brien)" in text
    assert "1 file(s) match nobody on the roster" in text and "mallory/01_motivation.ipynb" in text
    assert "late: 1 submission(s), policy flag: S2 (yes)" in text


def test_two_files_for_one_student_are_listed(roster) -> None:
    keys = ["ada/01_motivation.ipynb", "ada/01_motivation_v2.ipynb"]
    run = ClassRun(roster=roster, ids="folder")
    run.identify([(k, Path(k)) for k in keys])
    text = "\n".join(run.report([_grade(k) for k in keys]))
    assert "2 files for S1 in set 01" in text


def test_infer_root_finds_the_row_of_a_single_regraded_file() -> None:
    keys = ["ada/01_x.ipynb", "bob/01_x.ipynb", "01_x.ipynb"]
    assert infer_root(["/c/subs/bob/01_x.ipynb"], keys) == "/c/subs"
    assert infer_root(["/elsewhere/zed.ipynb"], keys) is None


# --- late work --------------------------------------------------------------------------------------
def test_late_policies() -> None:
    assert [parse_late(x) for x in ("", "yes", "2", "2.5", "0")] == ["", "yes", 2, 3, 0]
    per_day, once = LatePolicy.parse("10%/day"), LatePolicy.parse("25%")
    assert per_day.penalty("3", 10) == 3.0 and per_day.penalty("20", 10) == 10.0
    assert once.penalty("yes", 8) == 2.0 and once.penalty("", 8) == 0.0
    assert LatePolicy.parse("zero").penalty("1", 9) == 9.0
    assert final_score(total=1, max_total=7, late="5", policy="50%", override="") == (3.5, 0.0)
    for bad in ("10", "150%", "10%/week", "-1%"):
        with pytest.raises(ValueError, match="late_policy must be"):
            LatePolicy.parse(bad)
    with pytest.raises(ValueError, match="override must be a number"):
        final_score(total=1, max_total=7, late="", policy="flag", override="A+")


def test_late_file(tmp_path) -> None:
    f = tmp_path / "late.csv"
    f.write_text("Student,Days,Set\nS1,2,1\nS2,0,\n")
    assert read_late_file(f) == {("S1", 1): 2, ("S2", None): 0}
    f.write_text("who,days\nS1,2\n")
    with pytest.raises(ValueError, match="'student'"):
        read_late_file(f)
    f.write_text("student,days\nS1,soon\n")
    with pytest.raises(ValueError, match="line 2"):
        read_late_file(f)


# --- the gradebook: update mode, overrides, late policy ---------------------------------------------
def test_regrade_updates_its_rows_and_keeps_the_others_and_the_overrides(tmp_path) -> None:
    csv_path, json_path = tmp_path / "g.csv", tmp_path / "g.json"
    book = Gradebook(csv_path=csv_path, json_path=json_path, late_policy="10%/day")
    for key in ("ada/01_x.ipynb", "bob/01_x.ipynb", "cy/01_x.ipynb"):
        book.add(_grade(key, pts={"1.1": 2, "1.2": 0}))
    book.rows["bob/01_x.ipynb"]["late"] = "2"
    book.write()
    # the instructor types an override and a late day into the CSV (a spreadsheet adds a BOM)
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert rows[1]["penalty"] == "0.8" and rows[1]["score"] == "1.2"  # 2 days x 10 % of 4
    rows[0]["override"] = "3.5"
    rows[2]["late"] = "1"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    csv_path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    # a check is fixed: one notebook is regraded (into the same gradebook, no --late-policy)
    again = Gradebook(csv_path=csv_path, json_path=json_path)
    assert again.load() == 3
    new = again.add(_grade("ada/01_x.ipynb", pts={"1.1": 2, "1.2": 2}))
    assert new["override"] == "3.5" and new["late_policy"] == "10%/day"
    again.write()
    out = {r["file"]: r for r in csv.DictReader(csv_path.open(encoding="utf-8"))}
    assert set(out) == {"ada/01_x.ipynb", "bob/01_x.ipynb", "cy/01_x.ipynb"}
    assert (out["ada/01_x.ipynb"]["total"], out["ada/01_x.ipynb"]["override"]) == ("4", "3.5")
    assert out["ada/01_x.ipynb"]["score"] == "3.5"  # the override wins
    assert (out["bob/01_x.ipynb"]["score"], out["cy/01_x.ipynb"]["score"]) == ("1.2", "1.6")
    for r in out.values():
        assert r["graded_at"].endswith("Z") and r["grader_version"].startswith("0.")
    doc = json.loads(json_path.read_text())
    assert {r["path"]: r["override"] for r in doc["submissions"]}["ada/01_x.ipynb"] == "3.5"


def test_an_unreadable_override_never_loses_the_gradebook(tmp_path) -> None:
    book = Gradebook(csv_path=tmp_path / "g.csv")
    book.add(_grade("a.ipynb"))
    book.rows["a.ipynb"]["override"] = "full marks"
    book.write()  # written, with an empty score
    row = next(csv.DictReader((tmp_path / "g.csv").open()))
    assert row["override"] == "full marks" and row["score"] == ""
    assert book.problems() == ["a.ipynb: override must be a number of points, got 'full marks'"]


def test_classbook_fills_student_name_and_late(tmp_path, roster) -> None:
    late = tmp_path / "late.csv"
    late.write_text("student,days\nS3,3\n")
    a = classroom.argparse.Namespace(
        roster=None, late_file=str(late), due=None, ids="auto", late_policy="20%/day",
        root=None, csv=None, json=None, paths=[],
    )  # fmt: skip
    run = ClassRun.from_args(a, pytest.fail)
    run.roster = roster
    keys = ["turingalan_LATE_102_5_01_x.ipynb", "grace/01_x.ipynb", "ada/01_x.ipynb"]
    run.identify([(k, tmp_path / k) for k in keys])
    book = ClassBook(run, csv_path=tmp_path / "g.csv")
    book.load()
    for k in keys:
        book.add(_grade(k))
    book.write()
    rows = {r["file"]: r for r in csv.DictReader((tmp_path / "g.csv").open())}
    got = {k: (r["student"], r["name"], r["late"], r["score"]) for k, r in rows.items()}
    assert got == {
        keys[0]: ("S2", "Alan Turing", "yes", "3.2"),  # Canvas's LATE: one day
        keys[1]: ("S3", "Grace Hopper", "3", "1.6"),  # the late file: 3 x 20 % of 4
        keys[2]: ("S1", "Ada Lovelace", "", "4"),
    }


def test_classbook_reads_lateness_from_file_times(tmp_path) -> None:
    import os
    from datetime import datetime

    for name, when in (("a.ipynb", "2026-12-01T10:00"), ("b.ipynb", "2026-12-03T10:00")):
        (tmp_path / name).write_text("{}")
        t = datetime.fromisoformat(when).timestamp()
        os.utime(tmp_path / name, (t, t))
    run = ClassRun(due=datetime.fromisoformat("2026-12-01T23:59"))
    run.identify([(n, tmp_path / n) for n in ("a.ipynb", "b.ipynb")])
    book = ClassBook(run, csv_path=tmp_path / "g.csv")
    assert [book.add(_grade(n))["late"] for n in ("a.ipynb", "b.ipynb")] == ["", "2"]


def test_feedback_files_never_show_integrity_flags() -> None:
    g = _grade("a.ipynb")
    g.add_flag("imports the course's implementation `x` (question 1.1, cell 3)")
    g.add_error("cell 4: NameError: name 'y' is not defined")
    text = g.feedback()
    assert "NameError" in text and "implementation" not in text and "lag" not in text.lower()
    assert "FLAG" in g.table()  # the instructor's terminal still shows it


# --- LMS files --------------------------------------------------------------------------------------
def _class_book(tmp_path, roster) -> Path:
    run = ClassRun(roster=roster, late_policy="10%/day")
    keys = [
        "lovelaceada_101_1_01_x.ipynb",
        "turingalan_LATE_102_2_01_x.ipynb",
        "mallory/01_x.ipynb",
    ]
    run.identify([(k, Path(k)) for k in keys])
    book = ClassBook(run, csv_path=tmp_path / "grades.csv")
    book.add(_grade(keys[0], pts={"1.1": 2, "1.2": 2, "1.3": 2, "1.4": 1}))
    book.add(_grade(keys[1], pts={"1.1": 2, "1.2": 0, "1.3": 2, "1.4": 1}))
    book.add(_grade(keys[2], pts={"1.1": 2, "1.2": 2, "1.3": 2, "1.4": 1}))
    book.add(_grade("old/03_y.ipynb", 3, {"3.1": 2}))
    book.write()
    return tmp_path / "grades.csv"


def test_canvas_file_has_canvas_layout(tmp_path, roster, capsys) -> None:
    gradebook = _class_book(tmp_path, roster)
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(ROSTER)
    out = tmp_path / "canvas.csv"
    argv = [str(gradebook), "--roster", str(roster_file), "--canvas", str(out), "--set", "1"]
    assert lms.main([*argv, "--assignment", "Exercise set 01 (4242)"]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    # Canvas's own export: Student, ID, SIS User ID, SIS Login ID, Section, then assignments
    # "Name (assignment id)"; the second line is "Points Possible"
    assert rows[0] == [*lms.CANVAS_COLUMNS, "Exercise set 01 (4242)"]
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "7"
    assert rows[2:] == [
        ["Lovelace, Ada", "101", "S1", "", "A", "7"],
        ["Turing, Alan", "102", "S2", "", "A", "4.3"],  # 5/7 minus 10 % of 7 (late)
    ]
    report = capsys.readouterr()
    assert "2 of 4 students" in report.out and "S3 (Grace Hopper)" in report.out
    assert "not on the roster, not exported: mallory/01_x.ipynb" in report.err
    assert lms.main([*argv[:-2], "--set", "1", "--missing", "zero"]) == 0
    assert len(list(csv.reader(out.open()))) == 2 + 4


def test_moodle_file_has_moodle_layout(tmp_path, roster) -> None:
    gradebook = _class_book(tmp_path, roster)
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(ROSTER)
    out = tmp_path / "moodle.csv"
    assert (
        lms.main([str(gradebook), "--roster", str(roster_file), "--moodle", str(out), "--set", "1"])
        == 0
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    # Moodle's CSV import: a header line, an identity column to "map from" (its own exports call
    # them "ID number" and "Email address"), one column per grade item
    assert list(rows[0]) == [
        "First name",
        "Last name",
        "ID number",
        "Email address",
        "Exercise set 01",
    ]
    assert [(r["Email address"], r["Exercise set 01"]) for r in rows] == [
        ("ada@uni.edu", "7"),
        ("alan@uni.edu", "4.3"),
    ]


def test_export_refuses_what_it_cannot_do(tmp_path, roster) -> None:
    gradebook = _class_book(tmp_path, roster)
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text(ROSTER)
    for extra in ([], ["--set", "9"]):  # two sets in the book; a set it does not have
        with pytest.raises(SystemExit) as info:
            lms.main([str(gradebook), "--roster", str(roster_file), "--canvas", "x.csv", *extra])
        assert info.value.code == 2
    with pytest.raises(SystemExit):
        lms.main([str(gradebook), "--canvas", "x.csv"])  # no roster


# --- the student release ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("release") / "students"
    release.build(target)
    return target


def test_student_release_has_no_answer_key(released) -> None:
    files = {p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file()}
    assert "exercises/01_motivation.ipynb" in files and "course_utils/checks/__init__.py" in files
    for gone in ("solutions/", "tests/", "instructors/", "benchmarks/"):
        assert not any(f.startswith(gone) for f in files), gone
    assert (
        "INSTRUCTORS.md" in files
        and "not part of the students' copy" in (released / "INSTRUCTORS.md").read_text()
    )
    # no solution line: no marker anywhere, no run of solution lines outside the package, and
    # not one distinctive solution line in an exercise notebook
    problems, notes = release.scan(released, ROOT / "solutions")
    assert problems == []
    blocks, _ = release.solution_blocks(ROOT / "solutions")
    assert len(blocks) >= 40
    text = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in released.rglob("*")
        if p.is_file() and not p.relative_to(released).as_posix().startswith("course_utils/")
    )
    for _, lines in blocks:
        if len(lines) >= 3:
            assert "\n".join(lines) not in text
    # what the package cannot hide is listed, and only there
    assert notes and all(n.startswith("course_utils/") for n in notes)


def test_a_planted_answer_key_stops_the_release(tmp_path) -> None:
    src = tmp_path / "course"
    for rel in ("solutions/01_motivation.ipynb", "exercises/01_motivation.ipynb", "README.md"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, src / rel)
    (src / "course_utils").mkdir()
    (src / "course_utils" / "__init__.py").write_text("")
    leak = src / "notebooks" / "99_copy.ipynb"
    leak.parent.mkdir()
    shutil.copy(ROOT / "solutions" / "01_motivation.ipynb", leak)
    with pytest.raises(ValueError, match="answer keys in the release: notebooks/99_copy.ipynb"):
        release.build(tmp_path / "out", src)
    assert not (tmp_path / "out").exists()
    leak.unlink()
    (src / "docs").mkdir()
    (src / "docs" / "answers_extra_checks.py").write_text("x = 1\n")
    keep, dropped, _ = release.build(tmp_path / "out", src)
    assert "docs/answers_extra_checks.py" in dropped and "solutions/01_motivation.ipynb" in dropped
    assert (tmp_path / "out" / "RELEASE.md").exists()
    # a second release replaces the first (keeping its .git); a folder that is not one is refused
    (tmp_path / "out" / ".git").mkdir()
    (tmp_path / "out" / "stale.txt").write_text("old")
    release.build(tmp_path / "out", src)
    assert (tmp_path / "out" / ".git").is_dir() and not (tmp_path / "out" / "stale.txt").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty and not a previous release"):
        release.build(tmp_path / "other", src)
    with pytest.raises(ValueError, match="inside the course folder"):
        release.build(src / "release", src)


def test_canvas_ids_come_from_download_names_when_the_roster_has_none(tmp_path, roster) -> None:
    gradebook = _class_book(tmp_path, roster)
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name,email\nS1,Ada Lovelace,ada@uni.edu\nS2,Alan Turing,alan@uni.edu\n")
    out = tmp_path / "canvas.csv"
    assert (
        lms.main([str(gradebook), "--roster", str(plain), "--canvas", str(out), "--set", "1"]) == 0
    )
    rows = list(csv.reader(out.open()))
    assert [r[:3] for r in rows[2:]] == [
        ["Lovelace, Ada", "101", "S1"],
        ["Turing, Alan", "102", "S2"],
    ]


def test_bad_class_options_are_usage_errors(tmp_path) -> None:
    from course_utils.grading import main

    (tmp_path / "a.ipynb").write_text("{}")
    for extra in (
        ["--late-policy", "lots"],
        ["--roster", str(tmp_path / "nope.csv")],
        ["--due", "next friday"],
        ["--late", str(tmp_path / "nope.csv")],
        ["--ids", "blackboard"],
    ):
        with pytest.raises(SystemExit) as info:
            main([str(tmp_path), *extra])
        assert info.value.code == 2, extra
