"""``course-grade`` (and ``python -m course_utils.grading``): the command line.

    course-grade PATH [PATH ...] [--set N] [--timeout 120] [--check-timeout 30] [--jobs 2]
                 [--csv F] [--json F] [--feedback DIR] [--sandbox auto|bwrap|none]
                 [--memory 2GiB] [--resume] [--ray auto|ADDRESS] [--extra-checks FILE.py]
                 [--feedback-extra] [-q]
    course-grade generate SRC DST [--check]
    course-grade export GRADEBOOK --roster CSV (--canvas F | --moodle F) [...]   (see .lms)
    course-grade similar FOLDER [--html F] [--csv F] [...]                     (see .similarity)

Exit status: 0 when grading ran (whatever the scores), 2 for usage errors, 130 after Ctrl-C,
1 when ``--ray`` could not start or reach Ray.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections import defaultdict

from . import classroom
from .batch import collect, grade_paths
from .distributed import RayUnavailableError, resolve_address
from .generator import generate
from .results import SubmissionGrade
from .sandbox import SANDBOXES, parse_memory

__all__ = ["main"]

_EPILOG = """\
sandbox (--sandbox, default auto = bwrap where it works, else none with a warning):
  bwrap  each notebook runs in bubblewrap: the system, the Python environment and
         course_utils read-only; solutions/, the other submissions, the gradebook and
         your home folder invisible; a private writable folder with a copy of the
         submission; no network (not even 127.0.0.1); its own PID namespace (every
         process it starts dies with it); limits on memory per process (--memory),
         CPU time and file size.
  none   no isolation: the notebook runs as you and can read, write and connect to
         what you can. It still runs from a private copy in a temporary folder,
         with the same limits, and its processes are killed afterwards.
  Either way the checks run in the grader's own process: a notebook can only
  earn points by making its functions return right answers. The sandbox does not
  stop a notebook from using much CPU within its time limits, from filling its
  private folder up to the file-size limit, or (when the grader runs as root)
  from starting many processes; grade on a machine you can spare.

gradebook (--csv/--json): one row per notebook, keyed by its path relative to the
graded folder; rows not regraded are kept; written atomically, keeping the file's
permissions, after every notebook and on Ctrl-C. --resume skips notebooks whose
sha256 and checks_version already have a row.

ray (--ray): one Ray task per notebook, the same sandboxed grading on whichever
machine Ray picks; the notebooks travel through Ray's object store (no shared
folder needed) and the gradebook is still written here only. "auto" joins the
cluster in RAY_ADDRESS, or starts a private Ray on this machine (loopback only,
--jobs workers, removed afterwards); HOST:6379 or ray://HOST:10001 joins that
cluster, whose nodes need the same course installed. The sandbox is chosen on
each node. A worker that dies is retried (twice); Ctrl-C and --resume as above.

instructor-only checks (--extra-checks FILE.py): questions registered with
@course_utils.checks.question in a file you never hand out (ids N.101 and up).
They run after the set's own questions, in the grader's process, and land in
their own columns (extra:N.k, extra_total, extra_max), outside total and max.
Feedback files leave them out unless --feedback-extra. See INSTRUCTORS.md.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="course-grade",
        description="Grade exercise notebooks: run each in a fresh sandboxed kernel, then run the "
        "registered checks of its exercise set against its answers. "
        "(Also: `course-grade generate SRC DST` writes the exercises.)",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="submitted .ipynb files or folders of them"
    )
    p.add_argument(
        "--set",
        dest="set_number",
        type=int,
        default=None,
        help="grade only this exercise set (default: each notebook's own set)",
    )
    p.add_argument("--any-set", action="store_true", help=argparse.SUPPRESS)  # the default now
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per notebook (default 120)"
    )
    p.add_argument(
        "--check-timeout",
        type=float,
        default=30.0,
        help="seconds the answer's code may run per question (default 30)",
    )
    p.add_argument("--jobs", type=int, default=2, help="notebooks graded in parallel (default 2)")
    p.add_argument("--csv", metavar="FILE", default=None, help="write the gradebook as CSV")
    p.add_argument("--json", metavar="FILE", default=None, help="write the gradebook as JSON")
    p.add_argument(
        "--feedback",
        metavar="DIR",
        default=None,
        help="write one feedback file per notebook into DIR (same sub-folders)",
    )
    p.add_argument(
        "--sandbox",
        choices=SANDBOXES,
        default="auto",
        help="isolation of each notebook's kernel (default auto; see below)",
    )
    p.add_argument(
        "--memory",
        default="2GiB",
        help="memory limit per kernel process, e.g. 2GiB, 1500M, none (default 2GiB)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip notebooks already graded from the same file by the same checks",
    )
    p.add_argument(
        "--ray",
        metavar="auto|ADDRESS",
        default=None,
        help="grade on a Ray cluster, one task per notebook (see below)",
    )
    p.add_argument(
        "--extra-checks",
        metavar="FILE.py",
        action="append",
        default=[],
        help="instructor-only checks (@question in a file never handed out; repeatable): graded "
        "into gradebook columns extra:N.k, outside the total",
    )
    p.add_argument(
        "--feedback-extra",
        action="store_true",
        help="show the --extra-checks results in the --feedback files too (default: not at all)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    classroom.add_options(p)
    return p


def _generate_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m course_utils.grading generate",
        description="Write exercises/ from solutions/ (solution blocks replaced by NotImplementedError).",
    )
    p.add_argument("src", help="folder of solution notebooks (solutions)")
    p.add_argument("dst", help="folder for the exercise notebooks (exercises)")
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if dst is out of date"
    )
    a = p.parse_args(argv)
    try:
        changed = generate(a.src, a.dst, check=a.check)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if a.check:
        for c in changed:
            print(f"out of date: {c}")
        return 1 if changed else 0
    for c in changed:
        print(f"wrote {c}" if c.exists() else f"removed {c}")
    if not changed:
        print(f"{a.dst} is up to date")
    return 0


