"""course_utils.ray_local: stopping what a local Ray leaves behind (the rest is in test_flower)."""

from __future__ import annotations

import subprocess
import sys

from course_utils.ray_local import stop_processes_using


def _child(folder: str) -> subprocess.Popen:
    code = "import sys, time; time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", code, folder])


def test_stop_processes_using_stops_only_the_children_naming_the_folder(tmp_path):
    mine = _child(str(tmp_path / "session_a"))
    other = _child(str(tmp_path / "session_b"))
    try:
        stop_processes_using(str(tmp_path / "session_a"), timeout=10.0)
        assert mine.wait(timeout=10) is not None  # terminated
        assert other.poll() is None  # still running: its command line names another folder
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


def test_stop_processes_using_without_matching_children_returns_at_once(tmp_path):
    stop_processes_using(str(tmp_path / "nothing"), timeout=0.1)
