"""Secret sharing and secure computation over the prime field ``Z_p``, ``p = 2**61 - 1``.

The module follows the order of notebook 08:

1. **Additive sharing** - :func:`share` splits an integer (or an integer array) into ``n``
   uniformly random shares that add up to it modulo ``modulus``; :func:`reconstruct` adds them up.
   Any ``n - 1`` shares are independent uniform values: they say nothing about the secret.
2. **Fixed point** - :func:`encode_fixed` maps reals (negatives too) to field elements, scaled by
   ``2**frac_bits``; :func:`decode_fixed` reads the upper half of the field as negative numbers.
3. **Shamir sharing** - :func:`shamir_share` hides the secret in the constant term of a random
   polynomial of degree ``t - 1``; :func:`shamir_reconstruct` interpolates at 0 (Lagrange).
4. **Beaver multiplication** - :func:`beaver_triple` (a trusted dealer's correlated randomness),
   :func:`beaver_multiply`, and :func:`secure_dot`, which also counts rounds and bytes.

Arithmetic is exact (field elements and fixed point live in :mod:`course_utils.crypto.field` and
are re-exported here). Shamir sharing works over any prime, also one larger than 64 bits.

The ``rng`` draws (a ``numpy.random.Generator``, a seed or None, see
:mod:`course_utils.validation`) make the notebook reproducible; numpy's generator is **not** a
cryptographic one - a real system draws shares from ``secrets`` / the OS CSPRNG.

Examples
--------
>>> s = share(42, 3, rng=0)
>>> len(s), reconstruct(s)
(3, 42)
>>> decode_fixed(encode_fixed(-1.25))
-1.25
>>> pts = shamir_share(7, n=5, t=3, rng=0)
>>> shamir_reconstruct(pts[1:4])
7
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_int
from .field import (
    ELEMENT_BYTES,
    MODULUS,
    as_field,
    check_modulus,
    check_prime,
    decode_fixed,
    encode_fixed,
    fixed_point_range,
    is_prime,
    mul_mod,
    random_field,
    unwrap_scalar,
)

__all__ = [
    "MODULUS",
    "ELEMENT_BYTES",
    "random_field",
    "mul_mod",
    "share",
    "reconstruct",
    "encode_fixed",
    "decode_fixed",
    "fixed_point_range",
    "is_prime",
    "shamir_share",
    "shamir_reconstruct",
    "lagrange_coefficients",
    "beaver_triple",
    "beaver_multiply",
    "secure_dot",
]


def _check_shares(shares: Any, modulus: int, name: str = "shares") -> list[np.ndarray]:
    if isinstance(shares, np.ndarray):
        shares = list(shares)
    if not isinstance(shares, Sequence) or len(shares) == 0:
        raise ValueError(f"{name} must be a non-empty list of shares, got {shares!r:.60}")
    out = [as_field(s, modulus, name) for s in shares]
    if any(s.shape != out[0].shape for s in out):
        raise ValueError(f"{name} must all have the same shape, got {[s.shape for s in out]}")
    return out


# ---------------------------------------------------------------------------- additive shares
def share(secret: Any, n: int, *, rng: RNGLike, modulus: int = MODULUS) -> list[np.ndarray]:
    """Split ``secret`` into ``n`` additive shares modulo ``modulus``.

    The first ``n - 1`` shares are uniform in ``[0, modulus)``; the last one is whatever makes
    the sum equal the secret. Any ``n - 1`` of them are therefore independent uniform values.

    Parameters
    ----------
    secret : int or integer array
        Taken modulo ``modulus`` (a negative int becomes ``modulus - |secret|``; encode reals and
        signed values with :func:`encode_fixed`).
    n : int
        Number of shares, ``>= 2``.
    rng : numpy.random.Generator, int or None
    modulus : int, default ``2**61 - 1``
        In ``[2, 2**62]``.

    Returns
    -------
    list of numpy.ndarray
        ``n`` ``int64`` arrays shaped like ``secret`` (0-d arrays for an int).

    Examples
    --------
    >>> shares = share([10, 20], 3, rng=1, modulus=97)
    >>> [bool(((0 <= s) & (s < 97)).all()) for s in shares]
    [True, True, True]
    >>> reconstruct(shares, modulus=97).tolist()
    [10, 20]
    """
    modulus = check_modulus(modulus)
    n = check_int(n, "n", min_val=2)
    s = as_field(secret, modulus, "secret")
    r = as_rng(rng).integers(0, modulus, size=(n - 1, *s.shape), dtype=np.int64)
    acc = np.zeros(s.shape, dtype=np.int64)
    for row in r:  # pairwise sums of values < 2**62 never overflow int64
        acc = (acc + row) % modulus
    return [*r, (s - acc) % modulus]


def reconstruct(shares: Sequence[Any], *, modulus: int = MODULUS) -> int | np.ndarray:
    """Sum of the shares modulo ``modulus``: an int for scalar shares, else an ``int64`` array.

    Examples
    --------
    >>> reconstruct([5, 7, 1], modulus=10)
    3
    """
    modulus = check_modulus(modulus)
    parts = _check_shares(shares, modulus)
    acc = np.zeros(parts[0].shape, dtype=np.int64)
    for p in parts:
        acc = (acc + p) % modulus
    return unwrap_scalar(acc)


# ----------------------------------------------------------------------------------- Shamir
def _uniform_below(rng: np.random.Generator, bound: int) -> int:
    """A uniform int in [0, bound), also for bounds beyond 64 bits (bias below 2**-64)."""
    if bound <= 2**63:
        return int(rng.integers(0, bound, dtype=np.int64))
    n_bytes = (bound.bit_length() + 7) // 8 + 8
    return int.from_bytes(rng.bytes(n_bytes), "big") % bound


def shamir_share(
    secret: int, n: int, t: int, *, rng: RNGLike, prime: int = MODULUS
) -> list[tuple[int, int]]:
    """Shamir's ``t``-out-of-``n`` sharing: the points ``(x, f(x))`` for ``x = 1..n``.

    ``f`` is a random polynomial of degree ``t - 1`` over ``Z_prime`` with ``f(0) = secret``:
    any ``t`` points determine it, while ``t - 1`` points fit every possible secret equally well.

    Parameters
    ----------
    secret : int
        In ``[0, prime)``.
    n : int
        Number of shares, ``1 <= n < prime``.
    t : int
        Threshold, ``1 <= t <= n``.
    rng : numpy.random.Generator, int or None
    prime : int, default ``2**61 - 1``
        Any prime (e.g. ``2**521 - 1`` to share 256-bit keys).

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> pts = shamir_share(1234, n=4, t=2, rng=0)
    >>> [x for x, _ in pts], shamir_reconstruct([pts[0], pts[3]])
    ([1, 2, 3, 4], 1234)
    """
    prime = check_prime(prime)
    secret = check_int(secret, "secret", min_val=0, max_val=prime - 1)
    n = check_int(n, "n", min_val=1, max_val=prime - 1)
    t = check_int(t, "t", min_val=1, max_val=n)
    gen = as_rng(rng)
    coeffs = [secret] + [_uniform_below(gen, prime) for _ in range(t - 1)]
    points = []
    for x in range(1, n + 1):
        y = 0
        for c in reversed(coeffs):  # Horner
            y = (y * x + c) % prime
        points.append((x, y))
    return points


def shamir_reconstruct(points: Sequence[tuple[int, int]], *, prime: int = MODULUS) -> int:
    """Lagrange interpolation at 0: ``sum_j y_j prod_{m != j} x_m / (x_m - x_j) mod prime``.

    With at least ``t`` points of a ``t``-out-of-``n`` sharing this is the secret; with fewer it
    is a uniformly random value, whatever the secret was.

    Examples
    --------
    >>> shamir_reconstruct([(1, 5), (2, 7)], prime=11)  # the line through them meets x=0 at 3
    3
    """
    prime = check_prime(prime)
    if isinstance(points, (str, bytes)) or not isinstance(points, Sequence) or not points:
        raise ValueError(f"points must be a non-empty list of (x, y) pairs, got {points!r:.60}")
    xs, ys = [], []
    for p in points:
        if not (isinstance(p, Sequence) and len(p) == 2):
            raise ValueError(f"points must be (x, y) pairs, got {p!r:.60}")
        xs.append(check_int(p[0], "points' x") % prime)
        ys.append(check_int(p[1], "points' y") % prime)
    if 0 in xs or len(set(xs)) != len(xs):
        raise ValueError(f"points must have distinct, non-zero x coordinates, got {xs}")
    lam = lagrange_coefficients(xs, prime=prime)
    return sum(lj * yj for lj, yj in zip(lam, ys, strict=True)) % prime


def lagrange_coefficients(xs: Sequence[int], *, prime: int = MODULUS) -> list[int]:
    """``lambda_j = prod_{m != j} x_m / (x_m - x_j) mod prime``: then ``f(0) = sum_j lambda_j y_j``.

    Computing them once lets a server reconstruct many secrets shared at the same points.

    Examples
    --------
    >>> lagrange_coefficients([1, 2], prime=11)  # f(0) = 2 f(1) - f(2)
    [2, 10]
    """
    prime = check_prime(prime)
    xs = [check_int(x, "xs") % prime for x in xs]
    if not xs or 0 in xs or len(set(xs)) != len(xs):
        raise ValueError(f"xs must be distinct, non-zero x coordinates, got {xs}")
    out = []
    for j, xj in enumerate(xs):
        num, den = 1, 1
        for m, xm in enumerate(xs):
            if m != j:
                num = num * xm % prime
                den = den * (xm - xj) % prime
        out.append(num * pow(den, -1, prime) % prime)
    return out


# ------------------------------------------------------------------------ Beaver multiplication
Triple = tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]


def beaver_triple(
    shape: int | tuple[int, ...], n_parties: int, *, rng: RNGLike, modulus: int = MODULUS
) -> Triple:
    """A trusted dealer's multiplication triples: shares of uniform ``a``, ``b`` and ``c = a*b``.

    Examples
    --------
    >>> a, b, c = beaver_triple(3, 2, rng=0, modulus=101)
    >>> A, B, C = (reconstruct(s, modulus=101) for s in (a, b, c))
    >>> bool(((A * B) % 101 == C).all())
    True
    """
    modulus = check_modulus(modulus)
    n_parties = check_int(n_parties, "n_parties", min_val=2)
    gen = as_rng(rng)
    a = random_field(shape, rng=gen, modulus=modulus)
    b = random_field(shape, rng=gen, modulus=modulus)
    c = mul_mod(a, b, modulus=modulus)
    return tuple(share(v, n_parties, rng=gen, modulus=modulus) for v in (a, b, c))  # type: ignore[return-value]


def beaver_multiply(
    x_shares: Sequence[Any], y_shares: Sequence[Any], triple: Triple, *, modulus: int = MODULUS
) -> list[np.ndarray]:
    """Shares of ``x * y`` (elementwise) from shares of ``x``, ``y`` and one Beaver triple.

    The parties open ``d = x - a`` and ``e = y - b`` (one round; both look uniform because ``a``
    and ``b`` are), then party ``i`` holds ``z_i = c_i + d b_i + e a_i`` and party 0 adds
    ``d e``: the shares sum to ``(d + a)(e + b) = x y``. Each triple may be used only once.

    Examples
    --------
    >>> xs, ys = share(6, 3, rng=1), share(7, 3, rng=2)
    >>> reconstruct(beaver_multiply(xs, ys, beaver_triple((), 3, rng=3)))
    42
    """
    modulus = check_modulus(modulus)
    xs = _check_shares(x_shares, modulus, "x_shares")
    ys = _check_shares(y_shares, modulus, "y_shares")
    if not (isinstance(triple, Sequence) and len(triple) == 3):
        raise ValueError("triple must be (a_shares, b_shares, c_shares) from beaver_triple")
    a_s, b_s, c_s = (_check_shares(part, modulus, "triple") for part in triple)
    n = len(xs)
    if not (len(ys) == len(a_s) == len(b_s) == len(c_s) == n):
        raise ValueError(
            f"x_shares, y_shares and the triple must come from the same {n} parties, got "
            f"{[len(ys), len(a_s), len(b_s), len(c_s)]} shares"
        )
    if ys[0].shape != xs[0].shape or a_s[0].shape != xs[0].shape:
        raise ValueError(
            f"x_shares, y_shares and the triple must have one shape, got "
            f"{xs[0].shape}, {ys[0].shape}, {a_s[0].shape}"
        )
    d = reconstruct([(x - a) % modulus for x, a in zip(xs, a_s, strict=True)], modulus=modulus)
    e = reconstruct([(y - b) % modulus for y, b in zip(ys, b_s, strict=True)], modulus=modulus)
    out = []
    for i in range(n):
        z = (c_s[i] + mul_mod(d, b_s[i], modulus=modulus)) % modulus
        z = (z + mul_mod(e, a_s[i], modulus=modulus)) % modulus
        if i == 0:
            z = (z + mul_mod(d, e, modulus=modulus)) % modulus
        out.append(np.asarray(z, dtype=np.int64))
    return out


def secure_dot(
    x: Any, w: Any, *, n_parties: int = 3, rng: RNGLike, frac_bits: int = 16
) -> tuple[float, dict[str, Any]]:
    """``x . w`` computed by ``n_parties`` parties on additive shares, with its cost.

    Party 0 owns ``x`` (the data), party 1 owns ``w`` (the model); each secret-shares its vector
    (fixed point, ``frac_bits``) among all parties. A dealer hands out one Beaver triple per
    coordinate beforehand. Online, the parties open ``d`` and ``e`` for all coordinates at once,
    add their product shares locally (addition is free) and send their share of the total to
    party 0, who decodes it with ``2 * frac_bits`` fractional bits (no truncation is needed
    because only the final sum is opened). Honest-but-curious parties only: nothing here
    detects a party that sends wrong values (SPDZ adds MACs for that).

    Parameters
    ----------
    x, w : 1-d arrays of floats, same length
    n_parties : int, default 3
        ``>= 2``.
    rng : numpy.random.Generator, int or None
    frac_bits : int, default 16
        ``sum |x_i w_i| * 2**(2 frac_bits)`` must stay below ``2**60``.

    Returns
    -------
    value : float
    cost : dict
        ``rounds`` (online rounds: share inputs, open d and e, open the result), ``messages``,
        ``bytes_sent`` (online, 8 bytes per field element), ``dealer_bytes`` (offline triples),
        ``plaintext_bytes`` (party 0 sends ``x`` to party 1 and gets the score back),
        ``multiplications``, ``n_parties``.

    Examples
    --------
    >>> value, cost = secure_dot([1.0, -2.0, 0.5], [0.5, 0.25, 4.0], rng=0)
    >>> value, cost["rounds"], cost["bytes_sent"]
    (2.0, 3, 400)
    """
    n_parties = check_int(n_parties, "n_parties", min_val=2)
    frac_bits = check_int(frac_bits, "frac_bits", min_val=0, max_val=28)
    xv = np.asarray(x, dtype=float)
    wv = np.asarray(w, dtype=float)
    if xv.ndim != 1 or xv.shape != wv.shape or xv.size == 0:
        raise ValueError(
            f"x and w must be non-empty 1-d arrays of one length, got {xv.shape} and {wv.shape}"
        )
    if not (np.all(np.isfinite(xv)) and np.all(np.isfinite(wv))):
        raise ValueError("x and w must be finite")
    if (
        float(np.abs(xv * wv).sum() + np.abs(xv).sum() + np.abs(wv).sum()) * 4.0**frac_bits
        >= 2.0**59
    ):
        raise ValueError(
            f"x and w are too large for frac_bits={frac_bits}: sum |x_i w_i| * 4**frac_bits "
            "must stay below 2**59 (use fewer frac_bits or smaller values)"
        )
    gen = as_rng(rng)
    m, d = MODULUS, xv.size
    x_sh = share(encode_fixed(xv, frac_bits=frac_bits), n_parties, rng=gen)
    w_sh = share(encode_fixed(wv, frac_bits=frac_bits), n_parties, rng=gen)
    triple = beaver_triple(d, n_parties, rng=gen)
    z_sh = beaver_multiply(x_sh, w_sh, triple)
    totals = [int(z.astype(object).sum() % m) for z in z_sh]  # local: adding shares is free
    value = decode_fixed(reconstruct(totals), frac_bits=2 * frac_bits)
    b = ELEMENT_BYTES
    cost = {
        "rounds": 3,
        "messages": 2 * (n_parties - 1) + n_parties * (n_parties - 1) + (n_parties - 1),
        "bytes_sent": 2 * (n_parties - 1) * d * b  # inputs: owners send n-1 shares each
        + n_parties * (n_parties - 1) * 2 * d * b  # open d and e: everyone to everyone
        + (n_parties - 1) * b,  # output: shares of the total to party 0
        "dealer_bytes": n_parties * 3 * d * b,
        "plaintext_bytes": d * b + b,
        "multiplications": d,
        "n_parties": n_parties,
    }
    return value, cost
