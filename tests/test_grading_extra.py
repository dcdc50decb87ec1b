"""Instructor-only checks (``course-grade --extra-checks FILE.py``): loading them keeps the public
registry clean, they are graded into their own gradebook columns outside the total, and the
feedback files mention them only with ``--feedback-extra``."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest

from course_utils import checks
from course_utils.grading import grade_paths, main
from course_utils.grading.extra import extra_version, load_extra_checks, registered
from course_utils.grading.gradebook import Gradebook
from course_utils.grading.results import QuestionGrade, SubmissionGrade
from tests.repo_support import ROOT

EXAMPLE = ROOT / "tests" / "extra_checks" / "set01_hidden.py"
SAMPLES = ROOT / "tests" / "sample_submissions"


def _file(tmp_path: Path, body: str, name: str = "extra.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_loading_keeps_the_public_registry_clean() -> None:
    public = set(checks.REGISTRY)
    extra = load_extra_checks([EXAMPLE])
    assert list(extra) == ["1.101", "1.102", "1.103"]
    assert set(checks.REGISTRY) == public
    assert [q.answer for q in extra.values()] == ["team0_share", "slope_influence", "infer_salary"]
    assert load_extra_checks([EXAMPLE]) == extra  # cached: the file runs once per process


def test_an_extra_question_runs_through_the_same_check_code() -> None:
    import numpy as np

    q = load_extra_checks([EXAMPLE])["1.102"]

    def right(x, y):
        full = np.polyfit(x, y, 1)[0]
        return np.array(
            [full - np.polyfit(np.delete(x, i), np.delete(y, i), 1)[0] for i in range(len(x))]
        )

    with registered(q):
        assert checks.run_check("1.102", right).passed
        assert not checks.run_check("1.102", lambda x, y: x).passed
    assert "1.102" not in checks.REGISTRY


@pytest.mark.parametrize(
    "body, words",
    [
        ("from course_utils.checks import question\n"
         "@question('1.1', points=1, answer='f', task='t')\ndef _c(f):\n    pass\n",
         ["registered twice", "N.101"]),
        ("x = 1\n", ["registers no question"]),
        ("def broken(:\n", ["failed", "SyntaxError"]),
        ("from course_utils.checks import question\n"
         "@question('42.101', points=1, answer='f', task='t')\ndef _c(f):\n    pass\n",
         ["set 42", "no questions of its own"]),
    ],
    ids=["collides", "empty", "syntax-error", "unknown-set"],
)  # fmt: skip
def test_bad_extra_files_are_refused_with_a_reason(tmp_path, body, words) -> None:
    public = set(checks.REGISTRY)
    with pytest.raises(ValueError) as err:
        load_extra_checks([_file(tmp_path, body)])
    for word in words:
        assert word in str(err.value), err.value
    assert set(checks.REGISTRY) == public
    with pytest.raises(ValueError, match="cannot read"):
        load_extra_checks([tmp_path / "missing.py"])


def test_the_version_follows_the_extra_files(tmp_path) -> None:
    path = _file(tmp_path, "A = 1\n")
    first = extra_version("abc", [path])
    assert first.startswith("abc+extra:") and extra_version("abc") == "abc"
    path.write_text("A = 2\n", encoding="utf-8")
    assert extra_version("abc", [path]) != first


def _grade(student: str, extra_points: int) -> SubmissionGrade:
    g = SubmissionGrade(f"{student}.ipynb", student, 1, sha256="ab", sandbox="none")
    g.add_question(QuestionGrade("1.1", "team0_share", 2, 2, "passed"))
    g.add_extra(
        QuestionGrade("1.101", "team0_share", extra_points, 1, "passed" if extra_points else "failed",
                      "40 players, power = 1", hint="Use the power.")
    )  # fmt: skip
    return g


def test_gradebook_columns_and_feedback(tmp_path) -> None:
    book = Gradebook(csv_path=tmp_path / "g.csv", json_path=tmp_path / "g.json")
    book.add(_grade("alice", 1))
    book.add(_grade("bob", 0))
    plain = SubmissionGrade("carol.ipynb", "carol", 1)
    plain.add_question(QuestionGrade("1.1", "team0_share", 0, 2, "failed"))
    book.add(plain)
    book.write()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text(encoding="utf-8"))))
    header = (tmp_path / "g.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:5] == ["file", "student", "name", "set", "1.1"]
    assert header[5:7] == ["extra:1.101", "extra_total"]  # after the public questions
    by = {r["student"]: r for r in rows}
    assert (by["alice"]["total"], by["alice"]["extra:1.101"], by["alice"]["extra_max"]) == (
        "2",
        "1",
        "1",
    )
    assert (by["bob"]["extra:1.101"], by["bob"]["extra_total"]) == ("0", "0")
    assert by["carol"]["extra:1.101"] == by["carol"]["extra_total"] == ""
    doc = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert doc["extra_questions"] == ["1.101"]
    # a gradebook read back (CSV only) and written again keeps the extra columns
    again = Gradebook(csv_path=tmp_path / "g.csv")
    again.load()
    assert again.csv_text() == (tmp_path / "g.csv").read_bytes().decode("utf-8")
    # feedback: nothing about the hidden question unless asked
    bob = _grade("bob", 0)
    assert "1.101" not in bob.feedback() and "Additional" not in bob.feedback()
    assert "Additional checks: 0/1 points" in bob.feedback(extra=True)
    assert "Use the power." in bob.feedback(extra=True)
    # a row without extras looks as before
    assert "extra" not in plain.to_dict()


def test_feedback_extra_needs_a_feedback_folder(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main([str(SAMPLES), "--feedback-extra"])
    assert stop.value.code == 2
    assert "--feedback-extra needs --feedback" in capsys.readouterr().err


def test_a_broken_extra_file_stops_the_run_before_grading(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main([str(SAMPLES), "--extra-checks", str(_file(tmp_path, "x = 1\n"))])
    assert stop.value.code == 2 and "registers no question" in capsys.readouterr().err


@pytest.mark.slow
def test_sample_submissions_with_extra_checks(tmp_path) -> None:
    """The three samples, graded with the example file: public totals unchanged, extra columns
    filled, the closure model of 1.103 sent to the kernel, feedback silent about the extras."""
    public = {q.qid for q in checks.questions(1)}
    grades = {
        g.student: g
        for g in grade_paths(
            [SAMPLES],
            timeout=120,
            jobs=2,
            csv_path=tmp_path / "g.csv",
            feedback_dir=tmp_path / "feedback",
            extra_checks=[EXAMPLE],
        )
    }
    assert {k: v.total for k, v in grades.items()} == {
        "alice_full": 11,
        "bob_partial": 2,
        "carol_broken": 5,
    }
    status = {k: {q.qid: q.status for q in v.extra} for k, v in grades.items()}
    assert status["alice_full"] == {"1.101": "passed", "1.102": "passed", "1.103": "passed"}
    assert status["bob_partial"]["1.103"] == "not implemented"
    assert status["carol_broken"]["1.102"] == "missing"
    assert grades["alice_full"].extra_total == grades["alice_full"].extra_max == 4
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "g.csv", encoding="utf-8"))}
    assert rows["alice_full"]["extra_total"] == "4" and rows["alice_full"]["total"] == "11"
    assert rows["carol_broken"]["extra:1.102"] == "0"
    assert all("+extra:" in r["checks_version"] for r in rows.values())
    for path in (tmp_path / "feedback").glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        assert "1.10" not in text and "Additional checks" not in text, text
    assert {q.qid for q in checks.questions(1)} == public


def test_extra_checks_and_ray_together_are_refused_clearly(tmp_path) -> None:
    """Ray workers would see another checks_version and lack the file: refused before grading."""
    import pytest

    from course_utils.grading import grade_paths

    nb = tmp_path / "a.ipynb"
    nb.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be combined with --ray"):
        grade_paths([str(nb)], ray="auto", extra_checks=["whatever.py"])
