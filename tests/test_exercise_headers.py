"""Every exercise set states its time and points, and they agree with the checks' registry.

The points of a question live in one place, its ``@question(..., points=N)`` in
``course_utils/checks/exNN_topic.py``. Other texts repeat them: the header cell of
``solutions/NN_topic.ipynb`` (copied into ``exercises/`` by the generator), each question's
``## Exercise N.k - ... (N points)`` heading, and the lab plan in INSTRUCTORS.md. These tests fail when one of them drifts, and say what to write instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils.checks import GradedQuestion, questions
from tests.repo_support import ROOT

SETS = sorted(p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
HEADER = re.compile(r"^Time: about (\d+) minutes\. Points: (.+)\.$", re.M)
POINT = re.compile(r"(\d+\.\d+) \((\d+)\)")


def set_number(name: str) -> int:
    return int(name[:2])


def header_line(qs: list[GradedQuestion], minutes: int | str) -> str:
    """The header line a set with these questions should carry."""
    points = ", ".join(f"{q.qid} ({q.points})" for q in qs)
    return f"Time: about {minutes} minutes. Points: {points}."


def parse_header(path: Path) -> tuple[int, list[tuple[str, int]]]:
    """(minutes, [(qid, points), ...]) from the header cell of an exercise notebook."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{shown}: the first cell must be the set's markdown header"
    )
    match = HEADER.search(first.source)
    assert match, (
        f"{shown}: the header must end with a line like\n"
        f"{header_line(questions(set_number(path.name)), 'N')}"
    )
    rest = POINT.sub("", match.group(2)).replace(",", "").strip()
    assert not rest, f"{shown}: cannot read {rest!r} in the Points list"
    return int(match.group(1)), [(qid, int(p)) for qid, p in POINT.findall(match.group(2))]


def test_there_are_exercise_sets() -> None:
    assert SETS and all((ROOT / "exercises" / name).exists() for name in SETS)


@pytest.mark.parametrize("name", SETS)
def test_header_points_match_the_registry(name: str) -> None:
    qs = questions(set_number(name))
    assert qs, f"no checks registered for set {set_number(name)}"
    for folder in ("solutions", "exercises"):
        minutes, points = parse_header(ROOT / folder / name)
        want = [(q.qid, q.points) for q in qs]
        assert points == want, (
            f"{folder}/{name} says {points}, the registry {want}; write:\n"
            f"{header_line(qs, minutes)}"
            + ("\n(then run make exercises)" if folder == "solutions" else "")
        )
        assert 10 <= minutes <= 120, f"{folder}/{name}: {minutes} minutes?"


QUESTION_HEADING = re.compile(r"^#+ Exercise (\d+\.\d+)\b.*\((\d+) points?\)\s*$", re.M)


@pytest.mark.parametrize("name", SETS)
def test_each_question_heading_states_its_registered_points(name: str) -> None:
    """Every registered question has one "## Exercise N.k - ... (P points)" heading, P as registered."""
    nb = nbformat.read(ROOT / "solutions" / name, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    found = [(qid, int(p)) for qid, p in QUESTION_HEADING.findall(text)]
    want = [(q.qid, q.points) for q in questions(set_number(name))]
    assert found == want, (
        f"solutions/{name}: question headings say {found}, the registry {want} "
        "(write '(1 point)' or '(N points)' at the end of each '## Exercise N.k - ...' heading)"
    )


def instructors_rows() -> dict[int, tuple[int, int, int]]:
    """Set number -> (questions, minutes, points) from INSTRUCTORS.md's lab-plan table."""
    text = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.search(
            r"`exercises/(\d\d)_\w+\.ipynb` \((\d+)(?: questions)?(?:; [^)]*)?\) \| ~(\d+) min[^|]*\| (\d+) \|$",
            line,
        )
        if m:
            rows[int(m.group(1))] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    return rows


def test_instructors_lab_plan_matches_headers_and_registry() -> None:
    rows = instructors_rows()
    assert set(rows) == {set_number(n) for n in SETS}, "INSTRUCTORS.md's table must list every set"
    for name in SETS:
        n = set_number(name)
        qs = questions(n)
        minutes, _ = parse_header(ROOT / "solutions" / name)
        want = (len(qs), minutes, sum(q.points for q in qs))
        assert rows[n] == want, (
            f"INSTRUCTORS.md lists set {n:02d} as (questions, minutes, points) = {rows[n]}; "
            f"the header and registry say {want}"
        )


def test_a_stale_header_is_caught(tmp_path: Path) -> None:
    """Negative control: raising one question's points must break the header check."""
    nb = nbformat.read(ROOT / "solutions" / SETS[0], as_version=4)
    minutes, points = parse_header(ROOT / "solutions" / SETS[0])
    qid, p = points[0]
    nb.cells[0].source = nb.cells[0].source.replace(f"{qid} ({p})", f"{qid} ({p + 1})")
    nbformat.write(nb, tmp_path / SETS[0])
    _, changed = parse_header(tmp_path / SETS[0])
    assert changed != [(q.qid, q.points) for q in questions(set_number(SETS[0]))]
    nb.cells[0].source = nb.cells[0].source.replace("Time: about", "About")
    nbformat.write(nb, tmp_path / SETS[0])
    with pytest.raises(AssertionError, match="must end with a line like"):
        parse_header(tmp_path / SETS[0])
