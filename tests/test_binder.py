"""The repository installs on Binder (repo2docker) and JupyterHub without changes.

repo2docker (its Python buildpack) reads ``binder/runtime.txt`` for the Python version, installs
the Debian packages of ``binder/apt.txt`` and runs
``pip install --no-cache-dir -r "binder/requirements.txt"`` with the repository root as the
working directory; because the file has local references (``-c``, ``.``) the whole repository is
copied in first. In that file pip resolves nested ``-c``/``-r`` paths against the file's own
folder, and a bare ``.`` against the working directory (the root). The same image serves a
JupyterHub class (INSTRUCTORS, section 5): it adds the ``hub`` extra (nbgitpuller, for the links
that hand the notebooks out) and bubblewrap and git from apt.

What is tested here, offline: the files and every path they name, the pins against
``constraints.txt`` and ``pyproject.toml``, a real ``pip install --dry-run`` of the Binder file
from a copy of the git-tracked files (the clone Binder sees) with ``--no-index`` (so it can only
pass when everything resolves against the installed, CI-tested versions), that the same command
fails for a broken file, that a wheel built from the copy carries the package data, and that no
tracked text file hard-codes this machine's paths; and, for the hub, that every package the
image installs is here at its pinned version and imports in a fresh interpreter, that
nbgitpuller is an enabled Jupyter server extension, and that its ``gitpuller`` hands out a
course folder from a git repository and later merges an update without touching a student's
edited notebook. Not tested: a build on mybinder.org or on a hub (no network here beyond
package registries, no Docker or Kubernetes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.repo_support import ROOT, pyproject, set_notebook, tracked_copy, tracked_files

BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: An absolute path into this machine's checkout (spelt so that this file does not match itself);
#: a URL such as https://host/work/x or a home-relative ~/work/ is fine.
MACHINE_PATH = re.compile(rf"(?<![\w.~-])({re.escape('/' + 'work/')}|{re.escape(ROOT.as_posix())})")


# ------------------------------------------------------------------------------------ helpers
def requirement_lines(path: Path) -> list[str]:
    """Non-empty lines of a requirements file, comments removed."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def referenced_paths(path: Path, cwd: Path) -> list[tuple[str, Path]]:
    """(line, resolved path) of every local path a requirements file names, as pip resolves
    them: ``-c``/``-r`` (and their long forms) relative to the file's folder, a local project
    (``.``, ``./x``, ``-e .``) relative to the working directory ``cwd``."""
    found = []
    for line in requirement_lines(path):
        m = re.match(r"^(-c|-r|--constraint|--requirement)(?:\s+|=)(\S+)$", line)
        if m:
            found.append((line, (path.parent / m.group(2)).resolve()))
            continue
        target = re.sub(r"^(-e|--editable)(?:\s+|=)", "", line)
        if target.startswith((".", "/")):
            found.append((line, (cwd / target.split("[")[0]).resolve()))
    return found


