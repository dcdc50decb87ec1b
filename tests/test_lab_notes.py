"""tools/lab_notes.py: every notebook of the course has lab notes whose generated misconceptions
list matches the checks' hints today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.checks import questions
from course_utils.nav import COURSE
from tests.repo_support import ROOT, load_tool

lab_notes = load_tool("lab_notes")


def test_every_notebook_has_up_to_date_lab_notes() -> None:
    assert lab_notes.problems() == []


def test_check_mode_of_the_command_line() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lab_notes.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


def test_instructors_guide_links_every_lab_notes_file() -> None:
    guide = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    for name, _, _ in COURSE:
        assert f"instructors/{Path(name).stem}.md" in guide, name


def test_missing_and_stale_notes_are_reported(tmp_path: Path, monkeypatch) -> None:
    for name, _, _ in COURSE:
        (tmp_path / f"{Path(name).stem}.md").write_text(
            lab_notes.notes_path(name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    monkeypatch.setattr(lab_notes, "INSTRUCTORS", tmp_path)
    assert lab_notes.problems() == []
    first, second = (Path(n).stem for n, _, _ in COURSE[:2])
    (tmp_path / f"{first}.md").unlink()
    stale = tmp_path / f"{second}.md"
    stale.write_text(stale.read_text().replace("points):", "pts):", 1), encoding="utf-8")
    found = lab_notes.problems()
    assert any(first in p and "missing" in p for p in found)
    assert any(second in p and "stale" in p for p in found)
    stale.write_text("# notes without the generated block\n", encoding="utf-8")
    assert any(second in p and "exactly once" in p for p in lab_notes.problems())


@pytest.mark.parametrize("name", [n for n, _, _ in COURSE if lab_notes.check_module(n)])
def test_ast_reading_agrees_with_the_registry(name: str) -> None:
    """What the tool reads from the source is what the checks register when imported."""
    notes = sorted(
        (
            q
            for module in lab_notes.check_modules(name)
            for q in lab_notes.question_notes(module.read_text(encoding="utf-8"))
        ),
        key=lambda q: tuple(int(p) for p in q.qid.split(".")),
    )
    registered = questions(int(name[:2]))
    assert [(q.qid, q.points, q.answer, q.task) for q in notes] == [
        (q.qid, q.points, q.answer, q.task) for q in registered
    ]
    assert sum(len(q.hints) for q in notes) >= 2 * len(notes), "hints were not found"


SOURCE = """
from . import expect, expect_number, question

def _floats(value, what, hint):
    return value

@question("9.1", points=2, answer="f", task="return twice x")
def _check(f):
    expect(f(1) == 2, "f(1) is 2", hint="Multiply by 2, do not add 2.")
    got = expect_number(f(2), "one number", "Return a single number.")
    _floats(got, "floats", "Use floats throughout.")
    hint_general = "Write return 2 * x."
    hint = {1: "You returned x itself.", 3: "You added one."}.get(got, hint_general)
    mistakes = [(3.0, "adds one", "Double the value instead of adding one."),
                (1.0, "identity", "Do not return the input unchanged.")]
    for wrong, what, hint in mistakes:
        expect(got != wrong, what, hint=hint)
    for name, hint in {"a": "A first dict hint.", "b": "Another dict hint."}.items():
        pass
    wrap = f"Your output matches {name}. {hint}"
    expect(False, "x", hint=wrap)
    hint = ("Specific advice first. " + hint_general) if got else "Fallback advice here."
    hint = next((h for h in []), "The default of next().")
    expect(False, "y", hint="ok")

def _not_a_check():
    expect(False, "z", hint="Never listed: not a question.")
