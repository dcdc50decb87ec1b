"""The answer proxy against a real (sandboxed) kernel: what comes back, what is refused, how the
learner's failures are classified, and how in-place changes of the arguments are mirrored.

One kernel serves most tests (module-scoped); the tests that kill or wedge a kernel get their own.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import AnswerError
from course_utils.grading.kernel import AnswerChannel, Kernel
from course_utils.grading.proxy import AnswerProxy, AnswerSession, RemoteFunction
from course_utils.grading.sandbox import resolve_sandbox

pytestmark = pytest.mark.slow
SANDBOX = resolve_sandbox("auto")[0]

DEFS = r"""
import time, numpy as np, torch, pandas as pd

def echo(*args, **kwargs):
    return args if not kwargs else (args, kwargs)

def add(a, b=1):
    return a + b

def inner_type_error(x):
    return len(x) + "s"

def not_implemented(x):
    raise NotImplementedError("Exercise 9.1: not yet")

def value_error(fpr):
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}")
    return fpr

def huge_message():
    raise RuntimeError("x" * 20_000_000)

class Liar:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

class Sub(np.ndarray):
    pass

def fake_equal():
    return Liar()

def subclass():
    return np.arange(3).view(Sub)

def matrix():
    return np.asmatrix(np.eye(2))

def gen():
    return (i for i in range(3))

def nan():
    return float("nan"), np.array([np.nan, 1.0])

def gigabyte():
    return np.zeros(2**27)  # 1 GiB of float64 (untouched pages: cheap for the kernel)

def many_items():
    return list(range(2_000_000))

def scalars():
    return np.float32(1.5), np.int64(7), True, None, "s", b"b", 2 + 3j, range(3), {1, 2}

def tensors():
    t = torch.ones(2, 3, requires_grad=True) * 2
    return t, torch.arange(4, dtype=torch.int16), torch.zeros(0), torch.tensor(True)

def frames():
    df = pd.DataFrame({"zip": ["a", None], "n": [1, 2]}, index=[10, 11])
    return df, df["n"]

def mutate(a, t, rng, trng, lst, dct, df, model):
    a[0] = 99.0
    t.add_(1)
    rng.normal(size=5)
    torch.randn(3, generator=trng)
    lst.append("new")
    dct["k"] = 1
    df["extra"] = 0
    with torch.no_grad():
        model.weight.fill_(0.5)
    model.eval()
    return "done"

def choose(cands, rng):
    return cands[rng.integers(len(cands))]

def returns_function():
    def band(year):
        return f"{year // 10 * 10}s"
    return {"rule": band}

def call_it(f, x):
    return f(x)

def spin(seconds):
    end = time.time() + seconds
    while time.time() < end:
        pass
    return "finished"

def own_interrupt():
    raise KeyboardInterrupt

def exits():
    import sys
    sys.exit(3)
