"""The learner's answer as the grader's checks see it: a proxy that runs it in the kernel.

The check functions of :mod:`course_utils.checks` run in the grader's own process and receive an
:class:`AnswerProxy` in place of the learner's function. Calling the proxy pickles the arguments
to the kernel (numpy arrays, tensors, models, generators, functions from the checks...), runs the
learner's function there, and brings back only plain data (:mod:`.protocol`). After the call the
grader's own copies of array, tensor, generator, model, DataFrame, list and dict arguments are
changed exactly as the learner's code changed them in the kernel (checks test "does not modify
its input", and an ``rng`` argument must advance). A function the learner *returns* comes back
as a :class:`RemoteFunction` that calls into the kernel the same way.

When the learner's code fails, the proxy raises :class:`course_utils.checks.AnswerError` with
``kind`` ``"signature"`` (the call did not bind), ``"raised"`` (an exception in the learner's
code - the error is also an instance of that builtin exception class, so a check that expects
``ValueError`` sees one), ``"timeout"`` (the question's time budget ran out; the kernel was
interrupted, or killed if it did not come back) or ``"bad_return"`` (not plain data, or larger
than the cap).
"""

from __future__ import annotations

import builtins
import itertools
import keyword
import pickle
import time
from typing import Any

from ..checks import AnswerError, describe_call
from . import protocol
from .inplace import apply_changes
from .kernel import AnswerChannel

__all__ = ["AnswerProxy", "AnswerSession", "RemoteFunction", "answer_error"]

_MIX_CACHE: dict[type, type] = {}
_NOT_MIXED = (BaseException, Exception, StopIteration, StopAsyncIteration, GeneratorExit)


def answer_error(
    kind: str, exc_type: str = "", message: str = "", line: str | None = None
) -> AnswerError:
    """An :class:`AnswerError`; for ``"raised"`` of a builtin exception (``ValueError``,
    ``NotImplementedError``...) and for ``"signature"`` (``TypeError``) it is also an instance
    of that class, as the exception would be if the answer ran in the grader's process.

    Examples
    --------
    >>> e = answer_error("raised", "ValueError", "fpr must be in (0, 1)", "line 3: raise ...")
    >>> isinstance(e, ValueError), isinstance(e, AnswerError), e.kind, str(e)
    (True, True, 'raised', 'fpr must be in (0, 1)')
    >>> str(answer_error("raised", "MyError", "boom"))
    'MyError: boom'
    """
    base = None
    if kind == "raised":
        found = getattr(builtins, exc_type, None) if exc_type.isidentifier() else None
        if isinstance(found, type) and issubclass(found, Exception) and found not in _NOT_MIXED:
            base = found
    elif kind == "signature":
        base = TypeError
    if base is None:
        return AnswerError(kind, exc_type, message, line)
    cls = _MIX_CACHE.get(base)
    if cls is None:
        # named like the learner's exception, and str() is its message, so that a check's
        # report reads as it would if the answer had raised in the grader's process
        body = {"__module__": __name__, "__str__": lambda self: self.message}
        try:
            cls = type(base.__name__, (AnswerError, base), body)
        except TypeError:  # an incompatible layout (some OSError kinds)
            cls = AnswerError
        _MIX_CACHE[base] = cls
    try:
        return cls(kind, exc_type, message, line)
    except TypeError:
        return AnswerError(kind, exc_type, message, line)


def _raise_where(error: AnswerError, func: str, lineno: str) -> None:
    """Raise ``error`` from a frame named ``func`` at line ``lineno``: where the learner's code
    raised it in the kernel, so the traceback a check reports (``line 3 of f``) reads as it
    would if the answer had run in the grader's process."""
    line = int(lineno) if lineno.isdigit() and 0 < int(lineno) < 100_000 else 0
    if not (line and func.isidentifier() and not keyword.iskeyword(func)):
        raise error
    namespace = {"__answer_error__": error}
    source = "\n" * (line - 1) + f"def {func}(): raise __answer_error__\n"
    exec(compile(source, "<learner's code, in the kernel>", "exec"), namespace)  # noqa: S102
    namespace[func]()


def _dumps(obj: Any) -> bytes:
    try:
        return pickle.dumps(obj, protocol=5)
    except Exception:  # local functions of a check (closures): cloudpickle sends them by value
        import cloudpickle

        return cloudpickle.dumps(obj, protocol=5)


