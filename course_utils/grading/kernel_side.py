"""The part of the grader that runs INSIDE a submission's kernel.

Nothing here is trusted by the grader: the learner's code runs in the same process and can
patch any of it. The kernel only

* records, before the learner's first cell, what the advisory integrity flags need
  (:func:`.kernel_audit.prologue`);
* after the last cell, serves the grader's requests over a socket (:func:`serve`): describe
  the answers, call an answer with the arguments the grader sent (pickles: the kernel trusts the
  grader), and send back the result in the safe format of :mod:`.protocol`, together with the
  in-place changes the call made to its array, tensor, generator, model, list or dict arguments.

Expected values, comparisons and scores never exist here. A kernel that lies can only return
values - which the grader checks like any other answer.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import signal
import socket
import sys
import traceback
from typing import Any

from . import protocol
from .encoding import Encoder, type_name
from .files import cap
from .inplace import changes, watch
from .kernel_audit import advisory_flags

__all__ = ["serve"]

_MISSING = object()


class _State:
    """The serve loop's state: the learner's namespace, returned functions, the interrupt flag."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {}
        self.handles: dict[int, Any] = {}
        self.in_call = False
        self.limit = protocol.REPLY_LIMIT

    def register(self, fn: Any) -> int:
        handle = len(self.handles) + 1
        self.handles[handle] = fn
        return handle


_STATE = _State()


def _answer(name: str) -> Any:
    """Unpickling target of :class:`.proxy.AnswerProxy`: the learner's object ``name``."""
    return _STATE.ns.get(name)


def _handle(handle: int) -> Any:
    """Unpickling target of :class:`.proxy.RemoteFunction`: a function the learner returned."""
    return _STATE.handles.get(handle)


# =============================================================================================
# the learner's exceptions
# =============================================================================================
def _learner_line(tb: Any) -> str:
    """``"line N in f: <source>"`` of the deepest frame of the learner's own code (a notebook cell or
    a file outside Python, the venv and the course package)."""
    import linecache

    skip = tuple(
        os.path.normcase(os.path.abspath(p)) + os.sep
        for p in {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            os.path.dirname(os.path.dirname(__file__)),
        }
    )
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<frozen") or os.path.normcase(os.path.abspath(name)).startswith(skip):
            continue
        found = (name, lineno, frame.f_code.co_name)
    if found is None:
        return ""
    text = linecache.getline(found[0], found[1]).strip()
    # the same words as course_utils.checks' in-notebook learner_line: "line N in f: <source>"
    where = f"line {found[1]} in {found[2]}"
    return cap(f"{where}: {text}" if text else where, 300)


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<the exception's message could not be printed>"
    return cap(text, 2_000)


def _classify(exc: BaseException, bound: bool) -> dict[str, str]:
    """The error dict of a reply for an exception raised by calling the learner's answer."""
    etype = cap(type(exc).__name__, 100)
    frames = list(traceback.walk_tb(exc.__traceback__))
    # a TypeError raised by the call itself (no frame of the answer's code) is a binding error
    if isinstance(exc, TypeError) and not bound and len(frames) <= 1:
        return {"kind": "signature", "type": etype, "msg": _message(exc), "line": ""}
    last = frames[-1] if frames else None  # where it was raised, as a traceback shows it
    return {
        "kind": "raised",
        "type": etype,
        "msg": _message(exc),
        "line": _learner_line(exc.__traceback__),
        "func": cap(last[0].f_code.co_name, 100) if last else "",
        "lineno": str(last[1]) if last else "",
    }


