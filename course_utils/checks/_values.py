"""Reading what the learner's answer returned, and what it did to its arguments.

A check must never crash on a surprising return value (a numpy array where a tensor was asked
for, a list, a string, ``None``): a crash in the check would be reported as the learner's error
or as a broken check. These helpers turn a return value into what the check computes with, or
fail the case with a message that says what was expected and what came back (``"expected a
torch tensor, got numpy.ndarray"``). They only *read* values: no method of a returned object is
called except the plain data accessors of numpy arrays and torch tensors.

Three helpers are shared by the check modules without being part of the package's public API:
:func:`call_unchanged` (call the answer, then fail unless its positional arguments are
unchanged), :func:`as_floats` (a float array, or a failed case with the check's own message) and
:func:`expect_reproducible` (the answer's randomness comes from its ``rng`` argument).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ._expect import AnswerError, expect

__all__ = [
    "as_floats",
    "call_unchanged",
    "expect_array",
    "expect_integer",
    "expect_number",
    "expect_raises",
    "expect_reproducible",
    "expect_tensor",
    "expect_unchanged",
    "snapshot",
    "type_name",
]


def type_name(value: Any) -> str:
    """``"numpy.ndarray"``, ``"torch.Tensor"``, ``"list"``, ``"float"``...: a value's type for messages.

    Examples
    --------
    >>> type_name(np.zeros(2)), type_name([1]), type_name(2.0), type_name(np.float64(1))
    ('numpy.ndarray', 'list', 'float', 'numpy.float64')
    """
    t = type(value)
    mod = t.__module__.split(".")[0]
    if mod in ("builtins", "__main__"):
        return t.__name__
    if mod == "torch" and t.__name__ in ("Tensor", "Parameter"):
        return f"torch.{t.__name__}"
    return f"{mod}.{t.__name__}"


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _plain(value: Any) -> Any:
    """A torch tensor as a detached CPU numpy array (our copy); anything else unchanged."""
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    return value


def expect_number(value: Any, what: str, hint: str = "") -> float:
    """Return ``value`` as one float, or fail the case ``what`` ("one number" was expected).

    Accepts a Python or numpy number, a 0-d or one-element array, a one-element tensor (also one
    that requires grad). A string, a bool, ``None`` or several numbers fail, showing what came
    back. NaN and inf are returned as they are (the check decides).

    Examples
    --------
    >>> expect_number([[0.5]], "returns the share")
    0.5
    >>> expect_number("0.5", "returns the share", "Return a float, not a string.")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: returns the share
    """
    bad = value is None or isinstance(value, str | bytes | bool | np.bool_ | dict)
    if not bad:
        try:
            arr = np.asarray(_plain(value))
            bad = arr.size != 1 or arr.dtype.kind not in "iufc"
            if not bad:
                return float(np.real(arr.reshape(())))
        except Exception:  # noqa: BLE001 - whatever it is, it is not one number
            bad = True
    expect(False, what, expected="one number", got=value, hint=hint)
    raise AssertionError  # unreachable


def expect_integer(value: Any, what: str, hint: str = "") -> int:
    """Return ``value`` as an int (an integral float such as ``3.0`` counts), or fail ``what``.

    Examples
    --------
    >>> expect_integer(np.int64(3), "k"), expect_integer(3.0, "k")
    (3, 3)
    >>> expect_integer(2.5, "k")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: k
    """
    x = expect_number(value, what, hint)
    if not (np.isfinite(x) and float(x).is_integer()):
        expect(False, what, expected="a whole number", got=value, hint=hint)
    return int(x)


def expect_array(
    value: Any,
    what: str,
    *,
    shape: tuple[int, ...] | None = None,
    strict: bool = False,
    hint: str = "",
) -> np.ndarray:
    """Return ``value`` as a float numpy array (a copy), or fail the case ``what``.

    Parameters
    ----------
    value : object
        What the answer returned.
    what : str
        The case, e.g. ``"one influence per point"``.
    shape : tuple of int, optional
        The required shape.
    strict : bool, default False
        Require a ``numpy.ndarray`` (the task says "return a numpy array"); otherwise anything
        numpy reads as numbers passes (a list, a tensor).
    hint : str
        Shown when the value is not an array of numbers or has the wrong shape.

    Examples
    --------
    >>> expect_array([1, 2], "two numbers", shape=(2,))
    array([1., 2.])
    >>> expect_array([1, 2], "two numbers", strict=True)
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: two numbers: expected a numpy array, got list
    """
    if strict and not isinstance(value, np.ndarray):
        expect(
            False,
            f"{what}: expected a numpy array, got {type_name(value)}",
            expected="a numpy array",
            got=type_name(value),
            hint=hint or "Return a numpy array (np.asarray(...)).",
        )
    message = f"{what}: expected an array of numbers, got {type_name(value)}"
    if isinstance(value, str | bytes | dict) or value is None:
        expect(False, message, expected="an array of numbers", got=value, hint=hint)
    try:
        arr = np.array(_plain(value), dtype=float)
    except Exception:  # noqa: BLE001 - ragged lists, objects...
        expect(False, message, expected="an array of numbers", got=value, hint=hint)
    if shape is not None and arr.shape != tuple(shape):
        expect(False, what, expected=f"shape {tuple(shape)}", got=f"shape {arr.shape}", hint=hint)
    return arr


def expect_tensor(
    value: Any, what: str, *, shape: tuple[int, ...] | None = None, hint: str = ""
) -> Any:
    """Return a detached float32 copy of the torch tensor ``value``, or fail the case ``what``.

    A numpy array, a list or anything else that is not a ``torch.Tensor`` fails with "expected a
    torch tensor, got numpy.ndarray". Whether the tensor still requires grad is not judged here
    (see the check of a task that asks for a detached result).

    Examples
    --------
    >>> import torch
    >>> expect_tensor(torch.ones(2, requires_grad=True), "a tensor").requires_grad
    False
    >>> expect_tensor(np.ones(2), "a tensor")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: a tensor: expected a torch tensor, got numpy.ndarray
    """
    import torch

    if not isinstance(value, torch.Tensor):
        expect(
            False,
            f"{what}: expected a torch tensor, got {type_name(value)}",
            expected="torch.Tensor",
            got=type_name(value),
            hint=hint
            or "Return a torch tensor (torch.as_tensor(...) turns an array into one); "
            "do not call .numpy() or .tolist() on the result.",
        )
    if shape is not None and tuple(value.shape) != tuple(shape):
        expect(
            False,
            what,
            expected=f"shape {tuple(shape)}",
            got=f"shape {tuple(value.shape)}",
            hint=hint,
        )
    out = value.detach().cpu()
    if not out.is_floating_point():
        out = out.to(torch.float32)
    return out.clone()


def snapshot(value: Any) -> Any:
    """A deep copy of ``value`` to compare with later (arrays, tensors, dicts, DataFrames)."""
    if _is_tensor(value):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(snapshot(v) for v in value)
    return copy.deepcopy(value)


def _same(a: Any, b: Any) -> bool:
    if _is_tensor(a) or _is_tensor(b):
        if not (_is_tensor(a) and _is_tensor(b)) or a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(_plain(a), _plain(b), equal_nan=True))
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if hasattr(a, "equals") and callable(a.equals):  # pandas
        return bool(type(a) is type(b) and a.equals(b) and list(a.columns) == list(b.columns))
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


def expect_unchanged(before: Any, after: Any, what: str, hint: str = "") -> None:
    """Fail the case ``what`` unless ``after`` still equals the :func:`snapshot` ``before``.

    Examples
    --------
    >>> x = np.zeros(3)
    >>> saved = snapshot(x)
    >>> x += 1
    >>> expect_unchanged(saved, x, "x is not modified in place")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: x is not modified in place
    """
    expect(
        _same(before, after),
        what,
        hint=hint
        or "Work on a copy (y = x + 1, x.clone(), x.copy()); in-place operations such as "
        "x += 1, x[...] = or .mul_() change the caller's data.",
    )


def as_floats(value: Any, what: str, *, expected: Any, got: Any, hint: str = "") -> np.ndarray:
    """``np.asarray(value, dtype=float)``, or the failed case ``what`` (showing ``expected`` and
    ``got``) when numpy cannot read ``value`` as numbers. The shape is the caller's to check.

    Examples
    --------
    >>> as_floats([1, 2], "two numbers", expected="2 numbers", got=None)
    array([1., 2.])
    >>> as_floats(["a"], "one number", expected="1 number", got="list of str")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: one number
    """
    try:
        return np.asarray(value, dtype=float)
    except Exception:  # noqa: BLE001 - anything numpy cannot read is the learner's value
        expect(False, what, expected=expected, got=got, hint=hint)
        raise  # not reached: expect(False, ...) raises


def call_unchanged(
    func: Callable[..., Any], *args: Any, what: str, hint: str = "", **kwargs: Any
) -> Any:
    """``func(*args, **kwargs)``, after which the case ``what`` fails unless the positional
    ``args`` are unchanged (:func:`snapshot` before, :func:`expect_unchanged` after).

    Keyword arguments are passed as they are and not compared (knobs, generators).

    Examples
    --------
    >>> call_unchanged(np.sort, np.array([2, 1]), what="the input is not sorted in place")
    array([1, 2])
    >>> call_unchanged(lambda a: a.sort(), np.array([2, 1]), what="a is not sorted in place")
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: a is not sorted in place
    """
    saved = snapshot(args)
    out = func(*args, **kwargs)
    expect_unchanged(saved, args, what, hint)
    return out


def expect_reproducible(
    draw: Callable[[int], Any],
    what: str,
    *,
    seeds: Iterable[int],
    other_seed: int | None = None,
    hint: str = "",
    describe: Callable[[Any], str] | None = None,
) -> None:
    """Fail the case ``what`` unless the answer's randomness comes from the seed it is given.

    ``draw(seed)`` runs the answer with a generator made from ``seed``
    (``np.random.default_rng(seed)``, or a seeded torch generator) and returns what it gave back.
    For every seed of ``seeds``, in order, two runs must give the same output (an answer that
    draws from ``np.random``'s global state or a fresh ``default_rng()`` does not); with
    ``other_seed``, that seed must then give a different output than the first of ``seeds`` (an
    answer that ignores ``rng`` and seeds its own generator does not). Outputs are compared as
    :func:`expect_unchanged` compares values.

    Parameters
    ----------
    draw : callable
        ``seed -> output``; it calls the learner's answer.
    what : str
        The case, e.g. ``"the noise comes from the rng argument (same seed, same output)"``.
    seeds : iterable of int
        Each is run twice.
    other_seed : int, optional
        A seed whose output must differ from that of the first of ``seeds``.
    hint : str
        Shown when either test fails.
    describe : callable, optional
        ``output -> str``: with it, a failure shows the two outputs it compared as ``got``
        (``"seed 5: ..., again: ..."`` or ``"seed 5: ..., seed 6: ..."``); without it, no ``got``.

    Examples
    --------
    >>> def noisy(x, rng):
    ...     return x + rng.laplace()
    >>> expect_reproducible(
    ...     lambda seed: noisy(3.0, np.random.default_rng(seed)), "seeded", seeds=[7], other_seed=8
    ... )
    >>> expect_reproducible(
    ...     lambda seed: noisy(3.0, np.random.default_rng()), "seeded", seeds=[7], hint="use rng"
    ... )
    Traceback (most recent call last):
    ...
    course_utils.checks.CheckFailure: seeded
    """

    def got(seed: int, a: Any, label: str, b: Any) -> str | None:
        return f"seed {seed}: {describe(a)}, {label}: {describe(b)}" if describe else None

    first = None
    for seed in seeds:
        out, again = draw(seed), draw(seed)
        expect(_same(out, again), what, got=got(seed, out, "again", again), hint=hint)
        if first is None:
            first = (seed, out)
    if other_seed is not None and first is not None:
        seed, out = first
        other = draw(other_seed)
        expect(
            not _same(out, other),
            what,
            got=got(seed, out, f"seed {other_seed}", other),
            hint=hint,
        )


def expect_raises(
    exc_name: str,
    func: Callable[..., Any],
    *args: Any,
    what: str,
    hint: str = "",
    **kwargs: Any,
) -> None:
    """Fail the case ``what`` unless calling ``func(*args, **kwargs)`` raises ``exc_name``.

    ``func`` is the learner's answer: its exception arrives as an :class:`AnswerError` of kind
    ``"raised"`` whose ``exc_type`` is compared with ``exc_name`` (a timeout or a signature
    error is passed on to the framework).

    Examples
    --------
    >>> from course_utils.checks import as_answer
    >>> def f(x):
    ...     if x < 0:
    ...         raise ValueError("x must be >= 0")
    ...     return x
    >>> expect_raises("ValueError", as_answer(f, "f"), -1, what="negative x raises ValueError")
    """
    try:
        func(*args, **kwargs)
    except AnswerError as exc:
        if exc.kind != "raised":
            raise
        got = exc.exc_type
    except Exception as exc:  # noqa: BLE001 - an unwrapped answer (tests calling checks directly)
        got = type(exc).__name__
    else:
        got = "no error"
    expect(got == exc_name, f"{what}; got {got}", expected=exc_name, got=got, hint=hint)
