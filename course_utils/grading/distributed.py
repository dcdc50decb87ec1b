"""Grading a class on a Ray cluster: ``course-grade FOLDER --ray auto|ADDRESS``.

:func:`.batch.grade_paths` collects and snapshots the notebooks, skips the ``--resume``'d ones and
owns the one gradebook writer, exactly as without Ray; only the step "grade these snapshots"
changes. :func:`run_on_ray` starts or joins Ray (:func:`ray_session`), puts each snapshot's bytes
into Ray's object store (no shared filesystem is assumed) and submits **one Ray task per
submission**. The task (:func:`grade_bytes`, on whichever machine Ray picks) checks that its
node's checks are the grader's, resolves ``--sandbox`` on that machine, and runs the same
:func:`.grade.grade_submission` as a local run, from its own private temporary folder. Results
stream back as they finish and go to the driver's ``done`` callback - the gradebook, the
feedback files and the printed table - one submission at a time.

* ``auto`` joins the cluster named by ``RAY_ADDRESS`` when it is set; otherwise it starts a
  private Ray instance on this machine with ``--jobs`` worker CPUs, politely: loopback only
  (:func:`course_utils.ray_local.loopback_only_ray`), no dashboard, no usage statistics, its
  session files in a temporary folder that is deleted, ``ray.shutdown()`` always. A process that
  already initialised Ray (a notebook, a test) uses that instance and leaves it running.
* ``ADDRESS`` joins a running cluster: ``HOST:6379`` from a machine of the cluster, or
  ``ray://HOST:10001`` through Ray Client. Every node needs the course installed (the same
  image): a node whose ``course_utils/checks`` differ from the grader's gives error rows naming
  that node, never grades with other checks.
* A worker process that dies while grading (killed, out of memory, a lost node) is retried by
  Ray up to :data:`MAX_RETRIES` times; a submission that kills its worker every time gets an
  error row. Every submission gets exactly one row.
* Ctrl-C (or SIGTERM) cancels the running tasks - each kills its kernel on the way out - within
  :data:`CANCEL_GRACE` seconds, then forcibly; the gradebook keeps every finished row.

Ray trusts its own workers (results travel pickled); the learner's code runs in a kernel the
worker sandboxes, so grade on a cluster with ``--sandbox bwrap`` (``auto`` says on stderr which
nodes fell back to ``none``).

Examples
--------
>>> resolve_address("auto", environ={})
('local', '')
>>> resolve_address("auto", environ={"RAY_ADDRESS": "ray://head:10001"})
('cluster', 'ray://head:10001')
>>> resolve_address("10.0.0.5:6379", environ={})
('cluster', '10.0.0.5:6379')
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..ray_local import is_startup_timeout, loopback_only_ray, stop_processes_using
from ..validation import check_choice, check_int
from .files import cap, short_tempdir
from .results import SubmissionGrade
from .sandbox import PACKAGE_DIR, SANDBOXES

__all__ = [
    "CANCEL_GRACE",
    "MAX_RETRIES",
    "RaySession",
    "RayUnavailableError",
    "WritePacer",
    "grade_bytes",
    "ray_session",
    "resolve_address",
    "run_on_ray",
]

#: Times Ray reruns a submission's task after its worker process died (killed, out of memory).
MAX_RETRIES = 2
#: Seconds cancelled tasks get to stop their kernels after Ctrl-C before they are killed.
CANCEL_GRACE = 3.0
#: Least seconds between two gradebook writes; a write that took t seconds waits 4 t.
FLUSH_EVERY = 1.0
#: Object store of a local instance: the notebooks in flight (at most 2 per CPU, <= 100 MB each).
LOCAL_OBJECT_STORE = 512 * 2**20
CHANGED_CHECKS = "the course's checks changed on disk while this notebook was graded"


class RayUnavailableError(RuntimeError):
    """Ray is not installed, did not start here, or the cluster at the address did not answer."""


@dataclass(frozen=True)
class RaySession:
    """The Ray instance a run uses: ``kind`` is ``"local"`` (started here for this run),
    ``"cluster"`` (joined at ``address``) or ``"existing"`` (already initialised in this
    process); ``cpus`` the CPUs Ray reported when the run began; ``start_seconds`` the time
    ``ray.init`` took (0 for an existing instance)."""

    kind: str
    address: str
    cpus: int
    start_seconds: float

    def describe(self) -> str:
        where = {"local": "a local Ray instance", "existing": "this process's Ray instance"}
        name = where.get(self.kind, f"the Ray cluster at {self.address}")
        return f"{name}, {self.cpus} CPU(s), started in {self.start_seconds:.1f} s"


def resolve_address(address: str, *, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``("local", "")`` or ``("cluster", address)`` for ``--ray address``: ``auto`` means the
    cluster in ``RAY_ADDRESS`` when that is set, else a private instance on this machine.

    Examples
    --------
    >>> resolve_address(" ")
    Traceback (most recent call last):
    ...
    ValueError: --ray must be 'auto' or a cluster address such as HOST:6379 or ray://HOST:10001, got ' '
    """
    env = os.environ if environ is None else environ
    text = address.strip() if isinstance(address, str) else ""
    if not text or any(c.isspace() for c in text):
        raise ValueError(
            "--ray must be 'auto' or a cluster address such as HOST:6379 or ray://HOST:10001, "
            f"got {address!r}"
        )
    if text == "auto":
        named = env.get("RAY_ADDRESS", "").strip()
        return ("cluster", named) if named else ("local", "")
    return "cluster", text


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (Ray's processes inherit them), then restore."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _keep_sigterm() -> Any:
    """The SIGTERM handler now (``ray.init`` installs its own, which exits without the
    ``KeyboardInterrupt`` that makes the grader keep its gradebook); None off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGTERM)


def _restore_sigterm(handler: Any) -> None:
    if handler is not None:
        signal.signal(signal.SIGTERM, handler)


def _start_local(ray: Any, num_cpus: int, folder: str, attempts: int) -> float:
    """``ray.init`` of a private, loopback-only instance; retried when Ray's node misses its
    30 s start-up deadline (an overloaded machine). Seconds it took."""
    start = time.perf_counter()
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                num_gpus=0,
                include_dashboard=False,
                object_store_memory=LOCAL_OBJECT_STORE,
                _temp_dir=folder,
                _node_ip_address="127.0.0.1",
                logging_level="ERROR",
                log_to_driver=False,
            )
            return time.perf_counter() - start
        except Exception as err:  # Ray raises a bare Exception when its node starts too slowly
            if ray.is_initialized():
                ray.shutdown()
            stop_processes_using(folder)
            if not is_startup_timeout(err) or attempt == attempts:
                raise RayUnavailableError(
                    f"Ray did not start on this machine ({type(err).__name__}: {cap(err, 300)})"
                ) from err
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def ray_session(
    address: str = "auto", *, num_cpus: int = 2, start_attempts: int = 2
) -> Iterator[RaySession]:
    """Start or join Ray for the block (see the module docstring); shut down what it started.

    ``num_cpus`` is the number of worker CPUs of a local instance (ignored when joining a
    cluster). Raises :class:`RayUnavailableError` when Ray is missing, does not start within
    ``start_attempts`` tries, or the cluster cannot be reached.
    """
    num_cpus = check_int(num_cpus, "num_cpus", min_val=1)
    start_attempts = check_int(start_attempts, "start_attempts", min_val=1)
    kind, target = resolve_address(address)
    quiet = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO": "0"}
    if kind == "local":  # workers import this very course_utils; a busy machine needs time
        path = [str(PACKAGE_DIR.parent), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
        quiet["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in path if p))
        quiet["RAY_agent_register_timeout_ms"] = os.environ.get(
            "RAY_agent_register_timeout_ms", "120000"
        )
    scope = loopback_only_ray() if kind == "local" else contextlib.nullcontext()
    with _environ(quiet), scope:
        try:
            import ray
        except ImportError as exc:
            raise RayUnavailableError(
                "Ray is not installed here (the course pins ray==2.55.1)"
            ) from exc
        if ray.is_initialized():
            yield RaySession("existing", "", int(ray.cluster_resources().get("CPU", 0)), 0.0)
            return
        handler = _keep_sigterm()
        folder = tempfile.mkdtemp(prefix="ray-", dir=short_tempdir()) if kind == "local" else ""
        try:
            if kind == "local":
                seconds = _start_local(ray, num_cpus, folder, start_attempts)
            else:
                start = time.perf_counter()
                try:
                    ray.init(address=target, logging_level="ERROR", log_to_driver=False)
                except Exception as exc:
                    raise RayUnavailableError(
                        f"could not join the Ray cluster at {target}: "
                        f"{type(exc).__name__}: {cap(exc, 300)}"
                    ) from exc
                seconds = time.perf_counter() - start
            _restore_sigterm(handler)
            cpus = int(ray.cluster_resources().get("CPU", 0))
            yield RaySession(kind, target or "127.0.0.1", cpus, seconds)
        finally:
            if ray.is_initialized():
                ray.shutdown()
            _restore_sigterm(handler)
            if folder:
                stop_processes_using(folder)
                shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the worker's side
def _row(options: Mapping[str, Any], text: str) -> SubmissionGrade:
    key = str(options.get("key", "?"))
    g = SubmissionGrade(key, Path(key).stem, options.get("set_number"))
    g.sandbox, g.checks_version = str(options.get("sandbox", "")), str(options.get("version", ""))
    g.add_error(text)
    return g


def grade_bytes(data: bytes, options: Mapping[str, Any]) -> tuple[SubmissionGrade, dict[str, str]]:
    """Grade one submission given as bytes, on this machine (the body of a Ray task).

    ``options`` holds the keywords of :func:`.grade.grade_submission` (``key``, ``set_number``,
    ``timeout``, ``check_timeout``, ``sandbox`` - resolved here -, ``memory``, ``version``) and
    ``marker``, this task's kernel marker. Grading happens in a private temporary folder that is
    removed afterwards; kernels left by an earlier attempt of the same task on this machine
    (its worker was killed) are killed first. Returns the grade and ``{"node", "note"}``: this
    machine's name and why ``auto`` fell back to no sandbox here (or "").

    Examples
    --------
    >>> g, info = grade_bytes(b"{}", {"key": "a/x.ipynb", "version": "not these checks"})
    >>> g.path, g.errors[0][:40]
    ('a/x.ipynb', "this Ray worker's course checks (checks_")
    """
    from .grade import checks_version, grade_submission
    from .kernel import sweep
    from .sandbox import resolve_sandbox

    info = {"node": socket.gethostname(), "note": ""}
    version = str(options.get("version") or "")
    here = checks_version()
    if version and here != version:
        text = (
            f"this Ray worker's course checks (checks_version {here} on {info['node']}) differ "
            f"from the grader's ({version}); install the same course version on every node"
        )
        return _row(options, text), info
    try:
        used, note = resolve_sandbox(str(options.get("sandbox", "auto")))
    except ValueError as exc:
        return _row(options, f"{exc} (on Ray node {info['node']})"), info
    info["note"] = note or ""
    marker = str(options.get("marker") or "")
    if used == "none" and marker:
        sweep(f"{marker}-")  # a kernel orphaned when this task's earlier worker was killed
    root = tempfile.mkdtemp(prefix="course-grade-ray-", dir=short_tempdir())
    try:
        name = Path(str(options.get("key", "submission.ipynb"))).name
        grade = grade_submission(
            Path(root) / name,
            data=data,
            key=options.get("key"),
            set_number=options.get("set_number"),
            timeout=float(options.get("timeout", 120.0)),
            check_timeout=float(options.get("check_timeout", 30.0)),
            sandbox=used,
            memory=options.get("memory"),
            version=version or here,
            workroot=root,
            marker=marker,
        )
    except Exception as exc:  # noqa: BLE001 - a grader bug: keep the row, say so
        grade = _row(dict(options, sandbox=used), f"grader error: {type(exc).__name__}: {exc}")
    finally:
        if used == "none" and marker:
            sweep(f"{marker}-")
        shutil.rmtree(root, ignore_errors=True)
    if used == "none" and checks_version() != here:  # bwrap: the course is read-only
        grade.add_flag(CHANGED_CHECKS)
    return grade, info


# ------------------------------------------------------------------ the driver's side
class WritePacer:
    """Calls ``flush`` (rewriting the gradebook) after new rows, but at most every
    :data:`FLUSH_EVERY` seconds and, after a write that took ``t`` seconds, not before ``4 t``
    more have passed: at most a fifth of the driver's time goes to writing.

    Examples
    --------
    >>> clock = [0.0]
    >>> def slow_write():
    ...     clock[0] += 0.5  # a big gradebook
    >>> pace = WritePacer(slow_write, clock=lambda: clock[0])
    >>> pace.added(); pace.maybe(), pace.writes  # the first row is written at once
    (True, 1)
    >>> pace.added(); clock[0] = 2.0; pace.maybe()  # 0.5 s writing, then 2 s of waiting
    False
    >>> clock[0] = 2.5; pace.maybe(), pace.maybe(final=True)  # nothing new: nothing to write
    (True, False)
    """

    def __init__(
        self, flush: Callable[[], None] | None, *, clock: Callable[[], float] = time.monotonic
    ):
        self.flush, self.clock = flush, clock
        self.pending, self.next_at, self.writes = False, float("-inf"), 0

    def added(self) -> None:
        self.pending = True

    def maybe(self, *, final: bool = False) -> bool:
        """Write now if there is something new and it is time (or ``final``); True if it wrote."""
        if self.flush is None or not self.pending or (not final and self.clock() < self.next_at):
            return False
        start = self.clock()
        self.flush()
        end = self.clock()
        self.next_at = end + max(FLUSH_EVERY, 4 * (end - start))
        self.pending, self.writes = False, self.writes + 1
        return True


def _failure(exc: BaseException) -> str:
    import ray

    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return (
            f"the Ray worker grading this notebook died {MAX_RETRIES + 1} times (killed, out of "
            "memory, or killed by the notebook itself: grade it with --sandbox bwrap)"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"the Ray task grading this notebook failed: {type(exc).__name__}: {cap(first, 300)}"


def _cancel(ray: Any, refs: list[Any]) -> None:
    """Cancel running tasks: first with a KeyboardInterrupt in each (it kills its kernel),
    then, after :data:`CANCEL_GRACE` seconds, by killing their worker processes."""
    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=False)
    with contextlib.suppress(Exception):
        refs = ray.wait(refs, num_returns=len(refs), timeout=CANCEL_GRACE)[1]
    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def run_on_ray(
    tasks: list[dict[str, Any]],
    *,
    address: str = "auto",
    jobs: int = 2,
    done: Callable[[SubmissionGrade], None],
    flush: Callable[[], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> RaySession | None:
    """Grade the snapshots ``tasks`` (dicts made by :func:`.batch.grade_paths`: ``staged`` file,
    ``key`` and the grading options) on Ray, one task per submission, calling ``done(grade)`` in
    this process as each finishes; ``jobs`` is the number of workers of a local instance. At
    most two tasks per CPU are in flight, so the object store holds only their notebooks. The
    session used, or None when there was nothing to grade (Ray is then not started).

    ``flush()`` (writing the gradebook) is called after new rows, at most every
    :data:`FLUSH_EVERY` seconds and never more than a fifth of the time (a gradebook of 5,000
    rows takes about a second to rewrite, while a cluster returns many rows a second), and once
    at the end; on an exception the caller writes it.
    """
    for task in tasks:  # fail before Ray starts
        check_choice(task.get("sandbox", "auto"), "sandbox", SANDBOXES)
    if not tasks:
        return None
    say = warn or (lambda text: None)
    marker = str(tasks[0].get("marker") or "")
    with ray_session(address, num_cpus=jobs) as session:
        import ray

        say(f"course-grade: grading on {session.describe()}")
        remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(grade_bytes)
        queue = deque(enumerate(tasks))
        running: dict[Any, dict[str, Any]] = {}
        noted: set[tuple[str, str]] = set()
        window, checked = max(2, 2 * session.cpus), time.monotonic()
        pace = WritePacer(flush)
        try:
            while queue or running:
                if time.monotonic() - checked > 10:  # a cluster that scales up gets more work
                    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 0)))
                    checked = time.monotonic()
                while queue and len(running) < window:
                    n, task = queue.popleft()
                    options = {
                        k: task.get(k)
                        for k in ("key", "set_number", "timeout", "check_timeout", "sandbox")
                    }
                    options.update(
                        memory=task.get("memory"),
                        version=task.get("version"),
                        marker=f"{marker or 'ray'}-{n:06d}",
                    )
                    data = ray.put(Path(task["staged"]).read_bytes())
                    running[remote.remote(data, options)] = task
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                if ready:  # and whatever else finished meanwhile
                    ready, _ = ray.wait(list(running), num_returns=len(running), timeout=0)
                for ref in ready:
                    task = running.pop(ref)
                    try:
                        grade, info = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        grade, info = _row(task, _failure(exc)), {}
                    seen = (info.get("node", ""), info.get("note", ""))
                    if seen[1] and seen not in noted:
                        noted.add(seen)
                        say(f"course-grade: on Ray node {seen[0]}: {seen[1]}")
                    done(grade)
                    pace.added()
                pace.maybe()
            pace.maybe(final=True)
        except BaseException:
            _cancel(ray, list(running))
            raise
        finally:
            if session.kind != "cluster" and marker:  # kernels of killed workers, on this machine
                from .kernel import sweep

                sweep(marker)
    return session
