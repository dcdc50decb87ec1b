"""Field arithmetic for the crypto helpers: ``Z_p`` with ``p = 2**61 - 1`` and fixed-point reals.

Field elements are ``int64`` values in ``[0, modulus)`` with ``modulus <= 2**62``, so the sum of
two never overflows; products go through Python integers (:func:`mul_mod`), so every result is
exact. :func:`encode_fixed` maps reals (negatives too) to field elements scaled by
``2**frac_bits``; :func:`decode_fixed` reads the upper half of the field as negative numbers.

Examples
--------
>>> decode_fixed(encode_fixed(-1.25))
-1.25
>>> int(mul_mod(MODULUS - 1, MODULUS - 1))  # (-1) * (-1)
1
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_int

__all__ = [
    "MODULUS",
    "ELEMENT_BYTES",
    "check_modulus",
    "as_field",
    "random_field",
    "mul_mod",
    "encode_fixed",
    "decode_fixed",
    "fixed_point_range",
    "is_prime",
    "check_prime",
]

MODULUS: int = 2**61 - 1
#: Bytes one element of the default field takes on the wire (61 bits fit in 8 bytes).
ELEMENT_BYTES: int = 8


# ------------------------------------------------------------------------------------ helpers
def check_modulus(modulus: Any, name: str = "modulus") -> int:
    """``modulus`` as an int in ``[2, 2**62]`` (so two field elements add without overflow).

    Examples
    --------
    >>> check_modulus(2**63)
    Traceback (most recent call last):
    ...
    ValueError: modulus must be an integer >= 2 and <= 4611686018427387904, got 9223372036854775808
    """
    return check_int(modulus, name, min_val=2, max_val=2**62)


def as_field(value: Any, modulus: int, name: str) -> np.ndarray:
    """Integers (Python ints, integer arrays, object arrays of ints) as ``int64`` in ``[0, modulus)``.

    Floats and bools raise ``ValueError`` naming ``name``.

    Examples
    --------
    >>> as_field([-1, 12], 10, "x").tolist()
    [9, 2]
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" or arr.dtype.itemsize > 8:
            arr = arr.astype(object)
        else:
            return (arr.astype(np.int64) % modulus).astype(np.int64)
    if arr.dtype == object:
        flat = arr.ravel()
        if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in flat):
            raise ValueError(f"{name} must hold integers only, got {value!r:.60}")
        return np.array([int(v) % modulus for v in flat], dtype=np.int64).reshape(arr.shape)
    raise ValueError(
        f"{name} must be an integer or an integer array (encode reals with encode_fixed first), "
        f"got dtype {arr.dtype}"
    )


def unwrap_scalar(arr: np.ndarray) -> int | np.ndarray:
    """A Python int for a 0-d array, the array itself otherwise."""
    return int(arr) if arr.ndim == 0 else arr


def random_field(
    shape: int | tuple[int, ...], *, rng: RNGLike, modulus: int = MODULUS
) -> np.ndarray:
    """Uniform field elements: an ``int64`` array of ``shape`` with values in ``[0, modulus)``.

    Examples
    --------
    >>> r = random_field(4, rng=0, modulus=10)
    >>> r.dtype, bool(((0 <= r) & (r < 10)).all())
    (dtype('int64'), True)
    """
    modulus = check_modulus(modulus)
    return as_rng(rng).integers(0, modulus, size=shape, dtype=np.int64)


def mul_mod(a: Any, b: Any, *, modulus: int = MODULUS) -> np.ndarray:
    """Exact elementwise ``a * b mod modulus`` (through Python integers: no int64 overflow).

    Examples
    --------
    >>> int(mul_mod(2**60, 4))  # 2**62 = 2 * (2**61 - 1) + 2
    2
    """
    modulus = check_modulus(modulus)
    x = as_field(a, modulus, "a").astype(object)
    y = as_field(b, modulus, "b").astype(object)
    return np.asarray((x * y) % modulus).astype(np.int64)


