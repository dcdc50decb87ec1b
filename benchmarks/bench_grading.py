"""Autograder speed: the sandbox's cost, and a class graded end to end.

Rows:

* ``execute solutions/NN (plain nbclient)`` - a fresh kernel running every cell, nothing else.
* ``grade solutions/NN, sandbox bwrap`` / ``..., sandbox none`` - the same notebook through
  :func:`grade_submission` (fresh kernel in a private folder, audit prologue, self-check cells
  skipped, every check run in the grader against the answer proxy).
* ``grading overhead, bwrap`` - graded (bwrap) / plain; the goal is <= 1.3x. ``sandbox cost`` -
  bwrap / none, what bubblewrap alone adds.
* ``class of N graded, jobs 2, sandbox ...`` - N copies of the sample full submission of set 01
  graded with ``jobs=2``, wall-clock seconds (goal < 3 min for 30), bwrap and none side by side;
  and a smaller class of set 06 (torch in every kernel and in the checks).
* ``grading throughput, ...`` - submissions per minute for a class of M copies of the sample
  (``COURSE_BENCH_RAY_CLASS``, default 12, 0 skips): local ``jobs 1`` and ``jobs 2`` against
  ``--ray`` with a local Ray instance of 1 and 2 worker CPUs, Ray's start-up excluded (it is
  the row ``Ray start-up``: ``ray.init`` of a private loopback-only instance, median of the two
  starts). ``seconds per submission per worker`` is the figure INSTRUCTORS projects a cluster
  night from.

NN is 01 (numpy) and 06 (torch). Runs of the three ways are interleaved over the repeats so that
drift of a shared machine is not charged to one of them. ``COURSE_BENCH_CLASS`` sets N (default
30), ``COURSE_BENCH_TORCH_CLASS`` the set-06 class (default 6, 0 skips it). Timings are
wall-clock and include kernel start-up.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def _grade(path: Path, sandbox: str) -> float:
    from course_utils.grading import grade_submission

    start = time.perf_counter()
    g = grade_submission(path, sandbox=sandbox)
    assert g.total == g.max_total, g.table()
    return time.perf_counter() - start


def _class(source: Path, n: int, sandbox: str) -> tuple[float, int]:
    from course_utils.grading import grade_paths

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            shutil.copy(source, Path(tmp) / f"student_{i:02d}.ipynb")
        start = time.perf_counter()
        grades = grade_paths([tmp], jobs=2, csv_path=Path(tmp) / "grades.csv", sandbox=sandbox)
        wall = time.perf_counter() - start
    return wall, sum(g.total == g.max_total for g in grades)


def run() -> list[dict]:
    from course_utils.grading import bwrap_problem

    sandboxes = ["none"] if bwrap_problem() else ["bwrap", "none"]
    repeats = 2
    rows: list[dict] = []
    load = f"load {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    for number in ("01", "06"):
        path = next((ROOT / "solutions").glob(f"{number}_*.ipynb"))
        times: dict[str, list[float]] = {"plain": [], **{s: [] for s in sandboxes}}
        for _ in range(repeats):
            times["plain"].append(_plain_execute(path))
            for s in sandboxes:
                times[s].append(_grade(path, s))
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append(
            {
                "name": f"execute solutions/{number} (plain nbclient)",
                "value": round(med["plain"], 2),
                "unit": "s",
                "note": f"median of {repeats}, fresh kernel; {load}",
            }
        )
        for s in sandboxes:
            rows.append(
                {
                    "name": f"grade solutions/{number}, sandbox {s}",
                    "value": round(med[s], 2),
                    "unit": "s",
                    "note": f"median of {repeats}, kernel + every check",
                }
            )
        best = sandboxes[0]
        rows.append(
            {
                "name": f"grading overhead solutions/{number}, sandbox {best}",
                "value": round(med[best] / med["plain"], 2),
                "unit": "x",
                "note": "graded / plain execution; goal <= 1.3x",
            }
        )
        if len(sandboxes) == 2:
            rows.append(
                {
                    "name": f"sandbox cost solutions/{number}",
                    "value": round(med["bwrap"] / med["none"], 2),
                    "unit": "x",
                    "note": "graded with bwrap / graded without a sandbox",
                }
            )
    n = int(os.environ.get("COURSE_BENCH_CLASS", "30"))
    for s in sandboxes:
        wall, full = _class(SAMPLE, n, s)
        rows.append(
            {
                "name": f"class of {n} (set 01) graded, jobs 2, sandbox {s}",
                "value": round(wall, 1),
                "unit": "s",
                "note": f"{full}/{n} full marks; {wall / n:.1f} s per submission; goal < 180 s",
            }
        )
    rows += ray_rows()
    m = int(os.environ.get("COURSE_BENCH_TORCH_CLASS", "6"))
    if m:
        source = next((ROOT / "solutions").glob("06_*.ipynb"))
        wall, full = _class(source, m, sandboxes[0])
        rows.append(
            {
                "name": f"class of {m} (set 06, torch) graded, jobs 2, sandbox {sandboxes[0]}",
                "value": round(wall, 1),
                "unit": "s",
                "note": f"{full}/{m} full marks; {wall / m:.1f} s per submission",
            }
        )
    return rows


def _throughput(path: Path, n: int, *, jobs: int, ray: bool) -> tuple[float, float]:
    """Submissions per minute grading ``n`` copies of ``path`` with ``jobs`` local workers, or
    on the Ray instance already started in this process (``ray=True``), and the median of the
    rows' own ``seconds`` (one submission, as its worker timed it)."""
    from course_utils.grading import grade_paths

    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            shutil.copy(path, Path(tmp) / f"student_{i:02d}.ipynb")
        start = time.perf_counter()
        grades = grade_paths([tmp], jobs=jobs, ray="auto" if ray else None)
        wall = time.perf_counter() - start
    assert len(grades) == n and all(g.total == g.max_total for g in grades), [
        (g.path, g.errors) for g in grades if g.total != g.max_total
    ]
    return 60.0 * n / wall, statistics.median(g.seconds for g in grades)


