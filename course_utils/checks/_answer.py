"""How a check calls the learner's code in this process: the answer wrapper and the time limit.

A check treats the learner's answer as an opaque callable. In the notebook (``check()``) and in
the tests, :func:`as_answer` wraps the learner's function so that every way *the learner's code*
can fail reaches the check as one :class:`~course_utils.checks.AnswerError`:

* ``kind="signature"`` - the call did not bind to the function's parameters (wrong names, order
  or count). Told apart from a ``TypeError`` raised *inside* the function by binding the
  arguments with :func:`inspect.signature` before calling.
* ``kind="raised"`` - an exception inside the learner's code: its type, its message and the
  learner's own source line (the deepest traceback frame outside the Python library, the
  installed packages and ``course_utils``).
* ``kind="timeout"`` - the time limit (:class:`TimeLimit`) ran out while the learner's code ran.

The autograder's proxy raises the same :class:`AnswerError` from a sandboxed kernel, so a check
cannot tell the two apart, and :func:`course_utils.checks.run_check` turns either into a result.

The time limit
--------------
:class:`TimeLimit` raises :class:`Deadline`, a ``BaseException`` (so ``except Exception`` in the
learner's code does not catch it), and raises it *again every 0.1 s* until the limited block has
ended. In the main thread of a POSIX process (a Jupyter kernel runs cells there) it uses
``SIGALRM`` through :func:`signal.setitimer`, which also interrupts ``time.sleep``; each alarm
also switches on a trace function that raises the Deadline again at the next line executed, so
a bare ``except:`` (or ``except BaseException:``) in an endless loop cannot swallow it: the
handler's own line raises it again, outside the ``try``. Elsewhere (another thread, Windows) a
watchdog thread injects the exception with ``PyThreadState_SetAsyncExc`` every 0.1 s, which stops
Python code but can be swallowed by a bare ``except`` that is running at that moment. Either way,
leaving the block cancels the timer, removes the trace function (restoring one that was there,
e.g. a debugger's or coverage's), restores the previous ``SIGALRM`` handler and joins the
watchdog: no alarm, tracer or thread is left behind. What it cannot stop: one call into C that
never returns, or an endless loop with two nested handlers that both swallow ``BaseException``
(each alarm gets past one of them only) - the grader kills such a kernel; in a notebook, use the
stop button.
"""

from __future__ import annotations

import contextlib
import ctypes
import inspect
import linecache
import opcode
import os
import signal
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ._expect import AnswerError

__all__ = ["Deadline", "TimeLimit", "as_answer", "describe_call"]

_PUSH_EXC_INFO = opcode.opmap.get("PUSH_EXC_INFO", -1)  # Python 3.11+
#: Seconds between repeated :class:`Deadline` exceptions once the limit has passed.
REPEAT = 0.1
_MESSAGE_LIMIT = 300


class Deadline(BaseException):
    """The time limit of a check ran out (a ``BaseException``: ``except Exception`` misses it)."""