"""


def test_every_form_of_hint_is_found_and_glue_is_dropped() -> None:
    (q,) = lab_notes.question_notes(SOURCE)
    assert (q.qid, q.points, q.answer, q.task) == ("9.1", 2, "f", "return twice x")
    texts = [h.text for h in q.hints]
    for want in [
        "Multiply by 2, do not add 2.",
        "Return a single number.",
        "Use floats throughout.",
        "Write return 2 * x.",
        "You returned x itself.",
        "Double the value instead of adding one.",
        "A first dict hint.",
        "You added one.",
        "Specific advice first.",
        "Fallback advice here.",
        "The default of next().",
    ]:
        assert want in texts, want
    assert ("adds one", "Double the value instead of adding one.") in [
        (h.case, h.text) for h in q.hints
    ]
    assert ("f(1) is 2", "Multiply by 2, do not add 2.") in [(h.case, h.text) for h in q.hints]
    assert not any("matches" in t for t in texts), "an f-string that only wraps a hint is glue"
    assert "ok" not in texts and not any("Never listed" in t for t in texts)
    assert len(texts) == len(set(texts))


LATE_TABLE_SOURCE = """
@question("9.2", points=1, answer="g", task="return three times x")
def _check_g(g):
    def fail(what, hint):
        expect(False, what, hint=hint)

    mistakes = [(1, "first", "From the literal table.")]
    mistakes += [(2, "second", "From an augmented assignment.")]
    mistakes.append((3, "third", "From an append."))
    for wrong, what, hint in mistakes:
        if g(1) == wrong:
            expect(False, what, hint=hint)
    fail("the value", "Through a local helper.")
"""


def test_hints_from_tables_built_in_steps_and_local_helpers_are_found() -> None:
    """A table grown by ``+=`` or ``.append`` and a check's nested ``fail(what, hint)`` still give
    their hints to the lab notes (the checks refactor of issue 17 writes both)."""
    (q,) = lab_notes.question_notes(LATE_TABLE_SOURCE)
    pairs = [(h.case, h.text) for h in q.hints]
    for want in [
        ("first", "From the literal table."),
        ("second", "From an augmented assignment."),
        ("third", "From an append."),
    ]:
        assert want in pairs, want
    assert "Through a local helper." in [h.text for h in q.hints]


def test_a_reproducibility_hint_keeps_its_case() -> None:
    """``expect_reproducible(draw, what, ..., hint=...)`` names its failed case as ``expect`` does."""
    source = """
@question("9.3", points=1, answer="h", task="return noise")
def _check_h(h):
    expect_reproducible(h, "same seed, same output", seeds=[1], hint="Use the rng you are given.")
"""
    (q,) = lab_notes.question_notes(source)
    assert [(h.case, h.text) for h in q.hints] == [
        ("same seed, same output", "Use the rng you are given.")
    ]


def test_docstring_example() -> None:
    import doctest

    assert doctest.testmod(lab_notes).failed == 0


def test_a_notebook_without_exercises_says_so() -> None:
    block = lab_notes.block("05b_flower.ipynb")
    assert block.startswith(lab_notes.BEGIN) and block.endswith(lab_notes.END)
    assert "no exercise set of its own" in block


def test_exam_bank_has_four_answered_questions_per_notebook() -> None:
    import re

    text = (ROOT / "instructors" / "exam_bank.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (\d\d[a-z]?) [^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    for name, _, _ in COURSE:
        number = name.split("_", 1)[0]
        assert number in sections, f"exam_bank.md has no section '## {number} ...'"
        items = re.split(r"^\d+\. ", sections[number], flags=re.M)[1:]
        assert len(items) >= 4, f"{number}: {len(items)} questions, want at least 4"
        for item in items:
            assert "*Answer:*" in item and re.search(rf"\*Tests: {number}\s", item), item[:80]


def test_project_brief_is_linked_and_has_a_rubric_over_100_points() -> None:
    import re

    guide = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    assert "instructors/project.md" in guide and "instructors/exam_bank.md" in guide
    brief = (ROOT / "instructors" / "project.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| (\d+) \|", brief, re.M)
    assert sum(map(int, rows)) == 100 and len(rows) >= 6
    for topic in ("LiRA", "RMIA", "Clopper-Pearson", "canary", "AuditReport", "unlearning"):
        assert topic.lower() in brief.lower(), topic
