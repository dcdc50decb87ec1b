"""course_utils.doctor: the environment check learners and instructors run first."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from course_utils import doctor
from course_utils.doctor import (
    Check,
    check_requirement,
    check_speed,
    no_network,
    report,
    run_checks,
)


def test_everything_passes_here() -> None:
    rows = run_checks(speed=False)
    failed = [r for r in rows if not r.ok]
    assert not failed, report(rows)
    names = {r.name for r in rows}
    assert {
        "python",
        "numpy",
        "torch",
        "opacus",
        "ipympl",
        "datasets offline",
        "lab extensions",
        "opendp",
    } <= names


def test_crypto_check_runs_paillier_and_ckks(monkeypatch) -> None:
    row = doctor.check_crypto()
    assert row.ok and row.name == "phe + tenseal" and "tenseal" in row.detail
    monkeypatch.setitem(sys.modules, "tenseal", None)  # as if it were not installed
    row = doctor.check_crypto()
    assert not row.ok and "pip install" in row.hint


def test_opendp_check_releases_a_laplace_count(monkeypatch: pytest.MonkeyPatch) -> None:
    row = doctor.check_opendp()
    assert row.ok and row.name == "opendp release" and "epsilon 0.5" in row.detail
    real_import = doctor.importlib.import_module

    def broken(name: str, *args: object):
        if name.startswith("opendp"):
            raise ImportError("no opendp here")
        return real_import(name, *args)

    monkeypatch.setattr(doctor.importlib, "import_module", broken)
    row = doctor.check_opendp()
    assert not row.ok and "no opendp here" in row.detail and "pip install" in row.hint


def test_requirement_out_of_range_fails_with_a_fix() -> None:
    row = check_requirement("numpy>=999")
    assert not row.ok and "needs >=999" in row.detail and "pip install" in row.hint
    missing = check_requirement("surely-not-installed-pkg>=1")
    assert not missing.ok and missing.detail == "not installed"
    with pytest.raises(ValueError, match="requirement must be a PEP 508 string"):
        check_requirement("numpy >>= 1")


def test_no_network_blocks_internet_but_not_local_sockets() -> None:
    with no_network():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            with pytest.raises(OSError, match="network access attempted"):
                sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never reachable anyway
        with pytest.raises(OSError, match="name lookup"):
            socket.getaddrinfo("example.org", 80)
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.close()
    # restored afterwards
    assert socket.socket.connect is not None and socket.getaddrinfo.__module__ == "socket"


def test_datasets_load_offline() -> None:
    with no_network():
        row = doctor.check_datasets()
    assert row.ok, row.detail
    assert "digits 1797" in row.detail


def test_slow_machine_is_a_warning_not_a_failure() -> None:
    row = check_speed(lambda: sum(range(10)), reference=1e-9)
    assert row.ok and row.warning and row.mark == "WARN" and row.hint
    assert not check_speed(lambda: None, reference=10.0).warning or (doctor.os.cpu_count() or 1) < 2
    with pytest.raises(ValueError, match="reference must be positive"):
        check_speed(lambda: None, reference=0)


def test_report_and_exit_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = report([Check("a", True, "fine"), Check("b", False, "broken", "do this")])
    assert "FAIL  b  broken" in text and "-> do this" in text and "1 of 2 checks failed (b)" in text
    with pytest.raises(ValueError, match="rows must hold"):
        report([])
    monkeypatch.setattr(doctor, "run_checks", lambda speed=True: [Check("x", False, "no")])
    assert doctor.main(["--no-speed"]) == 1
    monkeypatch.setattr(doctor, "run_checks", lambda speed=True: [Check("x", True, "yes")])
    assert doctor.main([]) == 0
    assert "All 1 checks passed" in capsys.readouterr().out


def test_command_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "course_utils.doctor", "--no-speed"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "checks passed" in out.stdout
