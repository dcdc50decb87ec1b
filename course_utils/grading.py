"""Exercise generator and class autograder.

Two jobs, one module:

* **Generate** ``exercises/`` from ``solutions/`` (``make exercises``)::

      python -m course_utils.grading generate solutions exercises [--check]

  Every block between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
  ``raise NotImplementedError("Exercise N.k: <task>")`` (same indentation, the code around it is
  kept), outputs, execution counts and widget state are cleared. ``--check`` writes nothing and
  exits 1 when ``exercises/`` is not what the generator makes.

* **Grade** submissions (``course-grade``)::

      course-grade PATH [PATH ...] [--set N] [--timeout 120] [--jobs 2] [--csv F] [--json F]

  Each notebook runs in a fresh kernel (nbclient) with a time budget; then every registered
  question of its exercise set runs - from a freshly imported :mod:`course_utils.checks` - against
  the objects the notebook defined. A broken submission (syntax error, exception, endless loop,
  ``sys.exit()``, a crashed kernel, huge output, empty or invalid file, another exercise set, a
  missing answer) gets a clear per-question result and an error line; it never stops the batch.
  Integrity problems (patched checks, importing the course's own implementation of the asked
  function, reading ``solutions/``) are flagged next to the score. The gradebook is rewritten
  atomically after every submission, so an interrupted batch keeps every finished row.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN",
    "END",
    "QuestionGrade",
    "SubmissionGrade",
    "detect_set",
    "exercise_notebook",
    "generate",
    "grade_paths",
    "grade_submission",
    "main",
    "strip_solution",
    "write_gradebook",
]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
MIME = "application/vnd.course-grade+json"
PACKAGE_DIR = Path(__file__).resolve().parent
SOLUTIONS_DIR = PACKAGE_DIR.parent / "solutions"
#: Characters of notebook output kept in memory per submission before it counts as "huge".
MAX_OUTPUT_CHARS = 2_000_000
_SET_FROM_NAME = re.compile(r"^(\d+)_")
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+)\.\d+["']""")


# =============================================================================================
# generator
# =============================================================================================
def _set_number_from_name(path: str | Path) -> int | None:
    m = _SET_FROM_NAME.match(Path(path).name)
    return int(m.group(1)) if m else None


