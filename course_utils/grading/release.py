"""The student release (``make student-release DIR=...``): the course as the students' repository,
without anything that holds an answer key.

    python -m course_utils.grading.release DIR [--force]

Built from the files git tracks (or, outside a git checkout, the files of the course folder minus
``.venv``, caches and ``site/``), without :data:`LEFT_OUT` - ``solutions/``, ``tests/`` (the
reference answer of every check test, sample submissions with right answers), ``instructors/``
(lab notes, exam bank and rubric with model answers), the instructor guide (replaced by a stub),
``benchmarks/`` (which grades ``solutions/``), CI files, and anything named like an
instructor-only check file (``*extra_checks*``), a gradebook or a similarity report.

Before anything is written to ``DIR`` the new tree is **scanned** (:func:`scan`) against
``solutions/``: a solutions folder, a ``# BEGIN SOLUTION`` line, a distinctive solution line in an
exercise notebook, or a run of three solution lines in a row (a whole line for one- or two-line
answers) anywhere outside ``course_utils/`` stops the release. Runs found *inside*
``course_utils/`` are listed, not stopped: the package students install holds the checks (some
compute the expected value the way an answer would) and the course's own implementations that
notebooks use - what a release cannot hide (INSTRUCTORS.md, "Two repositories").

``DIR`` must be empty, or a previous release (its ``RELEASE.md``): then everything but its
``.git`` is replaced, so the students' repository keeps its history.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .generator import BEGIN, END

__all__ = ["LEFT_OUT", "build", "course_files", "main", "scan", "solution_blocks"]

#: Left out of a student release, and why.
LEFT_OUT = {
    "solutions/": "the worked answers the exercises are generated from",
    "tests/": "reference answers of the check tests, sample submissions, the grader's tests",
    "instructors/": "lab notes, exam bank and project rubric, with model answers",
    "INSTRUCTORS.md": "the instructor guide (a one-line stub takes its place)",
    "benchmarks/": "grades and times the solutions",
    ".ci/": "runs the instructor's test suite",
    "conftest.py": "configures tests/",
}
#: File name patterns never released (instructor-only checks, gradebooks, reports, submissions).
NEVER = (
    "*extra_checks*",
    "*extra-checks*",
    "grades*.csv",
    "grades*.json",
    "similarity*.html",
    "similarity*.csv",
    "submissions/*",
)
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", "site"}
MARKER = "<!-- student release -->"
_STUB = (
    "# Instructor guide\n\nThe instructor guide is not part of the students' copy of the course; "
    "your instructor has it.\n"
)


def course_files(root: str | Path) -> list[str]:
    """Relative paths (``/``) of the course's files: ``git ls-files``, else a walk."""
    root = Path(root)
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, timeout=60
        ).stdout
        files = [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]
        return sorted(f for f in files if (root / f).is_file())
    except (OSError, subprocess.SubprocessError):
        pass
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        rel = Path(folder).relative_to(root)
        found += [(rel / n).as_posix() for n in names if not n.endswith(".pyc")]
    return sorted(found)


def left_out(path: str) -> str | None:
    """Why ``path`` stays out of the release, or ``None``."""
    for prefix, why in LEFT_OUT.items():
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return why
    name = path.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in NEVER):
        return "instructor-only file"
    return None


def _code_cells(path: Path) -> list[str]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except (OSError, ValueError):
        return []
    out = []
    for c in cells:
        if isinstance(c, dict):
            src = c.get("source", "")
            out.append("".join(src) if isinstance(src, list) else str(src))
    return out


def solution_blocks(solutions: str | Path) -> tuple[list[tuple[str, list[str]]], set[str]]:
    """``([(notebook, stripped non-empty lines of one solution block)], lines outside blocks)``
    of the notebooks in ``solutions``."""
    blocks, outside = [], set()
    for path in sorted(Path(solutions).glob("*.ipynb")):
        for src in _code_cells(path):
            on, cur = False, []
            for line in src.splitlines():
                s = line.strip()
                if s == BEGIN:
                    on, cur = True, []
                elif s == END:
                    on = False
                    blocks.append((path.name, cur))
                elif s and on:
                    cur.append(s)
                elif s:
                    outside.add(s)
    return blocks, outside


