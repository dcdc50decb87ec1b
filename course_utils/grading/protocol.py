"""The wire format between the grader and a submission's kernel, and its safe codec.

Requests (grader -> kernel) are pickles: the kernel trusts the grader. Replies (kernel -> grader)
are never unpickled. A reply is a length-prefixed frame holding a JSON header and raw byte
buffers; the JSON describes the value with a few tagged node types, and :func:`decode_reply`
rebuilds only these:

* JSON scalars (``None``, bool, int, float including NaN and infinities, str) and lists;
* ``{"$": "t"}`` tuple, ``"d"`` dict, ``"set"``/``"fset"``, ``"c"`` complex, ``"b"`` bytes,
  ``"r"`` range;
* ``"nd"`` a plain numpy array (dtype kinds ``biufcUSMm``, raw bytes), ``"ndo"`` an object array
  of safe items, ``"ns"`` a numpy scalar;
* ``"tt"`` a torch tensor (dtype and ``requires_grad`` kept), ``"tg"`` a torch generator state,
  ``"gen"`` a numpy ``Generator`` (its bit generator's state);
* ``"ser"``, ``"df"``, ``"ix"``, ``"rix"`` pandas Series, DataFrame and index;
* ``"fn"`` a function the learner returned: a handle the grader can call back
  (:class:`.proxy.RemoteFunction`).

Anything else - an object that fakes ``__eq__``, an ndarray subclass, a generator - is refused
when encoding (the learner sees why) and cannot be expressed in a reply at all. Sizes are capped:
a reply larger than ``limit`` bytes is refused before it is built.

The encoder is :mod:`.encoding` (it runs in the kernel), the decoder :mod:`.decoding`.

Examples
--------
>>> import numpy as np
>>> frame = encode_reply(7, value=(1, [2.5, float("nan")], np.arange(3)))
>>> decode_reply(frame[8:])["value"]
(1, [2.5, nan], array([0, 1, 2]))
>>> encode_reply(1, value=(x for x in "ab"))
Traceback (most recent call last):
...
course_utils.grading.protocol.Unsafe: a generator; return a list (e.g. list(...)) instead
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from typing import Any

__all__ = [
    "BIT_GENERATORS",
    "DTYPE_PATTERN",
    "MAX_DEPTH",
    "MAX_NODES",
    "NUMPY_KINDS",
    "TORCH_DTYPES",
    "REPLY_LIMIT",
    "ProtocolError",
    "TooLarge",
    "Unsafe",
    "decode_reply",
    "encode_reply",
    "frame_length",
    "pack_frame",
]

#: Default cap on one reply (bytes): a learner's answer returning 1 GB gets a clear failure.
REPLY_LIMIT = 50_000_000
#: Most values (list items, dict entries, ...) in one reply.
MAX_NODES = 1_000_000
MAX_DEPTH = 100
_HEADER = struct.Struct(">Q")
_JSON_LEN = struct.Struct(">I")
NUMPY_KINDS = "biufcUSMm"
DTYPE_PATTERN = re.compile(r"^[<>|=]?[biufcUSMm]\d{1,4}(\[[A-Za-z0-9]{1,5}\])?$")
TORCH_DTYPES = (
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")


class ProtocolError(Exception):
    """A reply that does not follow the format (only a tampered kernel sends one)."""


class TooLarge(Exception):
    """A value over the size cap (bytes or number of items)."""


class Unsafe(Exception):
    """A value that is not plain data; the message says what it was, for the learner."""


def pack_frame(payload: bytes) -> bytes:
    """``payload`` with its 8-byte big-endian length in front."""
    return _HEADER.pack(len(payload)) + payload


def frame_length(header: bytes) -> int:
    """The payload length announced by an 8-byte frame header."""
    return int(_HEADER.unpack(header)[0])


# =============================================================================================
# replies
# =============================================================================================
#: ``node`` not given to :func:`encode_reply` (``None`` is the encoded node of a ``None`` result).
_NO_NODE: Any = object()


def encode_reply(
    request_id: int,
    *,
    value: Any = None,
    node: Any = _NO_NODE,
    buffers: list[bytes] | None = None,
    error: dict[str, Any] | None = None,
    mutations: list[Any] | None = None,
    limit: int = REPLY_LIMIT,
) -> bytes:
    """One reply frame: an ``error`` dict, or ``value`` (encoded here) or an already encoded
    ``node`` with its ``buffers``; ``mutations`` are ``[path, kind, node]`` triples whose nodes
    refer to the same buffers."""
    buffers = list(buffers or [])
    header: dict[str, Any] = {"id": int(request_id)}
    from .encoding import encode_value

    if error is not None:
        header["err"] = error
    else:
        if node is _NO_NODE:  # (an answer returning None has the node None and may have
            node, buffers = encode_value(value, limit=limit)  # buffers for its mutations)
        header["ok"] = node
    if mutations:
        header["mut"] = mutations
    header["bufs"] = [len(b) for b in buffers]
    head = json.dumps(header, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return pack_frame(_JSON_LEN.pack(len(head)) + head + b"".join(buffers))


def decode_reply(
    payload: bytes, make_function: Callable[[int, str], Any] | None = None
) -> dict[str, Any]:
    """Parse one reply payload (the frame without its length): ``{"id", "value"}`` or
    ``{"id", "error"}``, plus ``"mutations"`` (``[path, kind, node]`` left encoded, with their
    ``"buffers"``) - see :func:`decode_value`. :class:`ProtocolError` for anything malformed."""
    from .decoding import decode_value, require

    try:
        require(len(payload) >= 4, "short reply")
        (n,) = _JSON_LEN.unpack(payload[:4])
        require(4 + n <= len(payload), "short reply")
        header = json.loads(payload[4 : 4 + n].decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError, UnicodeDecodeError, struct.error) as exc:
        raise ProtocolError(f"unreadable reply header ({type(exc).__name__})") from None
    require(type(header) is dict and type(header.get("id")) is int, "reply without an id")
    sizes = header.get("bufs", [])
    require(type(sizes) is list and all(type(s) is int and s >= 0 for s in sizes), "bad buffers")
    require(sum(sizes) == len(payload) - 4 - n, "buffer sizes do not match the reply")
    buffers, pos = [], 4 + n
    for s in sizes:
        buffers.append(payload[pos : pos + s])
        pos += s
    out: dict[str, Any] = {"id": header["id"], "buffers": buffers}
    if "err" in header:
        err = header["err"]
        require(type(err) is dict, "bad error")
        out["error"] = {
            k: err.get(k) if type(err.get(k)) is str else ""
            for k in ("kind", "type", "msg", "line", "func", "lineno")
        }
    else:
        require("ok" in header, "reply without a value")
        out["value"] = decode_value(header["ok"], buffers, make_function)
    mutations = header.get("mut", [])
    require(type(mutations) is list, "bad mutations")
    for m in mutations:
        require(
            type(m) is list and len(m) == 3 and type(m[0]) is list and type(m[1]) is str,
            "bad mutation",
        )
    out["mutations"] = mutations
    return out