# ---------------------------------------------------------------------------------------------
# the time limit
# ---------------------------------------------------------------------------------------------
class TimeLimit:
    """Context manager raising :class:`Deadline` in the current thread after ``seconds``.

    Parameters
    ----------
    seconds : float or None
        The limit; ``None`` means no limit (the block runs as it is). Inside another active
        ``TimeLimit`` of the same thread, the outer limit applies and this one does nothing.

    Attributes
    ----------
    seconds : float or None
    fired : bool
        True once the limit has passed inside the block.

    Examples
    --------
    >>> import time
    >>> try:
    ...     with TimeLimit(0.2) as limit:
    ...         while True:
    ...             time.sleep(0.01)
    ... except Deadline:
    ...     print("stopped")
    stopped
    >>> limit.fired
    True
    """

    #: the limit active in each thread (a class attribute, so that the module itself holds no
    #: state the grader would see change)
    _local = threading.local()

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and not seconds > 0:
            raise ValueError(f"seconds must be a positive number or None, got {seconds!r}")
        self.seconds = seconds
        self.fired = False
        self._active = False
        self._mode = ""
        self._old_handler: Any = None
        self._old_timer: tuple[float, float] = (0.0, 0.0)
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._thread_id = 0
        self._tracing = False
        self._old_trace: Any = None
        self._traced: list[tuple[Any, Any]] = []

    # -- entering -------------------------------------------------------------------------------
    def __enter__(self) -> TimeLimit:
        if self.seconds is None or getattr(TimeLimit._local, "active", None) is not None:
            return self  # no limit, or an outer limit already covers this block
        TimeLimit._local.active = self
        self._active = True
        in_main = threading.current_thread() is threading.main_thread()
        if in_main and hasattr(signal, "setitimer"):
            self._mode = "signal"
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds, REPEAT)
        else:
            self._mode = "thread"
            self._thread_id = threading.get_ident()
            self._watchdog = threading.Thread(
                target=self._watch, name="course_utils.checks time limit", daemon=True
            )
            self._watchdog.start()
        return self

    def _on_alarm(self, signum: int, frame: Any) -> None:
        if self._active:
            self.fired = True
            self._trace_stack(frame)
            raise Deadline(f"did not finish within {self.seconds:g} s")

    def _trace_stack(self, frame: Any) -> None:
        """Trace the learner's frames, so that their next line raises :class:`Deadline` again.

        An ``except:`` in the learner's code that catches the Deadline raised by the alarm runs
        a line of its own, and the tracer raises again there - inside the handler, where the same
        ``try`` cannot catch it. Only frames of the learner's code (not the library's) are traced:
        a raise inside library code could be caught by the learner's ``except`` around it, and
        Python switches a trace function off when it raises (the next alarm switches it on again).
        """
        if not self._tracing:
            self._tracing = True
            self._old_trace = sys.gettrace()
        tracer = self._tracer
        sys.settrace(tracer)
        while frame is not None:
            if not _is_library(frame.f_code.co_filename) and frame.f_trace != tracer:
                self._traced.append((frame, frame.f_trace))
                frame.f_trace = tracer
            frame = frame.f_back

    def _tracer(self, frame: Any, event: str, arg: Any) -> Any:
        if not self._active or _is_library(frame.f_code.co_filename):
            return None  # library frames run untraced (and at full speed)
        # Not at the first instruction of a handler (PUSH_EXC_INFO): that is where a `with`
        # block's cleanup starts, and raising there would skip its __exit__ (leaving, e.g.,
        # torch.no_grad() switched on). An `except` clause's own line comes one step later.
        if event == "line" and frame.f_code.co_code[frame.f_lasti] != _PUSH_EXC_INFO:
            raise Deadline(f"did not finish within {self.seconds:g} s")
        return self._tracer

    def _watch(self) -> None:
        assert self.seconds is not None
        if self._stop.wait(self.seconds):
            return
        while not self._stop.is_set():
            if self._active:
                self.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._thread_id), ctypes.py_object(Deadline)
                )
            self._stop.wait(REPEAT)

    # -- leaving --------------------------------------------------------------------------------
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if not self._mode:
            return False
        while True:  # a Deadline can still arrive while we tidy up: tidy up until done
            try:
                self._active = False
                self._disarm()
                break
            except Deadline:  # it arrived after the block had ended: not the block's failure
                continue
        return False

    def _disarm(self) -> None:
        if self._tracing:
            sys.settrace(self._old_trace)
            for frame, old in self._traced:
                frame.f_trace = old
            self._traced.clear()
            self._tracing = False
        if self._mode == "signal":
            signal.setitimer(signal.ITIMER_REAL, 0.0, 0.0)
            old = self._old_handler
            signal.signal(signal.SIGALRM, signal.SIG_DFL if old is None else old)
            if self._old_timer[0] > 0:  # someone else's timer was running: give it back
                signal.setitimer(signal.ITIMER_REAL, *self._old_timer)
        elif self._mode == "thread":
            self._stop.set()
            if self._watchdog is not None:
                self._watchdog.join()
            # An exception injected just before the block ended is delivered at the next check
            # of the interpreter: take it here. (Clearing it with SetAsyncExc(id, NULL) instead
            # would leave the interpreter's "async exception pending" flag set for good.)
            try:
                for _ in range(3):
                    pass
            except Deadline:
                pass
        self._mode = ""
        if getattr(TimeLimit._local, "active", None) is self:
            TimeLimit._local.active = None


def current_limit() -> TimeLimit | None:
    """The :class:`TimeLimit` active in this thread, if any."""
    return getattr(TimeLimit._local, "active", None)