def _texts(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        return _code_cells(path)
    try:
        return [path.read_text(encoding="utf-8")]
    except (OSError, UnicodeDecodeError):
        return []  # a binary file


def scan(tree: str | Path, solutions: str | Path) -> tuple[list[str], list[str]]:
    """``(problems, notes)`` of a release tree against the ``solutions/`` folder: problems stop a
    release (see the module docstring), notes list solution code inside ``course_utils/``."""
    tree = Path(tree)
    blocks, outside = solution_blocks(solutions)
    runs: dict[str, str] = {}
    for name, lines in blocks:
        width = min(3, len(lines))
        for i in range(len(lines) - width + 1):
            run = lines[i : i + width]
            if sum(len(x) for x in run) >= 40:
                runs["\n".join(run)] = name
    distinctive = {x for _, b in blocks for x in b if len(x) >= 12} - outside
    problems: list[str] = []
    notes: list[str] = []
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        rel = path.relative_to(tree).as_posix()
        if (
            rel.split("/")[0] in ("solutions", "tests", "instructors")
            or left_out(rel) == "instructor-only file"
        ):
            problems.append(f"{rel}: should not be in a student release")
        for text in _texts(path):
            lines = [x.strip() for x in text.splitlines() if x.strip()]
            code = path.suffix in (".py", ".ipynb")
            if code and (BEGIN in lines or END in lines):
                problems.append(f"{rel}: has a {BEGIN!r} line")
            if rel.startswith("exercises/") and distinctive & set(lines):
                shown = sorted(distinctive & set(lines))[0]
                problems.append(f"{rel}: shows a solution line: {shown}")
            for width in (3, 2, 1):
                for i in range(len(lines) - width + 1):
                    run = "\n".join(lines[i : i + width])
                    if run in runs:
                        where = f"{rel}: solution code of {runs[run]} ({lines[i][:60]} ...)"
                        (notes if rel.startswith("course_utils/") else problems).append(where)
    return sorted(set(problems)), sorted(set(notes))


def _commit(root: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, timeout=30
        )
        return out.stdout.decode().strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build(
    target: str | Path, source: str | Path | None = None, *, force: bool = False
) -> tuple[list[str], list[str], list[str]]:
    """Write the release of ``source`` (default: this course) into ``target``; returns
    ``(files written, files left out, notes)``. ``ValueError`` (nothing written) when the target
    is unsuitable or :func:`scan` finds an answer key."""
    source = Path(source) if source is not None else Path(__file__).resolve().parents[2]
    target = Path(target).resolve()
    if target == source.resolve() or source.resolve() in target.parents:
        raise ValueError(f"{target} is inside the course folder; write the release elsewhere")
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} is a file")
    previous = target / "RELEASE.md"
    old = [p for p in target.iterdir() if p.name != ".git"] if target.is_dir() else []
    if old and not force and not (previous.exists() and MARKER in previous.read_text("utf-8")):
        raise ValueError(f"{target} is not empty and not a previous release (use --force)")
    files = course_files(source)
    keep = [f for f in files if left_out(f) is None]
    dropped = [f for f in files if left_out(f) is not None]
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".release-", dir=target.parent))
    try:
        for rel in keep:
            dst = stage / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / rel, dst)
        if "INSTRUCTORS.md" in files:
            (stage / "INSTRUCTORS.md").write_text(_STUB, encoding="utf-8")
        (stage / "RELEASE.md").write_text(
            f"{MARKER}\n# Student release\n\nThe students' copy of the course, made by "
            f"`make student-release` from commit {_commit(source)} on "
            f'{time.strftime("%Y-%m-%d")}. Work in `exercises/`; `check("N.k", f)` in each '
            "notebook tells you how an answer is doing.\n",
            encoding="utf-8",
        )
        problems, notes = scan(stage, source / "solutions")
        if problems:
            raise ValueError("answer keys in the release: " + "; ".join(problems[:10]))
        target.mkdir(parents=True, exist_ok=True)
        for p in old:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        for p in sorted(stage.iterdir()):
            shutil.move(str(p), str(target / p.name))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return keep, dropped, notes


def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.grading.release DIR``: 0 written, 1 refused, 2 usage error."""
    p = argparse.ArgumentParser(
        prog="make student-release DIR=...",
        description="Write the course without solutions/, tests/ and instructor material, "
        "ready to commit as the students' repository.",
    )
    p.add_argument("target", metavar="DIR", help="an empty folder, or a previous release")
    p.add_argument("--force", action="store_true", help="replace a folder that is not a release")
    a = p.parse_args(argv)
    try:
        keep, dropped, notes = build(a.target, force=a.force)
    except ValueError as exc:
        print(f"student release refused: {exc}", file=sys.stderr)
        return 1
    why: dict[str, int] = {}
    for f in dropped:
        why[left_out(f) or ""] = why.get(left_out(f) or "", 0) + 1
    print(f"wrote {len(keep)} files to {a.target}; left out {len(dropped)}:")
    for reason, n in sorted(why.items()):
        print(f"  {n:4d}  {reason}")
    print(
        f"the package itself holds solution code in {len({n.split(':')[0] for n in notes})} "
        "file(s) (checks, the course's implementations): see INSTRUCTORS.md, 'Two repositories'"
    )
    print(f"next: cd {a.target} && git init && git add -A && git commit -m 'Course release'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
