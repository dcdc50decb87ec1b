"""``course-grade --ray``: grading one Ray task per submission (``course_utils.grading.distributed``).

Fast tests (no Ray): the address rules, the worker's side without a kernel, what happens before
Ray starts. Slow tests share one local Ray instance with 2 worker CPUs started in this process
(``ray_session``; ``grade_paths(ray="auto")`` then uses it): the sample class gives the same
gradebook as a local run, a worker killed mid-task is retried and every row appears once, and
Ray's servers listen on loopback only. One more slow test runs the command line in its own
session, which starts and stops its own Ray, and presses Ctrl-C.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_utils.checks import questions
from course_utils.grading import checks_version, grade_paths, main
from course_utils.grading import distributed as dist
from course_utils.grading.files import short_tempdir
from tests.repo_support import ROOT

FULL = sum(q.points for q in questions(1))  # set 01's total, read from the registry

SAMPLES = ROOT / "tests" / "sample_submissions"
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def _rows(path: Path) -> dict[str, dict]:
    """JSON gradebook rows by key, without the timing columns (how long, and when)."""
    rows = json.loads(path.read_text(encoding="utf-8"))["submissions"]
    timing = {"seconds", "graded_at"}
    return {r["path"]: {k: v for k, v in r.items() if k not in timing} for r in rows}


def _with_first_cell(source: Path, code: str) -> nbformat.NotebookNode:
    nb = nbformat.read(source, as_version=4)
    cell = new_code_cell(code)
    if nb.nbformat_minor < 5:  # cell ids came with format 4.5
        del cell["id"]
    nb.cells.insert(0, cell)
    return nb


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# ------------------------------------------------------------------ fast: no Ray
@pytest.mark.parametrize(
    "address, env, expected",
    [
        ("auto", {}, ("local", "")),
        ("auto", {"RAY_ADDRESS": "  "}, ("local", "")),
        ("auto", {"RAY_ADDRESS": "10.1.2.3:6379"}, ("cluster", "10.1.2.3:6379")),
        ("ray://head:10001", {"RAY_ADDRESS": "elsewhere:6379"}, ("cluster", "ray://head:10001")),
        (" head:6379 ", {}, ("cluster", "head:6379")),
    ],
)
def test_resolve_address(address, env, expected) -> None:
    assert dist.resolve_address(address, environ=env) == expected


@pytest.mark.parametrize("bad", ["", "   ", "head 6379", None, 6379])
def test_resolve_address_rejects_bad_input(bad) -> None:
    with pytest.raises(ValueError, match="--ray must be 'auto' or a cluster address"):
        dist.resolve_address(bad, environ={})


def test_cli_rejects_a_bad_address_before_grading(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(SAMPLES), "--ray", "head 6379", "--csv", str(tmp_path / "g.csv")])
    assert exc.value.code == 2 and "--ray must be" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_worker_refuses_other_checks_without_starting_a_kernel() -> None:
    """A node whose course_utils/checks differ from the grader's gives an error row naming it."""
    grade, info = dist.grade_bytes(b"{}", {"key": "g/ada.ipynb", "version": "0" * 16})
    assert grade.path == "g/ada.ipynb" and grade.student == "ada" and grade.total == 0
    assert "differ from the grader's (0000000000000000)" in grade.errors[0]
    assert info["node"] and info["node"] in grade.errors[0]


def test_worker_grades_from_its_own_private_folder_and_removes_it() -> None:
    """The bytes (not a path) arrive; the worker's temporary folder is gone afterwards."""
    base = Path(short_tempdir() or "/tmp")
    before = set(base.glob("course-grade-ray-*"))
    options = {"key": "bad.ipynb", "version": checks_version(), "sandbox": "none"}
    grade, info = dist.grade_bytes(b"not json at all", options)
    assert "not a readable notebook" in " ".join(grade.errors) and grade.sandbox == "none"
    assert grade.sha256 and info["note"] == ""
    assert set(base.glob("course-grade-ray-*")) == before


def test_worker_reports_a_bad_sandbox_as_a_row() -> None:
    options = {"key": "x.ipynb", "version": checks_version(), "sandbox": "docker"}
    grade, _ = dist.grade_bytes(b"{}", options)
    assert "sandbox must be one of" in grade.errors[0] and "on Ray node" in grade.errors[0]


