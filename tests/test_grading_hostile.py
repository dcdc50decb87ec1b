"""A hostile class: every attack of issue 18 (and a few more) against ``course-grade`` with the
bubblewrap sandbox, graded in one batch next to honest learners.

Each attacker starts from a blank exercise notebook (every answer raises NotImplementedError)
and adds its attack; an attack that worked would show up as points, as a changed file, as a
process left running, or as a connection to the test's server. The run must show: no score above
what the answers earn, no other learner's file or grade changed, the course's files unchanged,
no process left behind - and, in a separate run, a gradebook that is complete and valid after
Ctrl-C.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from course_utils import checks
from course_utils.grading import grade_paths
from course_utils.grading.sandbox import bwrap_problem
from tests.check_support import answer_cells
from tests.grading_support import submission
from tests.repo_support import ROOT

PACKAGE = ROOT / "course_utils"
SOLUTION = ROOT / "solutions" / "01_motivation.ipynb"
#: Set 01's total (the reference answers score all of it), read from the registry.
POINTS = sum(q.points for q in checks.questions(1))
TOKEN = (
    f"hostile-{uuid.uuid4().hex[:10]}"  # in the command line of every process an attacker starts
)

pytestmark = [pytest.mark.slow]
if bwrap_problem() is not None and os.environ.get("CI") != "true":  # in CI: run, and fail
    pytestmark.append(
        pytest.mark.skip(
            reason=f"no bubblewrap here ({bwrap_problem()}): apt-get install bubblewrap"
        )
    )


def _solution_cells() -> tuple[list[str], list[str]]:
    """The answer cells of solutions/01, and the same with every answer blanked."""
    full = answer_cells(SOLUTION)
    blank = [
        re.sub(
            r"# BEGIN SOLUTION.*?# END SOLUTION",
            'raise NotImplementedError("blank")',
            s,
            flags=re.S,
        )
        for s in full
    ]
    return full, blank


FULL, BLANK = _solution_cells()
HEAD = "import numpy as np\nfrom course_utils.checks import check"


def _blank(*attack: str) -> nbformat.NotebookNode:
    return submission(HEAD, *BLANK, *attack)


# A process meant to outlive grading and overwrite the gradebook every 0.1 s.
DAEMON = """import time
for _ in range(600):
    time.sleep(0.1)
    try:
        open(BOOK, "w").write("pwned")
    except OSError:
        pass
