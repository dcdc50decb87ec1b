"""What every challenge question's test (``tests/test_challenge_NN.py``) asserts, in one place.

A challenge test lists its answers as Python *source*, the way a learner would type them (so they
can also be sent to a real kernel, and so that the wrong-answer suite of issue 28 can take them
over as they are):

* ``WRONG``: at least :data:`MIN_WRONG` plausible wrong answers, each a :class:`Wrong` with the
  phrase its feedback must contain - the hint has to name *that* mistake;
* ``RIGHT``: at least :data:`MIN_RIGHT` unusual but correct answers (:class:`Right`), written
  differently from the reference in ``solutions/``.

:func:`challenge_tests` checks that the question is registered as a challenge (its reference
answer and the blank exercise are tested with every other question in
``tests/test_every_question.py``); the wrong and right answers run in the wrong-answer suite
(``tests/wrong_answers/exNN.py`` takes them over with ``with_challenge``, so
``tests/test_wrong_answers.py``, its meta-test and the misconceptions table cover the challenges).
"""

from __future__ import annotations

import linecache
import textwrap
from dataclasses import dataclass
from typing import Any

from course_utils.checks import get_question

__all__ = ["MIN_RIGHT", "MIN_WRONG", "Right", "Wrong", "build", "challenge_tests"]

MIN_WRONG = 4
MIN_RIGHT = 2


@dataclass(frozen=True)
class Wrong:
    """A plausible wrong answer: what was done wrong, the phrase its feedback must contain
    (case-insensitive, in the message or the hint) and its source."""

    mistake: str
    phrase: str
    source: str


@dataclass(frozen=True)
class Right:
    """An unusual but correct answer (it must pass)."""

    how: str
    source: str


_counter = 0


def build(prelude: str, name: str, source: str, label: str = "answer") -> Any:
    """Execute ``prelude + source`` in a fresh namespace and return the object called ``name``.

    The source is registered with :mod:`linecache`, so a traceback shows the answer's own lines.
    """
    global _counter
    _counter += 1
    code = textwrap.dedent(prelude).strip() + "\n\n" + textwrap.dedent(source).strip() + "\n"
    filename = f"<{label} {_counter}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    ns: dict[str, Any] = {"__name__": f"challenge_answer_{_counter}"}
    exec(compile(code, filename, "exec"), ns)  # noqa: S102 - test answers
    assert name in ns, f"{label}: the source does not define {name!r}"
    return ns[name]


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())[:40]


def challenge_tests(
    qid: str,
    set_name: str,
    *,
    prelude: str,
    wrong: list[Wrong],
    right: list[Right],
    points_at_least: int = 4,
) -> dict[str, Any]:
    """The pytest functions of one challenge question; put them in the test module with
    ``globals().update(challenge_tests(...))``.

    Parameters
    ----------
    qid : str
        The question, e.g. ``"3.6"``.
    set_name : str
        Its solutions notebook, e.g. ``"03_dp_mechanisms"`` (the reference answer is read there).
    prelude : str
        Imports the answers need (those of the exercise notebook's setup cell).
    wrong, right : list
        The wrong and the unusual-but-correct answers.
    points_at_least : int
        A challenge is worth at least this many points.
    """
    q = get_question(qid)

    def test_registered_as_a_challenge() -> None:
        assert q.points >= points_at_least, f"{qid} is worth {q.points} points"
        assert len(wrong) >= MIN_WRONG and len(right) >= MIN_RIGHT
        mistakes = [w.mistake for w in wrong]
        assert len(set(mistakes)) == len(mistakes), "each wrong answer states its own mistake"

    return {
        "test_registered_as_a_challenge": test_registered_as_a_challenge,
    }


def _names(prelude: str) -> dict[str, Any]:
    """The names the prelude defines (the reference answer cells use them without importing)."""
    ns: dict[str, Any] = {}
    exec(textwrap.dedent(prelude), ns)  # noqa: S102 - the test's own imports
    ns.pop("__builtins__", None)
    return ns
