""" "Check yourself" multiple-choice questions.

A :class:`Question` is plain data plus :meth:`Question.answer`, so it can be tested headless; the
widget only wires radio buttons to that method. Without a Jupyter front end (a plain Python
process, a doctest, a terminal) :func:`quiz` prints the questions as text instead.

So that a quiz cell does not give its answers away at a glance, the notebooks name the correct
option by a **key** rather than by its position: ``correct=answer_key("4")`` is a short token
(``"k"`` and 8 hex digits of a hash of the option's text) that only matches when the question is
built, and their explanations (which usually restate the answer) are stored ROT13-encoded behind
``"rot13:"``. Reordering the options keeps the key valid; editing the correct option's text makes
the question refuse the old key. The plain forms (an ``int``, a plain explanation) still work:
write a quiz plainly, then ``python -m course_utils.quiz --encode notebooks/NN_topic.ipynb``
rewrites its ``Question(...)`` calls in place. ``python -m course_utils.quiz NOTEBOOK`` prints a
notebook's quiz with its answers, for the instructor.

Example
-------
>>> q = Question("2 + 2 = ?", ["3", "4"], correct=1, explanation="Count them.")
>>> q.answer(0)
(False, 'Not quite. Count them.')
>>> q.answer(1)
(True, 'Correct! Count them.')
>>> answer_key("4")
'k82258243'
>>> Question("2 + 2 = ?", ["3", "4"], correct="k82258243").correct
1
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Question",
    "answer_key",
    "as_text",
    "encode_explanation",
    "encode_notebook",
    "has_frontend",
    "questions_in",
    "quiz",
]

_KEY = re.compile(r"^k[0-9a-f]{8}$")


def answer_key(option: str) -> str:
    """The key that names ``option`` as the correct answer: ``Question(..., correct=key)``.

    Examples
    --------
    >>> answer_key("Less noise")
    'k706c3ec5'
    """
    return "k" + hashlib.sha256(f"course-quiz:{option}".encode()).hexdigest()[:8]


def encode_explanation(text: str) -> str:
    """An explanation as the notebooks store it: ``"rot13:"`` and the ROT13 of ``text``.

    Examples
    --------
    >>> encode_explanation("Count them.")
    'rot13:Pbhag gurz.'
    >>> Question("2 + 2 = ?", ["3", "4"], 1, "rot13:Pbhag gurz.").explanation
    'Count them.'
    """
    return "rot13:" + codecs.encode(text, "rot13")


@dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    Parameters
    ----------
    prompt : str
        The question.
    options : sequence of str
        At least two choices.
    correct : int or str
        Index of the correct choice, or its key ``answer_key(option)`` (the notebooks' form: the
        cell source then does not show the answer). After construction it is always the index.
    explanation : str
        Why the correct choice is right; shown with every answer. ``"rot13:..."`` is decoded
        (the notebooks' form, see :func:`encode_explanation`).
    """

    prompt: str
    options: Sequence[str]
    correct: int | str
    explanation: str = ""

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError(f"a question needs at least two options, got {len(self.options)}")
        if self.explanation.startswith("rot13:"):
            object.__setattr__(
                self, "explanation", codecs.decode(self.explanation[len("rot13:") :], "rot13")
            )
        if isinstance(self.correct, str):
            if not _KEY.match(self.correct):
                raise ValueError(
                    f"correct must be an option index or a key from answer_key(option) (k and 8 "
                    f"hex digits), got {self.correct!r}"
                )
            hits = [j for j, opt in enumerate(self.options) if answer_key(opt) == self.correct]
            if len(hits) != 1:
                raise ValueError(
                    f"correct key {self.correct!r} matches no option of {self.prompt[:60]!r}; if "
                    "the correct option's text changed, make a new key with answer_key(option)"
                )
            object.__setattr__(self, "correct", hits[0])
        if isinstance(self.correct, bool) or not isinstance(self.correct, int):
            raise ValueError(f"correct must be an int or a key, got {self.correct!r}")
        if not 0 <= self.correct < len(self.options):
            raise ValueError(
                f"correct must index options (0..{len(self.options) - 1}), got {self.correct}"
            )

    def answer(self, choice: int) -> tuple[bool, str]:
        """Grade ``choice`` (an option index): ``(is_correct, feedback)``."""
        if not 0 <= choice < len(self.options):
            raise ValueError(
                f"choice must index options (0..{len(self.options) - 1}), got {choice}"
            )
        if choice == self.correct:
            return True, f"Correct! {self.explanation}".strip()
        return False, f"Not quite. {self.explanation}".strip()


def as_text(questions: Sequence[Question]) -> str:
    """The questions as plain text, answers at the end (for print and static pages).

    Examples
    --------
    >>> print(as_text([Question("Pick b", ["a", "b"], 1)]))
    Q1. Pick b
      a) a
      b) b
    <BLANKLINE>
    Answers: Q1 b
    """
    lines = []
    for i, q in enumerate(questions, 1):
        lines.append(f"Q{i}. {q.prompt}")
        lines += [f"  {chr(97 + j)}) {opt}" for j, opt in enumerate(q.options)]
    lines.append("")
    lines.append(
        "Answers: " + ", ".join(f"Q{i} {chr(97 + q.correct)}" for i, q in enumerate(questions, 1))
    )
    return "\n".join(lines)


