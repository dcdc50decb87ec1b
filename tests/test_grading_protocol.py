"""The safe wire format, without a kernel: what may come back from a learner's kernel, what is
refused (with which words), and that the grader's decoder rejects every malformed reply a
tampered kernel could send instead of crashing or unpickling anything."""

from __future__ import annotations

import json
import math
import struct
import time

import numpy as np
import pytest

from course_utils.checks import AnswerError
from course_utils.grading.decoding import decode_value
from course_utils.grading.encoding import encode_value
from course_utils.grading.inplace import apply_changes
from course_utils.grading.protocol import (
    ProtocolError,
    TooLarge,
    Unsafe,
    decode_reply,
    encode_reply,
    pack_frame,
)
from course_utils.grading.proxy import answer_error


def _round_trip(value):
    node, buffers = encode_value(value)
    node = json.loads(json.dumps(node))  # what crosses the socket is JSON
    return decode_value(node, buffers)


# --- what comes back ----------------------------------------------------------------------------------
def test_plain_python_round_trips_with_exact_types() -> None:
    value = [
        None,
        True,
        3,
        2.5,
        "é",
        b"\x00",
        1 + 2j,
        (1, "a"),
        {"k": [1]},
        {1: None},
        {2, 3},
        frozenset({4}),
        range(1, 5, 2),
        2**200,
        -0.0,
    ]
    back = _round_trip(value)
    assert back == value and [type(v) for v in back] == [type(v) for v in value]


def test_nan_and_infinities() -> None:
    back = _round_trip([float("nan"), float("inf"), -float("inf"), np.array([np.nan])])
    assert (
        math.isnan(back[0])
        and back[1] == math.inf
        and back[2] == -math.inf
        and np.isnan(back[3][0])
    )


def test_numpy_arrays_and_scalars_keep_dtype() -> None:
    values = [
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.array(["ab", "c"]),
        np.zeros((0, 3)),
        np.array([True, False]),
        np.arange(4.0)[::2],
        np.datetime64("2024-01-02"),
        np.float32(0.5),
        np.int64(-3),
        np.array([1, "x", None], dtype=object),
    ]
    back = _round_trip(values)
    for a, b in zip(values, back, strict=True):
        assert type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b), (a, b)
    assert back[0].flags.writeable and back[0].flags.owndata


def test_torch_tensors_keep_dtype_and_requires_grad() -> None:
    torch = pytest.importorskip("torch")
    values = [
        torch.ones(2, requires_grad=True) * 3,
        torch.arange(3, dtype=torch.int8),
        torch.tensor(1.5, dtype=torch.bfloat16),
        torch.zeros(0, 2),
        torch.nn.Parameter(torch.ones(1)),
    ]
    back = _round_trip(values)
    for a, b in zip(values, back, strict=True):
        assert type(b) is torch.Tensor and a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        assert torch.equal(a.detach(), b.detach()) and a.requires_grad == b.requires_grad


def test_generators_and_pandas() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    rng.normal(size=7)
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}, index=[5, 6])
    g, frame, series = _round_trip([rng, df, df["a"]])
    assert g.bit_generator.state == rng.bit_generator.state
    assert frame.equals(df) and list(frame.index) == [5, 6] and series.equals(df["a"])


# --- what is refused ------------------------------------------------------------------------------------
class _Liar:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class _MyInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class _Sub(np.ndarray):
    pass


@pytest.mark.parametrize(
    "value, needle",
    [
        (_Liar(), "not plain data"),
        (_MyInt(3), "a subclass of int"),
        (np.arange(3).view(_Sub), "subclass of numpy.ndarray"),
        (np.asmatrix(np.eye(2)), "subclass of numpy.ndarray"),
        ((i for i in range(3)), "a generator"),
        (int, "a class"),
        (lambda x: x, "not plain data"),
        ([[_Liar()]], "not plain data"),
        (np.zeros(2, dtype=[("a", int)]), "dtype"),
    ],
)
def test_unsafe_values_are_refused_with_a_reason(value, needle) -> None:
    with pytest.raises(Unsafe, match=needle.replace("(", r"\(")):
        encode_value(value)


def test_a_gigabyte_is_refused_before_it_is_copied() -> None:
    big = np.zeros(2**27)  # 1 GiB, pages untouched
    start = time.perf_counter()
    with pytest.raises(TooLarge, match="more than 50 MB"):
        encode_value(big)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(TooLarge, match="values"):
        encode_value(list(range(1_000_001)), limit=10**9)


def test_a_reply_header_is_plain_json() -> None:
    frame = encode_reply(
        5, error={"kind": "raised", "type": "ValueError", "msg": "m", "line": "line 1: x"}
    )
    reply = decode_reply(frame[8:])
    assert reply["id"] == 5 and reply["error"]["type"] == "ValueError" and "value" not in reply


# --- a tampered kernel's replies ----------------------------------------------------------------------------
def _payload(header: dict, buffers: list[bytes] = ()) -> bytes:
    header = dict(header, bufs=[len(b) for b in buffers])
    head = json.dumps(header).encode()
    return struct.pack(">I", len(head)) + head + b"".join(buffers)


