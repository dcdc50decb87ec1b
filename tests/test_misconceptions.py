"""INSTRUCTORS.md's table of mistakes the checks catch is the one tools/misconceptions.py makes
from the wrong-answer suite (run ``python tools/misconceptions.py --write`` after changing it)."""

from __future__ import annotations

from tests.repo_support import load_tool


def test_instructors_table_is_up_to_date() -> None:
    tool = load_tool("misconceptions")
    assert tool.current() is not None, "INSTRUCTORS.md lost the misconceptions markers"
    assert tool.current() == tool.render(), (
        "INSTRUCTORS.md is stale: run `python tools/misconceptions.py --write`"
    )
    assert tool.main(["--check"]) == 0


def test_the_table_lists_every_wrong_answer_once() -> None:
    from tests.wrong_answers import load_sets

    rows = [
        line
        for line in load_tool("misconceptions").render().splitlines()
        if line.startswith("| ") and "|---" not in line
    ]
    rows = [r for r in rows if not r.startswith("| Q |")]
    n_wrong = sum(len(v) for s in load_sets().values() for v in s.wrong.values())
    assert len(rows) == n_wrong
