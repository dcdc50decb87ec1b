"""Autograder speed: grading one submission versus just executing it, and a class graded end to end.

Rows:

* ``execute solutions/01 (plain nbclient)`` - a fresh kernel running every cell, nothing else.
* ``grade solutions/01 (course-grade)`` - the same notebook through :func:`grade_submission`
  (fresh kernel, audit prologue, self-check cells skipped, checks from a fresh import).
* ``grading overhead`` - the ratio of the two (below 1 is possible: the grader skips the
  self-check cells and runs each check once).
* ``class of N graded, 2 workers`` - N copies of the sample full submission graded with
  ``jobs=2``, wall-clock seconds, and the seconds per submission.

``COURSE_BENCH_CLASS`` sets N (default 30). Timings are wall-clock and include kernel start-up.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "01_motivation.ipynb"
SAMPLE = ROOT / "tests" / "sample_submissions" / "alice_full.ipynb"


def _plain_execute(path: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": cwd}},
        ).execute()
    return time.perf_counter() - start


def run() -> list[dict]:
    from course_utils.grading import grade_paths, grade_submission

    repeats = 2
    plain = statistics.median(_plain_execute(NOTEBOOK) for _ in range(repeats))
    graded = []
    for _ in range(repeats):
        start = time.perf_counter()
        g = grade_submission(NOTEBOOK, set_number=1)
        graded.append(time.perf_counter() - start)
        assert g.total == g.max_total, g.table()
    grade = statistics.median(graded)
    n = int(os.environ.get("COURSE_BENCH_CLASS", "30"))
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            shutil.copy(SAMPLE, Path(tmp) / f"student_{i:02d}.ipynb")
        start = time.perf_counter()
        grades = grade_paths([tmp], set_number=1, jobs=2, csv_path=Path(tmp) / "grades.csv")
        wall = time.perf_counter() - start
    full = sum(g.total == g.max_total for g in grades)
    return [
        {
            "name": "execute solutions/01 (plain nbclient)",
            "value": round(plain, 2),
            "unit": "s",
            "note": f"median of {repeats}, fresh kernel",
        },
        {
            "name": "grade solutions/01 (course-grade)",
            "value": round(grade, 2),
            "unit": "s",
            "note": f"median of {repeats}, fresh kernel + checks",
        },
        {
            "name": "grading overhead",
            "value": round(grade / plain, 2),
            "unit": "x",
            "note": "grade time / plain execution time",
        },
        {
            "name": f"class of {n} graded, 2 workers",
            "value": round(wall, 1),
            "unit": "s",
            "note": f"{full}/{n} full marks; {wall / n:.1f} s per submission",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