def _question_for_cell(source: str, next_sources: list[str], set_number: int | None) -> Any:
    """The registered question a solution cell answers: the function it defines, else the next
    ``check("N.k", ...)`` call."""
    from . import checks

    pool = checks.questions(set_number) if set_number is not None else checks.questions()
    head = source.split(BEGIN, 1)[0]
    defined = re.findall(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", head, flags=re.M)
    for name in reversed(defined):
        hits = [q for q in pool if q.answer == name]
        if len(hits) == 1:
            return hits[0]
    for nxt in next_sources:
        m = re.search(r"""\bcheck\(\s*["'](\d+\.\d+)["']""", nxt)
        if m and m.group(1) in checks.REGISTRY:
            return checks.REGISTRY[m.group(1)]
        if BEGIN in nxt:
            break
    return None


def strip_solution(source: str, message: str) -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of ``source`` by
    ``raise NotImplementedError(message)`` at the indentation of the ``BEGIN`` line.

    Parameters
    ----------
    source : str
        A code cell's source.
    message : str
        The exception message, e.g. ``"Exercise 1.1: return ..."``.

    Examples
    --------
    >>> src = "def f(x):\\n    # BEGIN SOLUTION\\n    return 2 * x\\n    # END SOLUTION\\n"
    >>> print(strip_solution(src, "Exercise 9.1: double x"))
    def f(x):
        raise NotImplementedError("Exercise 9.1: double x")
    <BLANKLINE>
    >>> strip_solution("# BEGIN SOLUTION\\nx = 1\\n", "m")
    Traceback (most recent call last):
    ...
    ValueError: source has a '# BEGIN SOLUTION' line 1 without a matching '# END SOLUTION'
    """
    out: list[str] = []
    inside: int | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise ValueError(f"source has a nested {BEGIN!r} at line {number}")
            inside = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({json.dumps(message)})\n")
        elif stripped == END:
            if inside is None:
                raise ValueError(f"source has an {END!r} line {number} without a {BEGIN!r}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise ValueError(f"source has a {BEGIN!r} line {inside} without a matching {END!r}")
    text = "".join(out)
    return text if source.endswith("\n") else text.rstrip("\n")


def exercise_notebook(nb: Any, *, set_number: int | None = None, name: str = "notebook") -> Any:
    """The exercise version of a solutions notebook (a new nbformat node; ``nb`` is untouched).

    Solution blocks become ``raise NotImplementedError("Exercise N.k: <task>")``, with the task
    taken from the registered question the cell answers; outputs, execution counts, widget state
    and execution metadata are cleared, and ``metadata.course_grade.set`` records the set.
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    if set_number is not None:
        nb.metadata["course_grade"] = {"set": int(set_number)}
    sources = ["".join(c.source) if isinstance(c.source, list) else c.source for c in nb.cells]
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        src = sources[i]
        if BEGIN not in src:
            continue
        if cell.cell_type != "code":
            raise ValueError(
                f"{name}: cell {i} is {cell.cell_type}; solution blocks go in code cells"
            )
        q = _question_for_cell(src, sources[i + 1 : i + 4], set_number)
        if q is None:
            raise ValueError(
                f"{name}: cell {i} holds a solution but neither defines a registered answer nor is "
                f'followed by check("N.k", ...); register the question in course_utils/checks first'
            )
        cell.source = strip_solution(src, f"Exercise {q.qid}: {q.task}")
    return nb


def _dump(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def generate(src_dir: str | Path, dst_dir: str | Path, *, check: bool = False) -> list[Path]:
    """Write ``dst_dir/NN_topic.ipynb`` for every ``src_dir/NN_topic.ipynb``.

    Parameters
    ----------
    src_dir, dst_dir : path
        ``solutions`` and ``exercises``.
    check : bool, default False
        Write nothing; return the exercise files that are missing or differ from the output.

    Returns
    -------
    list of Path
        Files written (or, with ``check=True``, files that are out of date). Exercise files without
        a solution counterpart are reported as out of date by ``check`` and removed otherwise.
    """
    import nbformat

    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    if not src_dir.is_dir():
        raise ValueError(f"src_dir must be an existing folder of solution notebooks, got {src_dir}")
    sources = sorted(src_dir.glob("*.ipynb"))
    changed: list[Path] = []
    if not check:
        dst_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        nb = nbformat.read(src, as_version=4)
        text = _dump(exercise_notebook(nb, set_number=_set_number_from_name(src), name=src.name))
        dst = dst_dir / src.name
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        changed.append(dst)
        if not check:
            _atomic_write_text(dst, text)
    stale = sorted(set(dst_dir.glob("*.ipynb")) - {dst_dir / s.name for s in sources})
    for extra in stale:
        changed.append(extra)
        if not check:
            extra.unlink()
    return changed


# =============================================================================================
# results
# =============================================================================================
@dataclass
class QuestionGrade:
    """Grade of one question of one submission."""

    qid: str
    answer: str
    points: int
    max_points: int
    status: str
    message: str = ""
    hint: str = ""


@dataclass
class SubmissionGrade:
    """Grade of one submission: per-question results, flags (integrity) and errors."""

    path: str
    student: str
    set_number: int | None
    questions: list[QuestionGrade] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(q.points for q in self.questions)

    @property
    def max_total(self) -> int:
        return sum(q.max_points for q in self.questions)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(total=self.total, max_total=self.max_total)
        return d

    def feedback(self) -> str:
        """A plain-text report for the student: score, each question's result and hint, flags."""
        set_txt = f"{self.set_number:02d}" if self.set_number is not None else "?"
        lines = [f"Exercise set {set_txt}: {self.total}/{self.max_total} points", ""]
        for q in self.questions:
            lines.append(f"{q.qid} `{q.answer}`: {q.points}/{q.max_points} - {q.status}")
            if q.status != "passed" and q.message:
                lines.append(f"    {q.message}")
            if q.hint:
                lines.append(f"    hint: {q.hint}")
        if self.errors:
            lines += ["", "Problems while running your notebook:"] + [
                f"  - {e}" for e in self.errors
            ]
        if self.flags:
            lines += ["", "Flagged for your instructor to look at:"] + [
                f"  - {f}" for f in self.flags
            ]
        return "\n".join(lines) + "\n"

    def table(self) -> str:
        """The per-question table printed by ``course-grade``."""
        set_txt = f"set {self.set_number:02d}" if self.set_number is not None else "set ?"
        lines = [f"{self.path}  ({set_txt}, {self.seconds:.1f} s)"]
        width = max([len(q.answer) for q in self.questions] + [6])
        for q in self.questions:
            detail = q.message if q.status != "passed" else ""
            lines.append(
                f"  {q.qid:<5} {q.answer:<{width}}  {q.points:>2}/{q.max_points:<2}  {q.status:<15} {detail}"[
                    :160
                ].rstrip()
            )
        lines.append(f"  total {self.total}/{self.max_total}")
        for flag in self.flags:
            lines.append(f"  FLAG  {flag}")
        for err in self.errors:
            lines.append(f"  ERROR {err}")
        return "\n".join(lines)


# =============================================================================================
# reading and static analysis of a submission
# =============================================================================================
def _load_notebook(path: Path) -> tuple[Any, str | None]:
    """``(notebook, None)`` or ``(None, error text)``."""
    import nbformat

    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, f"cannot read file: {exc}"
    if size > 100_000_000:
        return None, f"file is {size / 1e6:.0f} MB; not a notebook to grade"
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not UTF-8 text (a binary file?)"
    except OSError as exc:
        return None, f"cannot read file: {exc}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            None,
            f"invalid JSON (line {exc.lineno}, column {exc.colno}): not a readable notebook",
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook: valid JSON but without a list of cells"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        return None, f"not a valid notebook: {type(exc).__name__}: {str(exc)[:200]}"
    return nb, None


def _code_cells(nb: Any) -> list[tuple[int, str]]:
    """``(index in the notebook, source)`` of every non-empty code cell."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            if src.strip():
                out.append((i, src))
    return out


def detect_set(nb: Any, path: str | Path = "") -> int | None:
    """The exercise set a notebook belongs to: ``metadata.course_grade.set``, else the most common
    ``check("N.k", ...)`` call, else the ``NN_`` prefix of the file name; ``None`` if none.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('check("3.1", f)')])
    >>> detect_set(nb), detect_set(nbformat.v4.new_notebook(), "07_x.ipynb")
    (3, 7)
    """
    meta = nb.get("metadata", {}).get("course_grade", {})
    try:
        if isinstance(meta, dict) and meta.get("set") is not None:
            return int(meta["set"])
    except (TypeError, ValueError):
        pass
    calls = Counter(int(m) for _, src in _code_cells(nb) for m in _CHECK_CALL.findall(src))
    if calls:
        return calls.most_common(1)[0][0]
    return _set_number_from_name(path) if path else None


def _parse_cell(src: str) -> ast.AST | None:
    lines = []
    for line in src.splitlines():
        s = line.lstrip()
        lines.append(line[: len(line) - len(s)] + "pass" if s.startswith(("%", "!")) else line)
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _static_flags(cells: list[tuple[int, str]], qs: list[Any]) -> list[str]:
    """Integrity flags visible in the source: redefined/patched checks, imports of the reference
    implementations, paths into solutions/."""
    flags: list[str] = []
    refs: dict[str, list[tuple[str, str, str]]] = {}
    for q in qs:
        for ref in q.reference:
            mod, _, name = ref.rpartition(".")
            refs.setdefault(ref, []).append((q.qid, mod, name))
    trees = [(index, _parse_cell(src)) for index, src in cells]
    # names under which the notebook can reach course_utils.checks (or one of its modules)
    aliases = {"course_utils"}
    for _, tree in trees:
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                for al in node.names:
                    if al.name.startswith("course_utils.checks") and al.asname:
                        aliases.add(al.asname)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "course_utils"
            ):
                for al in node.names:
                    full = f"{node.module}.{al.name}"
                    if (
                        full.startswith("course_utils.checks")
                        and full.count(".") <= 2
                        and al.name != "check"
                    ):
                        if al.name[:1].islower() and (
                            al.name == "checks" or al.name.startswith("ex")
                        ):
                            aliases.add(al.asname or al.name)
                    if al.name == "REGISTRY":
                        aliases.add(al.asname or al.name)

    def root(expr: ast.AST) -> str:
        return re.split(r"[.\[(]", ast.unparse(expr), maxsplit=1)[0]

    for index, tree in trees:
        if tree is None:
            continue
        where = f"cell {index + 1}"
        for node in ast.walk(tree):
            # --- the check machinery
            if isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ) and node.name in (
                "check",
                "run_check",
            ):
                flags.append(f"redefines `{node.name}` ({where})")
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                if isinstance(node, (ast.Assign, ast.Delete)):
                    targets = node.targets
                else:
                    targets = [node.target]
                for t in targets:
                    if isinstance(t, ast.Name) and t.id in ("check", "run_check"):
                        flags.append(f"assigns to `{t.id}` ({where})")
                    elif isinstance(t, (ast.Attribute, ast.Subscript)) and (
                        root(t) in aliases or "REGISTRY" in ast.unparse(t)
                    ):
                        flags.append(f"patches `{ast.unparse(t)[:60]}` ({where})")
            elif isinstance(node, ast.Call):
                fn = ast.unparse(node.func)
                if (
                    fn in ("setattr", "delattr")
                    and node.args
                    and (root(node.args[0]) in aliases or ast.unparse(node.args[0]) == "check")
                ):
                    flags.append(f"patches the checks with {fn}() ({where})")
                if "REGISTRY." in fn and fn.rsplit(".", 1)[-1] in (
                    "update",
                    "pop",
                    "clear",
                    "popitem",
                    "setdefault",
                    "__setitem__",
                ):
                    flags.append(f"modifies the check registry ({where})")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.asname in ("check", "run_check", "expect") and not (
                        isinstance(node, ast.ImportFrom) and node.module == "course_utils.checks"
                    ):
                        flags.append(f"imports something else as `{alias.asname}` ({where})")
            # --- reference implementations
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    for ref, uses in refs.items():
                        for qid, mod, name in uses:
                            if full == ref or (full == mod and _mentions(tree, name)):
                                flags.append(
                                    f"imports the course's implementation `{ref}` (question {qid}, {where})"
                                )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    for ref, uses in refs.items():
                        for qid, mod, name in uses:
                            if alias.name in (mod, ref) and _mentions(tree, name):
                                flags.append(
                                    f"imports the course's implementation `{ref}` (question {qid}, {where})"
                                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                v = node.value.replace("\\", "/")
                if re.search(r"(^|/|\.\./)solutions(/|$)", v) or v.rstrip("/") == "solutions":
                    flags.append(f"refers to the solutions/ folder ({where})")
    return list(dict.fromkeys(flags))


def _only_self_checks(src: str) -> bool:
    """True for a cell that only calls ``check(...)``: the grader runs the checks itself, so these
    cells are skipped (saving time, and an answer's endless loop cannot eat the notebook's budget).

    Examples
    --------
    >>> _only_self_checks('check("1.1", f)'), _only_self_checks('print(check("1.1", f))')
    (True, False)
    """
    tree = _parse_cell(src)
    if tree is None or not tree.body:
        return False
    return all(
        isinstance(st, ast.Expr)
        and isinstance(st.value, ast.Call)
        and isinstance(st.value.func, ast.Name)
        and st.value.func.id == "check"
        for st in tree.body
    )


def _mentions(tree: ast.AST, name: str) -> bool:
    return any(
        (isinstance(n, ast.Attribute) and n.attr == name)
        or (isinstance(n, ast.Name) and n.id == name)
        for n in ast.walk(tree)
    )


# =============================================================================================
# kernel side: these functions run INSIDE the submission's kernel
# =============================================================================================
_KERNEL_STATE: dict[str, Any] | None = None
# builtins that IPython/ipykernel themselves rebind while running cells
_KERNEL_MANAGED = frozenset(
    {"input", "raw_input", "getpass", "display", "get_ipython", "exit", "quit", "help"}
)


def _kernel_prologue(solutions_dir: str, package_dir: str) -> None:
    """Before the student's first cell: record file opens (audit hook) and snapshot numpy/builtins."""
    import builtins
    import math

    import numpy
    import numpy.linalg

    global _KERNEL_STATE
    state: dict[str, Any] = {"active": True, "solutions": [], "package_writes": []}
    sol = os.path.normcase(os.path.abspath(solutions_dir)) + os.sep
    pkg = os.path.normcase(os.path.abspath(package_dir)) + os.sep
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC

    def hook(event: str, args: tuple) -> None:
        if event != "open" or not state["active"]:
            return
        try:
            path = args[0]
            if isinstance(path, int):
                return
            full = os.path.normcase(os.path.abspath(os.fsdecode(path)))
            if full.startswith(sol) and len(state["solutions"]) < 20:
                state["solutions"].append(full)
            elif full.startswith(pkg) and "__pycache__" not in full:
                mode, flags = (args + (None, None))[1:3]
                writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    mode is None and isinstance(flags, int) and flags & write_flags
                )
                if writes and len(state["package_writes"]) < 20:
                    state["package_writes"].append(full)
        except Exception:  # an audit hook must never break the student's code
            pass

    sys.addaudithook(hook)
    state["snapshot"] = {
        mod.__name__: dict(vars(mod)) for mod in (numpy, numpy.linalg, numpy.random, math, builtins)
    }
    _KERNEL_STATE = state