def summary(grades: list[SubmissionGrade]) -> list[str]:
    """One line per exercise set, e.g. ``set 01: 3 graded, mean 4.7/7, 0 flagged, 1 with errors``."""
    by_set: dict[object, list[SubmissionGrade]] = defaultdict(list)
    for g in grades:
        by_set[g.set_number].append(g)
    lines = []
    for s in sorted(by_set, key=lambda v: (v is None, v if isinstance(v, int) else 0)):
        gs = by_set[s]
        name = f"set {s:02d}" if isinstance(s, int) else "set ?"
        maxes = sorted({g.max_total for g in gs})
        mean = sum(g.total for g in gs) / len(gs)
        of = f"/{maxes[0]}" if len(maxes) == 1 else ""
        lines.append(
            f"{name}: {len(gs)} graded, mean {mean:.1f}{of}, {sum(bool(g.flags) for g in gs)} flagged, "
            f"{sum(bool(g.errors) for g in gs)} with errors"
        )
    return lines


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``course-grade`` (and of ``python -m course_utils.grading``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # a terminal that is not UTF-8 must not stop a batch
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    if argv and argv[0] == "generate":
        return _generate_main(argv[1:])
    if argv and argv[0] in ("export", "similar"):
        from . import lms, similarity

        return (lms if argv[0] == "export" else similarity).main(argv[1:])
    p = _parser()
    a = p.parse_args(argv)
    if a.any_set and a.set_number is not None:
        p.error("--set and --any-set exclude each other")
    if a.feedback_extra and not a.feedback:
        p.error("--feedback-extra needs --feedback DIR")
    if a.timeout <= 0 or a.check_timeout <= 0 or a.jobs < 1:
        p.error("--timeout and --check-timeout must be positive and --jobs at least 1")
    try:
        memory = parse_memory(a.memory)
    except ValueError as exc:
        p.error(str(exc))
    if a.ray is not None:
        try:
            resolve_address(a.ray)
        except ValueError as exc:
            p.error(str(exc))
        if a.extra_checks:
            p.error("--extra-checks cannot be combined with --ray yet: grade the extras locally")
    klass = classroom.ClassRun.from_args(a, p.error)
    files, problems = collect(a.paths, klass.root)
    klass.identify(files)
    for prob in problems:
        print(f"warning: {prob}", file=sys.stderr)
    if not files:
        p.error("no notebooks to grade")

    def echo(g: SubmissionGrade) -> None:
        if not a.quiet:
            print(g.table(), flush=True)
            print(flush=True)

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _terminate)  # like Ctrl-C: keep the gradebook
    except ValueError:  # not the main thread
        previous = None
    grades: list[SubmissionGrade] = []
    try:
        grades = grade_paths(
            a.paths,
            set_number=a.set_number,
            timeout=a.timeout,
            check_timeout=a.check_timeout,
            jobs=a.jobs,
            csv_path=a.csv,
            json_path=a.json,
            feedback_dir=a.feedback,
            echo=echo,
            sandbox=a.sandbox,
            memory=memory,
            resume=a.resume,
            root=klass.root,
            book=klass.book(csv_path=a.csv, json_path=a.json),
            ray=a.ray,
            extra_checks=a.extra_checks,
            feedback_extra=a.feedback_extra,
        )
    except ValueError as exc:
        p.error(str(exc))
    except RayUnavailableError as exc:  # --ray: Ray did not start, or no cluster answered
        print(f"course-grade: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        books = ", ".join(x for x in (a.csv, a.json) if x)
        print(
            "\ninterrupted: kernels stopped" + (f"; gradebook kept: {books}" if books else ""),
            file=sys.stderr,
            flush=True,
        )
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    for line in summary(grades) + klass.report(grades, klass.last_book):
        print(line)
    books = ", ".join(x for x in (a.csv, a.json) if x)
    sandboxes = ", ".join(sorted({g.sandbox for g in grades if g.sandbox})) or "-"
    print(
        f"graded {len(grades)} submission(s) (sandbox: {sandboxes})"
        + (f"; gradebook: {books}" if books else "")
    )
    return 0