def _gradebook_write(rows: int = 5_000) -> float:
    """Seconds to rewrite a CSV + JSON gradebook of ``rows`` set-01 rows (the driver does this
    after each batch of results; with --ray it is paced so that it cannot fall behind)."""
    from course_utils.grading import Gradebook, QuestionGrade, SubmissionGrade

    with tempfile.TemporaryDirectory() as tmp:
        book = Gradebook(csv_path=Path(tmp) / "g.csv", json_path=Path(tmp) / "g.json")
        for i in range(rows):
            g = SubmissionGrade(f"s{i:05d}.ipynb", f"s{i:05d}", 1, sha256="0" * 64, seconds=3.0)
            for qid in ("1.1", "1.2", "1.3", "1.4"):
                g.add_question(
                    QuestionGrade(qid, "f", 0, 2, "failed", "a case", "a hint", "1", "2")
                )
            book.add(g)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            book.write()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def ray_rows(n: int | None = None) -> list[dict]:
    """Local processes against Ray workers on this machine, and Ray's start-up cost."""
    from course_utils.grading.distributed import ray_session

    n = int(os.environ.get("COURSE_BENCH_RAY_CLASS", "12")) if n is None else n
    if n <= 0:
        return []
    load = f"load {os.getloadavg()[0]:.1f} at start" if hasattr(os, "getloadavg") else ""
    per_min: dict[str, float] = {}
    each: dict[str, float] = {}
    starts: list[float] = []
    saved = os.environ.pop("RAY_ADDRESS", None)  # always a private local instance here
    try:
        for workers in (1, 2):  # interleaved: local, then Ray with as many workers
            key = f"jobs {workers}"
            per_min[key], each[key] = _throughput(SAMPLE, n, jobs=workers, ray=False)
            with ray_session("auto", num_cpus=workers, start_attempts=3) as session:
                starts.append(session.start_seconds)
                key = f"Ray {workers}"
                per_min[key], each[key] = _throughput(SAMPLE, n, jobs=workers, ray=True)
    finally:
        if saved is not None:
            os.environ["RAY_ADDRESS"] = saved
    rows = []
    for name, value in per_min.items():
        kind = (
            f"{name[4:]} Ray worker(s), start-up excluded"
            if name.startswith("Ray")
            else f"{name} (local processes)"
        )
        rows.append(
            {
                "name": f"grading throughput, {kind}",
                "value": round(value, 1),
                "unit": "submissions/min",
                "note": f"{n} copies of the sample full submission (set 01), median "
                f"{each[name]:.1f} s per row; {load}",
            }
        )
    rows.append(
        {
            "name": "Ray start-up (local instance, ray.init)",
            "value": round(statistics.median(starts), 1),
            "unit": "s",
            "note": f"median of {len(starts)}: {', '.join(f'{s:.1f}' for s in starts)} s; "
            "paid once per run",
        }
    )
    rows.append(
        {
            "name": "gradebook rewrite, 5,000 rows (CSV + JSON)",
            "value": round(_gradebook_write(), 2),
            "unit": "s",
            "note": "median of 3; the driver's cost per write, paced to <= 1/5 of its time",
        }
    )
    rows.append(
        {
            "name": "seconds per submission per worker (Ray, 1 worker)",
            "value": round(60.0 / per_min["Ray 1"], 2),
            "unit": "s",
            "note": f"set 01, wall-clock incl. queueing and worker start (a row alone: "
            f"{each['Ray 1']:.1f} s); basis of the cluster projection in INSTRUCTORS",
        }
    )
    return rows


if __name__ == "__main__":
    import sys

    for row in ray_rows() if sys.argv[1:] == ["ray"] else run():  # `ray`: only the Ray rows
        print(row)
