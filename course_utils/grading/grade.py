"""Grading one submission: run the notebook in a fresh (sandboxed) kernel, then run every
question's check in the grader's own process against a proxy of the learner's answer.

The order of events for one notebook:

1. read the file, decide its exercise set, compute the flags visible in its source;
2. start a kernel in a private folder holding a copy of the notebook; run an audit prologue,
   then the learner's code cells (self-check cells are skipped: the grader runs the checks) with
   the notebook's time budget. A cell still running at its limit is interrupted; if the kernel
   does not come back it is killed and the notebook is run again without that cell (the same
   after a cell crashes the kernel);
3. start the kernel's answer server and, question by question, call the registered check with an
   :class:`.proxy.AnswerProxy`. An answer that overruns its question's budget is interrupted (or
   the kernel killed and the notebook run again for the remaining questions); an answer that
   crashes the kernel costs that question only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import checks
from .extra import load_extra_checks, registered
from .files import cap, escape_name, sha256_bytes, short_tempdir, tree_hash
from .kernel import AnswerChannel, Kernel, KernelStartError
from .protocol import ProtocolError
from .proxy import AnswerProxy, AnswerSession
from .results import QuestionGrade, SubmissionGrade
from .sandbox import DEFAULT_MEMORY, PACKAGE_DIR, SOLUTIONS_DIR, Limits, resolve_sandbox
from .submission import code_cells, detect_set, only_self_checks, read_notebook, static_flags

__all__ = ["MAX_OUTPUT_CHARS", "checks_version", "grade_submission"]

#: Characters of notebook output counted per submission before it is reported as "huge".
MAX_OUTPUT_CHARS = 2_000_000
#: Kernel starts per submission after the first (after stuck cells, crashes, stuck answers).
MAX_RESTARTS = 3
_OOM = (
    "MemoryError",
    "can't allocate memory",
    "Unable to allocate",
    "std::bad_alloc",
    "out of memory",
)


def checks_version() -> str:
    """A hash of the checks' source code (``course_utils/checks/*.py``): the gradebook's
    ``checks_version``; ``--resume`` regrades rows graded by other checks."""
    return tree_hash(PACKAGE_DIR / "checks")


def _empty(set_number: int | None, status: str, message: str) -> list[QuestionGrade]:
    if set_number is None:
        return []
    return [
        QuestionGrade(q.qid, q.answer, 0, q.points, status, message, task=q.task)
        for q in checks.questions(set_number)
    ]


def _first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


class _Runner:
    """The kernel of one submission across restarts, and the grading of its questions."""

    def __init__(
        self,
        grade: SubmissionGrade,
        workdir: Path,
        cells: list[tuple[int, str]],
        *,
        set_number: int,
        sandbox: str,
        limits: Limits,
        timeout: float,
        check_timeout: float,
        marker: str = "",
    ) -> None:
        self.marker = marker
        self.grade = grade
        self.workdir = workdir
        self.cells = cells
        self.set_number = set_number
        self.sandbox = sandbox
        self.limits = limits
        self.timeout = timeout
        self.check_timeout = check_timeout
        self.skip: set[int] = set()
        self.kernel: Kernel | None = None
        self.session: AnswerSession | None = None
        self.described: dict[str, Any] = {}
        self.starts = 0
        self.output_chars = 0

    # ------------------------------------------------------------------ the notebook
    def close(self) -> None:
        if self.session is not None:
            self.session.stop()
            self.session.channel.close()
            self.session = None
        if self.kernel is not None:
            self.output_chars += self.kernel.output_chars
            self.kernel.kill()
            self.kernel = None

    def notebook(self) -> bool:
        """(Re)start a kernel and run the notebook; True when its namespace is ready."""
        while self.starts <= MAX_RESTARTS:
            self.close()
            self.starts += 1
            self.kernel = Kernel(
                self.workdir,
                sandbox=self.sandbox,
                set_number=self.set_number,
                limits=self.limits,
                marker=self.marker,
            )
            try:
                self.kernel.start()
            except KernelStartError as exc:
                self.grade.add_error(f"could not start a kernel for this notebook: {exc}")
                return False
            prologue = (
                "import course_utils.grading.kernel_audit as _cg_kernel_audit\n"
                f"_cg_kernel_audit.prologue({str(SOLUTIONS_DIR)!r}, {str(PACKAGE_DIR)!r})\n"
                "del _cg_kernel_audit"
            )
            out = self.kernel.run(prologue, 120, silent=True)
            if out.status != "ok":
                self.grade.add_error(
                    f"grader setup failed in the kernel: {out.ename}: {_first_line(out.evalue)}"
                )
                return False
            if self._cells():
                return True
        self.grade.add_error(f"gave up after {MAX_RESTARTS + 1} kernel starts")
        return False

    def _cells(self) -> bool:
        """Run the learner's cells; False when the kernel had to be restarted."""
        start = time.monotonic()
        deadline, grace = start + self.timeout, max(5.0, min(30.0, 0.1 * self.timeout))
        hard = deadline + self.timeout
        for index, src in self.cells:
            if index in self.skip:
                continue
            now = time.monotonic()
            budget = deadline - now if now < deadline else min(grace, hard - now)
            n = index + 1
            if budget <= 0:
                self.grade.add_error(f"cell {n} and later: not run, no time left")
                return True
            out = self.kernel.run(src, budget)
            if out.status == "error":
                what = f"{out.ename}: {_first_line(out.evalue)}".rstrip(": ")
                if any(s in out.ename or s in out.evalue for s in _OOM):
                    mem = self.limits.memory
                    limit = f" (the limit is {mem / 2**30:g} GiB per process)" if mem else ""
                    self.grade.add_error(f"ran out of memory in cell {n}{limit}: {what}")
                else:
                    self.grade.add_error(f"cell {n}: {what}")
            elif out.status == "interrupted":
                self.grade.add_error(
                    f"cell {n}: interrupted, still running at the {self.timeout:g} s time limit "
                    "(an endless loop?)"
                )
            elif out.status in ("stuck", "dead"):
                self.skip.add(index)
                self.grade.add_error(
                    f"cell {n}: still running at the {self.timeout:g} s time limit and it did not "
                    "stop when interrupted"
                    if out.status == "stuck"
                    else f"cell {n}: the kernel died (os._exit, a crash, or running out of memory)"
                )
                return False
        return True

    # ------------------------------------------------------------------ the answers
    def _serve(self, qs: list[Any]) -> bool:
        """Start the kernel's answer server and learn what the notebook defined."""
        channel = AnswerChannel(self.kernel)
        try:
            channel.open()
            self.session = AnswerSession(channel, check_timeout=self.check_timeout)
            refs: dict[str, list[list[str]]] = {}
            for q in qs:
                if q.qid not in checks.REGISTRY:  # an instructor-only question: no flag names it
                    continue
                refs.setdefault(q.answer, []).extend([q.qid, r] for r in q.reference)
            info = self.session.describe([q.answer for q in qs], refs)
        except (ConnectionError, TimeoutError, ProtocolError, OSError) as exc:
            channel.close()
            self.session = None
            self.grade.add_error(f"the kernel did not answer the grader: {exc}")
            return False
        answers = info.get("answers")
        self.described = answers if isinstance(answers, dict) else {}
        for flag in info.get("flags", []) if isinstance(info.get("flags"), list) else []:
            if isinstance(flag, str):
                self.grade.add_flag(f"{flag} (reported by the kernel)")
        return True

    def answers(self, qs: list[Any], extras: list[Any] = ()) -> None:
        """Grade the set's questions, then the instructor's extra ones (``--extra-checks``)."""
        todo = [(q, False) for q in qs] + [(q, True) for q in extras]
        every = [q for q, _ in todo]
        ready = self.notebook() and self._serve(every)
        for i, (q, extra) in enumerate(todo):
            if ready and (self.session is None or self.session.dead):
                ready = self.starts <= MAX_RESTARTS and self.notebook() and self._serve(every)
            if not ready:
                last = self.grade.errors[-1] if self.grade.errors else "the notebook did not run"
                for rest, rest_extra in todo[i:]:
                    (self.grade.add_extra if rest_extra else self.grade.add_question)(
                        QuestionGrade(
                            rest.qid,
                            rest.answer,
                            0,
                            rest.points,
                            "not graded",
                            f"not graded: {last}",
                            task=rest.task,
                        )
                    )
                return
            if extra:
                with registered(q):
                    self.grade.add_extra(self._question(q, note=self.grade.add_extra_error))
            else:
                self.grade.add_question(self._question(q))

    def _question(self, q: Any, note: Any = None) -> QuestionGrade:
        note = note or self.grade.add_error  # where this question's problems are reported
        session = self.session
        session.begin(q.qid)
        info = self.described.get(q.answer)
        defined = isinstance(info, dict) and info.get("defined") is True
        result = checks.run_check(
            q.qid, AnswerProxy(session, q.answer, label=q.answer) if defined else None
        )
        grade = QuestionGrade(
            q.qid,
            q.answer,
            result.points,
            q.points,
            result.status,
            result.message,
            result.hint,
            result.expected,
            result.got,
            q.task,
        )
        if session.timed_out:
            grade = QuestionGrade(
                q.qid,
                q.answer,
                0,
                q.points,
                "timeout",
                f"`{q.answer}` did not finish within {self.check_timeout:g} s (an endless loop?)",
                "",
                "",
                "",
                q.task,
            )
            note(f"question {q.qid}: timed out after {self.check_timeout:g} s")
        elif session.bad_reply:
            grade.points, grade.status = 0, "error"
            note(f"question {q.qid}: the kernel sent an unreadable reply ({session.bad_reply})")
        elif session.crashed or session.dead:
            grade = QuestionGrade(
                q.qid,
                q.answer,
                0,
                q.points,
                "error",
                f"running your `{q.answer}` crashed the kernel (os._exit, a crash, "
                "or running out of memory)",
                "",
                "",
                "",
                q.task,
            )
            note(f"question {q.qid}: running the answer crashed the kernel")
        elif grade.status == "error":
            note(f"question {q.qid}: {grade.message}")
        session.release()
        return grade


