"""Helpers shared by the exercise-check tests (``tests/test_every_question.py`` and
``tests/test_exNN_checks.py``) and the grading tests that build submissions from the solutions.

The check tests run the reference answers of the ``solutions/NN_topic.ipynb`` notebooks through
their checks (they must pass) and feed them particular answers (a correct one written another way
must pass; a mistake must fail, with a hint aimed at it). ``solution_namespace``, ``passes`` and
``fails_with`` do the repetitive part; ``answer_cells`` and ``import_lines`` are what a solutions
notebook's reference answers are, as text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from course_utils.checks import CheckResult, run_check
from tests.repo_support import ROOT

__all__ = ["ROOT", "answer_cells", "fails_with", "import_lines", "passes", "solution_namespace"]

_MARKER = "# BEGIN SOLUTION"


def _code_cells(set_name_or_path: str | Path) -> list[str]:
    """The sources of a solutions notebook's code cells, in order."""
    path = Path(set_name_or_path)
    if not path.is_file():
        name = path.name if path.suffix == ".ipynb" else f"{path.name}.ipynb"
        path = ROOT / "solutions" / name
    if not path.is_file():
        raise ValueError(
            f"set_name_or_path must name a solutions notebook such as '01_motivation' or a path "
            f"to an .ipynb file, got {str(set_name_or_path)!r}"
        )
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def answer_cells(set_name_or_path: str | Path) -> list[str]:
    """The reference answers of a solutions notebook: every code cell holding
    ``# BEGIN SOLUTION``, in notebook order, markers included.

    ``set_name_or_path`` is as for :func:`solution_namespace`.

    Examples
    --------
    >>> cells = answer_cells("01_motivation")
    >>> all("# BEGIN SOLUTION" in c for c in cells) and "def team0_share(" in cells[0]
    True
    """
    return [src for src in _code_cells(set_name_or_path) if _MARKER in src]


def import_lines(set_name_or_path: str | Path) -> list[str]:
    """A solutions notebook's one-line ``import`` / ``from`` lines, from every code cell in order
    (the first line of a multi-line import, ending in ``(``, is left out): what its setup cell
    gives the answer cells.

    ``set_name_or_path`` is as for :func:`solution_namespace`.

    Examples
    --------
    >>> "import numpy as np" in import_lines("01_motivation")
    True
    """
    lines = [
        line
        for src in _code_cells(set_name_or_path)
        for line in src.splitlines()
        if line.startswith(("import ", "from "))
    ]
    return [line for line in lines if not line.rstrip().endswith("(")]


def solution_namespace(
    set_name_or_path: str | Path, *, with_imports: bool = False, **preloaded: Any
) -> dict[str, Any]:
    """Execute the answer cells of a solutions notebook and return the names they define.

    Only code cells holding ``# BEGIN SOLUTION`` run (the reference answers), in notebook order,
    in one fresh namespace; the rest of the notebook (setup, demos, checks) is skipped.

    Parameters
    ----------
    set_name_or_path : str or Path
        ``"01_motivation"`` or ``"01_motivation.ipynb"`` (looked up in ``solutions/``), or a path
        to a notebook file.
    with_imports : bool, default False
        First run the notebook's own one-line ``import`` / ``from`` lines (from every code cell),
        so the answer cells find what the setup cell gives them.
    **preloaded
        Names the answer cells use without importing them themselves (``np=np``...), put in the
        namespace before the first cell runs.

    Returns
    -------
    dict
        The namespace after the answer cells ran (it also holds ``preloaded``).

    Raises
    ------
    ValueError
        If ``set_name_or_path`` names no existing notebook.

    Examples
    --------
    >>> import numpy as np
    >>> sol = solution_namespace("01_motivation", np=np)
    >>> callable(sol["team0_share"])
    True
    """
    answers = answer_cells(set_name_or_path)
    ns: dict[str, Any] = dict(preloaded)
    if with_imports:  # the notebook's own import lines, as its setup cell runs them
        exec("\n".join(import_lines(set_name_or_path)), ns)
    for src in answers:
        exec(src, ns)
    return ns


def passes(qid: str, answer: Any) -> CheckResult:
    """Assert that the check of question ``qid`` passes ``answer``; return its result.

    Examples
    --------
    >>> import numpy as np
    >>> sol = solution_namespace("01_motivation", np=np)
    >>> passes("1.1", sol["team0_share"]).points
    2
    """
    r = run_check(qid, answer)
    assert r.passed, str(r)
    return r


def fails_with(qid: str, answer: Any, *hint_words: str, search_got: bool = False) -> CheckResult:
    """Assert that the check of question ``qid`` fails ``answer`` and says every ``hint_words``.

    The failure must be a real one (status ``"failed"``, 0 points; not a crash and not "not
    implemented"), and each hint word must appear, case-insensitively, in the result's message
    or hint.

    Parameters
    ----------
    qid : str
        Question id such as ``"2.1"``.
    answer : object
        The wrong answer (usually a function).
    *hint_words : str
        Words the feedback must contain.
    search_got : bool, default False
        Also look for the words in the result's ``got`` field (the value the answer produced).

    Returns
    -------
    CheckResult
        The failed result, for further asserts.

    Examples
    --------
    >>> r = fails_with("1.1", lambda positions, teams, point, power=3.0: 2.0)
    >>> r.status, r.points
    ('failed', 0)
    """
    r = run_check(qid, answer)
    assert r.status == "failed" and r.points == 0, str(r)
    parts = (r.message, r.hint, str(r.got)) if search_got else (r.message, r.hint)
    text = " ".join(parts).lower()
    for word in hint_words:
        assert word.lower() in text, f"hint lacks {word!r}: {r}"
    return r