def _publish(payload: dict[str, Any]) -> None:
    from IPython.display import publish_display_data

    publish_display_data({MIME: payload})


def _same_function(a: Any, b: Any) -> bool:
    code_a, code_b = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if code_a is None or code_b is None:
        return a is b
    return code_a == code_b


def _same_attr(a: Any, b: Any) -> bool:
    import types

    if isinstance(b, types.FunctionType):
        return isinstance(a, types.FunctionType) and _same_function(a, b)
    if isinstance(b, type):
        if not isinstance(a, type) or a.__name__ != b.__name__:
            return False
        for k, v in vars(b).items():
            w = vars(a).get(k)
            if isinstance(v, (types.FunctionType, property)) or k in vars(a):
                fa = w.fget if isinstance(w, property) else w
                fb = v.fget if isinstance(v, property) else v
                if isinstance(fb, types.FunctionType) and not (
                    isinstance(fa, types.FunctionType) and _same_function(fa, fb)
                ):
                    return False
        return set(vars(a)) <= set(vars(b)) | {"__weakref__", "__dict__"}
    if isinstance(b, types.ModuleType):
        if b.__name__.startswith("course_utils.checks"):  # re-imported on purpose: compare names
            return isinstance(a, types.ModuleType) and a.__name__ == b.__name__
        return a is b
    try:
        return bool(a == b) or type(a) is type(b) and isinstance(b, (dict, list))
    except Exception:
        return True


