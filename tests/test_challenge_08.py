"""Challenge 8.6 (Shamir reconstruction with cheating shareholders): the reference passes, the
blank exercise scores 0, the usual shortcuts fail with the hint naming them, and differently built
decoders pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import itertools
from collections import Counter

import numpy as np


def value_at(points, x0, p):
    total = 0
    for j, (xj, yj) in enumerate(points):
        num, den = 1, 1
        for m, (xm, _) in enumerate(points):
            if m != j:
                num = num * (x0 - xm) % p
                den = den * (xj - xm) % p
        total = (total + yj * num * pow(den, -1, p)) % p
    return total
"""

# a correct decoder (the polynomial through the first threshold-subset that agrees with all but at
# most max_cheaters shares); the wrong answers written as ``edited(ROBUST_RECONSTRUCT, ...)`` are it
# with one mistake
ROBUST_RECONSTRUCT = """
def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
    for subset in itertools.combinations(shares, threshold):
        wrong = [x for x, y in shares if value_at(subset, x, modulus) != y]
        if len(wrong) <= max_cheaters:
            return value_at(subset, 0, modulus), sorted(wrong)
    raise ValueError("more than max_cheaters shares are wrong")
"""

WRONG = [
    Wrong(
        "the first threshold shares as they come",
        "a cheater's share is among the first",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            return value_at(shares[:threshold], 0, modulus), []
        """,
    ),
    Wrong(
        "the last threshold shares as they come, disagreeing shares reported",
        "agrees with at least n - max_cheaters shares",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            base = shares[-threshold:]
            wrong = [x for x, y in shares if value_at(base, x, modulus) != y]
            return value_at(base, 0, modulus), sorted(wrong)
        """,
    ),
    Wrong(
        "accepts a polynomial that agrees with threshold + 1 shares",
        "colluding",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            for subset in itertools.combinations(shares, threshold):
                agree = [x for x, y in shares if value_at(subset, x, modulus) == y]
                if len(agree) >= threshold + 1:
                    return value_at(subset, 0, modulus), sorted(
                        x for x, _ in shares if x not in agree)
            return value_at(shares[:threshold], 0, modulus), []
        """,
    ),
    Wrong(
        "floating-point Lagrange interpolation",
        "python integers",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            def at(points, x0):
                return sum(y * np.prod([(x0 - xm) / (x - xm) for xm, _ in points if xm != x])
                           for x, y in points) % modulus
            for subset in itertools.combinations(shares, threshold):
                wrong = [x for x, y in shares if abs(at(subset, x) - y) > 0.5]
                if len(wrong) <= max_cheaters:
                    return at(subset, 0), sorted(wrong)
            return at(shares[:threshold], 0), []
        """,
    ),
    Wrong(
        "integer division instead of a modular inverse",
        "modular inverse",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            def at(points, x0):
                total = 0
                for j, (xj, yj) in enumerate(points):
                    num, den = 1, 1
                    for m, (xm, _) in enumerate(points):
                        if m != j:
                            num, den = num * (x0 - xm), den * (xj - xm)
                    total += yj * num // den
                return total % modulus
            for subset in itertools.combinations(shares, threshold):
                wrong = [x for x, y in shares if at(subset, x) != y]
                if len(wrong) <= max_cheaters:
                    return at(subset, 0), sorted(wrong)
            return at(shares[:threshold], 0), []
        """,
    ),
    Wrong(
        "cheaters reported by their position in the list",
        "not their positions",
        edited(
            ROBUST_RECONSTRUCT,
            "[x for x, y in shares if",
            "[k for k, (x, y) in enumerate(shares) if",
            ("sorted(wrong)", "wrong"),
        ),
    ),
    Wrong(
        "the right secret, but no cheaters reported",
        "report every party",
        edited(ROBUST_RECONSTRUCT, "sorted(wrong)", "[]"),
    ),
]

RIGHT = [
    Right(
        "a majority vote over the secrets of every threshold-subset",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            votes = Counter()
            witness = {}
            for subset in itertools.combinations(shares, threshold):
                s = value_at(subset, 0, modulus)
                votes[s] += 1
                witness.setdefault(s, subset)
            secret, _ = votes.most_common(1)[0]
            poly = witness[secret]
            return secret, sorted(x for x, y in shares if value_at(poly, x, modulus) != y)
        """,
    ),
    Right(
        "exclude every possible set of cheaters until the rest lie on one polynomial",
        """
        def robust_reconstruct(shares, *, threshold, max_cheaters, modulus):
            for k in range(max_cheaters + 1):
                for out in itertools.combinations(range(len(shares)), k):
                    rest = [s for i, s in enumerate(shares) if i not in out]
                    base = rest[:threshold]
                    if all(value_at(base, x, modulus) == y for x, y in rest[threshold:]):
                        return int(value_at(base, 0, modulus)), sorted(shares[i][0] for i in out)
            raise ValueError("too many cheaters")
        """,
    ),
]

globals().update(challenge_tests("8.6", "08_crypto", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
