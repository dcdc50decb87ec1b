"""Checks of exercise set 08 (cryptographic privacy: additive shares, fixed-point decoding, Shamir
reconstruction, Beaver multiplication, unmasking a secure-aggregation round with dropouts).

Shares and field elements are Python ints (or anything ``int()`` accepts) modulo a prime. The
checks use large primes (``2**61 - 1`` and ``2**127 - 1``) on purpose: float arithmetic and int64
overflow give wrong answers there, so exact integer arithmetic is tested, not assumed. The
distribution of shares is tested with chi-square tests on a small field, with fixed seeds.

Expected values are computed here with plain Python integers, never with
:mod:`course_utils.crypto`; the usual mistakes are recomputed on the same inputs so that the hint
names the one that was made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from . import expect, expect_number, question
from ._ex08_support import P61, P127, lagrange_at, poly_at

__all__: list[str] = []

#: A correct answer fails one chi-square test with probability P_MIN (seeds are fixed, so for one
#: implementation the outcome is deterministic).
P_MIN = 1e-4


def _ints(value: Any, n: int | None, what: str, hint: str) -> list[int]:
    """``value`` as a list of Python ints (of length ``n`` when given), else a failed case."""
    try:
        seq = list(np.asarray(value, dtype=object).reshape(-1)) if np.ndim(value) else None
    except Exception:
        seq = None
    expect(seq is not None, what, expected="a list of integers", got=value, hint=hint)
    out = []
    for v in seq:  # type: ignore[union-attr]
        ok = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
        if not ok and isinstance(v, (float, np.floating)) and float(v).is_integer():
            ok = abs(float(v)) < 2**53  # an exactly representable whole float is accepted
        expect(
            ok,
            what,
            expected="integers",
            got=f"{type(v).__name__} {v!r}",
            hint="Keep every value an exact integer (a Python int): a float cannot hold a 61-bit "
            "field element exactly, so do not convert with float() or divide with /.",
        )
        out.append(int(v))
    if n is not None:
        expect(len(out) == n, what, expected=f"{n} values", got=f"{len(out)} values", hint=hint)
    return out


def _shamir(secret: int, n: int, t: int, p: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    coeffs = [secret] + [int.from_bytes(rng.bytes(24), "big") % p for _ in range(t - 1)]
    return [(x, poly_at(coeffs, x, p)) for x in range(1, n + 1)]


def _additive(secret: int, n: int, p: int, rng: np.random.Generator) -> list[int]:
    r = [int.from_bytes(rng.bytes(24), "big") % p for _ in range(n - 1)]
    return [*r, (secret - sum(r)) % p]


# ---------------------------------------------------------------------------------------------
# 8.1  additive shares
# ---------------------------------------------------------------------------------------------
@question("8.1", points=2, reference="course_utils.crypto.sharing.share")
def _check_additive(additive_share: Any) -> None:
    """Split secret into n additive shares modulo modulus (uniform, summing to secret), using rng."""
    count_hint = (
        "Return a list of exactly n shares: n - 1 random ones and the one that completes the sum."
    )
    for secret, n, m in ((5, 3, 11), (0, 2, 101), (P61 - 1, 4, P61), (123, 5, P61)):
        out = additive_share(secret, n, modulus=m, rng=np.random.default_rng(secret % 7 + n))
        shares = _ints(out, None, f"returns a list of n={n} integer shares", count_hint)
        expect(
            len(shares) == n,
            f"returns n={n} shares",
            expected=n,
            got=len(shares),
            hint=count_hint + " Drawing n - 1 random values is not enough: append the last share.",
        )
        if any(s < 0 for s in shares):
            expect(
                False,
                "every share is in [0, modulus)",
                got=shares,
                hint="The last share secret - sum(others) is negative: reduce it with % modulus.",
            )
        expect(
            all(s < m for s in shares),
            "every share is in [0, modulus)",
            got=shares,
            hint="Draw the random shares with rng.integers(0, modulus) and reduce the last one % modulus.",
        )
        if sum(shares) % m == 0 and secret % m != 0:
            expect(
                False,
                "the shares add up to the secret",
                hint="The shares sum to 0: the last share must be (secret - sum(others)) % modulus.",
            )
        expect(
            sum(shares) % m == secret % m,
            f"sum of the shares mod {m} equals the secret {secret}",
            expected=secret % m,
            got=sum(shares) % m,
            hint="Make the last share secret - (sum of the others), modulo modulus.",
        )
    a = _ints(additive_share(3, 3, modulus=P61, rng=np.random.default_rng(1)), 3, "shares", "")
    b = _ints(additive_share(3, 3, modulus=P61, rng=np.random.default_rng(2)), 3, "shares", "")
    expect(
        a != b,
        "shares change when rng changes",
        got=[a, b],
        hint="Draw every random share from the rng argument (not a fixed seed, not a constant).",
    )
    # distribution: first and last share uniform on Z_11, for two secrets (100 expected per value;
    # few enough calls that a proxy to a sandboxed kernel answers them well within the time limit)
    m, draws = 11, 1100
    for secret in (0, 9):
        gen = np.random.default_rng(100 + secret)
        rows = [
            _ints(additive_share(secret, 3, modulus=m, rng=gen), 3, "shares", "")
            for _ in range(draws)
        ]
        arr = np.array(rows)
        for k, name in ((0, "first"), (2, "last")):
            counts = np.bincount(arr[:, k], minlength=m)[:m]
            p = stats.chisquare(counts).pvalue
            narrow = arr[:, k].max() < m - 2
            expect(
                p > P_MIN,
                f"the {name} share is uniform on 0..{m - 1} (chi-square over {draws} draws, secret {secret})",
                expected=f"p-value > {P_MIN}",
                got=f"p-value {p:.1e}, counts {counts.tolist()}",
                hint="Draw the random shares uniformly from the WHOLE field: rng.integers(0, modulus)."
                if narrow
                else "Each random share must be uniform on [0, modulus) and independent of the secret.",
            )
        # jointly: any n - 1 shares must be independent uniform values, or two of them reveal the
        # secret (one random value repeated, [r] * (n - 1), passes the one-share tests above)
        pairs = np.bincount(arr[:, 0] * m + arr[:, 2], minlength=m * m)[: m * m]
        p = stats.chisquare(pairs).pvalue
        expect(
            p > P_MIN,
            f"the first and the last share are jointly uniform on 0..{m - 1} squared (chi-square "
            f"over {draws} draws, secret {secret})",
            expected=f"p-value > {P_MIN}",
            got=f"p-value {p:.1e}",
            hint="Draw each of the n - 1 random shares separately: [value] * (n - 1) repeats one "
            "value, and then two shares together reveal the secret.",
        )


# ---------------------------------------------------------------------------------------------
# 8.2  fixed-point decoding
# ---------------------------------------------------------------------------------------------
@question(
    "8.2",
    points=2,
    reference=(
        "course_utils.crypto.sharing.decode_fixed",
        "course_utils.crypto.field.decode_fixed",
    ),
)
def _check_decode(decode_fixed_point: Any) -> None:
    """Turn a field element back into a real: upper half of the field is negative, divide by
    2**frac_bits."""
    cases = [
        (1.5, 16, P61),
        (-1.5, 16, P61),
        (-0.0009765625, 16, P61),
        (12345.25, 8, P61),
        (-3.0, 2, 97),
        (11.75, 2, 97),
        (-12.0, 2, 97),
        (-(2.0**40), 4, P61),
    ]
    for x, f, m in cases:
        v = round(x * 2**f) % m
        got = expect_number(
            decode_fixed_point(v, frac_bits=f, modulus=m),
            f"returns one number for v={v}",
            "Return a float.",
        )
        if x < 0 and abs(got - (v / 2**f)) < 1e-9:
            expect(
                False,
                f"v={v} (modulus {m}, frac_bits {f}) decodes to the negative {x}",
                expected=x,
                got=got,
                hint="Values above modulus // 2 stand for negatives: subtract modulus before scaling.",
            )
        signed = v - m if v > m // 2 else v
        for wrong, hint in (
            (signed / (2 * f), "The scale is 2**frac_bits (a power), not 2 * frac_bits."),
            (
                signed / 10**f,
                "Fixed point here is binary: divide by 2**frac_bits, not 10**frac_bits.",
            ),
            (signed // 2**f, "Use true division /: floor division // throws away the fraction."),
            (float(signed * 2**f), "Decoding divides by 2**frac_bits; encoding multiplies."),
        ):
            if abs(got - wrong) < 1e-9 and abs(wrong - x) > 1e-9:
                expect(False, f"v={v} decodes to {x}", expected=x, got=got, hint=hint)
        expect(
            abs(got - x) < 1e-9,
            f"v={v} (modulus {m}, frac_bits {f}) decodes to {x}",
            expected=x,
            got=got,
            hint="Read v > modulus // 2 as v - modulus, then divide by 2**frac_bits.",
        )
    # the boundary: modulus // 2 is the largest non-negative value
    m = 97
    got = expect_number(decode_fixed_point(48, frac_bits=0, modulus=m), "returns a number", "")
    expect(
        got == 48.0,
        "v = modulus // 2 is still positive (48 for modulus 97)",
        expected=48.0,
        got=got,
        hint="Only values strictly above modulus // 2 are negative.",
    )


# ---------------------------------------------------------------------------------------------
# 8.3  Shamir reconstruction
# ---------------------------------------------------------------------------------------------
@question("8.3", points=2, reference="course_utils.crypto.sharing.shamir_reconstruct")
def _check_lagrange(lagrange_reconstruct: Any) -> None:
    """Recover the secret f(0) from t points (x, y) of a Shamir sharing by Lagrange interpolation
    mod prime."""
    gen = np.random.default_rng(8)
    for prime, secret, n, t in (
        (11, 3, 3, 2),
        (P61, 42, 5, 3),
        (P61, P61 - 2, 6, 4),
        (P127, 2**100 + 7, 7, 5),
        (P61, 9, 1, 1),
    ):
        pts = _shamir(secret, n, t, prime, gen)
        pick = [pts[i] for i in sorted(gen.choice(n, size=t, replace=False), reverse=True)]
        raw = lagrange_reconstruct([tuple(p) for p in pick], prime=prime)
        expect(
            isinstance(raw, (int, np.integer)) and not isinstance(raw, (bool, np.bool_)),
            f"returns an exact integer (prime {prime})",
            expected=secret,
            got=raw,
            hint="Stay in integers: a float cannot hold a 61-bit number exactly. Divide with the "
            "modular inverse pow(den, -1, prime).",
        )
        got = int(raw)
        if not 0 <= got < prime and got % prime == secret:
            expect(
                False, "the result is in [0, prime)", got=got, hint="Reduce the final sum % prime."
            )
        if t % 2 == 0 and got == lagrange_at(pick, 0, prime, sign_error=True) != secret:
            expect(
                False,
                f"f(0) from {t} points (prime {prime})",
                expected=secret,
                got=got,
                hint="Sign error: the factor is (0 - x_m) / (x_j - x_m) = x_m / (x_m - x_j).",
            )
        expect(
            got == secret,
            f"f(0) from {t} of {n} points, in the order given (prime {prime})",
            expected=secret,
            got=got,
            hint="Use the x coordinates you are given (not 1..t), and divide with the modular inverse "
            "pow(den, -1, prime), never with / or //.",
        )


# ---------------------------------------------------------------------------------------------
# 8.4  Beaver multiplication
# ---------------------------------------------------------------------------------------------
def _beaver_case(x: int, y: int, n: int, p: int, seed: int) -> tuple[list[int], ...]:
    g = np.random.default_rng(seed)
    a = int.from_bytes(g.bytes(16), "big") % p
    b = int.from_bytes(g.bytes(16), "big") % p
    return (
        _additive(x, n, p, g),
        _additive(y, n, p, g),
        _additive(a, n, p, g),
        _additive(b, n, p, g),
        _additive(a * b % p, n, p, g),
    )


@question("8.4", points=2, reference="course_utils.crypto.sharing.beaver_multiply")
def _check_beaver(beaver_mul: Any) -> None:
    """From shares of x, y and a triple (a, b, c=ab), return shares of x*y: open d=x-a, e=y-b; z_i =
    c_i + d b_i + e a_i, one party adds d e."""
    for seed, (x, y, n, p) in enumerate(
        (
            (6, 7, 3, 101),
            (P61 - 1, P61 - 1, 2, P61),
            (2**40 + 3, 2**35 + 11, 4, P61),
            (0, 9, 3, P61),
        )
    ):
        xs, ys, a_s, b_s, c_s = _beaver_case(x, y, n, p, seed)
        out = beaver_mul(list(xs), list(ys), (list(a_s), list(b_s), list(c_s)), modulus=p)
        z = _ints(
            out, n, f"returns {n} shares (one per party)", "Return one share per party, in order."
        )
        d, e = (x - sum(a_s)) % p, (y - sum(b_s)) % p
        want = x * y % p
        total = sum(z) % p
        if total == (want + (n - 1) * d * e) % p != want:
            expect(
                False,
                f"shares of x*y ({n} parties)",
                hint="Only ONE party adds d*e; every party adding it counts it n times.",
            )
        if total == (want - d * e) % p != want:
            expect(
                False,
                f"shares of x*y ({n} parties)",
                hint="The d*e term is missing: one party adds it.",
            )
        swapped = sum(c + d * a + e * b for a, b, c in zip(a_s, b_s, c_s, strict=True)) + d * e
        if total == swapped % p != want:
            expect(
                False,
                f"shares of x*y ({n} parties)",
                hint="d multiplies the shares of b and e the "
                "shares of a: z_i = c_i + d*b_i + e*a_i.",
            )
        if any(v < 0 or v >= p for v in z) and total == want:
            expect(
                False, "every share is in [0, modulus)", got=z, hint="Reduce every share % modulus."
            )
        expect(
            total == want,
            f"the shares add up to x*y mod {p} ({n} parties)",
            expected=want,
            got=total,
            hint="z_i = c_i + d*b_i + e*a_i (mod modulus), and one party also adds d*e.",
        )
        expect(
            all(0 <= v < p for v in z),
            "every share is in [0, modulus)",
            got=z,
            hint="Reduce every share % modulus.",
        )
        # party by party: x*y opened and re-shared also sums right, but leaks x and y
        base = [(c + d * b + e * a) % p for a, b, c in zip(a_s, b_s, c_s, strict=True)]
        extra = sorted((v - w) % p for v, w in zip(z, base, strict=True))
        expect(
            extra == sorted([d * e % p] + [0] * (n - 1)),
            f"party i's share is c_i + d*b_i + e*a_i, one party adding d*e ({n} parties)",
            expected="c_i + d*b_i + e*a_i for each party i, plus d*e for one of them",
            got=z,
            hint="Build each party's share from its own c_i, a_i, b_i and the public d, e: never "
            "open x or y (nor x*y) and re-share the product.",
        )
    # the output must depend on the triple: a party that computed x*y in the clear returns
    # shares like [xy, 0, 0] whatever triple it was handed
    xs, ys, *_ = _beaver_case(5, 8, 3, P61, 10)
    seen = set()
    for seed in (11, 12):
        _, _, a_s, b_s, c_s = _beaver_case(5, 8, 3, P61, seed)
        z = _ints(beaver_mul(list(xs), list(ys), (a_s, b_s, c_s), modulus=P61), 3, "shares", "")
        seen.add(tuple(z))
    expect(
        len(seen) == 2,
        "the output shares come from the triple (they differ for two different triples)",
        got=sorted(seen),
        hint="Never open x or y: open only d = x - a and e = y - b, and build each party's share "
        "from its own c_i, a_i, b_i.",
    )


# ---------------------------------------------------------------------------------------------
# 8.5  unmasking a secure-aggregation round
# ---------------------------------------------------------------------------------------------
def _round(n: int, d: int, dropped: set[int], p: int, seed: int) -> tuple[Any, ...]:
    g = np.random.default_rng(seed)
    draw: Callable[[], list[int]] = lambda: [int(v) for v in g.integers(0, p, size=d)]  # noqa: E731
    x = {i: [int(v) for v in g.integers(0, 1000, size=d)] for i in range(n)}
    selfm = {i: draw() for i in range(n)}
    pair = {}
    for i in range(n):
        for j in range(i + 1, n):
            pair[(i, j)] = draw()
            pair[(j, i)] = [(-v) % p for v in pair[(i, j)]]
    alive = [i for i in range(n) if i not in dropped]
    masked = {}
    for i in alive:
        y = [(x[i][k] + selfm[i][k]) % p for k in range(d)]
        for j in range(n):
            if j != i:
                y = [(y[k] + pair[(i, j)][k]) % p for k in range(d)]
        masked[i] = y
    dropped_pairs = {(i, k): pair[(i, k)] for i in alive for k in sorted(dropped)}
    want = [sum(x[i][k] for i in alive) % p for k in range(d)]
    return masked, {i: selfm[i] for i in alive}, dropped_pairs, want


def _variants(
    masked: dict, selfm: dict, dpairs: dict, d: int, p: int
) -> Callable[[int, int], list[int]]:
    """Sum of masked inputs minus ``sign_self`` x self masks minus ``sign_pair`` x pair masks."""

    def variant(sign_self: int, sign_pair: int) -> list[int]:
        tot = [sum(masked[i][k] for i in masked) for k in range(d)]
        for v in selfm.values():
            tot = [t - sign_self * v[k] for k, t in enumerate(tot)]
        for v in dpairs.values():
            tot = [t - sign_pair * v[k] for k, t in enumerate(tot)]
        return [t % p for t in tot]

    return variant


@question("8.5", points=2, reference="course_utils.crypto.secagg.secure_aggregate")
def _check_unmask(unmask_sum: Any) -> None:
    """Sum the survivors' masked inputs, subtract their self masks and the pair masks they added for
    dropped clients, mod modulus."""
    for seed, (n, d, dropped, p) in enumerate(
        ((4, 3, {2}, 101), (6, 5, {0, 4}, P61), (5, 4, set(), P61), (7, 2, {1, 3, 6}, P61))
    ):
        masked, selfm, dpairs, want = _round(n, d, dropped, p, seed)
        out = unmask_sum(
            {i: list(v) for i, v in masked.items()},
            {i: list(v) for i, v in selfm.items()},
            [list(v) for v in dpairs.values()],
            modulus=p,
        )
        try:
            as_float = np.asarray(out, dtype=float).reshape(-1)
        except Exception:
            as_float = None
        if (
            as_float is not None
            and as_float.size == d
            and len(masked) > 1
            and np.allclose(as_float * len(masked), want)
            and not np.allclose(as_float, want)
        ):
            expect(False, "the survivors' sum", hint="The server needs the sum, not the mean.")
        got = _ints(out, d, f"returns the {d}-entry sum", "Return one integer per coordinate.")

        variant = _variants(masked, selfm, dpairs, d, p)

        if dropped and got == variant(1, -1) != want:
            expect(
                False,
                "the survivors' sum",
                hint="Subtract the pair masks the survivors added for "
                "dropped clients (they added them, so they must come off), do not add them.",
            )
        if dropped and got == variant(1, 0) != want:
            expect(
                False,
                "the survivors' sum",
                hint="Pair masks shared with a dropped client do not cancel: subtract them too.",
            )
        if got == variant(0, 1) != want:
            expect(False, "the survivors' sum", hint="Subtract every survivor's self mask as well.")
        if [g % p for g in got] == want and got != want:
            expect(
                False, "each entry is in [0, modulus)", got=got, hint="Reduce the result % modulus."
            )
        expect(
            got == want,
            f"the sum of the {len(masked)} survivors' inputs ({len(dropped)} dropped, modulus {p})",
            expected=want,
            got=got,
            hint="sum(masked) - sum(self masks) - sum(pair masks for dropped clients), all % modulus.",
        )