@pytest.mark.parametrize(
    "header, buffers",
    [
        ({"id": 1, "ok": {"$": "pickle", "v": "gASV"}}, []),
        ({"id": 1, "ok": {"a": 1}}, []),
        ({"id": 1, "ok": {"$": "nd", "dt": "|O8", "sh": [1], "i": 0}}, [b"\0" * 8]),
        ({"id": 1, "ok": {"$": "nd", "dt": "<f8", "sh": [3], "i": 0}}, [b"\0" * 8]),
        ({"id": 1, "ok": {"$": "nd", "dt": "<f8", "sh": [1], "i": 4}}, [b"\0" * 8]),
        ({"id": 1, "ok": {"$": "nd", "dt": "<f8", "sh": [-1], "i": 0}}, [b"\0" * 8]),
        ({"id": 1, "ok": {"$": "nd", "dt": "V8", "sh": [1], "i": 0}}, [b"\0" * 8]),
        ({"id": 1, "ok": {"$": "d", "k": [[1]], "v": [2]}}, []),
        (
            {
                "id": 1,
                "ok": {"$": "gen", "st": {"$": "d", "k": ["bit_generator"], "v": ["os.system"]}},
            },
            [],
        ),
        ({"id": 1, "ok": {"$": "tt", "dt": "object", "sh": [1], "i": 0, "rg": False}}, [b"\0"]),
        ({"id": 1, "ok": {"$": "fn", "h": 1, "n": "f"}}, []),
        ({"id": "1", "ok": 1}, []),
        ({"id": 1}, []),
        ({"id": 1, "ok": 1, "mut": [["a", 0]]}, []),
    ],
)
def test_malformed_replies_are_protocol_errors(header, buffers) -> None:
    with pytest.raises(ProtocolError):
        decode_reply(_payload(header, buffers))


def test_garbage_bytes_and_deep_nesting_are_protocol_errors() -> None:
    for payload in (
        b"",
        b"\x00\x00\x00\x09{bad json",
        struct.pack(">I", 5) + b"[" * 5,
        struct.pack(">I", 100_000) + b"[" * 100_000,
        _payload({"id": 1, "ok": 1}) + b"extra",
    ):
        with pytest.raises(ProtocolError):
            decode_reply(payload)
    deep = 1
    for _ in range(500):
        deep = {"$": "t", "v": [deep]}
    with pytest.raises(ProtocolError):
        decode_value(deep, [])
    head = b'{"id": 1, "ok": ' + b"9" * 10_000 + b"}"
    with pytest.raises(ProtocolError):
        decode_reply(struct.pack(">I", len(head)) + head)


def test_a_change_to_an_argument_of_another_type_is_refused() -> None:
    node, buffers = encode_value(np.ones(2))
    with pytest.raises(ProtocolError):
        apply_changes([[["a", 0], "nd", node]], buffers, ([1, 2],), {}, None)
    with pytest.raises(ProtocolError):
        apply_changes([[["a", 5], "nd", node]], buffers, (np.zeros(2),), {}, None)
    target = np.zeros(2)
    apply_changes([[["a", 0], "nd", node]], buffers, (target,), {}, None)
    assert target.tolist() == [1.0, 1.0]
    assert pack_frame(b"ab")[:8] == struct.pack(">Q", 2)


def test_a_none_result_keeps_the_buffers_of_its_arguments_changes() -> None:
    """An answer that returns None after changing an array argument in place: the reply's node is
    None and the changed array travels in a buffer (the reply once dropped that buffer)."""
    from course_utils.grading.encoding import Encoder

    enc = Encoder(10_000_000)
    node = enc.encode(None)
    changed = [[["a", 0], "nd", enc.encode(np.arange(3.0))]]
    frame = encode_reply(4, node=node, buffers=enc.buffers, mutations=changed)
    reply = decode_reply(frame[8:])
    assert reply["value"] is None
    target = np.zeros(3)
    apply_changes(reply["mutations"], reply["buffers"], (target,), {}, None)
    assert target.tolist() == [0.0, 1.0, 2.0]


# --- errors of the learner's code -------------------------------------------------------------------------
def test_answer_errors_are_instances_of_the_builtin_exception() -> None:
    ni = answer_error("raised", "NotImplementedError", "Exercise 1.1: later")
    assert (
        isinstance(ni, NotImplementedError)
        and isinstance(ni, AnswerError)
        and str(ni) == "Exercise 1.1: later"
    )
    assert type(ni).__name__ == "NotImplementedError"
    sig = answer_error("signature", "TypeError", "f() takes 1 positional argument but 2 were given")
    assert isinstance(sig, TypeError) and sig.kind == "signature"
    assert isinstance(answer_error("raised", "FileNotFoundError", "x"), (AnswerError, OSError))
    custom = answer_error("raised", "MyError", "boom", "line 2: raise MyError")
    assert type(custom) is AnswerError and custom.line == "line 2: raise MyError"
    for kind in ("timeout", "bad_return"):
        assert type(answer_error(kind, "", "m")) is AnswerError
    assert type(answer_error("raised", "__import__", "x")) is AnswerError