class AnswerSession:
    """The grader's conversation with one kernel's answer server, question by question.

    :meth:`begin` starts a question with a time budget (``check_timeout`` seconds of the learner's
    code running); calls past it raise ``AnswerError("timeout")``.
    """

    def __init__(self, channel: AnswerChannel, *, check_timeout: float) -> None:
        self.channel = channel
        self.check_timeout = float(check_timeout)
        self._ids = itertools.count(1)
        self.dead = False
        self.begin("")

    def begin(self, qid: str) -> None:
        self.qid = qid
        self.spent = 0.0
        self.timed_out = False
        self.crashed = False
        self.bad_reply = ""

    # ------------------------------------------------------------------ requests
    def request(self, op: str, *, deadline: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one request; the decoded reply (``"value"`` or ``"error"``, ``"mutations"``)."""
        if self.dead:
            raise ConnectionError("the kernel is gone")
        rid = next(self._ids)
        frame = protocol.pack_frame(_dumps({"id": rid, "op": op, **fields}))
        if deadline is None:
            deadline = time.monotonic() + 60
        state, payload = self.channel.exchange(frame, deadline)
        if state in ("dead", "stuck", "too_large"):
            self.dead = True
        if state == "dead":
            raise ConnectionError("the kernel died")
        if state == "stuck":
            raise TimeoutError("the kernel did not come back after an interrupt")
        if state == "too_large":
            raise protocol.ProtocolError(f"a reply larger than {self.channel.limit / 1e6:.0f} MB")
        reply = protocol.decode_reply(payload, self._make_function)
        if reply["id"] != rid:
            self.dead = True
            self.channel.kernel.kill()
            raise protocol.ProtocolError("a reply to another request")
        reply["late"] = state == "late"
        return reply

    def describe(self, names: list[str], refs: dict[str, list[list[str]]]) -> dict[str, Any]:
        value = self.request("describe", names=names, refs=refs)["value"]
        if not isinstance(value, dict):
            raise protocol.ProtocolError("bad describe reply")
        return value

    def release(self) -> None:
        """Forget the functions the learner returned during the question."""
        if not self.dead:
            try:
                self.request("release")
            except (ConnectionError, TimeoutError, protocol.ProtocolError):
                pass

    def stop(self) -> None:
        if not self.dead:
            try:
                self.request("stop", deadline=time.monotonic() + 5)
            except (ConnectionError, TimeoutError, protocol.ProtocolError):
                pass

    # ------------------------------------------------------------------ calls
    def _make_function(self, handle: int, name: str) -> RemoteFunction:
        return RemoteFunction(self, handle, name)

    def call(
        self,
        target: tuple[str, Any],
        args: tuple,
        kwargs: dict,
        name: str,
        *,
        label: str | None = None,
    ) -> Any:
        if self.dead:
            raise answer_error("raised", "KernelDied", _DIED.format(name=name))
        if self.timed_out or self.spent >= self.check_timeout:
            self.timed_out = True
            raise answer_error("timeout", "", _SLOW.format(name=name, limit=self.check_timeout))
        start = time.monotonic()
        try:
            reply = self.request(
                "call",
                deadline=start + self.check_timeout - self.spent,
                target=target,
                args=tuple(args),
                kwargs=dict(kwargs),
            )
        except TimeoutError:
            self.timed_out = True
            raise answer_error(
                "timeout", "", _SLOW.format(name=name, limit=self.check_timeout)
            ) from None
        except ConnectionError:
            self.crashed = True
            raise answer_error("raised", "KernelDied", _DIED.format(name=name)) from None
        except protocol.ProtocolError as exc:
            self.bad_reply = str(exc)
            raise answer_error(
                "bad_return", "", f"`{name}`: the kernel sent an unreadable reply ({exc})"
            ) from None
        finally:
            self.spent += time.monotonic() - start
        try:
            apply_changes(reply["mutations"], reply["buffers"], args, kwargs, self._make_function)
        except protocol.ProtocolError as exc:
            self.bad_reply = str(exc)
            raise answer_error(
                "bad_return", "", f"`{name}`: the kernel sent an unreadable reply ({exc})"
            ) from None
        if reply["late"] or self.spent > self.check_timeout:
            self.timed_out = True
            raise answer_error("timeout", "", _SLOW.format(name=name, limit=self.check_timeout))
        if "error" in reply:
            err = reply["error"]
            kind = err["kind"]
            if kind == "interrupted":  # the learner's own KeyboardInterrupt: we sent none
                kind, err["type"] = "raised", "KeyboardInterrupt"
            if kind not in AnswerError.KINDS:
                raise answer_error("bad_return", "", f"`{name}`: the kernel sent an unknown error")
            message = err["msg"]
            if kind == "bad_return":
                message = f"`{name}` {message}"
            error = answer_error(kind, err["type"], message, err["line"] or None)
            if kind == "raised":  # how the check called it, as the in-notebook check shows it
                error.call = describe_call(label or name, args, kwargs)
            _raise_where(error, err["func"], err["lineno"])
        return reply["value"]


_DIED = "the kernel died while running `{name}` (os._exit, a crash, or running out of memory)"
_SLOW = (
    "`{name}` did not finish within the {limit:g} s time limit of this question (an endless loop?)"
)


class AnswerProxy:
    """Stands for the learner's answer ``name`` (a function defined in the kernel)."""

    #: Marks an answer that enforces its own time limit and raises ``AnswerError`` itself
    #: (see ``course_utils.checks.is_guarded``).
    __answer_guarded__ = True

    def __init__(self, session: AnswerSession, name: str, *, label: str | None = None) -> None:
        self._session = session
        self.__name__ = name
        self.__qualname__ = name
        self._label = name if label is None else label  # the name the task uses, in messages

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(
            ("answer", self.__name__), args, kwargs, self.__name__, label=self._label
        )

    def __reduce__(self) -> tuple:
        from . import kernel_side

        return (kernel_side._answer, (self.__name__,))

    def __repr__(self) -> str:
        return f"<learner's `{self.__name__}` (runs in the submission's kernel)>"


class RemoteFunction:
    """A function the learner's code returned; calling it runs it in the kernel."""

    __answer_guarded__ = True

    def __init__(self, session: AnswerSession, handle: int, name: str) -> None:
        self._session = session
        self._handle = handle
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._session.call(("handle", self._handle), args, kwargs, self.__name__)

    def __reduce__(self) -> tuple:
        from . import kernel_side

        return (kernel_side._handle, (self._handle,))

    def __repr__(self) -> str:
        return f"<function {self.__name__} returned by the learner's code>"
