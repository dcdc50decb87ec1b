"""Arguments the learner's code changes in place, mirrored in the grader's copies.

In the kernel, :func:`watch` snapshots the arguments of a call that can be changed in place
(numpy arrays, tensors, numpy and torch generators, torch modules, pandas frames, lists, dicts -
also inside lists, tuples and dicts) and :func:`changes` encodes the new state of those that
changed. In the grader, :func:`apply_changes` makes the same changes to the grader's own
objects: a check that tests "does not modify its input" sees the modification, and an ``rng``
argument advances exactly as it did in the learner's code.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

from .decoding import decode_value
from .encoding import Encoder
from .protocol import ProtocolError

__all__ = ["apply_changes", "changes", "watch"]


# =============================================================================================
# in the kernel
# =============================================================================================
def _kind(obj: Any) -> str | None:
    t = type(obj)
    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    pd = sys.modules.get("pandas")
    if np is not None and t is np.ndarray and obj.dtype.kind != "O":
        return "nd"
    if np is not None and t is np.random.Generator:
        return "gen"
    if torch is not None:
        if t is torch.Tensor or t is torch.nn.Parameter:
            return "tt"
        if t is torch.Generator:
            return "tg"
        if isinstance(obj, torch.nn.Module):
            return "mod"
    if pd is not None and t in (pd.DataFrame, pd.Series):
        return "pd"
    if t in (list, dict):
        return "box"
    return None


def _snapshot(kind: str, obj: Any) -> Any:
    if kind == "nd":
        return obj.copy()
    if kind == "tt":
        return obj.detach().clone(), obj.requires_grad
    if kind == "gen":
        return copy.deepcopy(obj.bit_generator.state)
    if kind == "tg":
        return obj.get_state().clone()
    if kind == "mod":
        state = {k: v.detach().clone() for k, v in obj.state_dict().items()}
        return state, [m.training for m in obj.modules()]
    if kind == "pd":
        return obj.copy(deep=True)
    if type(obj) is list:
        return [id(v) for v in obj]
    return [(id(k), id(v)) for k, v in obj.items()]


def watch(args: tuple, kwargs: dict) -> list[tuple[list, str, Any, Any]]:
    out: list[tuple[list, str, Any, Any]] = []

    def visit(path: list, obj: Any, depth: int) -> None:
        if len(out) >= 1_000:
            return
        kind = _kind(obj)
        if kind is not None:
            try:
                out.append((path, kind, obj, _snapshot(kind, obj)))
            except Exception:
                pass
        if depth < 3 and type(obj) in (list, tuple):
            for i, v in enumerate(obj):
                visit(path + [i], v, depth + 1)
        elif depth < 3 and type(obj) is dict:
            for i, v in enumerate(obj.values()):
                visit(path + [i], v, depth + 1)

    for i, a in enumerate(args):
        visit(["a", i], a, 0)
    for k, v in kwargs.items():
        visit(["k", k], v, 0)
    return out


def _changed(kind: str, obj: Any, snap: Any) -> Any:
    """``None`` when unchanged, else the new state to encode."""
    if kind == "nd":
        same = (
            obj.shape == snap.shape and obj.dtype == snap.dtype and obj.tobytes() == snap.tobytes()
        )
        return None if same else obj
    if kind == "tt":
        import torch

        old, rg = snap
        same = obj.shape == old.shape and obj.dtype == old.dtype and torch.equal(obj.detach(), old)
        return None if same and obj.requires_grad == rg else obj
    if kind == "gen":
        return None if obj.bit_generator.state == snap else obj
    if kind == "tg":
        import torch

        return None if torch.equal(obj.get_state(), snap) else obj
    if kind == "mod":
        import torch

        old_state, old_train = snap
        now = obj.state_dict()
        diff = {
            k: v.detach()
            for k, v in now.items()
            if k not in old_state
            or v.shape != old_state[k].shape
            or not torch.equal(v.detach(), old_state[k])
        }
        train = [m.training for m in obj.modules()]
        return None if not diff and train == old_train else {"state": diff, "train": train}
    if kind == "pd":
        return None if obj.equals(snap) and list(obj.index) == list(snap.index) else obj
    return None if _snapshot(kind, obj) == snap else obj


def changes(watched: list, enc: Encoder) -> list[list]:
    out = []
    for path, kind, obj, snap in watched:
        try:
            new = _changed(kind, obj, snap)
            if new is None:
                continue
            node = enc.tensor(new) if kind == "tt" else enc.encode(new)
            out.append([path, kind, node])
        except Exception:  # a change that cannot be encoded is not mirrored
            continue
    return out


# =============================================================================================
# in the grader
# =============================================================================================
def _locate(path: list, args: tuple, kwargs: dict) -> Any:
    if len(path) < 2 or path[0] not in ("a", "k"):
        raise ProtocolError("bad mutation path")
    try:
        obj = args[path[1]] if path[0] == "a" else kwargs[path[1]]
        for step in path[2:]:
            if type(step) is not int:
                raise ProtocolError("bad mutation path")
            obj = list(obj.values())[step] if isinstance(obj, dict) else obj[step]
    except (IndexError, KeyError, TypeError):
        raise ProtocolError("bad mutation path") from None
    return obj


def apply_changes(
    mutations: list, buffers: list[bytes], args: tuple, kwargs: dict, make_fn: Any
) -> None:
    """Change the grader's arguments as the learner's code changed them in the kernel."""
    for path, kind, node in mutations:
        target = _locate(path, args, kwargs)
        new = decode_value(node, buffers, make_fn)
        try:
            _apply(kind, target, new)
        except ProtocolError:
            raise
        except Exception:  # a change that cannot be mirrored (e.g. a new dtype): skip it
            continue


def _apply(kind: str, target: Any, new: Any) -> None:
    import numpy as np

    if kind == "nd":
        if not (isinstance(target, np.ndarray) and isinstance(new, np.ndarray)):
            raise ProtocolError("mutation of the wrong type")
        if target.shape != new.shape:
            target.resize(new.shape, refcheck=False)
        target[...] = new
    elif kind == "tt":
        import torch

        if not (isinstance(target, torch.Tensor) and isinstance(new, torch.Tensor)):
            raise ProtocolError("mutation of the wrong type")
        with torch.no_grad():
            if target.shape != new.shape:
                target.resize_(new.shape)
            target.copy_(new.detach())
        if target.is_leaf and target.requires_grad != new.requires_grad:
            target.requires_grad_(new.requires_grad)
    elif kind == "gen":
        if not (isinstance(target, np.random.Generator) and isinstance(new, np.random.Generator)):
            raise ProtocolError("mutation of the wrong type")
        target.bit_generator.state = new.bit_generator.state
    elif kind == "tg":
        target.set_state(new.get_state())
    elif kind == "mod":
        import torch

        if not (isinstance(new, dict) and isinstance(new.get("state"), dict)):
            raise ProtocolError("bad model change")
        own = target.state_dict()
        with torch.no_grad():
            for name, value in new["state"].items():
                if (
                    name in own
                    and isinstance(value, torch.Tensor)
                    and own[name].shape == value.shape
                ):
                    own[name].copy_(value)
        for module, flag in zip(target.modules(), new.get("train", []), strict=False):
            module.training = bool(flag)
    elif kind == "pd":
        if type(new) is not type(target):
            raise ProtocolError("mutation of the wrong type")
        target._update_inplace(new)  # pandas' own in-place replacement
    elif kind == "box":
        if isinstance(target, list) and isinstance(new, list):
            target[:] = new
        elif isinstance(target, dict) and isinstance(new, dict):
            target.clear()
            target.update(new)
        else:
            raise ProtocolError("mutation of the wrong type")
    else:
        raise ProtocolError(f"unknown mutation kind {kind[:20]!r}")
