""" "Check yourself" multiple-choice questions.

A :class:`Question` is plain data plus :meth:`Question.answer`, so it can be tested headless; the
widget only wires radio buttons to that method. Without a Jupyter front end (a plain Python
process, a doctest, a terminal) :func:`quiz` prints the questions as text instead.

Example
-------
>>> q = Question("2 + 2 = ?", ["3", "4"], correct=1, explanation="Count them.")
>>> q.answer(0)
(False, 'Not quite. Count them.')
>>> q.answer(1)
(True, 'Correct! Count them.')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Question", "quiz", "as_text", "has_frontend"]


@dataclass(frozen=True)
class Question:
    """One multiple-choice question.

    Parameters
    ----------
    prompt : str
        The question.
    options : sequence of str
        At least two choices.
    correct : int
        Index of the correct choice.
    explanation : str
        Why the correct choice is right; shown with every answer.
    """

    prompt: str
    options: Sequence[str]
    correct: int
    explanation: str = ""

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError(f"a question needs at least two options, got {len(self.options)}")
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