# =============================================================================================
# the serve loop
# =============================================================================================
def _call(req: dict[str, Any]) -> bytes:
    rid = int(req["id"])
    kind, ref = req["target"]
    fn = _STATE.ns.get(ref, _MISSING) if kind == "answer" else _STATE.handles.get(ref, _MISSING)
    if fn is _MISSING:
        what = (
            f"name {ref!r} is not defined" if kind == "answer" else "a function it returned is gone"
        )
        return protocol.encode_reply(
            rid, error={"kind": "raised", "type": "NameError", "msg": what}
        )
    args, kwargs = req["args"], req["kwargs"]
    watched = watch(args, kwargs)
    try:
        inspect.signature(fn).bind(*args, **kwargs)
        bound = True
    except TypeError as exc:
        if callable(fn):
            return protocol.encode_reply(
                rid, error={"kind": "signature", "type": "TypeError", "msg": _message(exc)}
            )
        bound = False
    except Exception:  # no signature to inspect (some builtins)
        bound = False
    enc = Encoder(_STATE.limit, _STATE.register)
    error = node = None
    _STATE.in_call = True
    try:
        try:
            result = fn(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the learner's exception, whatever it is
            error = _classify(exc, bound)
        else:
            try:
                node = enc.encode(result)
            except protocol.Unsafe as exc:
                error = {"kind": "bad_return", "msg": f"returned {exc}"}
            except protocol.TooLarge as exc:
                error = {"kind": "bad_return", "msg": f"returned a value of {exc}"}
            except RecursionError:
                error = {"kind": "bad_return", "msg": "returned a value nested too deeply"}
    finally:
        _STATE.in_call = False
    mutations = changes(watched, enc)
    if error is not None:
        return protocol.encode_reply(rid, error=error, mutations=mutations, buffers=enc.buffers)
    return protocol.encode_reply(rid, node=node, buffers=enc.buffers, mutations=mutations)


def _describe(req: dict[str, Any]) -> bytes:
    answers = {}
    for name in req["names"]:
        obj = _STATE.ns.get(name, _MISSING)
        answers[name] = {
            "defined": obj is not _MISSING and obj is not None,
            "callable": callable(obj),
            "type": cap(type_name(obj), 100),
        }
    try:
        flags = advisory_flags(_STATE.ns, req.get("refs", {}))
    except Exception as exc:
        flags = [f"the kernel could not check its integrity ({type(exc).__name__})"]
    return protocol.encode_reply(int(req["id"]), value={"answers": answers, "flags": flags})


def _on_sigint(signum: int, frame: Any) -> None:
    if _STATE.in_call:
        raise KeyboardInterrupt
    # an interrupt while the loop itself runs (e.g. it arrived just after a reply): ignore it


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _connect(address: list) -> socket.socket:
    if address[0] == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(address[1])
    else:
        sock = socket.create_connection((address[1], int(address[2])))
    return sock


def serve(address: str, token: str, ns: dict[str, Any], limit: int = protocol.REPLY_LIMIT) -> None:
    """Answer the grader's requests about the namespace ``ns`` (the notebook's globals) until it
    says stop or closes the connection.

    ``address`` is JSON: ``["unix", path]`` or ``["tcp", host, port]``; ``token`` is sent first so
    the grader knows it talks to the kernel it started.
    """
    _STATE.ns = ns
    _STATE.limit = int(limit)
    _STATE.handles.clear()
    sock = _connect(json.loads(address))
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        sock.sendall(protocol.pack_frame(token.encode()))
        while True:
            head = _recv_exact(sock, 8)
            if head is None:
                return
            payload = _recv_exact(sock, protocol.frame_length(head))
            if payload is None:
                return
            req = pickle.loads(payload)  # noqa: S301 - requests come from the grader, trusted
            op = req.get("op")
            if op == "stop":
                sock.sendall(protocol.encode_reply(int(req["id"]), value="bye"))
                return
            try:
                if op == "call":
                    reply = _call(req)
                elif op == "describe":
                    reply = _describe(req)
                else:  # "release": forget the functions returned so far
                    _STATE.handles.clear()
                    reply = protocol.encode_reply(int(req["id"]), value=None)
            except KeyboardInterrupt:
                reply = protocol.encode_reply(int(req["id"]), error={"kind": "interrupted"})
            sock.sendall(reply)
    finally:
        signal.signal(signal.SIGINT, previous)
        _STATE.handles.clear()
        sock.close()