def pins(path: Path) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of a requirements/constraints file."""
    out = {}
    for line in requirement_lines(path):
        if line.startswith("-") or line.startswith("."):
            continue
        req = Requirement(line)
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if exact:
            out[req.name.lower().replace("_", "-")] = exact[0]
    return out


def pip_dry_run(repo: Path, tmp: Path) -> subprocess.CompletedProcess:
    """What repo2docker runs, offline: ``pip install -r binder/requirements.txt`` from the
    repository root, as a dry run against the installed environment (``--no-index``: nothing
    may be downloaded, so every requirement must already be satisfied by an installed version)."""
    return subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
            "--no-build-isolation", "--disable-pip-version-check", "--quiet",
            "--report", str(tmp / "report.json"), "-r", "binder/requirements.txt",
        ],
        cwd=repo, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tracked_copy(tmp_path_factory.mktemp("binder-clone"))


# -------------------------------------------------------------------------------------- tests
def test_binder_files_exist_and_nothing_else_steers_repo2docker() -> None:
    """runtime.txt + requirements.txt (+ postBuild, which installs JupyterLab's settings after
    the pip install, + apt.txt) and no other repo2docker config in binder/ (an environment.yml
    there would switch repo2docker to conda and ignore requirements.txt)."""
    assert sorted(p.name for p in BINDER.iterdir()) == [
        "apt.txt",
        "postBuild",
        "requirements.txt",
        "runtime.txt",
    ]
    lines = requirement_lines(BINDER / "requirements.txt")
    assert f"--extra-index-url {CPU_INDEX}" in lines, "torch must come from the CPU-only index"
    assert ".[hub]" in lines, "binder/requirements.txt must install the course package itself"


def apt_packages(path: Path) -> list[str]:
    """The packages of an apt.txt as repo2docker reads it: ``#`` starts a comment, one name a
    line; a line that does not start like a Debian package name stops the build."""
    names = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        name = raw.partition("#")[0].strip()
        if name:
            assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", name), f"not a package name: {name!r}"
            names.append(name)
    return names


def test_apt_txt_brings_the_sandbox_and_git(tmp_path: Path) -> None:
    """bubblewrap for ``course-grade --sandbox bwrap`` wherever the image grades, git for
    nbgitpuller; nothing else (every apt package makes the image bigger)."""
    assert sorted(apt_packages(BINDER / "apt.txt")) == ["bubblewrap", "git"]
    bad = tmp_path / "apt.txt"
    bad.write_text("bubblewrap; rm -rf /\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not a package name"):
        apt_packages(bad)


def test_the_hub_extra_is_pinned_and_installed_by_make_test() -> None:
    """The image installs ``.[hub]``; nbgitpuller is pinned in constraints.txt within the
    extra's range, and ``.[dev]`` includes the extra, so CI has it installed and the offline
    dry run below can resolve the image's requirements."""
    extras = pyproject()["project"]["optional-dependencies"]
    hub = {Requirement(r).name: Requirement(r).specifier for r in extras["hub"]}
    constraints = pins(ROOT / "constraints.txt")
    assert set(hub) == {"nbgitpuller"}
    assert constraints["nbgitpuller"] in hub["nbgitpuller"]
    assert "course_utils[hub]" in extras["dev"]


def test_runtime_matches_pyproject_and_ci() -> None:
    """``python-X.Y`` (repo2docker's format), allowed by requires-python, and the version the
    constraints were tested with."""
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    m = re.fullmatch(r"python-(3\.\d+)", runtime)
    assert m, f"binder/runtime.txt should read like python-3.11, got {runtime!r}"
    requires = pyproject()["project"]["requires-python"]
    assert f"{m.group(1)}.0" in SpecifierSet(requires), (runtime, requires)
    tested = re.search(r"Python (3\.\d+)", (ROOT / "constraints.txt").read_text("utf-8"))
    assert tested and tested.group(1) == m.group(1), "runtime.txt differs from the CI Python"


def test_every_referenced_path_resolves_inside_the_repo() -> None:
    refs = referenced_paths(BINDER / "requirements.txt", cwd=ROOT)
    assert {line for line, _ in refs} == {"-c ../constraints.txt", ".[hub]"}
    for line, path in refs:
        assert path.is_relative_to(ROOT), f"{line!r} points outside the repository: {path}"
        assert path.exists(), f"{line!r} points to a missing {path}"
    assert (ROOT / "pyproject.toml").is_file()


def test_reference_parser_catches_a_wrong_path(tmp_path: Path) -> None:
    """The path check above can fail: ``-c constraints.txt`` inside binder/ names a file that
    does not exist, and ``-c ../../x`` leaves the repository."""
    (tmp_path / "repo" / "binder").mkdir(parents=True)
    bad = tmp_path / "repo" / "binder" / "requirements.txt"
    bad.write_text("-c constraints.txt\n-r ../../outside.txt\n.\n", encoding="utf-8")
    refs = dict(referenced_paths(bad, cwd=tmp_path / "repo"))
    assert not refs["-c constraints.txt"].exists()
    assert not refs["-r ../../outside.txt"].is_relative_to(tmp_path / "repo")


def test_pins_agree_with_constraints_and_pyproject() -> None:
    binder, constraints = pins(BINDER / "requirements.txt"), pins(ROOT / "constraints.txt")
    assert "torch" in binder and binder["torch"] == constraints["torch"], (binder, constraints)
    for name, version in binder.items():
        assert constraints.get(name) == version, (
            f"{name}=={version} but constraints say {constraints.get(name)}"
        )
    deps = pyproject()["project"]["dependencies"]
    torch_spec = next(Requirement(d).specifier for d in deps if Requirement(d).name == "torch")
    assert binder["torch"] in torch_spec