def _compare_modules(old: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Names of course_utils.checks* attributes the notebook changed."""
    changed = []
    for modname, new_mod in fresh.items():
        old_mod = old.get(modname)
        if old_mod is None:
            continue
        old_vars, new_vars = vars(old_mod), vars(new_mod)
        for k, v in new_vars.items():
            if k.startswith("__") or k in ("REGISTRY", "LOAD_ERRORS"):
                continue
            if k not in old_vars or not _same_attr(old_vars[k], v):
                changed.append(f"{modname}.{k}")
        changed.extend(
            f"{modname}.{k}" for k in old_vars if k not in new_vars and not k.startswith("__")
        )
    old_checks, new_checks = old.get("course_utils.checks"), fresh.get("course_utils.checks")
    if old_checks is not None and new_checks is not None:
        old_reg = getattr(old_checks, "REGISTRY", {})
        for qid, q in new_checks.REGISTRY.items():
            oq = old_reg.get(qid) if isinstance(old_reg, dict) else None
            if (
                oq is None
                or getattr(oq, "points", None) != q.points
                or not _same_function(getattr(oq, "func", None), q.func)
            ):
                changed.append(f"REGISTRY[{qid!r}]")
    return changed


def _uses_reference(obj: Any, ref: Any, ref_module: Any) -> bool:
    """Is ``obj`` the reference implementation, a wrapper of it, or code calling it?"""
    import functools
    import types

    seen = 0
    stack = [obj]
    while stack and seen < 50:
        f = stack.pop()
        seen += 1
        if f is ref or (
            isinstance(f, types.FunctionType)
            and isinstance(ref, types.FunctionType)
            and _same_function(f, ref)
        ):
            return True
        if isinstance(f, functools.partial):
            stack.append(f.func)
            continue
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None and wrapped is not f:
            stack.append(wrapped)
        if isinstance(f, types.FunctionType):
            names: set[str] = set()
            codes = [f.__code__]
            while codes:
                c = codes.pop()
                names.update(c.co_names)
                codes.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
            g = f.__globals__
            for n in names:
                v = g.get(n)
                if v is ref or (ref_module is not None and v is ref_module):
                    return True
                if (
                    isinstance(v, types.FunctionType)
                    and v is not f
                    and v.__module__ == f.__module__
                ):
                    stack.append(v)  # a helper defined in the notebook
            for cell in f.__closure__ or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:
                    pass
    return False


def _kernel_prepare(
    nonce: str, set_number: int, user_ns: dict[str, Any], old_modules: dict[str, Any]
) -> None:
    """After the student's cells: stop recording, import the checks afresh, compare, report."""
    import importlib

    flags: list[str] = []
    old_grading = old_modules.get("course_utils.grading")
    state = getattr(old_grading, "_KERNEL_STATE", None)
    if not isinstance(state, dict) or "snapshot" not in state:
        flags.append("the grader's audit state was removed or replaced")
        state = {"solutions": [], "package_writes": [], "snapshot": {}}
    state["active"] = False
    for p in state["solutions"][:3]:
        flags.append(f"opened {p.rsplit(os.sep, 2)[-2]}/{os.path.basename(p)} under solutions/")
    for p in state["package_writes"][:3]:
        flags.append(f"wrote to the course package ({os.path.basename(p)})")
    for modname, before in state["snapshot"].items():
        mod = sys.modules.get(modname)
        if mod is None:
            continue
        now = vars(mod)
        patched = [
            k
            for k, v in before.items()
            if not k.startswith("_") and k not in _KERNEL_MANAGED and now.get(k, v) is not v
        ]
        if patched:
            flags.append(f"patched {modname}: {', '.join(sorted(patched)[:5])}")
    checks = importlib.import_module("course_utils.checks")
    fresh = {k: v for k, v in sys.modules.items() if k.startswith("course_utils.checks")}
    changed = _compare_modules(
        {k: v for k, v in old_modules.items() if k.startswith("course_utils.checks")}, fresh
    )
    if changed:
        flags.append(f"patched course_utils.checks ({', '.join(changed[:4])})")
    ns_check = user_ns.get("check")
    if ns_check is not None and not (
        getattr(ns_check, "__module__", None) == "course_utils.checks"
        and _same_function(ns_check, checks.check)
    ):
        flags.append("`check` in the notebook is not course_utils.checks.check")
    qs = checks.questions(set_number)
    for q in qs:
        obj = user_ns.get(q.answer)
        for ref in q.reference:
            modname, _, name = ref.rpartition(".")
            mod = sys.modules.get(modname)
            if (
                obj is not None
                and mod is not None
                and _uses_reference(obj, getattr(mod, name, None), mod)
            ):
                flags.append(
                    f"`{q.answer}` uses the course's implementation `{ref}` (question {q.qid})"
                )
    _publish(
        {
            "nonce": nonce,
            "kind": "prepare",
            "flags": flags,
            "load_errors": dict(checks.LOAD_ERRORS),
            "questions": [{"qid": q.qid, "answer": q.answer, "points": q.points} for q in qs],
        }
    )


def _kernel_grade(nonce: str, qid: str, user_ns: dict[str, Any]) -> None:
    """Run one question (from the fresh checks module) against the student's namespace."""
    checks = sys.modules["course_utils.checks"]
    q = checks.get_question(qid)
    obj = user_ns.get(q.answer)
    if obj is None:
        r = checks.CheckResult(
            qid, "missing", 0, q.points, f"`{q.answer}` is not defined in the notebook", task=q.task
        )
    else:
        r = checks.run_check(qid, obj)
    _publish({"nonce": nonce, "kind": "result", **r.to_dict()})


# =============================================================================================
# host side: execute and grade one submission
# =============================================================================================
def _client_class() -> type:
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):  # type: ignore[misc,valid-type]
        """Keeps only error outputs and the grader's own messages; counts the rest."""

        grading = False
        output_chars = 0
        timed_out = False

        async def _async_handle_timeout(self, timeout, cell=None):  # noqa: ANN001
            self.timed_out = True
            return await super()._async_handle_timeout(timeout, cell)

        def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001
            msg_type = msg["msg_type"]
            content = msg.get("content", {})
            if msg_type == "error":
                out = {
                    "output_type": "error",
                    "ename": str(content.get("ename", ""))[:200],
                    "evalue": str(content.get("evalue", ""))[:500],
                    "traceback": [],
                }
                outs.append(out)
                return out
            if self.grading and msg_type == "display_data" and MIME in content.get("data", {}):
                out = {"output_type": "display_data", "data": {MIME: content["data"][MIME]}}
                outs.append(out)
                return out
            text = content.get("text")
            if isinstance(text, str):
                self.output_chars += len(text)
            else:
                for v in (content.get("data") or {}).values():
                    self.output_chars += len(v) if isinstance(v, str) else 100
            return None

    return GradingClient


