"""Rebuilding a reply's value in the grader: only the node types of :mod:`.protocol` come out.

Every field is type-checked, every size matched against its bytes, every dtype checked against
a list; anything else raises :class:`.protocol.ProtocolError`. Nothing is unpickled.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .protocol import (
    BIT_GENERATORS,
    DTYPE_PATTERN,
    MAX_DEPTH,
    MAX_NODES,
    NUMPY_KINDS,
    TORCH_DTYPES,
    ProtocolError,
)

__all__ = ["decode_value", "require"]


def require(cond: Any, what: str) -> None:
    """``ProtocolError(what)`` unless ``cond``."""
    if not cond:
        raise ProtocolError(what)


def _int(node: dict, key: str) -> int:
    v = node.get(key)
    require(type(v) is int, f"{key} must be an integer")
    return v


def _shape(v: Any) -> tuple[int, ...]:
    require(type(v) is list and len(v) <= 32, "bad shape")
    require(all(type(n) is int and 0 <= n < 2**48 for n in v), "bad shape")
    return tuple(v)


class _Decoder:
    def __init__(self, buffers: list[bytes], make_function: Callable[[int, str], Any] | None):
        self.buffers = buffers
        self.make_function = make_function
        self.nodes = 0

    def buf(self, node: dict) -> bytes:
        i = _int(node, "i")
        require(0 <= i < len(self.buffers), "buffer index out of range")
        return self.buffers[i]

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        require(self.nodes <= MAX_NODES and depth <= MAX_DEPTH + 2, "too many or too deep values")
        t = type(node)
        if node is None or t in (bool, int, float, str):
            return node
        if t is list:
            return [self.decode(v, depth + 1) for v in node]
        require(t is dict and type(node.get("$")) is str, "untagged object")
        tag = node["$"]
        method = getattr(self, f"_tag_{tag}", None)
        require(method is not None, f"unknown tag {tag[:20]!r}")
        return method(node, depth)

    def _items(self, node: dict, key: str, depth: int) -> list:
        v = node.get(key)
        require(type(v) is list, f"{key} must be a list")
        return [self.decode(x, depth + 1) for x in v]

    def _tag_t(self, node: dict, depth: int) -> tuple:
        return tuple(self._items(node, "v", depth))

    def _tag_d(self, node: dict, depth: int) -> dict:
        keys, values = self._items(node, "k", depth), self._items(node, "v", depth)
        require(len(keys) == len(values), "dict keys and values differ in number")
        try:
            return dict(zip(keys, values, strict=True))
        except TypeError:
            raise ProtocolError("unhashable dict key") from None

    def _tag_set(self, node: dict, depth: int) -> set:
        try:
            return set(self._items(node, "v", depth))
        except TypeError:
            raise ProtocolError("unhashable set item") from None

    def _tag_fset(self, node: dict, depth: int) -> frozenset:
        return frozenset(self._tag_set(node, depth))

    def _tag_c(self, node: dict, depth: int) -> complex:
        re_, im = node.get("re"), node.get("im")
        require(type(re_) in (int, float) and type(im) in (int, float), "bad complex")
        return complex(re_, im)

    def _tag_b(self, node: dict, depth: int) -> bytes:
        return bytes(self.buf(node))

    def _tag_r(self, node: dict, depth: int) -> range:
        try:
            return range(_int(node, "a"), _int(node, "b"), _int(node, "s"))
        except ValueError:
            raise ProtocolError("bad range") from None

    def _dtype(self, text: Any) -> Any:
        import numpy as np

        require(type(text) is str and DTYPE_PATTERN.match(text), "bad dtype")
        try:
            dt = np.dtype(text)
        except TypeError:
            raise ProtocolError("bad dtype") from None
        require(dt.kind in NUMPY_KINDS and dt.fields is None and dt.itemsize > 0, "bad dtype")
        return dt

    def _tag_nd(self, node: dict, depth: int) -> Any:
        import numpy as np

        dt, shape, data = self._dtype(node.get("dt")), _shape(node.get("sh")), self.buf(node)
        require(math.prod(shape) * dt.itemsize == len(data), "array size does not match its data")
        return np.frombuffer(data, dtype=dt).reshape(shape).copy()

    def _tag_ndo(self, node: dict, depth: int) -> Any:
        import numpy as np

        shape, items = _shape(node.get("sh")), self._items(node, "v", depth)
        require(math.prod(shape) == len(items), "object array size does not match its items")
        out = np.empty(len(items), dtype=object)
        for i, v in enumerate(items):
            out[i] = v
        return out.reshape(shape)

    def _tag_ns(self, node: dict, depth: int) -> Any:
        import numpy as np

        dt, data = self._dtype(node.get("dt")), self.buf(node)
        require(len(data) == dt.itemsize, "scalar size does not match its dtype")
        return np.frombuffer(data, dtype=dt)[0]

    def _tag_gen(self, node: dict, depth: int) -> Any:
        import numpy as np

        state = self.decode(node.get("st"), depth + 1)
        require(type(state) is dict and state.get("bit_generator") in BIT_GENERATORS, "bad rng")
        bit_generator = getattr(np.random, state["bit_generator"])()
        try:
            bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError):
            raise ProtocolError("bad rng state") from None
        return np.random.Generator(bit_generator)

    def _tensor(self, node: dict) -> Any:
        import torch

        name = node.get("dt")
        require(name in TORCH_DTYPES, "bad tensor dtype")
        dtype, shape, data = getattr(torch, name), _shape(node.get("sh")), self.buf(node)
        itemsize = torch.empty((), dtype=dtype).element_size()
        require(math.prod(shape) * itemsize == len(data), "tensor size does not match its data")
        if not data:
            out = torch.empty(shape, dtype=dtype)
        else:
            out = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(dtype).reshape(shape)
        rg = node.get("rg")
        require(type(rg) is bool, "bad requires_grad")
        if rg and (out.is_floating_point() or out.is_complex()):
            out.requires_grad_(True)
        return out

    def _tag_tt(self, node: dict, depth: int) -> Any:
        return self._tensor(node)

    def _tag_tg(self, node: dict, depth: int) -> Any:
        import torch

        st = node.get("st")
        require(type(st) is dict and st.get("$") == "tt" and st.get("dt") == "uint8", "bad state")
        gen = torch.Generator()
        try:
            gen.set_state(self._tensor(st))
        except (RuntimeError, TypeError, ValueError):
            raise ProtocolError("bad torch generator state") from None
        return gen

    def _index(self, node: Any, depth: int) -> Any:
        import pandas as pd

        require(type(node) is dict and node.get("$") in ("ix", "rix"), "bad index")
        name = self.decode(node.get("n"), depth + 1)
        if node["$"] == "rix":
            return pd.RangeIndex(_int(node, "a"), _int(node, "b"), _int(node, "s"), name=name)
        values = self.decode(node.get("v"), depth + 1)
        require(getattr(values, "ndim", 0) == 1, "bad index values")
        return pd.Index(values, name=name)

    _tag_ix = _index
    _tag_rix = _index

    def _column(self, node: Any, depth: int) -> Any:
        require(type(node) is dict and node.get("$") in ("nd", "ndo"), "bad column")
        values = self.decode(node, depth + 1)
        require(values.ndim == 1, "bad column")
        return values

    def _tag_ser(self, node: dict, depth: int) -> Any:
        import pandas as pd

        values, index = self._column(node.get("v"), depth), self._index(node.get("ix"), depth)
        require(len(values) == len(index), "series and index lengths differ")
        return pd.Series(values, index=index, name=self.decode(node.get("n"), depth + 1))

    def _tag_df(self, node: dict, depth: int) -> Any:
        import pandas as pd

        cols = self._items(node, "c", depth)
        raw = node.get("v")
        require(type(raw) is list and len(raw) == len(cols), "bad columns")
        index = self._index(node.get("ix"), depth)
        frame = pd.DataFrame(index=index)
        for i, (name, col) in enumerate(zip(cols, raw, strict=True)):
            values = self._column(col, depth)
            require(len(values) == len(index), "column and index lengths differ")
            try:
                frame.insert(i, name, values, allow_duplicates=True)
            except (TypeError, ValueError):
                raise ProtocolError("bad column name") from None
        return frame

    def _tag_fn(self, node: dict, depth: int) -> Any:
        require(self.make_function is not None, "a function where data was expected")
        name = node.get("n")
        require(type(name) is str, "bad function name")
        return self.make_function(_int(node, "h"), name[:100])


def decode_value(
    node: Any, buffers: list[bytes], make_function: Callable[[int, str], Any] | None = None
) -> Any:
    """Rebuild a value from an encoded node (see the module docstring for what can come out)."""
    try:
        return _Decoder(buffers, make_function).decode(node)
    except ProtocolError:
        raise
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError) as exc:
        raise ProtocolError(f"malformed value ({type(exc).__name__})") from None
