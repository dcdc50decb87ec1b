"""Quiz answers are not readable at a glance: the notebooks name the correct option by a key and
store explanations ROT13-encoded; the plain forms keep working, and the tools that need the
answers (the widget, the text rendering of the static site, the browser test, instructors) still
get them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from course_utils.quiz import (
    Question,
    answer_key,
    as_text,
    encode_explanation,
    encode_notebook,
    main,
    questions_in,
)
from tests.repo_support import ROOT, notebooks

NOTEBOOKS = notebooks("notebooks")


def test_a_key_names_an_option_wherever_it_stands() -> None:
    options = ["Nothing changes", "More noise", "Less noise"]
    key = answer_key("Less noise")
    assert key.startswith("k") and len(key) == 9 and key != answer_key("More noise")
    assert Question("Which?", options, key).correct == 2
    assert Question("Which?", options[::-1], key).correct == 0  # reordered: still right
    q = Question("Which?", options, correct=key, explanation=encode_explanation("Because."))
    assert q.answer(2) == (True, "Correct! Because.") and q.answer(0)[0] is False


def test_the_plain_form_still_works_and_bad_keys_are_refused() -> None:
    assert Question("x", ["a", "b"], 1, "plain").explanation == "plain"
    with pytest.raises(ValueError, match="answer_key"):
        Question("x", ["a", "b"], correct=answer_key("c"))  # the option's text changed
    with pytest.raises(ValueError, match="key"):
        Question("x", ["a", "b"], correct="1")
    with pytest.raises(ValueError, match="int or a key"):
        Question("x", ["a", "b"], correct=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_quiz_cell_shows_its_answers(path: Path) -> None:
    """Every Question(...) of a notebook names its answer by a key and hides its explanation."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    calls = [
        node
        for cell in nb["cells"]
        if cell["cell_type"] == "code" and "Question(" in "".join(cell["source"])
        for node in ast.walk(ast.parse("".join(cell["source"])))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Question"
    ]
    assert len(calls) >= 3, f"{path.name}: a quiz needs 3-5 questions"
    for node in calls:
        kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        args = [ast.literal_eval(a) for a in node.args]
        correct = kw.get("correct", args[2] if len(args) > 2 else None)
        explanation = kw.get("explanation", args[3] if len(args) > 3 else "")
        assert isinstance(correct, str), (
            f"{path.name}: {args[0][:50]!r} shows its answer as an index; run "
            f"python -m course_utils.quiz --encode notebooks/{path.name}"
        )
        assert not explanation or explanation.startswith("rot13:"), (
            f"{path.name}: {args[0][:50]!r} shows its explanation; run "
            f"python -m course_utils.quiz --encode notebooks/{path.name}"
        )
    assert all(0 <= q.correct < len(q.options) for q in questions_in(path))


def test_encode_notebook_rewrites_plain_quizzes_in_place(tmp_path) -> None:
    src = (
        "quiz([\n"
        "    Question('2 + 2 = ?', ['3', '4'], 1, 'Count them.'),\n"
        "    Question('Pick b', ['a', 'b', 'c'], correct=1,\n"
        "             explanation='b is the second ' 'letter.'),\n"
        "])"
    )
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(src)]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    before = questions_in(path)
    assert encode_notebook(path) == 4
    assert encode_notebook(path) == 0  # idempotent
    after = questions_in(path)
    assert after == before and after[1].explanation == "b is the second letter."
    text = nbformat.read(path, as_version=4).cells[1].source
    assert "Count them" not in text and answer_key("4") in text and "correct=1" not in text
    assert nbformat.read(path, as_version=4).cells[0].source == "x = 1"


def test_the_instructor_can_print_the_answers(capsys) -> None:
    assert main([str(ROOT / "notebooks" / "01_motivation.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "Answers: Q1 b" in out  # 01's first answer is its second option
    assert as_text(questions_in(ROOT / "notebooks" / "01_motivation.ipynb")).endswith(
        out.strip().splitlines()[-1]
    )
    assert main([]) == 2