def test_no_tracked_file_hard_codes_this_machine() -> None:
    """No absolute path to this checkout (or /work) in a tracked text file: a hub clones the
    repository elsewhere."""
    hits = []
    for rel in tracked_files():
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        hits += [
            f"{rel.as_posix()}:{i}: {line.strip()}"
            for i, line in enumerate(text.splitlines(), 1)
            if MACHINE_PATH.search(line)
        ]
    assert hits == [], "absolute paths of this machine in tracked files:\n" + "\n".join(hits)


def test_machine_path_pattern() -> None:
    w = "/" + "work"
    assert MACHINE_PATH.search(f"cd {w}/main && make") and MACHINE_PATH.search(f"'{ROOT}/x'")
    assert not MACHINE_PATH.search(f"https://example.org{w}/x or ~{w}/x or ./{w[1:]}/x")


@pytest.mark.slow
def test_pip_resolves_the_binder_file_offline(repo_copy: Path, tmp_path: Path) -> None:
    """``pip install --dry-run -r binder/requirements.txt`` from the root of a clean copy: it
    resolves with no download, torch is the pinned CPU build, and only the course package itself
    would be installed (everything else is already satisfied at the CI-tested versions)."""
    res = pip_dry_run(repo_copy, tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    installs = [(i["metadata"]["name"], i["download_info"]["url"]) for i in report["install"]]
    assert installs == [("course_utils", repo_copy.resolve().as_uri())], installs
    import torch

    assert torch.__version__.split("+")[0] == pins(BINDER / "requirements.txt")["torch"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit, message",
    [
        (("-c ../constraints.txt", "-c constraints.txt"), "Could not open constraint file"),
        (("torch==2.13.0", "torch==2.12.0"), "Cannot install torch==2.12.0"),
        (("\n.[hub]\n", "\n./course[hub]\n"), "does not exist"),
    ],
    ids=["wrong-constraints-path", "pin-against-constraints", "wrong-project-path"],
)
def test_pip_check_fails_for_a_broken_file(
    repo_copy: Path, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    """The dry run is a real check: a wrong ``-c`` path, a pin that contradicts constraints.txt
    or a wrong project path makes it fail (fast, without network: ``--no-index``)."""
    broken = tmp_path / "repo"
    shutil.copytree(repo_copy, broken)
    req = broken / "binder" / "requirements.txt"
    text = req.read_text(encoding="utf-8")
    assert edit[0] in text
    req.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    res = pip_dry_run(broken, tmp_path)
    assert res.returncode != 0, f"pip accepted a broken file ({edit[1]!r})"
    assert message in res.stderr, res.stderr[-2000:]


@pytest.mark.slow
def test_wheel_from_a_clean_copy_carries_the_package_data(repo_copy: Path, tmp_path: Path) -> None:
    """Binder installs ``.`` as a normal (not editable) package: every tracked file under
    course_utils/ must end up in the wheel, or a notebook on Binder would miss it."""
    res = subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index",
            "--no-build-isolation", "--disable-pip-version-check", "--quiet",
            "-w", str(tmp_path / "dist"), ".",
        ],
        cwd=repo_copy, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("course_utils-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    tracked = {
        p.relative_to(repo_copy).as_posix()
        for p in (repo_copy / "course_utils").rglob("*")
        if p.is_file()
    }
    missing = sorted(tracked - in_wheel)
    assert missing == [], f"tracked files missing from the wheel: {missing}"


# ------------------------------------------------------------------ what the hub image needs
def image_distributions() -> dict[str, str]:
    """``name -> requirement`` of everything ``pip install .[hub]`` asks for by name: the course's
    dependencies, the hub extra, and what the extras they name bring (``flwr[simulation]``
    brings ``ray``, which ``course-grade --ray`` and notebook 05b use)."""
    import importlib.metadata as md

    project = pyproject()["project"]
    reqs = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["hub"]
    ]
    out = {}
    for req in reqs:
        out[req.name.lower().replace("_", "-")] = str(req)
        for line in md.requires(req.name) or [] if req.extras else []:
            sub = Requirement(line)
            if sub.marker is not None and any(
                sub.marker.evaluate({"extra": e}) for e in req.extras
            ):
                out.setdefault(sub.name.lower().replace("_", "-"), str(sub).split(";")[0])
    return out


