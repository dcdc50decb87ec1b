"""Grading a class: collect the notebooks, snapshot them, grade them ``jobs`` at a time, and keep
the gradebook complete whatever happens.

* Every notebook is first copied into a private folder (mode 0700) and hashed, so what is graded
  is what was there when the run started, whatever a submission does to its neighbours.
* Rows are keyed by the path relative to the graded folder (two ``alice.ipynb`` in two
  sub-folders are two rows and two feedback files); file names that are not UTF-8 are graded and
  shown escaped. Nothing about one file stops the batch.
* The gradebook is written by this process only, after every submission; on Ctrl-C the workers
  and their kernels are killed at once, and the gradebook keeps every finished row and every
  row of the existing gradebook that was not regraded.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..validation import check_choice
from .extra import extra_version, load_extra_checks
from .files import atomic_write_text, escape_name, sha256_bytes, short_tempdir
from .grade import checks_version, grade_submission
from .gradebook import Gradebook
from .kernel import sweep
from .results import SubmissionGrade
from .sandbox import DEFAULT_MEMORY, SANDBOXES, resolve_sandbox
from .submission import MAX_NOTEBOOK_BYTES

__all__ = ["collect", "grade_paths"]


def collect(
    paths: list[str | Path], root: str | Path | None = None
) -> tuple[list[tuple[str, Path]], list[str]]:
    """``([(row key, file)], problems)``: the ``.ipynb`` files of ``paths`` (folders searched
    recursively, ``.ipynb_checkpoints`` skipped), keyed by their path relative to ``root``
    (default: the folder that holds them all), escaped when not UTF-8. A file outside ``root``
    is a problem, not a row."""
    files: list[Path] = []
    bases: list[str] = []
    problems: list[str] = []
    for p in map(Path, paths):
        p = Path(os.path.abspath(p))
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in f.parts and f.is_file()
            )
            if not found:
                problems.append(f"{escape_name(str(p))}: no .ipynb files in this folder")
            files.extend(found)
            bases.append(str(p))
        elif p.is_file():
            files.append(p)
            bases.append(str(p.parent))
        else:
            problems.append(f"{escape_name(str(p))}: no such file or folder")
    files = list(dict.fromkeys(files))
    if not files:
        return [], problems
    base = os.path.abspath(root) if root is not None else os.path.commonpath(bases)
    if root is not None:
        outside = [f for f in files if os.path.commonpath([base, str(f)]) != base]
        problems += [f"{escape_name(str(f))}: not inside the root folder {base}" for f in outside]
        files = [f for f in files if f not in outside]
    keyed = {escape_name(Path(os.path.relpath(f, base)).as_posix()): f for f in files}
    return sorted(keyed.items()), problems


def _feedback_path(folder: Path, key: str) -> Path:
    name = key[: -len(".ipynb")] if key.endswith(".ipynb") else key
    return folder / f"{name}.txt"


def _ignore_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides what Ctrl-C means


def _error_row(task: dict[str, Any], text: str) -> SubmissionGrade:
    g = SubmissionGrade(task["key"], Path(task["key"]).stem, task.get("set_number"))
    g.sandbox, g.checks_version = task.get("sandbox", ""), task.get("version", "")
    g.add_error(text)
    return g


def _job(task: dict[str, Any]) -> SubmissionGrade:
    """Grade one staged submission (in a worker process); a grader bug becomes an error row."""
    try:
        return grade_submission(task.pop("staged"), **task)
    except Exception as exc:  # noqa: BLE001 - one broken row must not lose the batch
        return _error_row(task, f"grader error: {type(exc).__name__}: {exc}")


def _kill_pool(pool: Any) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()  # its bwrap sandboxes die with it (--die-with-parent)
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def grade_paths(
    paths: list[str | Path],
    *,
    set_number: int | None = None,
    timeout: float = 120.0,
    check_timeout: float = 30.0,
    jobs: int = 2,
    csv_path: str | Path | None = None,
    json_path: str | Path | None = None,
    feedback_dir: str | Path | None = None,
    any_set: bool = False,
    echo: Callable[[SubmissionGrade], None] | None = None,
    sandbox: str = "auto",
    memory: int | None = DEFAULT_MEMORY,
    resume: bool = False,
    warn: Callable[[str], None] | None = None,
    root: str | Path | None = None,
    book: Gradebook | None = None,
    ray: str | None = None,
    extra_checks: list[str | Path] | tuple = (),
    feedback_extra: bool = False,
) -> list[SubmissionGrade]:
    """Grade files and folders of notebooks, ``jobs`` kernels at a time.

    Each notebook is graded under the exercise set recorded in it (a folder may mix sets);
    ``set_number`` restricts grading to one set (others: "another set's notebook"). The gradebook
    (``csv_path``/``json_path``) is updated after every submission, keeping rows it does not
    regrade; with ``resume`` a submission whose file and checks are unchanged since its row was
    written is skipped. ``feedback_dir`` gets one text file per submission, mirroring the
    folders. ``echo(grade)`` is called as each finishes, ``warn(text)`` for notes (default:
    stderr). Returns the grades of this run, sorted by row key.

    ``root`` is the folder row keys are relative to (default: the one holding every file);
    ``book`` a :class:`.gradebook.Gradebook` to use instead of one made from ``csv_path`` and
    ``json_path`` (e.g. :class:`.classroom.ClassBook`, which adds names, late days and the late
    policy).
    ``ray`` (``"auto"`` or a cluster address) grades one Ray task per submission instead of
    ``jobs`` local workers (:mod:`.distributed`; ``jobs`` is then the size of a local Ray
    instance) and each worker resolves ``sandbox`` on its own machine.
    ``extra_checks`` are instructor-only check files (:mod:`.extra`), graded into their own
    columns; ``feedback_extra`` puts their results in the feedback files too.

    ``any_set`` is accepted for compatibility (every notebook is graded as its own set anyway).
    On ``KeyboardInterrupt`` the kernels are killed, the gradebook is written, and the
    interrupt is raised again.
    """
    if any_set and set_number is not None:
        raise ValueError("pass either set_number or any_set=True, not both")
    say = warn or (lambda text: print(text, file=sys.stderr, flush=True))
    if ray is not None and extra_checks:
        # the workers would need the file and would see a different checks_version; not built yet
        raise ValueError("--extra-checks cannot be combined with --ray yet: grade extras locally")
    if ray is None:
        used, note = resolve_sandbox(sandbox)
    else:  # resolved by each Ray worker, on its own machine
        used, note = check_choice(sandbox, "sandbox", SANDBOXES), None
    if note:
        say(f"course-grade: {note}")
    items, problems = collect(paths, root)
    if not items:
        raise ValueError("; ".join(problems) or "no notebooks to grade")
    if book is None and (csv_path or json_path):
        book = Gradebook(csv_path=csv_path, json_path=json_path)
    if book is not None:
        book.load()
    extra_checks = [str(Path(p).resolve()) for p in extra_checks]
    load_extra_checks(extra_checks)  # a broken file stops the run before any grading

    def current_version() -> str:
        return extra_version(checks_version(), extra_checks)

    version = current_version()
    grades: list[SubmissionGrade] = []
    workdir = tempfile.mkdtemp(
        prefix="course-grade-", dir=short_tempdir()
    )  # 0700: snapshots and kernels' folders
    marker = secrets.token_hex(6)  # every kernel of this run carries it (see kernel.sweep)
    tasks = []
    try:
        for n, (key, path) in enumerate(items):
            try:
                size = path.stat().st_size
                if size > MAX_NOTEBOOK_BYTES:
                    raise OSError(f"the file is {size / 1e6:.0f} MB; not a notebook to grade")
                data = path.read_bytes()
            except OSError as exc:
                task = dict(key=key, set_number=set_number, sandbox=used, version=version)
                grades.append(_error_row(task, f"cannot read file: {exc}"))
                continue
            if resume and book is not None and book.is_current(key, sha256_bytes(data), version):
                continue
            staged = Path(workdir) / f"{n:05d}.ipynb"
            staged.write_bytes(data)
            tasks.append(
                dict(
                    staged=staged,
                    key=key,
                    set_number=set_number,
                    timeout=timeout,
                    check_timeout=check_timeout,
                    sandbox=used,
                    memory=memory,
                    version=version,
                    workroot=workdir,
                    marker=marker,
                    extra_checks=extra_checks,
                )
            )

        def done(g: SubmissionGrade, write: bool = True) -> None:
            grades.append(g)
            if used == "none" and current_version() != version:  # bwrap: the course is read-only
                g.add_flag("the course's checks changed on disk while this notebook was graded")
            if book is not None:
                book.add(g)
                if write:
                    book.write()
            if feedback_dir is not None:
                try:
                    atomic_write_text(
                        _feedback_path(Path(feedback_dir), g.path), g.feedback(extra=feedback_extra)
                    )
                except OSError as exc:
                    say(f"course-grade: could not write the feedback of {g.path}: {exc}")
            if echo is not None:
                echo(g)

        for g in list(grades):  # unreadable files
            grades.remove(g)
            done(g)
        if ray is None:
            _run(tasks, max(1, int(jobs)), done)
        else:
            from .distributed import run_on_ray

            run_on_ray(
                tasks,
                address=ray,
                jobs=max(1, int(jobs)),
                done=lambda g: done(g, write=False),
                flush=book.write if book is not None else None,  # paced: rows arrive fast
                warn=say,
            )
    finally:
        if used == "none":
            sweep(marker)  # kernels of killed workers (a bwrap sandbox dies with its worker)
        if book is not None:
            book.write()
        shutil.rmtree(workdir, ignore_errors=True)
    if current_version() != version:
        say(
            "course-grade: WARNING: course_utils/checks changed on disk during this run; "
            "regrade with --resume once you know why"
        )
    return sorted(grades, key=lambda g: g.path)


def _run(tasks: list[dict], jobs: int, done: Callable[[SubmissionGrade], None]) -> None:
    if jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            done(_job(dict(task)))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    tries = {t["key"]: 0 for t in tasks}
    pending = list(tasks)
    while pending:  # a pool broken by a dying worker is replaced; a task that breaks two fails
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(pending)), mp_context=ctx, initializer=_ignore_sigint
        )
        futures = {pool.submit(_job, dict(t)): t for t in pending}
        pending = []
        try:
            while futures:
                finished, _ = wait(list(futures), timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    task = futures.pop(fut)
                    try:
                        g = fut.result()
                    except BrokenProcessPool:
                        tries[task["key"]] += 1
                        if tries[task["key"]] < 2:
                            pending.append(task)
                            continue
                        g = _error_row(
                            task, "a grader worker died twice while grading this notebook"
                        )
                    except Exception as exc:  # noqa: BLE001
                        g = _error_row(task, f"grader worker failed: {type(exc).__name__}: {exc}")
                    done(g)
        except BaseException:
            _kill_pool(pool)
            raise
        pool.shutdown(wait=True)