def has_frontend() -> bool:
    """True inside a Jupyter kernel (where widgets can render), False in plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _widget(q: Question, number: int) -> Any:
    import ipywidgets as w

    radios = w.RadioButtons(
        options=[(opt, j) for j, opt in enumerate(q.options)],
        value=None,
        layout=w.Layout(width="auto"),
    )
    button = w.Button(description="Check", button_style="primary")
    feedback = w.HTML()

    def on_click(_: Any) -> None:
        if radios.value is None:
            feedback.value = "<i>Pick an answer first.</i>"
            return
        ok, text = q.answer(radios.value)
        colour = "#009E73" if ok else "#D55E00"  # Okabe-Ito green / vermillion
        mark = "&#10004;" if ok else "&#10008;"
        feedback.value = f'<span style="color:{colour}"><b>{mark}</b> {text}</span>'

    button.on_click(on_click)
    box = w.VBox([w.HTML(f"<b>Q{number}.</b> {q.prompt}"), radios, button, feedback])
    box.add_class("course-quiz")
    # Exposed for headless tests: set radios.value, then call box.check().
    box.radios, box.feedback, box.check = radios, feedback, lambda: on_click(None)
    return box


def quiz(questions: Sequence[Question], *, widget: bool | None = None) -> Any:
    """Show questions as radio-button widgets with feedback, or print them as text.

    Parameters
    ----------
    questions : sequence of Question
    widget : bool, optional
        Force widgets (True) or text (False); by default widgets when a front end is present.

    Returns
    -------
    ipywidgets.VBox or None
        The widget box (so tests can drive it), or None when printed as text.

    Examples
    --------
    >>> quiz([Question("Pick b", ["a", "b"], 1)], widget=False)
    Q1. Pick b
      a) a
      b) b
    <BLANKLINE>
    Answers: Q1 b
    """
    questions = list(questions)
    if not questions:
        raise ValueError("quiz needs at least one question")
    if widget is None:
        widget = has_frontend()
    if not widget:
        print(as_text(questions))
        return None
    import ipywidgets as w
    from IPython.display import display

    box = w.VBox([_widget(q, i) for i, q in enumerate(questions, 1)])
    display(box)

    def _show_once(**kwargs: Any) -> None:
        if box._quiz_shown:  # quiz() has shown it; as the cell's value it would appear twice
            box._quiz_shown = False
            return
        display(box._repr_mimebundle_(), raw=True)

    box._quiz_shown = True
    box._ipython_display_ = _show_once
    return box


def questions_in(path: str | Path) -> list[Question]:
    """The check-yourself questions of a notebook, read from its quiz cells' source.

    Every ``Question(...)`` call whose arguments are literals is rebuilt (keys are resolved), in
    the order of the notebook; nothing in the notebook is executed.

    Examples
    --------
    >>> root = Path(__file__).resolve().parents[1]
    >>> qs = questions_in(root / "notebooks" / "03_dp_mechanisms.ipynb")
    >>> len(qs) >= 3 and all(0 <= q.correct < len(q.options) for q in qs)
    True
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out: list[Question] = []
    for cell in nb.get("cells", []):
        src = "".join(cell.get("source", ""))
        if cell.get("cell_type") != "code" or "Question(" not in src:
            continue
        found = []
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Question":
                try:
                    args = [ast.literal_eval(a) for a in node.args]
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                except ValueError:
                    continue
                found.append((node.lineno, node.col_offset, Question(*args, **kwargs)))
        out += [q for _, _, q in sorted(found, key=lambda t: (t[0], t[1]))]
    return out


def _literal_spans(src: str) -> list[tuple[int, int, str]]:
    """(start, end, new text) of every plain ``correct`` and explanation in ``Question`` calls."""
    lines = src.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def at(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8"))

    spans = []
    for node in ast.walk(ast.parse(src)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Question"):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        options = ast.literal_eval(node.args[1] if len(node.args) > 1 else keywords["options"])
        correct = keywords.get("correct", node.args[2] if len(node.args) > 2 else None)
        explain = keywords.get("explanation", node.args[3] if len(node.args) > 3 else None)
        for target, make in (
            (correct, lambda v, o=options: answer_key(o[v]) if isinstance(v, int) else None),
            (explain, lambda v: None if v.startswith("rot13:") else encode_explanation(v)),
        ):
            if target is None:
                continue
            new = make(ast.literal_eval(target))
            if new is not None:
                span = (
                    at(target.lineno, target.col_offset),
                    at(target.end_lineno, target.end_col_offset),
                )
                spans.append((*span, json.dumps(new)))
    return spans


def encode_notebook(path: str | Path) -> int:
    """Rewrite the quiz cells of a notebook in the encoded form: each plain ``correct`` index
    becomes its :func:`answer_key`, each plain explanation its :func:`encode_explanation`. Other
    cells are left byte for byte; returns the number of values encoded.

    The notebook is read and written with :mod:`nbformat` (the course's format); the questions
    it defines are the same before and after (checked).
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    before = questions_in(path)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "Question(" not in cell.source:
            continue
        src = cell.source
        for start, end, text in sorted(_literal_spans(src), reverse=True):
            src = src[:start] + text + src[end:]
            count += 1
        cell.source = src
    if count:
        nbformat.write(nb, path)
        if questions_in(path) != before:  # pragma: no cover - a bug in the rewriting
            raise RuntimeError(f"encoding changed the questions of {path}")
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_utils.quiz [--encode] NOTEBOOK ...``: print each notebook's quiz with
    its answers, or (``--encode``) rewrite its quiz cells in the encoded form."""
    paths = list(sys.argv[1:] if argv is None else argv)
    encode = "--encode" in paths
    paths = [p for p in paths if p != "--encode"]
    if not paths:
        print("usage: python -m course_utils.quiz [--encode] NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    if encode:
        for path in paths:
            print(f"{path}: {encode_notebook(path)} value(s) encoded")
        return 0
    for path in paths:
        print(f"== {path}")
        qs = questions_in(path)
        print(as_text(qs) if qs else "(no quiz)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
