"""Encoding a value the learner's code produced into the safe reply format (runs in the kernel).

Only exact types are accepted (``type(x) is list``, never a subclass): an object that fakes
``__eq__``, an ndarray subclass or a generator is refused with a message for the learner
(:func:`describe_unsafe`). Sizes are counted before anything is copied, so a 1 GB array is refused
without a second gigabyte. The formats are listed in :mod:`.protocol`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .protocol import MAX_DEPTH, MAX_NODES, NUMPY_KINDS, REPLY_LIMIT, TORCH_DTYPES, TooLarge, Unsafe

__all__ = ["Encoder", "describe_unsafe", "encode_value", "type_name"]


def type_name(obj: Any) -> str:
    """``module.Class`` of ``obj`` (``Class`` for builtins and notebook classes), never raising."""
    try:
        t = type(obj)
        mod = getattr(t, "__module__", "") or ""
        name = getattr(t, "__qualname__", "") or "object"
        return name if mod in ("builtins", "__main__", "") else f"{mod}.{name}"
    except Exception:
        return "object"


def describe_unsafe(obj: Any) -> str:
    """Why ``obj`` cannot be returned to the grader, in words for the learner."""
    import types

    np = sys.modules.get("numpy")
    name = type_name(obj)
    if isinstance(obj, types.GeneratorType):
        return "a generator; return a list (e.g. list(...)) instead"
    if np is not None and isinstance(obj, np.ndarray):
        return f"a {name} (a subclass of numpy.ndarray); return a plain array, e.g. np.asarray(...)"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        return f"a {name} (a subclass of torch.Tensor); return a plain tensor"
    for base in (int, float, str, bool, list, tuple, dict):
        if isinstance(obj, base):
            return f"a {name} (a subclass of {base.__name__}); return a plain {base.__name__}"
    if isinstance(obj, type):
        return "a class; return data (numbers, strings, lists, dicts, arrays, tensors)"
    return (
        f"an object of type {name}, which is not plain data; return numbers, strings, lists, "
        "tuples, dicts, numpy arrays or torch tensors"
    )


class Encoder:
    """Encodes values into one reply: shared buffers and one size budget (``limit`` bytes).

    ``register(function) -> handle`` lets returned functions through as handles (else refused).
    """

    def __init__(self, limit: int, register: Callable[[Any], int] | None = None) -> None:
        self.limit = limit
        self.register = register
        self.size = 0
        self.nodes = 0
        self.buffers: list[bytes] = []

    def grow(self, n: int) -> None:
        self.size += int(n)
        if self.size > self.limit:
            raise TooLarge(
                f"more than {self.limit / 1e6:.0f} MB (about {self.size / 1e6:,.0f} MB so far)"
            )

    def buffer(self, data: bytes) -> int:
        self.grow(len(data))
        self.buffers.append(data)
        return len(self.buffers) - 1

    def encode(self, x: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooLarge(f"more than {MAX_NODES:,} values")
        if depth > MAX_DEPTH:
            raise Unsafe(f"a value nested more than {MAX_DEPTH} levels deep")
        t = type(x)
        if x is None or t is bool:
            self.grow(5)
            return x
        if t is int:
            if x.bit_length() > 4096:
                raise Unsafe("an integer with more than 4096 bits")
            self.grow(x.bit_length() // 3 + 2)
            return x
        if t is float:
            self.grow(24)
            return x
        if t is str:
            self.grow(len(x) + 2)
            return x
        if t is complex:
            return {"$": "c", "re": x.real, "im": x.imag}
        if t in (bytes, bytearray):
            return {"$": "b", "i": self.buffer(bytes(x))}
        if t is list:
            return [self.encode(v, depth + 1) for v in x]
        if t is tuple:
            return {"$": "t", "v": [self.encode(v, depth + 1) for v in x]}
        if t is dict:
            keys, values = [], []
            for k, v in x.items():
                keys.append(self.encode(k, depth + 1))
                values.append(self.encode(v, depth + 1))
            return {"$": "d", "k": keys, "v": values}
        if t in (set, frozenset):
            return {"$": "set" if t is set else "fset", "v": [self.encode(v, depth + 1) for v in x]}
        if t is range:
            return {"$": "r", "a": x.start, "b": x.stop, "s": x.step}
        out = self._numpy(x, t, depth)
        if out is None:
            out = self._torch(x, t)
        if out is None:
            out = self._pandas(x, t, depth)
        if out is None and self.register is not None and _is_function(x):
            name = getattr(x, "__name__", "function")
            return {"$": "fn", "h": int(self.register(x)), "n": name if type(name) is str else "f"}
        if out is None:
            raise Unsafe(describe_unsafe(x))
        return out

    def _numpy(self, x: Any, t: type, depth: int) -> Any:
        np = sys.modules.get("numpy")
        if np is None:
            return None
        if t is np.ndarray:
            return self.array(x, depth)
        if isinstance(x, np.generic) and t.__module__ == "numpy":
            dt = x.dtype
            if dt.kind in NUMPY_KINDS and dt.fields is None and dt.itemsize > 0:
                return {"$": "ns", "dt": dt.str, "i": self.buffer(x.tobytes())}
            return None
        if t is np.random.Generator:
            return {"$": "gen", "st": self.encode(x.bit_generator.state, depth + 1)}
        return None

    def array(self, x: Any, depth: int = 0) -> Any:
        import numpy as np

        dt = x.dtype
        shape = [int(n) for n in x.shape]
        if dt.kind == "O" and dt.fields is None:
            self.grow(8 * x.size)
            return {"$": "ndo", "sh": shape, "v": [self.encode(v, depth + 1) for v in x.ravel()]}
        if dt.kind not in NUMPY_KINDS or dt.fields is not None or dt.subdtype is not None:
            raise Unsafe(f"a numpy array of dtype {dt}; return numbers or strings")
        self.grow(x.nbytes)  # before copying: a 1 GB array is refused without a copy
        data = np.ascontiguousarray(x).tobytes()
        return {"$": "nd", "dt": dt.str, "sh": shape, "i": self.buffer(data)}

    def _torch(self, x: Any, t: type) -> Any:
        torch = sys.modules.get("torch")
        if torch is None:
            return None
        if t is torch.Tensor or t is torch.nn.Parameter:
            return self.tensor(x)
        if t is torch.Generator:
            return {"$": "tg", "st": self.tensor(x.get_state())}
        return None

    def tensor(self, x: Any) -> Any:
        import torch

        name = str(x.dtype).removeprefix("torch.")
        if x.layout != torch.strided or name not in TORCH_DTYPES:
            raise Unsafe(
                f"a torch tensor of dtype {name} / layout {x.layout}; return a dense tensor"
            )
        self.grow(x.numel() * x.element_size())
        flat = x.detach().cpu().resolve_conj().resolve_neg().contiguous().reshape(-1)
        data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
        shape = [int(n) for n in x.shape]
        return {"$": "tt", "dt": name, "sh": shape, "i": self.buffer(data), "rg": x.requires_grad}

    def _pandas(self, x: Any, t: type, depth: int) -> Any:
        pd = sys.modules.get("pandas")
        if pd is None:
            return None
        if t is pd.Series:
            return {
                "$": "ser",
                "v": self.array(x.to_numpy(), depth + 1),
                "ix": self.index(x.index, depth + 1),
                "n": self.encode(x.name, depth + 1),
            }
        if t is pd.DataFrame:
            cols = [self.encode(c, depth + 1) for c in x.columns]
            values = [self.array(x.iloc[:, i].to_numpy(), depth + 1) for i in range(x.shape[1])]
            return {"$": "df", "c": cols, "v": values, "ix": self.index(x.index, depth + 1)}
        if t in (pd.Index, pd.RangeIndex):
            return self.index(x, depth)
        return None

    def index(self, ix: Any, depth: int) -> Any:
        import pandas as pd

        if type(ix) is pd.RangeIndex:
            return {
                "$": "rix",
                "a": ix.start,
                "b": ix.stop,
                "s": ix.step,
                "n": self.encode(ix.name),
            }
        if isinstance(ix, pd.MultiIndex):
            raise Unsafe("a pandas MultiIndex; reset_index() first")
        return {"$": "ix", "v": self.array(ix.to_numpy(), depth + 1), "n": self.encode(ix.name)}


def _is_function(x: Any) -> bool:
    import functools
    import types

    kinds = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial)
    np = sys.modules.get("numpy")
    return isinstance(x, kinds) or (np is not None and type(x) is np.ufunc)


def encode_value(
    value: Any, *, limit: int = REPLY_LIMIT, register: Callable[[Any], int] | None = None
) -> tuple[Any, list[bytes]]:
    """``(json node, buffers)`` for ``value``; :class:`Unsafe` or :class:`TooLarge` otherwise.

    ``register(function) -> handle`` lets returned functions through as handles.
    """
    enc = Encoder(limit, register)
    return enc.encode(value), enc.buffers