def _quiet_logger() -> Any:
    """nbclient and asyncio log timeouts and dead kernels loudly; the grader reports them itself."""
    import logging

    log = logging.getLogger("course_utils.grading.kernel")
    log.setLevel(logging.CRITICAL)
    log.propagate = False
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    return log


def _kernel_env(set_number: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        COURSE_CHECKS_SET=str(int(set_number)),  # the kernel imports only this set's checks
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        RAY_USAGE_STATS_ENABLED="0",
    )
    env.pop("JUPYTER_PLATFORM_DIRS", None)
    return env


def _first_error(cell: Any) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ev = str(out.get("evalue", "")).strip().splitlines()
            return f"{out.get('ename', 'Error')}: {ev[0] if ev else ''}".rstrip(": ")[:200]
    return None


def _run_kernel(
    cells: list[tuple[int, str]],
    set_number: int,
    *,
    timeout: float,
    check_timeout: float,
    skip_cells: set[int],
    skip_questions: set[str],
    workdir: str,
    limit: float | None = None,
) -> dict[str, Any]:
    """One kernel session: prologue, the student's cells, the grading cells."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    nonce = uuid.uuid4().hex
    limit = timeout if limit is None else limit
    v4 = nbformat.v4
    prologue = v4.new_code_cell(
        "import course_utils.grading as _course_grade_prologue\n"
        f"_course_grade_prologue._kernel_prologue({str(SOLUTIONS_DIR)!r}, {str(PACKAGE_DIR)!r})\n"
        "del _course_grade_prologue"
    )
    student = [(i, v4.new_code_cell(src)) for i, src in cells if i not in skip_cells]
    prepare = v4.new_code_cell(
        "import sys as _cg_sys, importlib as _cg_importlib\n"
        "_cg_old = {k: v for k, v in list(_cg_sys.modules.items()) if k == 'course_utils.grading' "
        "or k.startswith('course_utils.checks')}\n"
        "for _cg_k in _cg_old:\n"
        "    del _cg_sys.modules[_cg_k]\n"
        "_cg = _cg_importlib.import_module('course_utils.grading')\n"
        f"_cg._kernel_prepare({nonce!r}, {set_number}, globals(), _cg_old)\n"
        "del _cg_old, _cg_k"
    )
    nb = v4.new_notebook(cells=[prologue] + [c for _, c in student] + [prepare])
    client = _client_class()(
        nb,
        timeout=int(timeout),
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "Timeout", "evalue": "cell timed out", "traceback": []},
        record_timing=False,
        iopub_timeout=10,
        shutdown_kernel="immediate",  # the kernel is thrown away: no graceful 5 s wait
        resources={"metadata": {"path": workdir}},
        log=_quiet_logger(),
    )
    result: dict[str, Any] = {
        "errors": [],
        "flags": [],
        "results": {},
        "crashed_cell": None,
        "crashed_question": None,
        "timed_out": False,
        "prepared": False,
    }
    deadline = time.monotonic() + timeout

    def run(cell: Any, index: int, budget: float) -> bool:
        """Execute one cell; True when it overran ``budget`` (the kernel was then interrupted)."""
        client.timeout = max(1, int(budget + 0.999))
        client.timed_out = False
        client.execute_cell(cell, index)
        return client.timed_out

    try:
        with client.setup_kernel(
            env=_kernel_env(set_number), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ):
            run(prologue, 0, 60)
            if _first_error(prologue):
                result["errors"].append(f"grader setup failed: {_first_error(prologue)}")
                return result
            # The notebook's budget is `timeout`; once it is spent, each remaining cell still gets
            # a short grace period (interrupted if it overruns), so one endless loop costs the
            # cells it stops, not every answer after it. Grace time is capped at `limit` in total.
            grace = max(5.0, min(30.0, limit * 0.1))
            hard_deadline = deadline + limit
            for pos, (orig, cell) in enumerate(student, start=1):
                now = time.monotonic()
                budget = deadline - now if now < deadline else min(grace, hard_deadline - now)
                if budget <= 0:
                    result["timed_out"] = True
                    result["errors"].append(f"cell {orig + 1} and later: not run, no time left")
                    break
                try:
                    overran = run(cell, pos, budget)
                except DeadKernelError:
                    result["crashed_cell"] = orig
                    result["errors"].append(
                        f"cell {orig + 1}: the kernel died (os._exit, a crash, or exit())"
                    )
                    return result
                if overran:
                    result["timed_out"] = True
                    result["errors"].append(
                        f"cell {orig + 1}: interrupted, still running at the {limit:g} s time limit "
                        "(an endless loop?)"
                    )
                    continue
                err = _first_error(cell)
                if err:
                    result["errors"].append(f"cell {orig + 1}: {err}")
            result["output_chars"] = client.output_chars
            client.grading = True
            idx = len(nb.cells) - 1
            try:
                if run(prepare, idx, max(30.0, check_timeout)) and run(
                    prepare, idx, max(30.0, check_timeout)
                ):
                    result["errors"].append("the kernel did not respond to the grader (still busy)")
                    return result
            except DeadKernelError:
                result["errors"].append("the kernel died while the grader started")
                return result
            msgs = [
                o["data"][MIME] for o in prepare.outputs if o.get("output_type") == "display_data"
            ]
            msgs = [m for m in msgs if m.get("nonce") == nonce and m.get("kind") == "prepare"]
            if not msgs:
                result["errors"].append(
                    f"grader could not start in the kernel: {_first_error(prepare)}"
                )
                return result
            result["prepared"] = True
            result["flags"].extend(msgs[0]["flags"])
            result["questions"] = msgs[0]["questions"]
            for name, err in msgs[0].get("load_errors", {}).items():
                result["errors"].append(f"check module {name} failed to load: {err}")
            stuck = 0
            for q in msgs[0]["questions"]:
                qid = q["qid"]
                if qid in skip_questions:
                    continue
                cell = v4.new_code_cell(f"_cg._kernel_grade({nonce!r}, {qid!r}, globals())")
                nb.cells.append(cell)
                if stuck >= 2:
                    result["results"][qid] = {
                        "status": "timeout",
                        "message": "not run: the kernel was stuck",
                    }
                    continue
                for _try in range(2):  # a stray interrupt can swallow a result: try once more
                    try:
                        overran = run(cell, len(nb.cells) - 1, check_timeout)
                    except DeadKernelError:
                        result["crashed_question"] = qid
                        return result
                    if overran:
                        stuck += 1
                        result["results"][qid] = {
                            "status": "timeout",
                            "message": f"the check did not finish within {check_timeout:g} s (an endless loop?)",
                        }
                        break
                    stuck = 0
                    got = [
                        o["data"][MIME]
                        for o in cell.outputs
                        if o.get("output_type") == "display_data"
                    ]
                    got = [m for m in got if m.get("nonce") == nonce and m.get("kind") == "result"]
                    if got:
                        result["results"][qid] = got[-1]
                        break
                    err = _first_error(cell) or "no result"
                    result["results"][qid] = {
                        "status": "error",
                        "message": f"the check was interrupted: {err}",
                    }
    except DeadKernelError:
        result["errors"].append("the kernel died")
    except Exception as exc:  # kernel failed to start, zmq trouble...
        result["errors"].append(f"grader error: {type(exc).__name__}: {str(exc)[:200]}")
    return result


def _empty_grades(set_number: int | None, status: str, message: str) -> list[QuestionGrade]:
    from . import checks

    if set_number is None:
        return []
    return [
        QuestionGrade(q.qid, q.answer, 0, q.points, status, message)
        for q in checks.questions(set_number)
    ]


def grade_submission(
    path: str | Path,
    *,
    set_number: int | None = None,
    timeout: float = 120.0,
    check_timeout: float = 30.0,
) -> SubmissionGrade:
    """Execute one notebook in a fresh kernel and grade it; never raises for a bad submission.

    Parameters
    ----------
    path : path
        The submitted ``.ipynb``.
    set_number : int, optional
        The exercise set being graded; a notebook of another set gets an error row. Default:
        detected from the notebook (:func:`detect_set`).
    timeout : float, default 120
        Seconds the student's cells may run in total; later cells are skipped after it.
    check_timeout : float, default 30
        Seconds each question's check may run (a student's endless loop inside a check).
    """
    from . import checks

    if timeout <= 0 or check_timeout <= 0:
        raise ValueError(
            f"timeout and check_timeout must be positive, got {timeout} and {check_timeout}"
        )
    start = time.monotonic()
    path = Path(path)
    grade = SubmissionGrade(str(path), path.stem, set_number)

    def finish() -> SubmissionGrade:
        grade.seconds = round(time.monotonic() - start, 2)
        return grade

    nb, err = _load_notebook(path)
    if nb is None:
        grade.errors.append(err or "unreadable")
        grade.questions = _empty_grades(set_number, "not graded", err or "")
        return finish()
    found = detect_set(nb, path)
    if set_number is None:
        set_number = found
        grade.set_number = found
    if set_number is None:
        grade.errors.append(
            "cannot tell which exercise set this is (no check(...) calls); use --set"
        )
        return finish()
    if found is not None and found != set_number:
        msg = f"this is exercise set {found:02d}, but set {set_number:02d} is being graded"
        grade.errors.append(msg)
        grade.questions = _empty_grades(set_number, "not graded", "wrong exercise set")
        return finish()
    qs = checks.questions(set_number)
    if not qs:
        grade.errors.append(f"no questions are registered for exercise set {set_number:02d}")
        return finish()
    cells = _code_cells(nb)
    if not cells:
        grade.errors.append("empty notebook: no code to run")
        grade.questions = _empty_grades(set_number, "missing", "the notebook has no code")
        return finish()
    grade.flags.extend(_static_flags(cells, qs))
    cells = [(i, src) for i, src in cells if not _only_self_checks(src)]

    skip_cells: set[int] = set()
    skip_questions: dict[str, str] = {}
    outcome: dict[str, Any] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="course-grade-") as workdir:
        for _attempt in range(3):
            remaining = timeout - (time.monotonic() - start)
            outcome = _run_kernel(
                cells,
                set_number,
                timeout=max(5.0, remaining),
                check_timeout=check_timeout,
                skip_cells=skip_cells,
                skip_questions=set(skip_questions),
                workdir=workdir,
                limit=timeout,
            )
            errors.extend(e for e in outcome["errors"] if e not in errors)
            if outcome["crashed_cell"] is not None:
                skip_cells.add(outcome["crashed_cell"])
                continue
            if outcome["crashed_question"] is not None:
                skip_questions[outcome["crashed_question"]] = (
                    "running your answer crashed the kernel"
                )
                errors.append(
                    f"question {outcome['crashed_question']}: running the answer crashed the kernel"
                )
                continue
            break
    if skip_cells:
        errors.append(
            f"graded with cell(s) {', '.join(str(i + 1) for i in sorted(skip_cells))} skipped"
        )
    grade.errors.extend(errors)
    grade.flags.extend(f for f in outcome.get("flags", []) if f not in grade.flags)
    if outcome.get("output_chars", 0) > MAX_OUTPUT_CHARS:
        grade.errors.append(
            f"huge output ({outcome['output_chars'] / 1e6:.1f} M characters) was discarded"
        )
    for q in qs:
        r = outcome.get("results", {}).get(q.qid)
        if q.qid in skip_questions:
            grade.questions.append(
                QuestionGrade(q.qid, q.answer, 0, q.points, "error", skip_questions[q.qid])
            )
        elif r is None:
            why = "not graded: " + (errors[-1] if errors else "the notebook did not finish")
            grade.questions.append(QuestionGrade(q.qid, q.answer, 0, q.points, "not graded", why))
        else:
            status = r.get("status", "error")
            pts = q.points if status == "passed" else 0
            grade.questions.append(
                QuestionGrade(
                    q.qid, q.answer, pts, q.points, status, r.get("message", ""), r.get("hint", "")
                )
            )
    return finish()


# =============================================================================================
# batches and gradebooks
# =============================================================================================
def _atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_gradebook(
    grades: list[SubmissionGrade],
    *,
    csv_path: str | Path | None = None,
    json_path: str | Path | None = None,
) -> None:
    """Write the gradebook atomically (a temp file in the same folder, then ``os.replace``).

    CSV: one row per submission - ``student, file, set``, one column per question (points),
    ``total, max, flags, errors, seconds``. JSON: the same plus every question's status and message.
    """
    grades = sorted(grades, key=lambda g: g.path)
    qids: list[str] = []
    for g in grades:
        for q in g.questions:
            if q.qid not in qids:
                qids.append(q.qid)
    qids.sort(key=lambda s: tuple(int(p) for p in s.split(".")))
    if csv_path is not None:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["student", "file", "set", *qids, "total", "max", "flags", "errors", "seconds"])
        for g in grades:
            pts = {q.qid: q.points for q in g.questions}
            w.writerow(
                [
                    g.student,
                    g.path,
                    "" if g.set_number is None else g.set_number,
                    *[pts.get(q, "") for q in qids],
                    g.total,
                    g.max_total,
                    " | ".join(g.flags),
                    " | ".join(g.errors),
                    g.seconds,
                ]
            )
        _atomic_write_text(Path(csv_path), buf.getvalue())
    if json_path is not None:
        doc = {"questions": qids, "submissions": [g.to_dict() for g in grades]}
        _atomic_write_text(Path(json_path), json.dumps(doc, indent=1) + "\n")


def _collect(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    problems: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in f.parts and f.is_file()
            )
            if not found:
                problems.append(f"{p}: no .ipynb files in this folder")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(f"{p}: no such file or folder")
    return list(dict.fromkeys(files)), problems


def _grade_job(args: tuple) -> SubmissionGrade:
    path, set_number, timeout, check_timeout = args
    try:
        return grade_submission(
            path, set_number=set_number, timeout=timeout, check_timeout=check_timeout
        )
    except Exception as exc:  # a grader bug must not lose the batch
        g = SubmissionGrade(str(path), Path(path).stem, set_number)
        g.errors.append(f"grader error: {type(exc).__name__}: {exc}")
        g.questions = _empty_grades(set_number, "not graded", "grader error")
        return g


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
    echo: Any = None,
) -> list[SubmissionGrade]:
    """Grade files and folders of notebooks with ``jobs`` parallel kernels.

    When ``set_number`` is None the batch's set is the most common set among the readable
    submissions; others get a "different exercise set" row. With ``any_set=True`` every notebook
    is graded as the set it belongs to (e.g. a student's folder holding several sets). The gradebook is rewritten after each
    finished submission; with ``feedback_dir`` each student also gets ``<student>.txt`` there
    (:meth:`SubmissionGrade.feedback`). ``echo(grade)`` is called as each one finishes.
    """
    files, problems = _collect([str(p) for p in paths])
    if problems and not files:
        raise ValueError("; ".join(problems))
    if any_set and set_number is not None:
        raise ValueError("pass either set_number or any_set=True, not both")
    if set_number is None and not any_set:
        found = Counter()
        for f in files:
            nb, _ = _load_notebook(f)
            if nb is not None:
                s = detect_set(nb, f)
                if s is not None:
                    found[s] += 1
        if not found:
            raise ValueError("cannot tell which exercise set these notebooks are; pass --set N")
        set_number = found.most_common(1)[0][0]
    jobs = max(1, int(jobs))
    grades: list[SubmissionGrade] = []
    todo = [(str(f), set_number, timeout, check_timeout) for f in files]

    def done(g: SubmissionGrade) -> None:
        grades.append(g)
        if csv_path is not None or json_path is not None:
            write_gradebook(grades, csv_path=csv_path, json_path=json_path)
        if feedback_dir is not None:
            _atomic_write_text(Path(feedback_dir) / f"{g.student}.txt", g.feedback())
        if echo is not None:
            echo(g)

    if jobs == 1 or len(todo) == 1:
        for t in todo:
            done(_grade_job(t))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
            futures = {pool.submit(_grade_job, t): t for t in todo}
            for fut in as_completed(futures):
                try:
                    g = fut.result()
                except Exception as exc:  # a worker died
                    path = futures[fut][0]
                    g = SubmissionGrade(
                        path, Path(path).stem, set_number, errors=[f"grader worker failed: {exc}"]
                    )
                    g.questions = _empty_grades(set_number, "not graded", "grader worker failed")
                done(g)
    return sorted(grades, key=lambda g: g.path)


# =============================================================================================
# command line
# =============================================================================================
def _grade_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="course-grade",
        description="Grade exercise notebooks: run each in a fresh kernel, then run the registered "
        "checks of its exercise set. (Also: `course-grade generate SRC DST` writes the exercises.)",
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="submitted .ipynb files or folders of them"
    )
    p.add_argument(
        "--set",
        dest="set_number",
        type=int,
        default=None,
        help="exercise set to grade (default: detected)",
    )
    p.add_argument(
        "--any-set",
        action="store_true",
        help="grade each notebook as its own exercise set (a folder mixing sets)",
    )
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per notebook (default 120)"
    )
    p.add_argument(
        "--check-timeout",
        type=float,
        default=30.0,
        help="seconds per question's check (default 30)",
    )
    p.add_argument("--jobs", type=int, default=2, help="notebooks graded in parallel (default 2)")
    p.add_argument("--csv", metavar="FILE", default=None, help="write the gradebook as CSV")
    p.add_argument("--json", metavar="FILE", default=None, help="write the gradebook as JSON")
    p.add_argument(
        "--feedback",
        metavar="DIR",
        default=None,
        help="write one feedback file per student into DIR",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    return p


def _generate_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="python -m course_utils.grading generate",
        description="Write exercises/ from solutions/ (solution blocks replaced by NotImplementedError).",
    )
    p.add_argument("src", help="folder of solution notebooks (solutions)")
    p.add_argument("dst", help="folder for the exercise notebooks (exercises)")
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if dst is out of date"
    )
    a = p.parse_args(argv)
    try:
        changed = generate(a.src, a.dst, check=a.check)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if a.check:
        for c in changed:
            print(f"out of date: {c}")
        return 1 if changed else 0
    for c in changed:
        print(f"wrote {c}" if c.exists() else f"removed {c}")
    if not changed:
        print(f"{a.dst} is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``course-grade`` (and of ``python -m course_utils.grading``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        return _generate_main(argv[1:])
    p = _grade_parser()
    a = p.parse_args(argv)
    if a.any_set and a.set_number is not None:
        p.error("--set and --any-set exclude each other")
    if a.timeout <= 0 or a.check_timeout <= 0 or a.jobs < 1:
        p.error("--timeout and --check-timeout must be positive and --jobs at least 1")
    files, problems = _collect(a.paths)
    for prob in problems:
        print(f"warning: {prob}", file=sys.stderr)
    if not files:
        p.error("no notebooks to grade")

    def echo(g: SubmissionGrade) -> None:
        if not a.quiet:
            print(g.table(), flush=True)
            print(flush=True)

    try:
        grades = grade_paths(
            [str(f) for f in files],
            set_number=a.set_number,
            timeout=a.timeout,
            check_timeout=a.check_timeout,
            jobs=a.jobs,
            csv_path=a.csv,
            json_path=a.json,
            feedback_dir=a.feedback,
            any_set=a.any_set,
            echo=echo,
        )
    except ValueError as exc:
        p.error(str(exc))
    if grades:
        sets = sorted({g.set_number for g in grades if g.set_number is not None})
        maxes = {g.max_total for g in grades if g.max_total}
        if len(sets) == 1 and len(maxes) == 1:
            what = f"set {sets[0]:02d}: mean {sum(g.total for g in grades) / len(grades):.1f}/{maxes.pop()}"
        else:
            share = sum(g.total for g in grades) / max(1, sum(g.max_total for g in grades))
            names = ", ".join(f"{n:02d}" for n in sets) or "?"
            what = f"sets {names}: {share:.0%} of all points"
        flagged = sum(bool(g.flags) for g in grades)
        errored = sum(bool(g.errors) for g in grades)
        books = ", ".join(x for x in (a.csv, a.json) if x)
        print(
            f"graded {len(grades)} submission(s) of {what}, {flagged} flagged, {errored} with errors"
            + (f"; gradebook: {books}" if books else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
