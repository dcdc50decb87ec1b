"""Field arithmetic behind the checks of exercise set 08, in plain Python integers.

Polynomial evaluation and Lagrange interpolation modulo a prime, written here once for
:mod:`course_utils.checks.ex08_crypto` and :mod:`course_utils.checks.ex08_challenge` (never taken
from :mod:`course_utils.crypto`, whose functions are the reference answers). The leading underscore
keeps the checks' auto-discovery from importing it as a set.
"""

from __future__ import annotations

__all__ = ["P127", "P61", "lagrange_at", "poly_at"]

#: The primes the checks compute modulo: 61-bit arithmetic overflows int64 products and floats
#: round it, so only exact integer arithmetic passes.
P61 = 2**61 - 1
P127 = 2**127 - 1


def poly_at(coeffs: list[int], x: int, p: int) -> int:
    """``sum_k coeffs[k] * x**k mod p`` (Horner's rule); ``coeffs[0]`` is the value at 0.

    Examples
    --------
    >>> poly_at([3, 2], 4, 11)  # 3 + 2 * 4 = 11 = 0 mod 11
    0
    """
    out = 0
    for c in reversed(coeffs):
        out = (out * x + c) % p
    return out


def lagrange_at(points: list[tuple[int, int]], x0: int, p: int, *, sign_error: bool = False) -> int:
    """The value at ``x0`` of the polynomial through ``points`` (distinct x), modulo ``p``.

    ``sign_error=True`` computes the usual slip instead, ``(x0 - x_m) / (x_m - x_j)`` for
    ``(x0 - x_m) / (x_j - x_m)``, so that a check can name it.

    Examples
    --------
    >>> lagrange_at([(1, 5), (2, 7)], 0, 11)  # the line through them meets x = 0 at 3
    3
    >>> lagrange_at([(1, 5), (2, 7)], 3, 11)
    9
    """
    total = 0
    for j, (xj, yj) in enumerate(points):
        num, den = 1, 1
        for m, (xm, _) in enumerate(points):
            if m != j:
                num = num * (x0 - xm) % p
                den = den * ((xm - xj) if sign_error else (xj - xm)) % p
        total = (total + yj * num * pow(den, -1, p)) % p
    return total
