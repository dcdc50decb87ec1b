"""What the docs promise about graded exercises (issue 23): the README does not send learners to
the checks' code and says where a failed check's details come from; INSTRUCTORS documents the
challenge questions and the instructor-only checks; the command line lists its options."""

from __future__ import annotations

from course_utils import checks
from course_utils.grading.cli import _parser
from tests.repo_support import ROOT


def test_readme_points_learners_to_the_check_box_not_the_checks_code() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "course_utils/checks" not in text, "README must not invite learners into the checks"
    assert "Everything you need to fix an answer is in that box" in text
    assert "--extra-checks" in text and "challenge" in text


def test_instructors_document_challenges_and_extra_checks() -> None:
    text = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    assert "### Instructor-only checks (`--extra-checks`)" in text
    for needle in (
        "--feedback-extra",
        "extra:1.101",
        "N.101",
        "tests/extra_checks/set01_hidden.py",
    ):
        assert needle in text, needle
    for n in range(1, 11):
        qs = checks.questions(n)
        last = qs[-1]
        assert last.points >= 4, f"set {n:02d} ends with {last.qid} worth {last.points}"
        assert f"| {n:02d} | {last.qid} " in text, f"INSTRUCTORS' challenge table lacks {last.qid}"


def test_the_command_line_lists_the_extra_options() -> None:
    help_text = _parser().format_help()
    assert "--extra-checks" in help_text and "--feedback-extra" in help_text
