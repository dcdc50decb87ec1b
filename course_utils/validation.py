"""Argument checks and the one randomness convention of the package.

Every public function of ``course_utils`` validates its arguments with these helpers, so a wrong
argument always gives a ``ValueError`` that names the argument and says what was expected, in the
same words everywhere (the spirit of scikit-learn's ``check_random_state`` and ``check_scalar``).

Randomness
----------
Every random function takes a keyword argument ``rng`` that accepts

* a ``numpy.random.Generator`` - used as it is (its state advances);
* a non-negative ``int`` - a seed: the same seed always gives the same result;
* ``None`` - fresh, unpredictable entropy (not reproducible; notebooks never pass it).

:func:`as_rng` turns any of these into a ``numpy.random.Generator``; :func:`torch_generator`
derives a ``torch.Generator`` from the same value, so torch code follows the same convention,
and :func:`as_seed` an int for APIs that want one (scikit-learn's ``random_state``).

Examples
--------
>>> import numpy as np
>>> int(as_rng(3).integers(100)) == int(np.random.default_rng(3).integers(100))
True
>>> check_positive(0.5, "epsilon")
0.5
>>> check_positive(0, "epsilon")
Traceback (most recent call last):
...
ValueError: epsilon must be a positive number, got 0
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch is imported lazily: importing this module stays cheap
    import torch

__all__ = [
    "RNGLike",
    "as_rng",
    "as_seed",
    "torch_generator",
    "check_int",
    "check_scalar",
    "check_positive",
    "check_non_negative",
    "check_probability",
    "check_bool",
    "check_choice",
    "check_vector",
    "check_matrix",
    "old_keyword",
]

RNGLike = np.random.Generator | int | None
"""What every ``rng=`` argument accepts: a Generator, a non-negative int seed, or None."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def as_rng(rng: RNGLike, *, name: str = "rng") -> np.random.Generator:
    """Turn ``rng`` (Generator, seed or None) into a ``numpy.random.Generator``.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
        A Generator is returned unchanged (so its state is shared with the caller); an int is a
        seed (``np.random.default_rng(rng)``); None gives a fresh, unseeded Generator.
    name : str, default "rng"
        The argument's name, used in the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        For anything else (a float, a bool, a negative seed, numpy's legacy ``RandomState``,
        a ``torch.Generator``).

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> as_rng(g) is g
    True
    >>> float(as_rng(7).random()) == float(as_rng(7).random())
    True
    >>> as_rng(-1)
    Traceback (most recent call last):
    ...
    ValueError: rng must be a numpy.random.Generator, a non-negative int seed or None, got -1
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, Integral) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(
        f"{name} must be a numpy.random.Generator, a non-negative int seed or None, "
        f"got {_describe(rng)}"
    )


def as_seed(rng: RNGLike, *, name: str = "rng") -> int:
    """An int seed that follows the ``rng`` convention, for code that needs a number.

    scikit-learn's ``random_state``, ``torch.manual_seed`` and seed sequences such as
    ``default_rng([seed, round, client])`` take ints. An int is returned unchanged (so ``rng=0``
    means what ``seed=0`` meant); a numpy Generator is advanced by one draw, which becomes the
    seed; None gives a fresh random seed.

    Examples
    --------
    >>> as_seed(7)
    7
    >>> g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    >>> as_seed(g1) == as_seed(g2) != as_seed(g1)
    True
    """
    if isinstance(rng, Integral) and not isinstance(rng, bool) and int(rng) >= 0:
        return int(rng)
    return int(as_rng(rng, name=name).integers(0, 2**62))


def torch_generator(rng: RNGLike, *, name: str = "rng") -> torch.Generator:
    """A ``torch.Generator`` that follows the package's ``rng`` convention.

    An int seeds the torch generator directly (the same seed, the same torch stream); a numpy
    Generator is advanced by one draw, which seeds the torch generator (so the caller's stream
    moves on and two calls give different torch streams); None gives a randomly seeded one.

    Parameters
    ----------
    rng : numpy.random.Generator, int or None
    name : str, default "rng"

    Returns
    -------
    torch.Generator

    Examples
    --------
    >>> import torch
    >>> a = torch.rand(2, generator=torch_generator(5))
    >>> bool(torch.equal(a, torch.rand(2, generator=torch_generator(5))))
    True
    """
    import torch

    return torch.Generator().manual_seed(as_seed(rng, name=name))


def check_scalar(
    value: Any,
    name: str,
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
) -> float:
    """``value`` as a finite float inside the given bounds, else a ValueError naming ``name``.

    Parameters
    ----------
    value : object
        A real number (int, float, numpy scalar, 0-d array). Bools are refused.
    name : str
        The argument's name, for the error message.
    min_val, max_val : float or None
        Bounds; None means unbounded on that side.
    include_min, include_max : bool, default True
        Whether the bound itself is allowed.

    Returns
    -------
    float

    Examples
    --------
    >>> check_scalar(0.3, "alpha", min_val=0, max_val=1)
    0.3
    >>> check_scalar(1.0, "alpha", min_val=0, max_val=1, include_max=False)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a number in [0, 1), got 1.0
    """
    lo = "-inf" if min_val is None else f"{min_val:g}"
    hi = "inf" if max_val is None else f"{max_val:g}"
    left = "[" if include_min and min_val is not None else "("
    right = "]" if include_max and max_val is not None else ")"
    interval = f"{left}{lo}, {hi}{right}"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number in {interval}, got {_describe(value)}")
    out = float(value)
    ok = math.isfinite(out)
    if ok and min_val is not None:
        ok = out >= min_val if include_min else out > min_val
    if ok and max_val is not None:
        ok = out <= max_val if include_max else out < max_val
    if not ok:
        raise ValueError(f"{name} must be a number in {interval}, got {_describe(value)}")
    return out


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float > 0 (or >= 0 with ``allow_zero``), else a ValueError.

    Examples
    --------
    >>> check_positive(2, "sensitivity")
    2.0
    >>> check_positive(0.0, "sensitivity", allow_zero=True)
    0.0
    """
    if type(value) is float and (0.0 < value < math.inf or (allow_zero and value == 0.0)):
        return value  # fast path: mechanisms inside audits are called ~10^5 times
    what = "non-negative" if allow_zero else "positive"
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a {what} number, got {_describe(value)}")
    out = float(value)
    if not math.isfinite(out) or out < 0 or (out == 0 and not allow_zero):
        raise ValueError(f"{name} must be a {what} number, got {_describe(value)}")
    return out


