"""The kernel's own integrity report (runs in the kernel, before and after the learner's cells).

:func:`prologue` runs before the first cell: an audit hook records opens under ``solutions/`` and
writes into the course package, numpy, math, builtins and the checks are snapshotted, and a
cell's error reply is kept small. :func:`advisory_flags` compares after the last cell. A
submission can switch all of this off (it runs in the same process): the flags are advisory and
never change a score - the flags the grader computes from the source are in :mod:`.submission`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .files import cap

__all__ = ["advisory_flags", "prologue"]

# builtins that IPython/ipykernel themselves rebind while running cells
_KERNEL_MANAGED = frozenset(
    {"input", "raw_input", "getpass", "display", "get_ipython", "exit", "quit", "help"}
)
_AUDIT: dict[str, Any] | None = None


def prologue(solutions_dir: str, package_dir: str) -> None:
    """Record file opens under ``solutions_dir`` and writes under ``package_dir`` (audit hook),
    and snapshot numpy, math, builtins and the checks, for the advisory flags."""
    import builtins
    import math

    import numpy
    import numpy.linalg

    global _AUDIT
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
        except Exception:  # an audit hook must never break the learner's code
            pass

    sys.addaudithook(hook)
    _cap_cell_errors()
    mods = [numpy, numpy.linalg, numpy.random, math, builtins]
    state["snapshot"] = {m.__name__: dict(vars(m)) for m in mods}
    try:
        import course_utils.checks as checks

        names = [k for k in sys.modules if k.startswith("course_utils.checks")]
        state["checks"] = {k: dict(vars(sys.modules[k])) for k in names}
        state["registry"] = {
            qid: (q, q.func, getattr(q.func, "__code__", None))
            for qid, q in checks.REGISTRY.items()
        }
        state["check"] = checks.check
    except Exception as exc:  # the checks are the grader's business; note and go on
        state["checks_error"] = f"{type(exc).__name__}: {exc}"
    _AUDIT = state


def _cap_cell_errors(limit: int = 5_000) -> None:
    """Keep a cell's error reply small: the kernel sends ``str(exception)`` and the traceback
    to the grader, and a 20 MB message would exceed the grader's message size limit (the reply
    would be lost and the cell taken for stuck)."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - always there in a kernel
        return
    if shell is None:
        return

    def shorten(result: Any) -> None:
        err = getattr(result, "error_in_exec", None)
        if err is None:
            return
        try:
            text = str(err)
        except Exception:
            text = "<the exception's message could not be printed>"
        if len(text) > limit:
            result.error_in_exec = type(type(err).__name__, (Exception,), {})(cap(text, limit))
        tb = getattr(shell, "_last_traceback", None)
        if isinstance(tb, list) and sum(len(str(t)) for t in tb) > 4 * limit:
            shell._last_traceback = [cap(str(t), limit) for t in tb[-20:]]

    shell.events.register("post_run_cell", shorten)


def _same_function(a: Any, b: Any) -> bool:
    code_a, code_b = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if code_a is None or code_b is None:
        return a is b
    return code_a == code_b


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


def advisory_flags(ns: dict[str, Any], refs: dict[str, list[list[str]]]) -> list[str]:
    """Flags only this kernel can see (reads of solutions/, patched modules, uses of the course's
    implementation). A submission can suppress them; they never change a score."""
    flags: list[str] = []
    state = _AUDIT
    if not isinstance(state, dict) or "snapshot" not in state:
        return ["the grader's audit state in the kernel was removed or replaced"]
    state["active"] = False
    for p in state["solutions"][:3]:
        flags.append(f"opened {p.rsplit(os.sep, 2)[-2]}/{os.path.basename(p)} under solutions/")
    for p in state["package_writes"][:3]:
        flags.append(f"wrote to the course package ({os.path.basename(p)})")
    for modname, before in state["snapshot"].items():
        now = vars(sys.modules[modname]) if modname in sys.modules else {}
        patched = [
            k
            for k, v in before.items()
            if not k.startswith("_") and k not in _KERNEL_MANAGED and now.get(k, v) is not v
        ]
        if patched:
            flags.append(f"patched {modname}: {', '.join(sorted(patched)[:5])}")
    changed: list[str] = []
    for modname, before in state.get("checks", {}).items():
        now = vars(sys.modules[modname]) if modname in sys.modules else {}
        for k, v in before.items():
            if (
                not k.startswith("__")
                and k not in ("REGISTRY", "LOAD_ERRORS")
                and now.get(k) is not v
            ):
                changed.append(f"{modname}.{k}")
    checks = sys.modules.get("course_utils.checks")
    registry = getattr(checks, "REGISTRY", {})
    for qid, (q, func, code) in state.get("registry", {}).items():
        now_q = registry.get(qid) if isinstance(registry, dict) else None
        if now_q is not q or q.func is not func or getattr(func, "__code__", None) is not code:
            changed.append(f"REGISTRY[{qid!r}]")
    if changed:
        flags.append(f"patched course_utils.checks ({', '.join(changed[:4])})")
    if "check" in state and ns.get("check") is not None and ns.get("check") is not state["check"]:
        flags.append("`check` in the notebook is not course_utils.checks.check")
    for answer, uses in refs.items():
        obj = ns.get(answer)
        for qid, ref in uses:
            modname, _, name = ref.rpartition(".")
            mod = sys.modules.get(modname)
            if (
                obj is not None
                and mod is not None
                and _uses_reference(obj, getattr(mod, name, None), mod)
            ):
                flags.append(
                    f"`{answer}` uses the course's implementation `{ref}` (question {qid})"
                )
    return flags
