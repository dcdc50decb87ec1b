"""Wrong and unusual-but-correct answers of exercise set 08 (cryptographic privacy)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import math

import numpy as np
"""

#: A correct answer to 8.1; each wrong answer written as ``edited(ADDITIVE_SHARE, ...)`` is it with
#: one mistake.
ADDITIVE_SHARE = """
def additive_share(secret, n, *, modulus, rng):
    r = [int(rng.integers(0, modulus)) for _ in range(n - 1)]
    return [*r, (secret - sum(r)) % modulus]
"""

#: A correct answer to 8.3; each wrong answer written as ``edited(LAGRANGE_RECONSTRUCT, ...)`` is
#: it with one mistake.
LAGRANGE_RECONSTRUCT = """
def lagrange_reconstruct(points, *, prime):
    total = 0
    for j, (xj, yj) in enumerate(points):
        num, den = 1, 1
        for m, (xm, _) in enumerate(points):
            if m != j:
                num, den = num * xm % prime, den * (xm - xj) % prime
        total += yj * num * pow(den, -1, prime)
    return total % prime
"""

#: A correct answer to 8.5; each wrong answer written as ``edited(UNMASK_SUM, ...)`` is it with one
#: mistake.
UNMASK_SUM = """
def unmask_sum(masked, self_masks, dropped_pair_masks, *, modulus):
    dim = len(next(iter(masked.values())))
    total = [sum(y[k] for y in masked.values()) for k in range(dim)]
    total = [t - sum(s[k] for s in self_masks.values()) for k, t in enumerate(total)]
    total = [t - sum(p[k] for p in dropped_pair_masks) for k, t in enumerate(total)]
    return [t % modulus for t in total]
"""

#: A correct answer to 8.2; each wrong answer written as ``edited(DECODE_FIXED_POINT, ...)`` is it
#: with one mistake.
DECODE_FIXED_POINT = """
def decode_fixed_point(v, *, frac_bits, modulus):
    return (v - modulus if v > modulus // 2 else v) / 2**frac_bits
"""

#: A correct answer to 8.4; each wrong answer written as ``edited(BEAVER_MUL, ...)`` is it with one
#: mistake.
BEAVER_MUL = """
def beaver_mul(x_shares, y_shares, triple, *, modulus):
    a_s, b_s, c_s = triple
    d = (sum(x_shares) - sum(a_s)) % modulus
    e = (sum(y_shares) - sum(b_s)) % modulus
    z = [(c + d * b + e * a) % modulus for a, b, c in zip(a_s, b_s, c_s)]
    z[0] = (z[0] + d * e) % modulus
    return z
"""