def test_nothing_to_grade_starts_no_ray(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("Ray was started for nothing")

    monkeypatch.setattr(dist, "ray_session", boom)
    assert dist.run_on_ray([], done=lambda g: None) is None
    with pytest.raises(ValueError, match="sandbox must be one of"):
        dist.run_on_ray([{"key": "a.ipynb", "sandbox": "docker"}], done=lambda g: None)


def test_resume_with_every_row_current_starts_no_ray(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "junk.ipynb").write_bytes(b"not a notebook")
    book = tmp_path / "g.csv"
    grade_paths([folder], jobs=1, csv_path=book, sandbox="none")  # no kernel: unreadable

    @contextlib.contextmanager
    def boom(*args, **kwargs):
        raise AssertionError("Ray was started for nothing")
        yield

    monkeypatch.setattr(dist, "ray_session", boom)
    assert grade_paths([folder], csv_path=book, resume=True, ray="auto", sandbox="none") == []


def test_cli_exits_1_when_ray_is_unavailable(tmp_path, monkeypatch, capsys) -> None:
    """Ray that does not start is not a usage error; the gradebook keeps what it had."""
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "junk.ipynb").write_bytes(b"not a notebook")

    @contextlib.contextmanager
    def down(*args, **kwargs):
        raise dist.RayUnavailableError("could not join the Ray cluster at head:6379: refused")
        yield

    monkeypatch.setattr(dist, "ray_session", down)
    args = [str(folder), "--ray", "head:6379", "--csv", str(tmp_path / "g.csv"), "-q"]
    assert main(args) == 1
    assert "could not join the Ray cluster at head:6379" in capsys.readouterr().err


def test_gradebook_writes_are_paced_but_the_last_rows_always_written() -> None:
    clock, writes = [0.0], []

    def write() -> None:
        writes.append(clock[0])
        clock[0] += 0.1

    pace = dist.WritePacer(write, clock=lambda: clock[0])
    for t in (0.0, 0.3, 0.6, 0.9, 1.2):  # a row every 0.3 s
        clock[0] = t
        pace.added()
        pace.maybe()
    assert writes == [0.0, 1.2]  # 1 s apart at least
    clock[0] = 1.4
    pace.added()
    assert pace.maybe() is False and pace.maybe(final=True) is True and writes[-1] == 1.4
    assert pace.maybe(final=True) is False  # nothing new
    idle = dist.WritePacer(None)
    idle.added()
    assert idle.maybe(final=True) is False


def test_session_description() -> None:
    s = dist.RaySession("cluster", "ray://head:10001", 64, 2.04)
    assert s.describe() == "the Ray cluster at ray://head:10001, 64 CPU(s), started in 2.0 s"


# ------------------------------------------------------------------ slow: one local Ray instance
@pytest.fixture(scope="module")
def ray_instance():
    old = os.environ.pop("RAY_ADDRESS", None)  # "auto" must start a private instance here
    try:
        with dist.ray_session("auto", num_cpus=2, start_attempts=3) as session:
            yield session
    finally:
        if old is not None:
            os.environ["RAY_ADDRESS"] = old


@pytest.mark.slow
def test_local_instance_is_private_and_listens_on_loopback_only(ray_instance) -> None:
    import psutil
    import ray

    assert ray_instance.kind == "local" and ray_instance.cpus == 2
    assert ray.cluster_resources().get("CPU") == 2
    listening = set()
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            listening |= {
                c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == "LISTEN"
            }
    assert listening and listening <= LOOPBACK, listening


@pytest.mark.slow
def test_ray_gradebook_equals_the_local_one_and_resumes(ray_instance, tmp_path) -> None:
    """The sample class, plus a notebook whose set only its file name tells (``01_...``)."""
    folder, local, on_ray = tmp_path / "subs", tmp_path / "local.json", tmp_path / "ray.json"
    shutil.copytree(SAMPLES, folder)
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), folder / "01_dave.ipynb")
    grade_paths([folder], jobs=2, json_path=local)
    seen: list[str] = []
    grades = grade_paths(
        [folder], jobs=2, json_path=on_ray, ray="auto", echo=lambda g: seen.append(g.path)
    )
    assert sorted(seen) == [g.path for g in grades] == sorted(_rows(local))  # streamed, once each
    assert _rows(on_ray) == _rows(local)
    rows = _rows(on_ray)
    assert {k: r["total"] for k, r in rows.items()} == {
        "01_dave.ipynb": 0,
        "alice_full.ipynb": FULL,
        "bob_partial.ipynb": 2,
        "carol_broken.ipynb": 5,
    }
    assert rows["01_dave.ipynb"]["set_number"] == 1 and rows["01_dave.ipynb"]["max_total"] == FULL
    # --resume on Ray regrades only what changed and keeps the other rows
    nbformat.write(
        _with_first_cell(folder / "bob_partial.ipynb", "pass"), folder / "bob_partial.ipynb"
    )
    again = grade_paths([folder], json_path=on_ray, resume=True, ray="auto")
    assert [g.path for g in again] == ["bob_partial.ipynb"] and again[0].total == 2
    assert set(_rows(on_ray)) == set(_rows(local))


