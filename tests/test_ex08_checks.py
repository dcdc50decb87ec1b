"""Exercise set 08: every check passes the reference answer and two unusual-but-correct answers,
and rejects at least four plausible wrong answers with the hint that names *their* mistake."""

from __future__ import annotations

import numpy as np

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with, passes, solution_namespace

SOL = solution_namespace("08_crypto", np=np)
P61 = 2**61 - 1


def test_set08_is_registered_with_points_and_references() -> None:
    qs = [REGISTRY[f"8.{k}"] for k in range(1, 6)]
    assert [q.points for q in qs] == [2, 2, 2, 2, 2]
    assert [q.answer for q in qs] == [
        "additive_share",
        "decode_fixed_point",
        "lagrange_reconstruct",
        "beaver_mul",
        "unmask_sum",
    ]
    assert all(q.reference for q in qs)


def test_not_implemented_is_reported_not_failed() -> None:
    def todo(*args, **kwargs):
        raise NotImplementedError("Exercise 8.3: ...")

    r = run_check("8.3", todo)
    assert r.status == "not implemented" and r.points == 0


# ------------------------------------------------------------------------------------ 8.1
def test_8_1_additive_share() -> None:
    passes("8.1", SOL["additive_share"])

    def numpy_version(secret, n, *, modulus, rng):  # an int64 array, last share first
        r = rng.integers(0, modulus, size=n - 1, dtype=np.int64)
        first = (secret - sum(int(v) for v in r)) % modulus
        return np.array([first, *r], dtype=object)

    def bytes_version(secret, n, *, modulus, rng):  # uniform from random bytes, any modulus size
        r = [int.from_bytes(rng.bytes(16), "big") % modulus for _ in range(n - 1)]
        return [*r, (secret - sum(r)) % modulus]

    passes("8.1", numpy_version)
    passes("8.1", bytes_version)

    def no_mod(secret, n, *, modulus, rng):
        r = [int(rng.integers(0, modulus)) for _ in range(n - 1)]
        return [*r, secret - sum(r)]

    fails_with("8.1", no_mod, "% modulus", "negative")

    def n_minus_1(secret, n, *, modulus, rng):
        return [int(rng.integers(0, modulus)) for _ in range(n - 1)]

    fails_with("8.1", n_minus_1, "append the last share")

    def narrow(secret, n, *, modulus, rng):  # random shares from a small range
        r = [int(rng.integers(0, max(modulus // 3, 1))) for _ in range(n - 1)]
        return [*r, (secret - sum(r)) % modulus]

    fails_with("8.1", narrow, "whole field")

    def fixed_seed(secret, n, *, modulus, rng):
        g = np.random.default_rng(0)
        r = [int(g.integers(0, modulus)) for _ in range(n - 1)]
        return [*r, (secret - sum(r)) % modulus]

    fails_with("8.1", fixed_seed, "rng argument")

    def sums_to_zero(secret, n, *, modulus, rng):
        r = [int(rng.integers(0, modulus)) for _ in range(n - 1)]
        return [*r, (-sum(r)) % modulus]

    fails_with("8.1", sums_to_zero, "sum to 0")

    def split_evenly(secret, n, *, modulus, rng):  # deterministic "shares"
        return [secret // n] * (n - 1) + [secret - (n - 1) * (secret // n)]

    fails_with("8.1", split_evenly, "rng")


# ------------------------------------------------------------------------------------ 8.2
def test_8_2_decode_fixed_point() -> None:
    passes("8.2", SOL["decode_fixed_point"])
    passes(
        "8.2",
        lambda v, *, frac_bits, modulus: (
            ((v + modulus // 2) % modulus - modulus // 2) / 2**frac_bits
        ),
    )

    def ldexp_version(v, *, frac_bits, modulus):
        import math

        return math.ldexp(int(np.where(v > modulus // 2, v - modulus, v)), -frac_bits)

    passes("8.2", ldexp_version)
    fails_with("8.2", lambda v, *, frac_bits, modulus: v / 2**frac_bits, "subtract modulus")
    fails_with(
        "8.2",
        lambda v, *, frac_bits, modulus: (v - modulus if v > modulus // 2 else v) / (2 * frac_bits),
        "2**frac_bits",
        "not 2 * frac_bits",
    )
    fails_with(
        "8.2",
        lambda v, *, frac_bits, modulus: (v - modulus if v > modulus // 2 else v) // 2**frac_bits,
        "floor division",
    )
    fails_with(
        "8.2",
        lambda v, *, frac_bits, modulus: (v - modulus if v > modulus // 2 else v) / 10**frac_bits,
        "10**frac_bits",
    )
    fails_with(
        "8.2",
        lambda v, *, frac_bits, modulus: (v - modulus if v >= modulus // 2 else v) / 2**frac_bits,
        "strictly above",
    )


# ------------------------------------------------------------------------------------ 8.3
def test_8_3_lagrange() -> None:
    passes("8.3", SOL["lagrange_reconstruct"])

    def fermat(points, *, prime):  # inverse by Fermat's little theorem, one fraction at the end
        num_total, den_total = 0, 1
        for j, (xj, yj) in enumerate(points):
            num, den = yj, 1
            for m, (xm, _) in enumerate(points):
                if m != j:
                    num, den = num * xm % prime, den * (xm - xj) % prime
            num_total = (num_total * den + num * den_total) % prime
            den_total = den_total * den % prime
        return num_total * pow(den_total, prime - 2, prime) % prime

    def gauss(points, *, prime):  # solve the Vandermonde system mod prime
        t = len(points)
        A = [[pow(x, k, prime) for k in range(t)] + [y % prime] for x, y in points]
        for c in range(t):
            piv = next(r for r in range(c, t) if A[r][c] % prime)
            A[c], A[piv] = A[piv], A[c]
            inv = pow(A[c][c], -1, prime)
            A[c] = [v * inv % prime for v in A[c]]
            for r in range(t):
                if r != c and A[r][c]:
                    f = A[r][c]
                    A[r] = [(v - f * w) % prime for v, w in zip(A[r], A[c], strict=True)]
        return A[0][t]

    passes("8.3", fermat)
    passes("8.3", gauss)

    def floats(points, *, prime):
        total = 0.0
        for j, (xj, yj) in enumerate(points):
            term = float(yj)
            for m, (xm, _) in enumerate(points):
                if m != j:
                    term *= xm / (xm - xj)
            total += term
        return total % prime

    fails_with("8.3", floats, "exact integer", "pow(den, -1, prime)")

    def floor_div(points, *, prime):
        total = 0
        for j, (xj, yj) in enumerate(points):
            num, den = 1, 1
            for m, (xm, _) in enumerate(points):
                if m != j:
                    num, den = num * xm, den * (xm - xj)
            total += yj * num // den
        return total % prime

    fails_with("8.3", floor_div, "modular inverse")

    def sign_error(points, *, prime):
        total = 0
        for j, (xj, yj) in enumerate(points):
            num, den = 1, 1
            for m, (xm, _) in enumerate(points):
                if m != j:
                    num, den = num * xm % prime, den * (xj - xm) % prime
            total += yj * num * pow(den, -1, prime)
        return total % prime

    fails_with("8.3", sign_error, "sign error")

    def no_final_mod(points, *, prime):
        total = 0
        for j, (xj, yj) in enumerate(points):
            num, den = 1, 1
            for m, (xm, _) in enumerate(points):
                if m != j:
                    num, den = num * xm % prime, den * (xm - xj) % prime
            total += yj * num * pow(den, -1, prime)
        return total

    fails_with("8.3", no_final_mod, "% prime")

    def assumes_1_to_t(points, *, prime):  # ignores the given x coordinates
        xs = list(range(1, len(points) + 1))
        total = 0
        for j, (_, yj) in enumerate(points):
            num, den = 1, 1
            for m, xm in enumerate(xs):
                if m != j:
                    num, den = num * xm % prime, den * (xm - xs[j]) % prime
            total += yj * num * pow(den, -1, prime)
        return total % prime

    fails_with("8.3", assumes_1_to_t, "x coordinates you are given")


# ------------------------------------------------------------------------------------ 8.4
def test_8_4_beaver() -> None:
    passes("8.4", SOL["beaver_mul"])

    def last_party_adds(x_shares, y_shares, triple, *, modulus):  # any ONE party may add d*e
        a_s, b_s, c_s = triple
        d = (sum(x_shares) - sum(a_s)) % modulus
        e = (sum(y_shares) - sum(b_s)) % modulus
        z = [(c + d * b + e * a) % modulus for a, b, c in zip(a_s, b_s, c_s, strict=True)]
        z[-1] = (z[-1] + d * e) % modulus
        return z

    def object_arrays(x_shares, y_shares, triple, *, modulus):
        a, b, c = (np.array(t, dtype=object) for t in triple)
        d = int(np.sum(np.array(x_shares, dtype=object) - a)) % modulus
        e = int(np.sum(np.array(y_shares, dtype=object) - b)) % modulus
        z = (c + d * b + e * a) % modulus
        z[0] = (z[0] + d * e) % modulus
        return [int(v) for v in z]

    passes("8.4", last_party_adds)
    passes("8.4", object_arrays)

    def every_party_adds(x_shares, y_shares, triple, *, modulus):
        a_s, b_s, c_s = triple
        d = (sum(x_shares) - sum(a_s)) % modulus
        e = (sum(y_shares) - sum(b_s)) % modulus
        return [
            (c + d * b + e * a + d * e) % modulus for a, b, c in zip(a_s, b_s, c_s, strict=True)
        ]

    fails_with("8.4", every_party_adds, "only one party")

    def no_de(x_shares, y_shares, triple, *, modulus):
        a_s, b_s, c_s = triple
        d = (sum(x_shares) - sum(a_s)) % modulus
        e = (sum(y_shares) - sum(b_s)) % modulus
        return [(c + d * b + e * a) % modulus for a, b, c in zip(a_s, b_s, c_s, strict=True)]

    fails_with("8.4", no_de, "d*e term is missing")

    def swapped(x_shares, y_shares, triple, *, modulus):
        a_s, b_s, c_s = triple
        d = (sum(x_shares) - sum(a_s)) % modulus
        e = (sum(y_shares) - sum(b_s)) % modulus
        z = [(c + d * a + e * b) % modulus for a, b, c in zip(a_s, b_s, c_s, strict=True)]
        z[0] = (z[0] + d * e) % modulus
        return z

    fails_with("8.4", swapped, "d multiplies the shares of b")

    def opens_inputs(x_shares, y_shares, triple, *, modulus):
        xy = sum(x_shares) * sum(y_shares) % modulus
        return [xy] + [0] * (len(x_shares) - 1)

    fails_with("8.4", opens_inputs, "never open x or y")

    def no_mod(x_shares, y_shares, triple, *, modulus):
        a_s, b_s, c_s = triple
        d = (sum(x_shares) - sum(a_s)) % modulus
        e = (sum(y_shares) - sum(b_s)) % modulus
        z = [c + d * b + e * a for a, b, c in zip(a_s, b_s, c_s, strict=True)]
        z[0] += d * e
        return z

    fails_with("8.4", no_mod, "% modulus")


# ------------------------------------------------------------------------------------ 8.5
def test_8_5_unmask() -> None:
    passes("8.5", SOL["unmask_sum"])

    def numpy_objects(masked, self_masks, dropped_pair_masks, *, modulus):
        tot = sum(np.array(v, dtype=object) for v in masked.values())
        tot = tot - sum(np.array(v, dtype=object) for v in self_masks.values())
        if dropped_pair_masks:
            tot = tot - sum(np.array(v, dtype=object) for v in dropped_pair_masks)
        return [int(t) % modulus for t in tot]

    def add_negated(masked, self_masks, dropped_pair_masks, *, modulus):  # adds (-mask) % modulus
        dim = len(next(iter(masked.values())))
        out = [0] * dim
        groups = ((masked.values(), 1), (self_masks.values(), -1), (dropped_pair_masks, -1))
        for group, sign in groups:
            for v in group:
                out = [(o + (sign * w) % modulus) % modulus for o, w in zip(out, v, strict=True)]
        return out

    passes("8.5", numpy_objects)
    passes("8.5", add_negated)

    def core(masked, self_masks, pairs, modulus, s_self=1, s_pair=1, mod=True):
        dim = len(next(iter(masked.values())))
        tot = [sum(v[k] for v in masked.values()) for k in range(dim)]
        tot = [t - s_self * sum(v[k] for v in self_masks.values()) for k, t in enumerate(tot)]
        tot = [t - s_pair * sum(v[k] for v in pairs) for k, t in enumerate(tot)]
        return [t % modulus for t in tot] if mod else tot

    fails_with(
        "8.5", lambda m, s, p, *, modulus: core(m, s, p, modulus, s_pair=-1), "do not add them"
    )
    fails_with("8.5", lambda m, s, p, *, modulus: core(m, s, p, modulus, s_pair=0), "do not cancel")
    fails_with("8.5", lambda m, s, p, *, modulus: core(m, s, p, modulus, s_self=0), "self mask")
    fails_with("8.5", lambda m, s, p, *, modulus: core(m, s, p, modulus, mod=False), "% modulus")
    fails_with(
        "8.5",
        lambda m, s, p, *, modulus: [v / len(m) for v in core(m, s, p, modulus)],
        "not the mean",
    )