WRONG = {
    "8.1": [
        Wrong(
            "the last share not reduced: secret - sum(others) is negative",
            "reduce it with % modulus",
            edited(ADDITIVE_SHARE, "(secret - sum(r)) % modulus]", "secret - sum(r)]"),
        ),
        Wrong(
            "only the n - 1 random shares (the completing share forgotten)",
            "append the last share",
            edited(ADDITIVE_SHARE, "return [*r, (secret - sum(r)) % modulus]", "return r"),
        ),
        Wrong(
            "random shares from a third of the field",
            "from the whole field",
            edited(
                ADDITIVE_SHARE,
                "[int(rng.integers(0, modulus)) for",
                "[int(rng.integers(0, max(modulus // 3, 1))) for",
            ),
        ),
        Wrong(
            "one random value repeated for the n - 1 shares (two shares reveal the secret)",
            "draw each of the n - 1 random shares separately",
            edited(
                ADDITIVE_SHARE,
                "[int(rng.integers(0, modulus)) for _ in range(n - 1)]",
                "[int(rng.integers(0, modulus))] * (n - 1)",
            ),
        ),
        Wrong(
            "a fixed seed instead of the rng argument",
            "from the rng argument",
            edited(
                ADDITIVE_SHARE,
                "    r = [int(rng.integers(",
                "    g = np.random.default_rng(0)\n    r = [int(g.integers(",
            ),
        ),
        Wrong(
            "shares of zero: the secret left out of the last share",
            "the shares sum to 0",
            edited(ADDITIVE_SHARE, "(secret - sum(r))", "(-sum(r))"),
        ),
        Wrong(
            "the secret split evenly, no randomness",
            "shares change when rng changes",
            """
            def additive_share(secret, n, *, modulus, rng):
                return [secret // n] * (n - 1) + [secret - (n - 1) * (secret // n)]
            """,
        ),
        Wrong(
            "every share drawn at random, the last one too",
            "make the last share secret - (sum of the others)",
            edited(
                ADDITIVE_SHARE,
                "range(n - 1)",
                "range(n)",
                ("return [*r, (secret - sum(r)) % modulus]", "return r"),
            ),
        ),
        Wrong(
            "returns the shares as floats",
            "a float cannot hold",
            edited(
                ADDITIVE_SHARE,
                "[*r, (secret - sum(r)) % modulus]",
                "[float(v) for v in [*r, (secret - sum(r)) % modulus]]",
            ),
        ),
    ],
    "8.2": [
        Wrong(
            "no sign: the upper half of the field read as positive",
            "subtract modulus before scaling",
            edited(DECODE_FIXED_POINT, "(v - modulus if v > modulus // 2 else v)", "v"),
        ),
        Wrong(
            "the scale 2 * frac_bits instead of 2**frac_bits",
            "not 2 * frac_bits",
            edited(DECODE_FIXED_POINT, "/ 2**frac_bits", "/ (2 * frac_bits)"),
        ),
        Wrong(
            "floor division",
            "floor division // throws away the fraction",
            edited(DECODE_FIXED_POINT, "/ 2**frac_bits", "// 2**frac_bits"),
        ),
        Wrong(
            "decimal fixed point: 10**frac_bits",
            "not 10**frac_bits",
            edited(DECODE_FIXED_POINT, "/ 2**frac_bits", "/ 10**frac_bits"),
        ),
        Wrong(
            "modulus // 2 itself read as negative (>= instead of >)",
            "strictly above modulus // 2",
            edited(DECODE_FIXED_POINT, "v > modulus // 2", "v >= modulus // 2"),
        ),
        Wrong(
            "multiplies by the scale (encodes again)",
            "encoding multiplies",
            edited(
                DECODE_FIXED_POINT,
                "return (v",
                "return float((v",
                ("/ 2**frac_bits", "* 2**frac_bits)"),
            ),
        ),
        Wrong(
            "returns the result as a string",
            "one number",
            edited(
                DECODE_FIXED_POINT, "return (v", "return str((v", ("2**frac_bits", "2**frac_bits)")
            ),
        ),
    ],
    "8.3": [
        Wrong(
            "float arithmetic (true division in the Lagrange factors)",
            "stay in integers",
            """
            def lagrange_reconstruct(points, *, prime):
                total = 0.0
                for j, (xj, yj) in enumerate(points):
                    term = float(yj)
                    for m, (xm, _) in enumerate(points):
                        if m != j:
                            term *= xm / (xm - xj)
                    total += term
                return total % prime
            """,
        ),
        Wrong(
            "integer floor division instead of the modular inverse",
            "modular inverse",
            edited(
                LAGRANGE_RECONSTRUCT,
                "xm % prime, den * (xm - xj) % prime",
                "xm, den * (xm - xj)",
                ("* pow(den, -1, prime)", "// den"),
            ),
        ),
        Wrong(
            "sign error: x_j - x_m in the denominator",
            "sign error",
            edited(LAGRANGE_RECONSTRUCT, "* (xm - xj) %", "* (xj - xm) %"),
        ),
        Wrong(
            "the final sum not reduced % prime",
            "reduce the final sum % prime",
            edited(LAGRANGE_RECONSTRUCT, "total % prime", "total"),
        ),
        Wrong(
            "assumes the points are x = 1..t",
            "x coordinates you are given",
            """
            def lagrange_reconstruct(points, *, prime):
                xs = list(range(1, len(points) + 1))
                total = 0
                for j, (_, yj) in enumerate(points):
                    num, den = 1, 1
                    for m, xm in enumerate(xs):
                        if m != j:
                            num, den = num * xm % prime, den * (xm - xs[j]) % prime
                    total += yj * num * pow(den, -1, prime)
                return total % prime
            """,
        ),
        Wrong(
            "returns the whole polynomial's value at x = 1",
            "f(0) from",
            edited(
                LAGRANGE_RECONSTRUCT,
                "xm % prime, den * (xm - xj)",
                "(1 - xm) % prime, den * (xj - xm)",
            ),
        ),
    ],
    "8.4": [
        Wrong(
            "x and y opened, x*y re-shared with fresh randomness",
            "never open x or y",
            """
            import random

            def beaver_mul(x_shares, y_shares, triple, *, modulus):
                x, y = sum(x_shares) % modulus, sum(y_shares) % modulus
                r = [random.randrange(modulus) for _ in range(len(x_shares) - 1)]
                return [*r, (x * y - sum(r)) % modulus]
            """,
        ),
        Wrong(
            "every party adds d*e",
            "only one party adds d*e",
            edited(
                BEAVER_MUL,
                "e * a) % modulus for",
                "e * a + d * e) % modulus for",
                ("    z[0] = (z[0] + d * e) % modulus\n", ""),
            ),
        ),
        Wrong(
            "the d*e term forgotten",
            "the d*e term is missing",
            edited(BEAVER_MUL, "    z[0] = (z[0] + d * e) % modulus\n", ""),
        ),
        Wrong(
            "d and e multiply the wrong shares (d*a_i + e*b_i)",
            "d multiplies the shares of b",
            edited(BEAVER_MUL, "* b + e * a) %", "* a + e * b) %"),
        ),
        Wrong(
            "opens x and y and shares the product in the clear",
            "never open x or y",
            """
            def beaver_mul(x_shares, y_shares, triple, *, modulus):
                xy = sum(x_shares) * sum(y_shares) % modulus
                return [xy] + [0] * (len(x_shares) - 1)
            """,
        ),
        Wrong(
            "shares not reduced % modulus",
            "reduce every share % modulus",
            edited(
                BEAVER_MUL,
                "(c + d * b + e * a) % modulus for",
                "c + d * b + e * a for",
                ("z[0] = (z[0] + d * e) % modulus", "z[0] += d * e"),
            ),
        ),
        Wrong(
            "returns the opened product instead of shares",
            "one share per party",
            edited(
                BEAVER_MUL,
                "    z[0] = (z[0] + d * e) % modulus\n    return z",
                "    return (sum(z) + d * e) % modulus",
            ),
        ),
    ],
    "8.5": [
        Wrong(
            "adds the dropped clients' pair masks instead of subtracting them",
            "do not add them",
            edited(UNMASK_SUM, "[t - sum(p[k]", "[t + sum(p[k]"),
        ),
        Wrong(
            "ignores the dropped clients' pair masks",
            "do not cancel",
            edited(
                UNMASK_SUM,
                "    total = [t - sum(p[k] for p in dropped_pair_masks) for k, t in enumerate(total)]\n",
                "",
            ),
        ),
        Wrong(
            "self masks left in",
            "self mask",
            edited(
                UNMASK_SUM,
                "    total = [t - sum(s[k] for s in self_masks.values()) for k, t in enumerate(total)]\n",
                "",
            ),
        ),
        Wrong(
            "the result not reduced % modulus",
            "reduce the result % modulus",
            edited(UNMASK_SUM, "return [t % modulus for t in total]", "return total"),
        ),
        Wrong(
            "the survivors' mean instead of their sum",
            "not the mean",
            edited(UNMASK_SUM, "[t % modulus", "[(t % modulus) / len(masked)"),
        ),
    ],
}

