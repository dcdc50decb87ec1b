"""The wrong-answer suite: plausible wrong answers and unusual correct answers per question.

One module per exercise set, ``exNN.py``, defines ``SET = AnswerSet(number, prelude, wrong,
right)``: for every question of the set at least four :class:`Wrong` answers (each with the
phrase its feedback must contain, so that the hint names *that* mistake) and two :class:`Right`
answers written differently from ``solutions/``. Answers are Python source, executed after the
set's ``prelude`` (the imports of the exercise notebook's setup cell), so they read like what a
learner types and can be sent to a kernel as they are.

Many wrong answers are a correct answer with one mistake; such an answer is written as
``edited(BASE, old, new)`` - the correct source ``BASE`` with the text ``old`` replaced by ``new`` -
which shows the mistake exactly, and the suite checks that ``BASE`` itself passes.

``tests/test_wrong_answers.py`` runs them all and fails when a registered question has fewer than
four wrong or two right answers; ``tools/misconceptions.py`` turns the suite into the table of
mistakes in INSTRUCTORS.md. To cover a new set 08, add ``tests/wrong_answers/ex08.py``.
"""

from __future__ import annotations

import importlib
import linecache
import pkgutil
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AnswerSet",
    "Edited",
    "Right",
    "Wrong",
    "build",
    "edited",
    "load_sets",
    "with_challenge",
]

MIN_WRONG = 4
MIN_RIGHT = 2


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong answer.

    Attributes
    ----------
    mistake : str
        What the learner did wrong, in a few words (a row of the misconceptions table).
    phrase : str
        A distinctive phrase the result's message or hint must contain (case-insensitive).
    source : str
        Python source defining the answer under the question's answer name.
    status : str
        The expected result status: ``"failed"`` (default) or ``"timeout"``.
    timeout : float, optional
        Time limit for the check (only for answers that never finish).
    regression : str
        Which reported defect this answer guards against (e.g. ``"#28"``), if any.
    """

    mistake: str
    phrase: str
    source: str
    status: str = "failed"
    timeout: float | None = None
    regression: str = ""


@dataclass(frozen=True)
class Right:
    """An unusual but correct answer (it must pass); ``regression`` as for :class:`Wrong`."""

    how: str
    source: str
    regression: str = ""


@dataclass(frozen=True)
class AnswerSet:
    """The suite of one exercise set."""

    number: int
    prelude: str
    wrong: dict[str, list[Wrong]] = field(default_factory=dict)
    right: dict[str, list[Right]] = field(default_factory=dict)


class Edited(str):
    """The source of a wrong answer made by :func:`edited`; ``base`` is the correct source it was
    made from (the suite checks that it passes)."""

    base: str


def edited(base: str, old: str, new: str, *further: tuple[str, str]) -> Edited:
    r"""``base`` with the text ``old`` replaced by ``new``, then each ``(old, new)`` of ``further``.

    Each ``old`` must occur exactly once in the source it is replaced in, so an edit can neither
    miss (after the base changed) nor hit more than the one place it names.

    Examples
    --------
    >>> src = edited("def f(x):\n    return x + 1\n", "x + 1", "x - 1")
    >>> print(src, end="")
    def f(x):
        return x - 1
    >>> src.base
    'def f(x):\n    return x + 1\n'
    >>> edited("y = x + x", "x", "z")
    Traceback (most recent call last):
    ...
    ValueError: 'x' occurs 2 times in the base source, not once
    """
    source = base
    for o, n in ((old, new), *further):
        count = source.count(o)
        if count != 1 or not o:
            raise ValueError(f"{o!r} occurs {count} times in the base source, not once")
        source = source.replace(o, n)
    out = Edited(source)
    out.base = base
    return out


def with_challenge(answer_set: AnswerSet, qid: str, challenge: Any) -> AnswerSet:
    """``answer_set`` plus the answers of a challenge question, read from its test module
    (``tests/test_challenge_NN.py``: ``PRELUDE``, ``WRONG``, ``RIGHT``), so the suite, its
    meta-test and the misconceptions table cover the challenge too. The challenge's own imports
    are put in front of each answer's source (its prelude may differ from the set's)."""
    prelude = textwrap.dedent(challenge.PRELUDE).strip() + "\n\n"

    def with_prelude(source: str) -> str:
        out = prelude + textwrap.dedent(source)
        if not isinstance(source, Edited):
            return out
        edited_out = Edited(out)
        edited_out.base = prelude + textwrap.dedent(source.base)
        return edited_out

    wrong = dict(answer_set.wrong)
    right = dict(answer_set.right)
    wrong[qid] = [Wrong(w.mistake, w.phrase, with_prelude(w.source)) for w in challenge.WRONG]
    right[qid] = [Right(r.how, prelude + textwrap.dedent(r.source)) for r in challenge.RIGHT]
    return AnswerSet(answer_set.number, answer_set.prelude, wrong, right)


def load_sets() -> dict[int, AnswerSet]:
    """``{set number: AnswerSet}`` of every ``exNN.py`` module in this package."""
    out: dict[int, AnswerSet] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        m = re.fullmatch(r"ex(\d+)", info.name)
        if not m:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        answers: AnswerSet = module.SET
        assert answers.number == int(m.group(1)), f"{info.name}: SET.number is {answers.number}"
        out[answers.number] = answers
    return out


_counter = 0


def build(answer_set: AnswerSet, name: str, source: str, label: str = "answer") -> Any:
    """Execute ``prelude + source`` in a fresh namespace and return the object called ``name``.

    The source is registered with :mod:`linecache` under a readable file name, so that the
    learner's line shown by a failing check is the line of this source.
    """
    global _counter
    _counter += 1
    code = textwrap.dedent(answer_set.prelude).strip() + "\n\n" + textwrap.dedent(source).strip()
    filename = f"<{label} {_counter}>"
    lines = [line + "\n" for line in code.splitlines()]
    linecache.cache[filename] = (len(code), None, lines, filename)
    ns: dict[str, Any] = {"__name__": f"wrong_answers_{_counter}"}
    exec(compile(code, filename, "exec"), ns)
    if name not in ns:
        raise AssertionError(f"{label}: the source does not define {name!r}")
    return ns[name]