def check_non_negative(value: Any, name: str) -> float:
    """``value`` as a finite float >= 0, else a ValueError (``check_positive(..., allow_zero=True)``).

    Examples
    --------
    >>> check_non_negative(0, "noise")
    0.0
    """
    return check_positive(value, name, allow_zero=True)


def check_probability(value: Any, name: str, *, closed: bool = False) -> float:
    """``value`` as a float in (0, 1), or in [0, 1] with ``closed=True``, else a ValueError.

    Examples
    --------
    >>> check_probability(1e-5, "delta")
    1e-05
    >>> check_probability(1.0, "delta")
    Traceback (most recent call last):
    ...
    ValueError: delta must be a number in (0, 1), got 1.0
    """
    return check_scalar(
        value, name, min_val=0.0, max_val=1.0, include_min=closed, include_max=closed
    )


def check_int(
    value: Any, name: str, *, min_val: int | None = None, max_val: int | None = None
) -> int:
    """``value`` as a Python int (numpy integers accepted, bools and floats refused) in bounds.

    Examples
    --------
    >>> check_int(np.int64(3), "steps", min_val=1)
    3
    >>> check_int(2.0, "steps")
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer, got 2.0
    >>> check_int(0, "steps", min_val=1)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer >= 1, got 0
    """
    bounds = []
    if min_val is not None:
        bounds.append(f">= {min_val}")
    if max_val is not None:
        bounds.append(f"<= {max_val}")
    what = "an integer" + (" " + " and ".join(bounds) if bounds else "")
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be {what}, got {_describe(value)}")
    out = int(value)
    if (min_val is not None and out < min_val) or (max_val is not None and out > max_val):
        raise ValueError(f"{name} must be {what}, got {_describe(value)}")
    return out


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a bool (numpy bool accepted), else a ValueError.

    Examples
    --------
    >>> check_bool(True, "clip")
    True
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {_describe(value)}")


def check_choice(value: Any, name: str, choices: tuple[Any, ...] | list[Any]) -> Any:
    """``value`` if it is one of ``choices``, else a ValueError listing them.

    Examples
    --------
    >>> check_choice("linf", "norm", ("linf", "l2"))
    'linf'
    >>> check_choice("l1", "norm", ("linf", "l2"))
    Traceback (most recent call last):
    ...
    ValueError: norm must be one of 'linf', 'l2', got 'l1'
    """
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}, got {_describe(value)}")
    return value


def check_vector(value: Any, name: str) -> np.ndarray:
    """``value`` as a non-empty 1-d float array without NaN, else a ValueError naming ``name``.

    Examples
    --------
    >>> check_vector([1, 2.5], "scores").tolist()
    [1.0, 2.5]
    >>> check_vector([[1.0]], "scores")
    Traceback (most recent call last):
    ...
    ValueError: scores must be a 1-d array, got shape (1, 1)
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 1-d array of numbers, got {_describe(value)}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def check_matrix(value: Any, name: str, *, shape: str = "(n_samples, n_features)") -> np.ndarray:
    """``value`` as a non-empty 2-d array of finite floats, else a ValueError naming ``name``.

    ``shape`` names the two axes in the message, e.g. ``"(n_clients, dim)"``.

    Examples
    --------
    >>> check_matrix([[1, 2], [3, 4]], "X").shape
    (2, 2)
    >>> check_matrix([1.0, 2.0], "updates", shape="(n_clients, dim)")
    Traceback (most recent call last):
    ...
    ValueError: updates must be a non-empty 2-d array (n_clients, dim), got shape (2,)
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a 2-d array of numbers, got {_describe(value)}") from None
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty 2-d array {shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def old_keyword(new: Any, old: Any, *, old_name: str, new_name: str = "rng") -> Any:
    """The value of a renamed keyword: ``old`` (with a DeprecationWarning) when it was passed.

    For one release a function that renamed ``seed=`` or ``generator=`` to ``rng=`` keeps the old
    keyword as ``seed: ... = None`` and starts with ``rng = old_keyword(rng, seed, old_name="seed")``.

    Examples
    --------
    >>> old_keyword(0, None, old_name="seed")
    0
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     old_keyword(0, 5, old_name="seed"), caught[0].category.__name__
    (5, 'DeprecationWarning')
    """
    if old is None:
        return new
    warnings.warn(
        f"{old_name}= is deprecated and will be removed in the next release; pass {new_name}= "
        "(a numpy Generator, an int seed or None)",
        DeprecationWarning,
        stacklevel=3,
    )
    return old