RIGHT = {
    "8.1": [
        Right(
            "an object array, the completing share first",
            """
            def additive_share(secret, n, *, modulus, rng):
                r = rng.integers(0, modulus, size=n - 1, dtype=np.int64)
                first = (secret - sum(int(v) for v in r)) % modulus
                return np.array([first, *r], dtype=object)
            """,
        ),
        Right(
            "uniform from 16 random bytes, any modulus size",
            """
            def additive_share(secret, n, *, modulus, rng):
                r = [int.from_bytes(rng.bytes(16), "big") % modulus for _ in range(n - 1)]
                return [*r, (secret - sum(r)) % modulus]
            """,
        ),
    ],
    "8.2": [
        Right(
            "shift by half the field, reduce, shift back",
            """
            def decode_fixed_point(v, *, frac_bits, modulus):
                return ((v + modulus // 2) % modulus - modulus // 2) / 2**frac_bits
            """,
        ),
        Right(
            "math.ldexp on np.where's signed value",
            """
            def decode_fixed_point(v, *, frac_bits, modulus):
                return math.ldexp(int(np.where(v > modulus // 2, v - modulus, v)), -frac_bits)
            """,
        ),
    ],
    "8.3": [
        Right(
            "Fermat's inverse of one common denominator",
            """
            def lagrange_reconstruct(points, *, prime):
                num_total, den_total = 0, 1
                for j, (xj, yj) in enumerate(points):
                    num, den = yj, 1
                    for m, (xm, _) in enumerate(points):
                        if m != j:
                            num, den = num * xm % prime, den * (xm - xj) % prime
                    num_total = (num_total * den + num * den_total) % prime
                    den_total = den_total * den % prime
                return num_total * pow(den_total, prime - 2, prime) % prime
            """,
        ),
        Right(
            "Gauss-Jordan on the Vandermonde system mod prime",
            """
            def lagrange_reconstruct(points, *, prime):
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
                            A[r] = [(v - f * w) % prime for v, w in zip(A[r], A[c])]
                return A[0][t]
            """,
        ),
    ],
    "8.4": [
        Right(
            "the last party adds d*e",
            """
            def beaver_mul(x_shares, y_shares, triple, *, modulus):
                a_s, b_s, c_s = triple
                d = (sum(x_shares) - sum(a_s)) % modulus
                e = (sum(y_shares) - sum(b_s)) % modulus
                z = [(c + d * b + e * a) % modulus for a, b, c in zip(a_s, b_s, c_s)]
                z[-1] = (z[-1] + d * e) % modulus
                return z
            """,
        ),
        Right(
            "numpy object arrays",
            """
            def beaver_mul(x_shares, y_shares, triple, *, modulus):
                a, b, c = (np.array(t, dtype=object) for t in triple)
                d = int(np.sum(np.array(x_shares, dtype=object) - a)) % modulus
                e = int(np.sum(np.array(y_shares, dtype=object) - b)) % modulus
                z = (c + d * b + e * a) % modulus
                z[0] = (z[0] + d * e) % modulus
                return [int(v) for v in z]
            """,
        ),
    ],
    "8.5": [
        Right(
            "numpy object arrays",
            """
            def unmask_sum(masked, self_masks, dropped_pair_masks, *, modulus):
                tot = sum(np.array(v, dtype=object) for v in masked.values())
                tot = tot - sum(np.array(v, dtype=object) for v in self_masks.values())
                if dropped_pair_masks:
                    tot = tot - sum(np.array(v, dtype=object) for v in dropped_pair_masks)
                return [int(t) % modulus for t in tot]
            """,
        ),
        Right(
            "adds (-mask) % modulus, reducing at every step",
            """
            def unmask_sum(masked, self_masks, dropped_pair_masks, *, modulus):
                out = [0] * len(next(iter(masked.values())))
                groups = ((masked.values(), 1), (self_masks.values(), -1), (dropped_pair_masks, -1))
                for group, sign in groups:
                    for v in group:
                        out = [(o + (sign * w) % modulus) % modulus for o, w in zip(out, v)]
                return out
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(8, PRELUDE, WRONG, RIGHT),
    "8.6",
    importlib.import_module("tests.test_challenge_08"),  # the challenge's answers live there
)