# ---------------------------------------------------------------------------------------------
# describing calls and failures
# ---------------------------------------------------------------------------------------------
def _describe_value(value: Any) -> str:
    mod = type(value).__module__
    if value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        return text if len(text) <= 20 else type(value).__name__
    shape = getattr(value, "shape", None)
    if shape is not None and mod.split(".")[0] in ("numpy", "torch"):
        kind = "tensor" if mod.startswith("torch") else "array"
        return f"{kind} of shape {tuple(shape)}"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list | tuple):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def describe_call(name: str, args: tuple, kwargs: dict) -> str:
    """``name(array of shape (5,), max_grad_norm=1.0)``: how a check called the answer.

    Examples
    --------
    >>> import numpy as np
    >>> describe_call("f", (np.zeros((2, 3)), 1.5), {"rng": None})
    'f(array of shape (2, 3), 1.5, rng=None)'
    """
    parts = [_describe_value(a) for a in args]
    parts += [f"{k}={_describe_value(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _library_dirs() -> tuple[str, ...]:
    dirs = {str(Path(__file__).resolve().parents[1])}  # course_utils itself
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            dirs.add(str(Path(sysconfig.get_paths()[key]).resolve()))
    dirs.add(str(Path(sys.prefix).resolve()))
    dirs.add(str(Path(sys.base_prefix).resolve()))
    return tuple(sorted(dirs))


_LIBRARY = _library_dirs()


#: file name -> is it library code (a plain dict: the grader compares this module's attributes
#: before and after a submission ran, and a dict's contents may change)
_LIBRARY_FILES: dict[str, bool] = {}


def _is_library(filename: str) -> bool:
    """True for the Python library, installed packages and course_utils; False for the rest."""
    known = _LIBRARY_FILES.get(filename)
    if known is not None:
        return known
    if filename.startswith("<frozen") or filename.startswith("<__array_function__"):
        result = True
    else:
        try:
            path = os.path.realpath(filename)
            result = any(path == d or path.startswith(d + os.sep) for d in _LIBRARY)
        except (OSError, ValueError):
            result = False
    if len(_LIBRARY_FILES) < 10_000:
        _LIBRARY_FILES[filename] = result
    return result


def learner_line(tb: TracebackType | None) -> str | None:
    """``"line 4 in f: return x / n"``: the deepest frame of ``tb`` that is the learner's code."""
    found = None
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if not _is_library(filename):
            found = (frame, lineno)
    if found is None:
        return None
    frame, lineno = found
    text = linecache.getline(frame.f_code.co_filename, lineno, frame.f_globals).strip()
    where = f"line {lineno} in {frame.f_code.co_name}"
    return f"{where}: {text}" if text else where


def _short(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# the wrapper
# ---------------------------------------------------------------------------------------------
class LearnerAnswer:
    """The learner's callable, as a check sees it: failures come out as :class:`AnswerError`.

    Use :func:`as_answer` to make one. Attributes: ``name`` (the answer's name in the task),
    ``seconds`` (time spent inside the learner's code so far), ``calls`` (number of calls).
    """

    def __init__(self, func: Callable[..., Any], name: str) -> None:
        self.func = func
        self.name = name
        self.seconds = 0.0
        self.calls = 0
        try:
            self._signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):  # builtins without a signature: just call them
            self._signature = None

    def __repr__(self) -> str:
        return f"<answer {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = describe_call(self.name, args, kwargs)
        if self._signature is not None:
            try:
                self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise AnswerError(
                    "signature", "TypeError", _short(f"{exc} (the check called {call})")
                ) from None
        self.calls += 1
        start = time.perf_counter()
        try:
            return self.func(*args, **kwargs)
        except AnswerError:
            raise  # already classified (an answer built on another wrapped answer)
        except Deadline:
            limit = current_limit()
            secs = f"{limit.seconds:g} s" if limit and limit.seconds else "its time limit"
            raise AnswerError("timeout", message=f"{call} did not finish within {secs}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the learner's code failed
            err = AnswerError(
                "raised", type(exc).__name__, _short(str(exc)), learner_line(exc.__traceback__)
            )
            err.call = call  # how the check called it, shown with the error
            raise err from None
        finally:
            self.seconds += time.perf_counter() - start


def as_answer(func: Any, name: str = "answer") -> Any:
    """Wrap a callable answer so that its failures reach a check as :class:`AnswerError`.

    Anything not callable, an answer already wrapped, and an answer that guards itself (the
    grader's proxy, whose class sets ``__answer_guarded__ = True``) are returned unchanged.

    Examples
    --------
    >>> f = as_answer(lambda x: 1 / x, "inverse")
    >>> f(4)
    0.25
    >>> try:
    ...     f(0)
    ... except AnswerError as e:
    ...     print(e.kind, e.exc_type, e.message)
    raised ZeroDivisionError division by zero
    >>> try:
    ...     f(1, 2)
    ... except AnswerError as e:
    ...     print(e.kind)
    signature
    """
    if not callable(func) or isinstance(func, LearnerAnswer):
        return func
    if getattr(type(func), "__answer_guarded__", False) is True:
        return func  # the grader's proxy: it keeps its own time limit and raises AnswerError itself
    return LearnerAnswer(func, name)