def grade_submission(
    path: str | Path,
    *,
    set_number: int | None = None,
    timeout: float = 120.0,
    check_timeout: float = 30.0,
    sandbox: str = "auto",
    memory: int | None = DEFAULT_MEMORY,
    key: str | None = None,
    data: bytes | None = None,
    version: str | None = None,
    workroot: str | None = None,
    marker: str = "",
    extra_checks: Sequence[str | Path] = (),
) -> SubmissionGrade:
    """Run one notebook in a fresh kernel and grade it; never raises for a bad submission.

    Parameters
    ----------
    path : path
        The submitted ``.ipynb``.
    set_number : int, optional
        The exercise set to grade; a notebook of another set gets "another set's notebook".
        Default: the set recorded in the notebook (:func:`.submission.detect_set`).
    timeout : float, default 120
        Seconds the learner's cells may run in total.
    check_timeout : float, default 30
        Seconds the learner's code may run while one question is checked.
    sandbox : {"auto", "bwrap", "none"}
        Isolation of the kernel (:mod:`.sandbox`).
    memory : int or None, default 2 GiB
        Memory limit per kernel process, bytes.
    key, data, version, workroot, marker
        Row key (default: the file name), the file's bytes (default: read ``path``), the checks'
        version (default: :func:`checks_version`), the folder for the kernel's private folder
        and a prefix for the kernel's process marker - given by :func:`.batch.grade_paths`.
    extra_checks : sequence of path
        Instructor-only check files (:mod:`.extra`); their questions of this set are graded
        after the set's own, into ``extra`` (outside the total).
    """
    if timeout <= 0 or check_timeout <= 0:
        raise ValueError(
            f"timeout and check_timeout must be positive, got {timeout} and {check_timeout}"
        )
    start = time.monotonic()
    path = Path(path)
    used, _note = resolve_sandbox(sandbox)
    key = key or escape_name(path.name)
    grade = SubmissionGrade(
        key, Path(key).stem, set_number, sandbox=used, checks_version=version or checks_version()
    )

    def finish() -> SubmissionGrade:
        grade.seconds = round(time.monotonic() - start, 2)
        return grade

    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            grade.add_error(f"cannot read file: {cap(exc, 300)}")
            grade.questions = _empty(set_number, "not graded", "cannot read file")
            return finish()
    grade.sha256 = sha256_bytes(data)
    nb, err = read_notebook(data)
    if nb is None:
        grade.add_error(err or "unreadable")
        grade.questions = _empty(set_number, "not graded", err or "")
        return finish()
    found = detect_set(nb, Path(key).name)  # the submitted name, not the snapshot's
    if set_number is None:
        set_number = grade.set_number = found
    if set_number is None:
        grade.add_error(
            "cannot tell which exercise set this is (no metadata, no check(...) calls); use --set"
        )
        return finish()
    if found is not None and found != set_number:
        grade.add_error(
            f"another set's notebook: this is exercise set {found:02d}, but set {set_number:02d} is being graded"
        )
        grade.questions = _empty(set_number, "not graded", "another set's notebook")
        return finish()
    qs = checks.questions(set_number)
    if not qs:
        grade.add_error(f"no questions are registered for exercise set {set_number:02d}")
        return finish()
    cells = code_cells(nb)
    if not cells:
        grade.add_error("empty notebook: no code to run")
        grade.questions = _empty(set_number, "missing", "the notebook has no code")
        return finish()
    for flag in static_flags(cells, qs):
        grade.add_flag(flag)
    cells = [(i, src) for i, src in cells if not only_self_checks(src)]
    limits = Limits(memory=memory, cpu_seconds=int(3 * (timeout + len(qs) * check_timeout) + 60))
    with tempfile.TemporaryDirectory(prefix="cg-", dir=workroot or short_tempdir()) as tmp:
        workdir = Path(tmp)
        for sub in ("home", "run"):
            (workdir / sub).mkdir()
        (workdir / "home" / "submission.ipynb").write_bytes(data)
        runner = _Runner(
            grade,
            workdir,
            cells,
            set_number=set_number,
            sandbox=used,
            limits=limits,
            timeout=timeout,
            check_timeout=check_timeout,
            marker=marker,
        )
        extras = [q for q in load_extra_checks(extra_checks).values() if q.set_number == set_number]
        try:
            runner.answers(qs, extras)
        except Exception as exc:  # a grader bug: keep the row, say so, grade nothing more
            grade.add_error(f"grader error: {type(exc).__name__}: {cap(exc, 300)}")
            done = {q.qid for q in grade.questions}
            grade.questions += [
                g for g in _empty(set_number, "not graded", "grader error") if g.qid not in done
            ]
        finally:
            runner.close()
    if runner.skip:
        skipped = ", ".join(str(i + 1) for i in sorted(runner.skip))
        grade.add_error(f"graded with cell(s) {skipped} skipped")
    if runner.output_chars > MAX_OUTPUT_CHARS:
        grade.add_error(f"huge output ({runner.output_chars / 1e6:.1f} M characters) was discarded")
    return finish()
