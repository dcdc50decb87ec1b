"""course_utils.doctor's install checks: the lab extra, developer tools, which checkout is used."""

from __future__ import annotations

from pathlib import Path

from course_utils import doctor, doctor_install


def test_lab_extra_is_checked_with_its_own_fix(monkeypatch) -> None:
    rows = doctor.check_extra("lab")
    assert [r.name for r in rows] == ["jupyterlab"] and all(r.ok for r in rows)
    monkeypatch.setattr(
        doctor_install, "_extra_requirements", lambda extra: ["surely-not-installed>=1"]
    )
    (row,) = doctor.check_extra("lab")
    assert not row.ok and row.detail == "not installed" and '-e ".[lab]"' in row.hint


def test_missing_developer_tools_only_warn(monkeypatch) -> None:
    monkeypatch.setattr(
        doctor_install,
        "check_extra",
        lambda extra="lab": [doctor.Check("pytest", False, "not installed")],
    )
    row = doctor.check_dev_tools()
    assert row.ok and row.warning and "pytest" in row.detail and '".[dev]"' in row.hint


def test_a_second_checkout_is_caught(tmp_path: Path) -> None:
    other = tmp_path / "old-clone"
    (other / "course_utils").mkdir(parents=True)
    (other / "course_utils" / "__init__.py").write_text("")
    (other / "notebooks").mkdir()
    row = doctor.check_checkout(other / "notebooks")
    assert not row.ok and str(other) in row.detail and f'cd "{other}"' in row.hint
    here = doctor.check_checkout(Path(doctor.__file__).parents[1] / "notebooks")
    assert here.ok and "exercises" in here.detail
    assert doctor.check_checkout(tmp_path).ok  # outside any checkout: nothing to compare


def test_unsupported_python_points_to_conda_and_3_11() -> None:
    row = doctor.check_python((3, 13))
    assert not row.ok and "environment.yml" in row.hint and "3.11" in row.hint


def test_run_checks_reports_each_requirement_once() -> None:
    rows = doctor.run_checks(speed=False)
    names = [r.name for r in rows]
    assert len(names) == len(set(names)), names
    assert {"jupyterlab", "repository", "developer tools"} <= set(names)