"""

# Code an attacker runs to turn a solutions notebook's text into defined answers.
EXEC_ANSWERS = (
    "def _steal(text):\n"
    "    import json\n"
    "    for cell in json.loads(text)['cells']:\n"
    "        src = ''.join(cell['source'])\n"
    "        if cell['cell_type'] == 'code' and 'def ' in src and 'check(' not in src:\n"
    "            exec(src.replace('# BEGIN SOLUTION', '').replace('# END SOLUTION', ''), globals())\n"
)


def _attacks(folder: Path, port: int, canary: Path, book: Path) -> dict[str, nbformat.NotebookNode]:
    others = str(folder)
    return {
        # 1. rewrite the messages the kernel sends back, switch off the in-kernel audit
        "forges_messages": _blank(
            "import IPython.display as d, IPython.core.display_functions as f\n"
            "real = d.publish_display_data\n"
            "def fake(data, *a, **k):\n"
            "    data = {m: {'status': 'passed', 'points': 2, 'max_points': 2, 'passed': True} for m in data}\n"
            "    return real(data, *a, **k)\n"
            "d.publish_display_data = f.publish_display_data = fake\n"
            "import course_utils.grading.kernel_audit as ka\n"
            "ka._AUDIT = None\n"
            "import numpy, builtins\n"
            "numpy.isclose = lambda *a, **k: True\n"
            "numpy.allclose = numpy.array_equal = lambda *a, **k: True\n"
            "builtins.abs = lambda x: 0\n"
        ),
        # 2. replace the kernel's answer server: claim every answer passes / send garbage
        "fake_server": _blank(
            "import course_utils.grading.kernel_side as ks, course_utils.grading.protocol as p\n"
            "real_call = ks._call\n"
            "def lie(req):\n"
            "    return p.encode_reply(int(req['id']), value=0.5)\n"
            "ks._call = lie\n"
        ),
        "huge_reply": _blank(
            "import course_utils.grading.kernel_side as ks, struct\n"
            "ks._call = lambda req: struct.pack('>Q', 10**12) + b'x' * 100\n"
        ),
        "garbage_reply": _blank(
            "import course_utils.grading.kernel_side as ks, course_utils.grading.protocol as p\n"
            "ks._call = lambda req: p.pack_frame(b'\\x00\\x00\\x00\\x05{\"id\"' + b'[' * 10000)\n"
        ),
        # 3. rewrite the checks on disk (sed in a subprocess), add a check module
        "rewrites_checks": _blank(
            "import subprocess, course_utils.checks as c, pathlib\n"
            "init = c.__file__\n"
            "subprocess.run(['sed', '-i', 's/points=2/points=0/', init])\n"
            "try:\n"
            "    open(init, 'a').write('\\n# pwned\\n')\n"
            "except OSError as e:\n"
            "    print(e)\n"
            "(pathlib.Path(init).parent / 'ex99_evil.py').write_text('x = 1')\n"
        ),
        # 4. find the grader in /proc; rewrite or delete the other notebooks and the gradebook
        "proc_attack": _blank(
            "import os, glob, re, pathlib\n"
            "hits = []\n"
            "for cmd in glob.glob('/proc/*/cmdline'):\n"
            "    try:\n"
            "        hits += re.findall(rb'[^\\x00]+\\.(?:ipynb|csv|json)', open(cmd, 'rb').read())\n"
            "    except OSError:\n"
            "        pass\n"
            f"guesses = [os.fsencode(p) for p in glob.glob({others!r} + '/*.ipynb')] + [{str(book).encode()!r}]\n"
            "for target in set(hits + guesses):\n"
            "    for act in (lambda t: open(t, 'w').write('{}'), os.remove):\n"
            "        try:\n"
            "            act(target)\n"
            "        except OSError:\n"
            "            pass\n",
            "import os, signal\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit() and int(pid) != os.getpid():\n"
            "        try:\n"
            "            os.kill(int(pid), signal.SIGKILL)\n"
            "        except OSError:\n"
            "            pass\n",
        ),
        # 5. outlive grading: a new session, a double-forked daemon, a fork bomb within limits
        "daemons": _blank(
            "import subprocess, sys, os, time\n"
            f"loop = {DAEMON.replace('BOOK', repr(str(book)))!r}\n"
            f"subprocess.Popen([sys.executable, '-c', loop, {TOKEN!r}], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "for _ in range(20):\n"
            "    if os.fork() == 0:\n"
            "        os.setsid()\n"
            "        if os.fork() == 0:\n"
            f"            os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', {TOKEN!r}])\n"
            "        os._exit(0)\n"
            "time.sleep(0.5)\n"
        ),
        # 6. read files it should not see and use them as answers
        "reads_files": _blank(
            EXEC_ANSWERS,
            f"for path in [{str(SOLUTION)!r}, {str(folder / 'honest.ipynb')!r}]:\n"
            "    try:\n"
            "        _steal(open(path).read())\n"
            "    except OSError as e:\n"
            "        print(e)\n"
            f"for path in [{str(canary)!r}, '/root/.bash_history', '/etc/shadow']:\n"
            "    try:\n"
            "        print(open(path).read()[:100])\n"
            "    except OSError as e:\n"
            "        print(e)\n",
        ),
        # 7. ask a helper on the host's 127.0.0.1 for the answers
        "network": _blank(
            EXEC_ANSWERS,
            "import socket\n"
            "try:\n"
            f"    s = socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "    _steal(s.makefile().read())\n"
            "except OSError as e:\n"
            "    print(e)\n",
        ),
        # 8. write into the Python environment (a .pth file runs in every later Python)
        "site_packages": _blank(
            "import numpy, os, site, sysconfig\n"
            "for folder in [os.path.dirname(numpy.__file__), sysconfig.get_paths()['purelib']]:\n"
            "    try:\n"
            f"        open(os.path.join(folder, 'evil_{TOKEN[-6:]}.pth'), 'w').write('import os')\n"
            "    except OSError as e:\n"
            "        print(e)\n"
        ),
        # 9. swallow the interrupt in an answer (the other answers are right)
        "swallows": submission(
            HEAD,
            "def team0_share(positions, teams, point, power=3.0):\n"
            "    while True:\n"
            "        try:\n"
            "            import time; time.sleep(0.01)\n"
            "        except:\n"
            "            pass\n",
            *FULL[1:],
        ),
    }


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _leftovers(marker: str) -> list[str]:
    import psutil

    out = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in proc.info["cmdline"] or []):
                out.append(f"{proc.pid}: {' '.join(proc.info['cmdline'])[:100]}")
        except psutil.Error:
            continue
    return out


class _Helper:
    """A TCP server on 127.0.0.1 that hands out the solutions to whoever connects."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(SOLUTION.read_bytes())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    base = tempfile.mkdtemp(prefix="cgh-", dir="/tmp")  # short: every kernel folder lives here
    folder = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    canary = out / "secret.txt"
    canary.write_text("the instructor's secret")
    book = out / "grades.csv"
    helper = _Helper()
    for name, nb in _attacks(folder, helper.port, canary, book).items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    for name in ("honest", "zz_honest"):  # graded before and after the attackers
        nbformat.write(submission(HEAD, *FULL), folder / f"{name}.ipynb")
    before, course_before = _hashes(folder), _hashes(PACKAGE)
    old_tempdir = tempfile.tempdir
    tempfile.tempdir = base
    try:
        start = time.monotonic()
        grades = grade_paths(
            [folder],
            timeout=60,
            check_timeout=10,
            jobs=2,
            csv_path=book,
            json_path=out / "grades.json",
            sandbox="bwrap",
        )
        seconds = time.monotonic() - start
    finally:
        tempfile.tempdir = old_tempdir
    time.sleep(1.0)  # a surviving daemon would write the gradebook by now
    result = {
        "grades": {Path(g.path).stem: g for g in grades},
        "before": before,
        "after": _hashes(folder),
        "course_before": course_before,
        "course_after": _hashes(PACKAGE),
        "book": book,
        "json": out / "grades.json",
        "helper": helper,
        "leftovers": _leftovers(TOKEN) + _leftovers(base),
        "seconds": seconds,
        "site": [
            p for p in map(Path, sys.path) if p.is_dir() and any(p.glob(f"evil_{TOKEN[-6:]}.pth"))
        ],
    }
    helper.server.close()
    shutil.rmtree(base, ignore_errors=True)
    return result