#: Top-level names some wheels ship by mistake (opacus: ``benchmarks``, ``examples``).
NOT_MODULES = {"benchmarks", "examples", "tests", "test", "docs", "scripts"}


@pytest.mark.slow
def test_every_package_the_image_installs_is_here_pinned_and_imports(tmp_path: Path) -> None:
    """Each direct requirement of ``.[hub]`` is installed at the version constraints.txt pins
    (inside pyproject's range), and every top-level module of those distributions imports in a
    fresh interpreter - what a kernel on the hub, or a Ray worker using the image, does."""
    import importlib.metadata as md

    constraints = pins(ROOT / "constraints.txt")
    wanted = image_distributions()
    modules: set[str] = set()
    by_dist: dict[str, set[str]] = {}
    for module, dists in md.packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    problems = []
    for name, req in sorted(wanted.items()):
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            problems.append(f"{name}: not installed")
            continue
        if version.split("+")[0] not in Requirement(req).specifier:
            problems.append(f"{name} {version} outside {req}")
        if name in constraints and version.split("+")[0] != constraints[name]:
            problems.append(f"{name} {version}, constraints pin {constraints[name]}")
        found = {
            m
            for m in by_dist.get(name, ())
            if m.isidentifier() and not m.startswith("_") and m not in NOT_MODULES
        }
        if not found:
            problems.append(f"{name}: no importable top-level module")
        modules |= found
    assert problems == [], problems
    assert {"nbgitpuller", "ray", "torch", "flwr", "opacus"} <= modules, sorted(modules)
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
    run = subprocess.run(
        [sys.executable, "-c", code, "course_utils.grading.distributed", *sorted(modules)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.slow
def test_nbgitpuller_is_an_enabled_server_extension() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)  # colours off
    assert re.search(r"nbgitpuller\s+enabled", text), text[-2000:]
    assert re.search(r"nbgitpuller [\d.]+ OK", text), text[-2000:]


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Instructor", "-c", "user.email=instructor@example.org", *args],
        cwd=cwd, check=True, capture_output=True, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
def test_gitpuller_hands_out_the_course_and_keeps_a_students_work(tmp_path: Path) -> None:
    """What an nbgitpuller link does on the hub, offline: the first click clones the handout
    repository (here a local one holding exercises/01 and README.md) into the student's home;
    after the instructor pushes a fix, the next click merges it and leaves the notebook the
    student edited as the student left it."""
    gitpuller = Path(sys.executable).with_name("gitpuller")
    assert gitpuller.exists(), "nbgitpuller's command is missing"
    origin = tmp_path / "handout"
    (origin / "exercises").mkdir(parents=True)
    exercise = set_notebook(1, "exercises")
    shutil.copy(exercise, origin / "exercises" / exercise.name)
    (origin / "README.md").write_text("Private & Robust ML\n", encoding="utf-8")
    _git("init", "-q", "-b", "main", cwd=origin)
    _git("add", "-A", cwd=origin)
    _git("commit", "-q", "-m", "handout", cwd=origin)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}  # no git identity configured

    def pull() -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(gitpuller), origin.as_uri(), "main", "course"],
            cwd=home, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = pull()
    assert first.returncode == 0, first.stderr[-2000:]
    mine = home / "course" / "exercises" / exercise.name
    assert mine.read_bytes() == exercise.read_bytes()
    work = mine.read_text(encoding="utf-8").replace("NotImplementedError", "ValueError", 1)
    mine.write_text(work, encoding="utf-8")  # the student's answer
    (origin / "README.md").write_text("Private & Robust ML, fixed\n", encoding="utf-8")
    (origin / "exercises" / "02_new.ipynb").write_bytes(exercise.read_bytes())
    _git("add", "-A", cwd=origin)
    _git("commit", "-q", "-m", "a fix and a new set", cwd=origin)
    second = pull()
    assert second.returncode == 0, second.stderr[-2000:]
    assert mine.read_text(encoding="utf-8") == work
    assert (home / "course" / "README.md").read_text(encoding="utf-8").endswith("fixed\n")
    assert (home / "course" / "exercises" / "02_new.ipynb").exists()