@pytest.mark.slow
def test_a_worker_killed_mid_task_is_retried_and_every_row_appears_once(
    ray_instance, tmp_path
) -> None:
    """Without a sandbox a notebook can kill its grader (the Ray worker, its kernel's parent):
    once - Ray reruns the task and it is graded; every time - one error row after the retries.
    The kernels orphaned by the killed workers are killed too."""
    folder, log = tmp_path / "subs", tmp_path / "attempts"
    folder.mkdir()
    log.mkdir()
    kill_once = (
        "import os, pathlib, signal\n"
        f"log = pathlib.Path({str(log / 'once')!r})\n"
        "first = not log.exists()\n"
        "with log.open('a') as fh:\n"
        "    fh.write(f'{os.getppid()} {os.getpid()}\\n')\n"
        "if first:\n"
        "    os.kill(os.getppid(), signal.SIGKILL)\n"
    )
    kill_always = (
        "import os, signal\n"
        f"with open({str(log / 'always')!r}, 'a') as fh:\n"
        "    fh.write(f'{os.getppid()} {os.getpid()}\\n')\n"
        "os.kill(os.getppid(), signal.SIGKILL)\n"
    )
    nbformat.write(_with_first_cell(SAMPLES / "alice_full.ipynb", kill_once), folder / "once.ipynb")
    nbformat.write(
        _with_first_cell(SAMPLES / "alice_full.ipynb", kill_always), folder / "always.ipynb"
    )
    shutil.copy(SAMPLES / "bob_partial.ipynb", folder)
    book = tmp_path / "g.csv"
    grades = grade_paths([folder], jobs=2, csv_path=book, sandbox="none", ray="auto")

    rows = list(csv.DictReader(book.open(encoding="utf-8")))
    assert sorted(r["file"] for r in rows) == [
        "always.ipynb",
        "bob_partial.ipynb",
        "once.ipynb",
    ]
    assert len(grades) == 3
    by = {r["file"]: r for r in rows}
    assert (by["once.ipynb"]["total"], by["once.ipynb"]["errors"]) == (str(FULL), "")
    assert by["bob_partial.ipynb"]["total"] == "2"
    assert f"died {dist.MAX_RETRIES + 1} times" in by["always.ipynb"]["errors"]
    once = [line.split() for line in (log / "once").read_text().splitlines()]
    always = [line.split() for line in (log / "always").read_text().splitlines()]
    assert len(once) == 2 and len(always) == dist.MAX_RETRIES + 1
    # each killing attempt ran on a fresh worker (a dead one never runs again); a worker that
    # survived its task (the second try of once.ipynb) may be reused, even by always.ipynb
    killers = [once[0][0]] + [w for w, _ in always]
    assert len(set(killers)) == len(killers) and once[1][0] != once[0][0]
    assert len({k for _, k in once + always}) == len(once) + len(always)  # a kernel per try
    # the killed workers and every kernel are gone (the worker of the second try lives on)
    pids = [int(once[0][0])] + [int(w) for w, _ in always] + [int(k) for _, k in once + always]
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in pids if _alive(p)] == [], "a killed worker or its kernel is still running"


@pytest.mark.slow
def test_ctrl_c_stops_ray_keeps_the_gradebook_and_leaves_no_process(tmp_path) -> None:
    """The command line in a terminal of its own: its private Ray starts; after the first row,
    Ctrl-C (SIGINT to the whole process group, as a terminal sends it)."""
    import psutil

    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(SAMPLES / "alice_full.ipynb", folder / "a_fast.ipynb")
    for name in ("b_slow", "c_slow", "d_slow"):
        nb = _with_first_cell(SAMPLES / "alice_full.ipynb", "import time\ntime.sleep(120)")
        nbformat.write(nb, folder / f"{name}.ipynb")
    book = tmp_path / "g.csv"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-m", "course_utils.grading", str(folder), "--ray", "auto"]
    cmd += ["--csv", str(book), "--jobs", "2", "-q"]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if book.exists() and len(list(csv.DictReader(book.open()))) >= 1:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        kids = psutil.Process(proc.pid).children(recursive=True)
        assert any("raylet" in " ".join(k.cmdline()) for k in kids)
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        stopped = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err.decode()[-2000:]
    assert stopped < 20, stopped
    assert "gradebook kept" in err.decode()
    rows = list(csv.DictReader(book.open(encoding="utf-8")))
    assert [r["file"] for r in rows] == ["a_fast.ipynb"] and rows[0]["total"] == str(FULL)
    deadline = time.monotonic() + 10
    while any(_alive(k.pid) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [k.pid for k in kids if _alive(k.pid)] == []
