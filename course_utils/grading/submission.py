"""Reading a submission before it runs: the notebook file (format 4, or 3 upgraded), its code
cells, the exercise set it belongs to, and the integrity flags visible in its source.

Everything here is computed by the grader from the file itself, so a notebook cannot hide or
forge these flags (the kernel-side ones in :mod:`.kernel_side` are only advisory).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from .generator import set_number_from_name

__all__ = [
    "MAX_NOTEBOOK_BYTES",
    "code_cells",
    "detect_set",
    "read_notebook",
    "only_self_checks",
    "static_flags",
]

#: A file larger than this is not read (a notebook of exercises is well under 1 MB).
MAX_NOTEBOOK_BYTES = 100_000_000
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+)\.\d+["']""")


def read_notebook(raw: bytes) -> tuple[Any, str | None]:
    """``(notebook, None)`` for a readable notebook (format 3 is upgraded to 4), else
    ``(None, why)`` with a message for the learner.

    Examples
    --------
    >>> read_notebook(b"not json")[1]
    'invalid JSON (line 1, column 1): not a readable notebook'
    >>> read_notebook(b'{"nbformat": 3, "worksheets": "?"}')[1]
    'old notebook format 3: open and save it in Jupyter'
    """
    import nbformat

    if len(raw) > MAX_NOTEBOOK_BYTES:
        return None, f"file is {len(raw) / 1e6:.0f} MB; not a notebook to grade"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not UTF-8 text (a binary file?)"
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else "nested"
        return None, f"invalid JSON ({where}): not a readable notebook"
    if not isinstance(data, dict):
        return None, "not a notebook: valid JSON but not an object"
    major = data.get("nbformat")
    if isinstance(major, int) and major < 4:
        try:
            nb = nbformat.reads(text, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no cells after the upgrade")
            return nb, None
        except Exception:
            return None, f"old notebook format {major}: open and save it in Jupyter"
    if not isinstance(data.get("cells"), list):
        return None, "not a notebook: valid JSON but without a list of cells"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        return None, f"not a valid notebook: {type(exc).__name__}: {str(exc)[:200]}"
    return nb, None


def code_cells(nb: Any) -> list[tuple[int, str]]:
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
    calls = Counter(int(m) for _, src in code_cells(nb) for m in _CHECK_CALL.findall(src))
    if calls:
        return calls.most_common(1)[0][0]
    return set_number_from_name(path) if path else None


def _parse_cell(src: str) -> ast.AST | None:
    lines = []
    for line in src.splitlines():
        s = line.lstrip()
        lines.append(line[: len(line) - len(s)] + "pass" if s.startswith(("%", "!")) else line)
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def static_flags(cells: list[tuple[int, str]], qs: list[Any]) -> list[str]:
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


def only_self_checks(src: str) -> bool:
    """True for a cell that only calls ``check(...)``: the grader runs the checks itself, so these
    cells are skipped (saving time, and an answer's endless loop cannot eat the notebook's budget).

    Examples
    --------
    >>> only_self_checks('check("1.1", f)'), only_self_checks('print(check("1.1", f))')
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