def test_no_attacker_scores(hostile) -> None:
    grades = hostile["grades"]
    for name in (
        "forges_messages",
        "fake_server",
        "huge_reply",
        "garbage_reply",
        "rewrites_checks",
        "proc_attack",
        "daemons",
        "reads_files",
        "network",
        "site_packages",
    ):
        g = grades[name]
        assert g.total == 0 and g.max_total == POINTS, g.table()
        assert g.sandbox == "bwrap"


def test_honest_learners_score_full_marks_before_and_after_the_attackers(hostile) -> None:
    for name in ("honest", "zz_honest"):
        g = hostile["grades"][name]
        assert g.total == g.max_total == POINTS and not g.flags, g.table()


def test_a_swallowed_interrupt_costs_only_its_own_question(hostile) -> None:
    g = hostile["grades"]["swallows"]
    st = {q.qid: q.status for q in g.questions}
    assert st["1.1"] == "timeout" and g.total == POINTS - 2, g.table()


def test_no_file_of_the_class_or_the_course_changed(hostile) -> None:
    assert hostile["after"] == hostile["before"]
    assert hostile["course_after"] == hostile["course_before"]
    assert not hostile["site"], hostile["site"]


def test_the_gradebook_is_complete_and_untouched(hostile) -> None:
    rows = list(csv.DictReader(hostile["book"].open()))
    assert len(rows) == len(hostile["grades"]) and all(r["sandbox"] == "bwrap" for r in rows)
    doc = json.loads(hostile["json"].read_text())
    assert len(doc["submissions"]) == len(rows)
    assert "pwned" not in hostile["book"].read_text()


def test_no_process_is_left_behind(hostile) -> None:
    assert hostile["leftovers"] == []


def test_no_connection_reached_the_host(hostile) -> None:
    assert hostile["helper"].connections == 0


def test_forged_and_oversized_replies_are_errors_not_points(hostile) -> None:
    for name in ("huge_reply", "garbage_reply"):
        g = hostile["grades"][name]
        assert all(q.status in ("error", "not graded", "failed") for q in g.questions), g.table()
        assert any(
            "unreadable reply" in e or "crashed" in e or "did not answer" in e for e in g.errors
        ), g.errors


def test_attacks_are_flagged(hostile) -> None:
    flags = hostile["grades"]["forges_messages"].flags
    assert any("audit" in f for f in flags) or any("patched numpy" in f for f in flags), flags
    assert any("solutions/" in f for f in hostile["grades"]["reads_files"].flags)


def test_the_class_grades_in_reasonable_time(hostile) -> None:
    assert hostile["seconds"] < 600, hostile["seconds"]


# --- Ctrl-C ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_keeps_every_row_and_the_files_mode(tmp_path, jobs) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    slow = submission(HEAD, *FULL, "import time\ntime.sleep(60)")
    for i in range(3):
        nbformat.write(slow, folder / f"late_{i}.ipynb")
    nbformat.write(submission(HEAD, *FULL), folder / "a_fast.ipynb")
    book = tmp_path / "grades.csv"
    old_rows = [
        f"earlier_{i:02d}.ipynb,earlier_{i:02d},1,2,2,2,1,7,7,,,1.0,x,bwrap,v" for i in range(19)
    ]
    book.write_text(
        "file,student,set,1.1,1.2,1.3,1.4,total,max,flags,errors,seconds,sha256,sandbox,"
        "checks_version\n" + "\n".join(old_rows) + "\n"
    )
    os.chmod(book, 0o644)
    tmp = tempfile.mkdtemp(prefix="cgc-", dir="/tmp")  # the run's kernels live under it
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=tmp)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "course_utils.grading",
            str(folder),
            "--csv",
            str(book),
            "--jobs",
            str(jobs),
            "--timeout",
            "120",
            "-q",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and "a_fast.ipynb" not in book.read_text():
        time.sleep(0.5)
    assert "a_fast.ipynb" in book.read_text(), "the fast submission was never graded"
    time.sleep(2)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    stopped = time.monotonic() - start
    assert proc.returncode == 130 and stopped < 10, (proc.returncode, stopped, err[-500:])
    rows = {r["file"]: r for r in csv.DictReader(book.open())}
    assert {f"earlier_{i:02d}.ipynb" for i in range(19)} <= set(rows)
    assert rows["a_fast.ipynb"]["total"] == str(POINTS)
    assert stat.S_IMODE(book.stat().st_mode) == 0o644
    time.sleep(1)
    left = _leftovers(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    assert left == []
