"""Challenge of exercise set 08: Shamir reconstruction that survives cheating shareholders (8.6).

Some of the ``n`` shareholders hand in wrong shares. With a threshold ``t`` (a polynomial of
degree ``t - 1``) and at most ``e`` cheaters, ``n >= t + 2e`` shares are enough to find the true
polynomial anyway: it is the only one of degree ``t - 1`` that agrees with at least ``n - e`` of
the shares (a Reed-Solomon code corrects ``e`` errors). The learner returns the secret and the
parties whose shares are wrong.

The check works over the course's 61-bit prime and over 2**127 - 1 (so floats and numpy's int64
fail), with parties numbered in no particular order, with no cheater, with random wrong shares,
and with **colluding** cheaters whose shares lie on a second polynomial that also passes through
``t - 1`` honest shares - a wrong polynomial that agrees with ``t - 1 + e`` shares, more than
``t``. The wrong shares sit at both ends of the list, so that neither the first nor the last
``t`` shares are all honest. The usual shortcuts are named: the first ``t`` shares as they come,
accepting a polynomial that agrees with just one more share than it was built from, float or int64
arithmetic, integer division instead of a modular inverse, and cheaters reported by position
instead of party number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect, question
from ._ex08_support import P61, P127, lagrange_at, poly_at

__all__: list[str] = []


def _case(seed: int, *, t: int, e: int, n: int, cheat: int, p: int, collude: bool):
    """(shares, secret, cheaters' x, the colluders' fake secret or None).

    The wrong shares sit at both ends of the list (the first one first, the second one last, ...),
    so that neither the first nor the last ``t`` shares are all honest once there are two.
    """
    rng = np.random.default_rng(seed)
    xs = [int(x) for x in rng.choice(np.arange(1, 60), size=n, replace=False)]
    coeffs = [int(c) for c in rng.integers(0, 2**62, size=t)]
    coeffs = [(c * 2**65 + 12345) % p for c in coeffs]
    secret = coeffs[0]
    shares = [(x, poly_at(coeffs, x, p)) for x in xs]
    fake_secret = None
    if collude:  # a fake polynomial through t - 1 honest shares (right after the cheaters)
        honest = shares[cheat : cheat + t - 1]
        fake_secret = (secret + 1 + int(rng.integers(1, 2**40))) % p
        anchor = [(0, fake_secret), *honest]
        for k in range(cheat):
            x = shares[k][0]
            shares[k] = (x, lagrange_at(anchor, x, p))
    else:
        for k in range(cheat):
            x, y = shares[k]
            shares[k] = (x, (y + 1 + int(rng.integers(1, 2**50))) % p)
    cheaters = shares[:cheat]
    sent = cheaters[0::2] + shares[cheat:] + cheaters[1::2]
    return sent, secret, sorted(x for x, _ in cheaters), fake_secret


_CASES = [
    ("no cheater (t=3, at most 2 cheaters, 7 shares, 61-bit prime)", 1, 3, 2, 7, 0, P61, False),
    ("one random wrong share among the first three (61-bit prime)", 2, 3, 2, 7, 1, P61, False),
    (
        "two colluding cheaters whose shares fit a second polynomial through two honest shares "
        "(t=3, 7 shares, 61-bit prime)",
        3,
        3,
        2,
        7,
        2,
        P61,
        True,
    ),
    (
        "three random wrong shares (t=4, at most 3 cheaters, 11 shares, prime 2**127 - 1)",
        4,
        4,
        3,
        11,
        3,
        P127,
        False,
    ),
    ("three colluding cheaters (t=4, 11 shares, prime 2**127 - 1)", 5, 4, 3, 11, 3, P127, True),
]


def _read(out: Any, what: str) -> tuple[Any, list]:
    hint = "Return a pair (secret, cheaters): the secret as an int, the cheaters' party numbers x as a list."
    expect(
        isinstance(out, (tuple, list)) and len(out) == 2,
        what,
        expected="(secret, cheaters)",
        got=type(out).__name__,
        hint=hint,
    )
    secret, cheaters = out
    try:
        cheaters = sorted(int(c) for c in np.asarray(cheaters, dtype=object).reshape(-1))
    except Exception:
        expect(False, what, expected="a list of party numbers", got=cheaters, hint=hint)
    return secret, cheaters


@question("8.6", points=4)
def _check_robust_reconstruct(robust_reconstruct: Any) -> None:
    """Return (secret, cheaters) from Shamir shares of which at most max_cheaters are wrong (n >=
    threshold + 2 * max_cheaters)."""
    for label, seed, t, e, n, cheat, p, collude in _CASES:
        shares, secret, cheaters, fake = _case(
            seed, t=t, e=e, n=n, cheat=cheat, p=p, collude=collude
        )
        sent = [tuple(s) for s in shares]
        got_secret, got_cheaters = _read(
            robust_reconstruct(sent, threshold=t, max_cheaters=e, modulus=p),
            f"robust_reconstruct returns (secret, cheaters) ({label})",
        )
        expect(
            isinstance(got_secret, (int, np.integer)) and not isinstance(got_secret, bool),
            f"the secret is a Python int ({label})",
            expected="an int",
            got=repr(got_secret)[:80],
            hint="Work with Python integers and % throughout: floats and numpy's int64 "
            "cannot hold 61- or 127-bit numbers (they round or overflow silently).",
        )
        got_secret = int(got_secret)
        if got_secret != secret:
            first = lagrange_at(shares[:t], 0, p)
            hint = (
                "Find the polynomial of degree threshold - 1 that agrees with at least "
                "n - max_cheaters shares (try the polynomials through every set of threshold "
                "shares, or use Berlekamp-Welch), and evaluate it at 0."
            )
            if not cheat:
                hint = (
                    "With no cheater, any `threshold` shares give the secret, so the "
                    "interpolation itself is off: work with Python ints modulo the prime and "
                    "divide with a modular inverse, pow(den, -1, modulus) - never / or //."
                )
            elif collude and got_secret == fake:
                hint = (
                    "The colluding cheaters' shares lie on a second polynomial that also passes "
                    "through threshold - 1 honest shares: it agrees with threshold - 1 + "
                    "max_cheaters shares, more than threshold. Only the true polynomial agrees "
                    "with n - max_cheaters or more: require that many agreements."
                )
            elif got_secret == first:
                hint = (
                    "A cheater's share is among the first `threshold` shares you used. Check "
                    "each candidate polynomial against the OTHER shares, and keep one that "
                    "agrees with at least n - max_cheaters of them. " + hint
                )
            elif got_secret != got_secret % p or abs(got_secret - secret) < 2**12:
                hint = (
                    "Your secret is close but not equal: floats lose the low bits of 61-bit "
                    "numbers. Use Python ints, and divide with a modular inverse, "
                    "pow(den, -1, modulus), never / or //."
                )
            expect(False, f"the secret ({label})", expected=secret, got=got_secret, hint=hint)
        if got_cheaters != cheaters:
            positions = [k for k, (x, _) in enumerate(shares) if x in cheaters]
            hint = (
                "Report every party whose share does not lie on the polynomial you found "
                "(and no other): their party numbers x, sorted."
            )
            if cheat and got_cheaters == positions and positions != cheaters:
                hint = (
                    "Report the cheaters' party numbers (the x of each share), not their "
                    "positions in the list."
                )
            expect(False, f"the cheaters ({label})", expected=cheaters, got=got_cheaters, hint=hint)
