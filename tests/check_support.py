"""Helpers shared by the exercise-check tests (``tests/test_every_question.py`` and
``tests/test_exNN_checks.py``).

Those tests run the reference answers of the ``solutions/NN_topic.ipynb`` notebooks through their
checks (they must pass) and feed them particular answers (a correct one written another way must
pass; a mistake must fail, with a hint aimed at it). The three helpers here do the repetitive part.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from course_utils.checks import CheckResult, run_check
from tests.repo_support import ROOT

__all__ = ["ROOT", "fails_with", "passes", "solution_namespace"]

_MARKER = "# BEGIN SOLUTION"


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
    ns: dict[str, Any] = dict(preloaded)
    if with_imports:  # the notebook's own import lines, as its setup cell runs them
        code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        lines = [ln for c in code for ln in c.splitlines() if ln.startswith(("import ", "from "))]
        exec("\n".join(line for line in lines if not line.rstrip().endswith("(")), ns)
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and _MARKER in src:
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
