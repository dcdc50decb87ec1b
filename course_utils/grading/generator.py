"""The exercise generator: ``exercises/`` from ``solutions/`` (``make exercises``)::

    python -m course_utils.grading generate solutions exercises [--check]

Every block between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
``raise NotImplementedError("Exercise N.k: <task>")`` (same indentation, the code around it is
kept); outputs, execution counts and widget state are cleared, and ``metadata.course_grade.set``
records the exercise set (the grader grades each notebook under that set). ``--check`` writes
nothing and exits 1 when ``exercises/`` is not what the generator makes.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from .files import atomic_write_text

__all__ = [
    "BEGIN",
    "END",
    "exercise_notebook",
    "generate",
    "set_number_from_name",
    "strip_solution",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
_SET_FROM_NAME = re.compile(r"^(\d+)_")


def set_number_from_name(path: str | Path) -> int | None:
    """``N`` of a file named ``NN_topic.ipynb``, else ``None``."""
    m = _SET_FROM_NAME.match(Path(path).name)
    return int(m.group(1)) if m else None


def _question_for_cell(source: str, next_sources: list[str], set_number: int | None) -> Any:
    """The registered question a solution cell answers: the function it defines, else the next
    ``check("N.k", ...)`` call."""
    from .. import checks

    pool = checks.questions(set_number) if set_number is not None else checks.questions()
    head = source.split(BEGIN, 1)[0]
    defined = re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", head, flags=re.M)
    for name in reversed(defined):
        hits = [q for q in pool if q.answer == name]
        if len(hits) == 1:
            return hits[0]
    for nxt in next_sources:
        m = re.search(r"""\bcheck\(\s*["'](\d+\.\d+)["']""", nxt)
        if m and m.group(1) in checks.REGISTRY:
            return checks.REGISTRY[m.group(1)]
        if BEGIN in nxt:
            break
    return None


def strip_solution(source: str, message: str) -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of ``source`` by
    ``raise NotImplementedError(message)`` at the indentation of the ``BEGIN`` line.

    Parameters
    ----------
    source : str
        A code cell's source.
    message : str
        The exception message, e.g. ``"Exercise 1.1: return ..."``.

    Examples
    --------
    >>> src = "def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION\\n"
    >>> print(strip_solution(src, "Exercise 9.1: double x"))
    def f(x):
        raise NotImplementedError("Exercise 9.1: double x")
    <BLANKLINE>
    >>> strip_solution("# BEGIN SOLUTION\\nx = 1\\n", "m")
    Traceback (most recent call last):
    ...
    ValueError: source has a '# BEGIN SOLUTION' line 1 without a matching '# END SOLUTION'
    """
    out: list[str] = []
    inside: int | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise ValueError(f"source has a nested {BEGIN!r} at line {number}")
            inside = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({json.dumps(message)})\n")
        elif stripped == END:
            if inside is None:
                raise ValueError(f"source has an {END!r} line {number} without a {BEGIN!r}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise ValueError(f"source has a {BEGIN!r} line {inside} without a matching {END!r}")
    text = "".join(out)
    return text if source.endswith("\n") else text.rstrip("\n")


def exercise_notebook(nb: Any, *, set_number: int | None = None, name: str = "notebook") -> Any:
    """The exercise version of a solutions notebook (a new nbformat node; ``nb`` is untouched).

    Solution blocks become ``raise NotImplementedError("Exercise N.k: <task>")``, with the task
    taken from the registered question the cell answers; outputs, execution counts, widget state
    and execution metadata are cleared, and ``metadata.course_grade.set`` records the set.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    if set_number is not None:
        nb.metadata["course_grade"] = {"set": int(set_number)}
    sources = ["".join(c.source) if isinstance(c.source, list) else c.source for c in nb.cells]
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        src = sources[i]
        if BEGIN not in src:
            continue
        if cell.cell_type != "code":
            raise ValueError(
                f"{name}: cell {i} is {cell.cell_type}; solution blocks go in code cells"
            )
        q = _question_for_cell(src, sources[i + 1 : i + 4], set_number)
        if q is None:
            raise ValueError(
                f"{name}: cell {i} holds a solution but neither defines a registered answer nor is "
                f'followed by check("N.k", ...); register the question in course_utils/checks first'
            )
        cell.source = strip_solution(src, f"Exercise {q.qid}: {q.task}")
    return nb


def _dump(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def generate(src_dir: str | Path, dst_dir: str | Path, *, check: bool = False) -> list[Path]:
    """Write ``dst_dir/NN_topic.ipynb`` for every ``src_dir/NN_topic.ipynb``.

    Parameters
    ----------
    src_dir, dst_dir : path
        ``solutions`` and ``exercises``.
    check : bool, default False
        Write nothing; return the exercise files that are missing or differ from the output.

    Returns
    -------
    list of Path
        Files written (or, with ``check=True``, files that are out of date). Exercise files without
        a solution counterpart are reported as out of date by ``check`` and removed otherwise.
    """
    import nbformat

    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    if not src_dir.is_dir():
        raise ValueError(f"src_dir must be an existing folder of solution notebooks, got {src_dir}")
    sources = sorted(src_dir.glob("*.ipynb"))
    changed: list[Path] = []
    if not check:
        dst_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        nb = nbformat.read(src, as_version=4)
        text = _dump(exercise_notebook(nb, set_number=set_number_from_name(src), name=src.name))
        dst = dst_dir / src.name
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        changed.append(dst)
        if not check:
            atomic_write_text(dst, text)
    stale = sorted(set(dst_dir.glob("*.ipynb")) - {dst_dir / s.name for s in sources})
    for extra in stale:
        changed.append(extra)
        if not check:
            extra.unlink()
    return changed


_set_number_from_name = set_number_from_name  # the name tests/test_exercises.py imports