"""


def _start(defs: str = DEFS, *, check_timeout: float = 10.0):
    tmp = tempfile.TemporaryDirectory(prefix="cg-test-")
    workdir = Path(tmp.name)
    for sub in ("home", "run"):
        (workdir / sub).mkdir()
    kernel = Kernel(workdir, sandbox=SANDBOX, set_number=1)
    kernel.start()
    out = kernel.run(defs, 60)
    assert out.status == "ok", out
    channel = AnswerChannel(kernel)
    channel.open()
    session = AnswerSession(channel, check_timeout=check_timeout)
    return tmp, kernel, session


@pytest.fixture(scope="module")
def live():
    tmp, kernel, session = _start()
    yield session
    session.stop()
    session.channel.close()
    kernel.kill()
    tmp.cleanup()


def _call(session: AnswerSession, name: str, *args, **kwargs):
    session.begin("t")
    return AnswerProxy(session, name)(*args, **kwargs)


def _error(session: AnswerSession, name: str, *args, **kwargs) -> AnswerError:
    with pytest.raises(AnswerError) as info:
        _call(session, name, *args, **kwargs)
    return info.value


# --- plain data comes back, dtype and type kept -----------------------------------------------------
def test_plain_values_round_trip(live) -> None:
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = _call(live, "echo", 1, [2.5, "a"], {"k": (None, True)}, x)
    assert got[:3] == (1, [2.5, "a"], {"k": (None, True)})
    assert got[3].dtype == np.float32 and np.array_equal(got[3], x) and type(got[3]) is np.ndarray
    assert _call(live, "echo", 1, b=2) == ((1,), {"b": 2})


def test_numpy_scalars_and_other_builtins(live) -> None:
    f32, i64, flag, none, s, b, c, r, st = _call(live, "scalars")
    assert type(f32) is np.float32 and f32 == 1.5 and type(i64) is np.int64 and i64 == 7
    assert (flag, none, s, b, c, r, st) == (True, None, "s", b"b", 2 + 3j, range(3), {1, 2})


def test_tensors_keep_dtype_and_requires_grad(live) -> None:
    import torch

    t, i16, empty, flag = _call(live, "tensors")
    assert (
        t.requires_grad
        and t.dtype == torch.float32
        and torch.equal(t.detach(), torch.full((2, 3), 2.0))
    )
    assert i16.dtype == torch.int16 and i16.tolist() == [0, 1, 2, 3]
    assert empty.shape == (0,) and flag.dtype == torch.bool and bool(flag)


def test_pandas_frames_and_series(live) -> None:
    df, s = _call(live, "frames")
    assert list(df.columns) == ["zip", "n"] and list(df.index) == [10, 11]
    assert df["zip"].iloc[0] == "a" and df["zip"].isna().tolist() == [False, True]
    assert s.tolist() == [1, 2] and s.name == "n" and list(s.index) == [10, 11]


def test_nan_comes_back_as_nan(live) -> None:
    x, arr = _call(live, "nan")
    assert np.isnan(x) and np.isnan(arr[0]) and arr[1] == 1.0


# --- what is refused ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, needle",
    [
        ("fake_equal", "not plain data"),
        ("subclass", "subclass of numpy.ndarray"),
        ("matrix", "subclass of numpy.ndarray"),
        ("gen", "a generator"),
        ("gigabyte", "more than 50 MB"),
        ("many_items", "more than 1,000,000 values"),
    ],
)
def test_unsafe_or_huge_returns_are_clear_failures(live, name, needle) -> None:
    err = _error(live, name)
    assert err.kind == "bad_return" and needle in err.message and f"`{name}`" in err.message, (
        err.message
    )


# --- the learner's failures -----------------------------------------------------------------------
def test_signature_errors_are_told_apart_from_type_errors_inside(live) -> None:
    sig = _error(live, "add", 1, 2, 3)
    assert sig.kind == "signature" and isinstance(sig, TypeError)
    inside = _error(live, "inner_type_error", [1])
    assert inside.kind == "raised" and inside.exc_type == "TypeError"
    assert inside.line and "len(x)" in inside.line


def test_raised_errors_are_instances_of_the_learners_exception(live) -> None:
    err = _error(live, "value_error", 0.0)
    assert isinstance(err, ValueError) and err.kind == "raised" and "fpr must be" in str(err)
    assert _call(live, "value_error", 0.5) == 0.5
    ni = _error(live, "not_implemented", 1)
    assert isinstance(ni, NotImplementedError) and str(ni) == "Exercise 9.1: not yet"


def test_a_huge_exception_message_is_capped(live) -> None:
    err = _error(live, "huge_message")
    assert len(err.message) < 2_100 and "more characters" in err.message


def test_the_learners_own_keyboard_interrupt_and_sys_exit(live) -> None:
    assert _error(live, "own_interrupt").exc_type == "KeyboardInterrupt"
    assert _error(live, "exits").exc_type == "SystemExit"
    assert _call(live, "add", 1) == 2  # the kernel still answers


def test_a_missing_answer(live) -> None:
    err = _error(live, "no_such_function")
    assert err.kind == "raised" and err.exc_type == "NameError"


# --- arguments changed in place are changed in the grader's copies ---------------------------------
def test_in_place_changes_are_mirrored(live) -> None:
    import pandas as pd
    import torch

    a, t = np.zeros(3), torch.zeros(2)
    rng, trng = np.random.default_rng(0), torch.Generator().manual_seed(0)
    lst, dct = ["x"], {}
    df = pd.DataFrame({"c": [1, 2]})
    model = torch.nn.Linear(2, 2)
    assert _call(live, "mutate", a, t, rng, trng, lst, dct, df, model) == "done"
    assert a.tolist() == [99.0, 0.0, 0.0] and t.tolist() == [1.0, 1.0]
    ref = np.random.default_rng(0)
    ref.normal(size=5)
    assert rng.bit_generator.state == ref.bit_generator.state
    ref_t = torch.Generator().manual_seed(0)
    torch.randn(3, generator=ref_t)
    assert torch.equal(trng.get_state(), ref_t.get_state())
    assert lst == ["x", "new"] and dct == {"k": 1} and list(df.columns) == ["c", "extra"]
    assert torch.all(model.weight == 0.5) and not model.training


def test_an_rng_argument_advances_across_calls(live) -> None:
    """Check 3.3 draws 3000 picks from one rng: each call must see the advanced state."""
    rng = np.random.default_rng(1)
    live.begin("t")
    proxy = AnswerProxy(live, "choose")
    picks = [proxy(["a", "b", "c", "d"], rng) for _ in range(200)]
    assert len(set(picks)) == 4
    ref = np.random.default_rng(1)
    assert picks == [["a", "b", "c", "d"][ref.integers(4)] for _ in range(200)]


def test_closures_of_the_checks_and_proxies_can_be_arguments(live) -> None:
    def local(x):
        return x * 3  # a check's local function: sent by value

    assert _call(live, "call_it", local, 2) == 6
    live.begin("t")
    assert AnswerProxy(live, "call_it")(AnswerProxy(live, "add"), 4) == 5


def test_a_returned_function_is_called_in_the_kernel(live) -> None:
    live.begin("t")
    rules = AnswerProxy(live, "returns_function")()
    band = rules["rule"]
    assert isinstance(band, RemoteFunction) and band(1987) == "1980s"
    assert AnswerProxy(live, "call_it")(band, 2001) == "2000s"


def test_calls_are_fast(live) -> None:
    live.begin("t")
    proxy = AnswerProxy(live, "add")
    start = time.perf_counter()
    for i in range(300):
        assert proxy(i) == i + 1
    per_call = (time.perf_counter() - start) / 300
    assert per_call < 0.02, f"{per_call * 1e3:.1f} ms per call"  # loose: a loaded machine


# --- time limits ----------------------------------------------------------------------------------
def test_an_answer_over_its_budget_is_interrupted_and_the_kernel_survives(live) -> None:
    live.check_timeout = 1.0
    try:
        err = _error(live, "spin", 30)
        assert err.kind == "timeout" and live.timed_out and not live.dead
        with pytest.raises(AnswerError):  # the budget is spent for the rest of the question
            AnswerProxy(live, "add")(1)
        assert _call(live, "add", 1) == 2  # the next question has a fresh budget
    finally:
        live.check_timeout = 10.0


def test_an_answer_that_swallows_interrupts_gets_its_kernel_killed() -> None:
    defs = (
        "import signal\n"
        "def stubborn():\n"
        "    signal.signal(signal.SIGINT, lambda *args: None)  # swallows every interrupt\n"
        "    while True:\n"
        "        pass\n"
    )
    tmp, kernel, session = _start(defs, check_timeout=1.0)
    try:
        start = time.monotonic()
        err = _error(session, "stubborn")
        assert err.kind == "timeout" and session.dead and not kernel.alive()
        assert time.monotonic() - start < 15
    finally:
        kernel.kill()
        tmp.cleanup()


def test_an_answer_that_kills_the_kernel() -> None:
    tmp, kernel, session = _start("import os\ndef boom():\n    os._exit(1)\n")
    try:
        err = _error(session, "boom")
        assert err.exc_type == "KernelDied" and session.crashed and session.dead
        assert _error(session, "boom").exc_type == "KernelDied"  # no second call to a dead kernel
    finally:
        kernel.kill()
        tmp.cleanup()