# ------------------------------------------------------------------------------- fixed point
def fixed_point_range(*, frac_bits: int = 16, modulus: int = MODULUS) -> float:
    """Largest magnitude :func:`encode_fixed` accepts: ``((modulus - 1) // 2) / 2**frac_bits``.

    Examples
    --------
    >>> fixed_point_range(frac_bits=16) > 1.7e13
    True
    """
    modulus = check_modulus(modulus)
    frac_bits = check_int(frac_bits, "frac_bits", min_val=0, max_val=52)
    return ((modulus - 1) // 2) / 2.0**frac_bits


def encode_fixed(x: Any, *, frac_bits: int = 16, modulus: int = MODULUS) -> int | np.ndarray:
    """Reals to field elements: ``round(x * 2**frac_bits) mod modulus``.

    A negative value ``-v`` becomes ``modulus - round(v * 2**frac_bits)``, so sums of encodings
    decode to sums of reals as long as the total stays inside :func:`fixed_point_range`.

    Parameters
    ----------
    x : float or array of floats
    frac_bits : int, default 16
        Fractional bits: the resolution is ``2**-frac_bits``.
    modulus : int, default ``2**61 - 1``

    Returns
    -------
    int or numpy.ndarray
        An int for a scalar, an ``int64`` array otherwise.

    Raises
    ------
    ValueError
        If ``x`` is not finite or ``|x|`` exceeds :func:`fixed_point_range` (overflow).

    Examples
    --------
    >>> encode_fixed(1.5, frac_bits=2, modulus=97)
    6
    >>> encode_fixed(-1.5, frac_bits=2, modulus=97)
    91
    """
    modulus = check_modulus(modulus)
    frac_bits = check_int(frac_bits, "frac_bits", min_val=0, max_val=52)
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"x must be a real number or an array of them, got {x!r:.60}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError("x must be finite (no nan or inf)")
    scaled = np.rint(arr * 2.0**frac_bits)
    limit = (modulus - 1) // 2
    if arr.size and float(np.abs(scaled).max()) > limit:
        raise ValueError(
            f"x overflows the field: |x| must be at most "
            f"{fixed_point_range(frac_bits=frac_bits, modulus=modulus):.6g} for frac_bits="
            f"{frac_bits} and modulus={modulus}, got max |x| = {float(np.abs(arr).max()):.6g}"
        )
    return unwrap_scalar(scaled.astype(np.int64) % modulus)


def decode_fixed(v: Any, *, frac_bits: int = 16, modulus: int = MODULUS) -> float | np.ndarray:
    """Field elements back to reals: values above ``modulus // 2`` are negative.

    A product of two encodings carries ``2 * frac_bits`` fractional bits: decode it with that.

    Examples
    --------
    >>> decode_fixed(91, frac_bits=2, modulus=97)
    -1.5
    >>> decode_fixed(encode_fixed([0.25, -3.0])).tolist()
    [0.25, -3.0]
    """
    modulus = check_modulus(modulus)
    frac_bits = check_int(frac_bits, "frac_bits", min_val=0, max_val=124)
    arr = as_field(v, modulus, "v")
    signed = np.where(arr > modulus // 2, arr - modulus, arr)
    out = signed.astype(float) / 2.0**frac_bits
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------- primes
def is_prime(p: int) -> bool:
    """Miller-Rabin with the first 13 primes as bases (deterministic below 3.3e24).

    Examples
    --------
    >>> is_prime(2**61 - 1), is_prime(2**61 + 1), is_prime(2**521 - 1)
    (True, False, True)
    """
    p = int(p)
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if p < 2:
        return False
    for q in small:
        if p % q == 0:
            return p == q
    d, s = p - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in small:
        x = pow(a, d, p)
        if x in (1, p - 1):
            continue
        for _ in range(s - 1):
            x = x * x % p
            if x == p - 1:
                break
        else:
            return False
    return True


def check_prime(prime: Any) -> int:
    """``prime`` as an int if it is a prime >= 3 (:func:`is_prime`), else a ``ValueError``."""
    prime = check_int(prime, "prime", min_val=3)
    if not is_prime(prime):
        raise ValueError(f"prime must be a prime number, got {prime}")
    return prime
