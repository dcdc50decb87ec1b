"""Additive and Shamir sharing, fixed point, Beaver multiplication and secure_dot: exactness,
the distribution of shares (statistical tests with fixed seeds and negative controls), costs, and
the argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_utils.crypto import field
from course_utils.crypto.sharing import (
    MODULUS,
    beaver_multiply,
    beaver_triple,
    decode_fixed,
    encode_fixed,
    fixed_point_range,
    is_prime,
    lagrange_coefficients,
    mul_mod,
    random_field,
    reconstruct,
    secure_dot,
    shamir_reconstruct,
    shamir_share,
    share,
)


# ------------------------------------------------------------------------------ additive
@pytest.mark.parametrize("secret", [0, 1, 42, MODULUS - 1, 2**60 + 12345])
@pytest.mark.parametrize("n", [2, 3, 7])
def test_share_reconstructs_exactly(secret, n) -> None:
    shares = share(secret, n, rng=secret % 97 + n)
    assert len(shares) == n
    assert all(s.dtype == np.int64 and s.shape == () for s in shares)
    assert all(0 <= int(s) < MODULUS for s in shares)
    out = reconstruct(shares)
    assert isinstance(out, int) and out == secret


def test_share_arrays_and_python_ints_beyond_int64() -> None:
    secret = np.arange(-5, 5).reshape(2, 5)
    shares = share(secret, 4, rng=0, modulus=1000)
    assert [s.shape for s in shares] == [(2, 5)] * 4
    assert np.array_equal(reconstruct(shares, modulus=1000), secret % 1000)
    big = np.array([2**70 + 3, 5], dtype=object)  # object arrays of Python ints are fine
    assert reconstruct(share(big, 3, rng=1)).tolist() == [(2**70 + 3) % MODULUS, 5]


def test_shares_are_uniform_and_do_not_depend_on_the_secret() -> None:
    m, draws = 11, 22_000  # 2,000 expected per cell
    for secret in (0, 7):
        gen = np.random.default_rng(secret)
        both = np.array(
            [share(secret, 3, rng=gen, modulus=m) for _ in range(draws)], dtype=np.int64
        )
        for s in (both[:, 0], both[:, 2]):
            counts = np.bincount(s, minlength=m)
            assert stats.chisquare(counts).pvalue > 1e-3
    # negative control: "shares" drawn from half the field fail the same test
    bad = np.random.default_rng(0).integers(0, m // 2, size=draws)
    assert stats.chisquare(np.bincount(bad, minlength=m)).pvalue < 1e-10


def test_shares_are_seeded_and_fresh_per_call() -> None:
    a = [int(s) for s in share(5, 3, rng=3)]
    assert a == [int(s) for s in share(5, 3, rng=3)]
    g = np.random.default_rng(3)
    assert [int(s) for s in share(5, 3, rng=g)] != [int(s) for s in share(5, 3, rng=g)]


def test_shares_add_homomorphically() -> None:
    sa, sb = share(30, 3, rng=1), share(12, 3, rng=2)
    summed = [(a + b) % MODULUS for a, b in zip(sa, sb, strict=True)]
    assert reconstruct(summed) == 42


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: share(1.5, 3, rng=0), "secret"),
        (lambda: share([True], 3, rng=0), "secret"),
        (lambda: share(1, 1, rng=0), "n"),
        (lambda: share(1, 3, rng=0, modulus=1), "modulus"),
        (lambda: share(1, 3, rng=0, modulus=2**63), "modulus"),
        (lambda: share(1, 3, rng=-1), "rng"),
        (lambda: reconstruct([]), "shares"),
        (lambda: reconstruct([np.zeros(2, int), np.zeros(3, int)]), "shape"),
        (lambda: reconstruct([0.5, 1]), "shares"),
    ],
)
def test_sharing_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()


# ---------------------------------------------------------------------------- fixed point
def test_fixed_point_round_trips_negatives_and_adds() -> None:
    x = np.array([-3.75, -1e-3, 0.0, 2.5, 1234.5678])
    v = encode_fixed(x)
    assert v.dtype == np.int64 and (v >= 0).all() and (v < MODULUS).all()
    assert np.allclose(decode_fixed(v), x, atol=2**-17)
    assert int(v[0]) > MODULUS // 2  # negatives live in the upper half
    total = int(sum(int(a) for a in v) % MODULUS)
    assert abs(decode_fixed(total) - x.sum()) < 5 * 2**-17
    assert isinstance(encode_fixed(1.0), int) and isinstance(decode_fixed(65536), float)


def test_fixed_point_rounds_to_nearest_and_products_take_double_bits() -> None:
    assert encode_fixed(0.7, frac_bits=1, modulus=97) == 1  # 1.4 -> 1
    assert encode_fixed(-0.8, frac_bits=1, modulus=97) == 95  # -1.6 -> -2
    prod = int(mul_mod(encode_fixed(-1.5), encode_fixed(2.25)))
    assert decode_fixed(prod, frac_bits=32) == -3.375


def test_fixed_point_overflow_is_an_error() -> None:
    limit = fixed_point_range(frac_bits=16)
    encode_fixed(limit * 0.99)
    with pytest.raises(ValueError, match="overflow"):
        encode_fixed(limit * 1.01)
    with pytest.raises(ValueError, match="overflow"):
        encode_fixed(-1.0, frac_bits=4, modulus=31)  # 31 // 2 / 16 < 1


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: encode_fixed(float("nan")), "finite"),
        (lambda: encode_fixed("a"), "x"),
        (lambda: encode_fixed(1.0, frac_bits=-1), "frac_bits"),
        (lambda: encode_fixed(1.0, frac_bits=1.5), "frac_bits"),
        (lambda: decode_fixed(1.5), "v"),
        (lambda: decode_fixed(1, modulus=0), "modulus"),
        (lambda: mul_mod(1.0, 2), "a"),
        (lambda: random_field(3, rng=0, modulus=1), "modulus"),
    ],
)
def test_fixed_point_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()


def test_field_helpers() -> None:
    r = random_field((200,), rng=0, modulus=7)
    assert set(r.tolist()) == set(range(7))
    assert int(mul_mod(MODULUS - 1, MODULUS - 1)) == 1
    assert field.as_field([-1], 5, "x").tolist() == [4]
    assert [is_prime(p) for p in (2, 3, 4, 97, 561, 2**61 - 1, 2**127 - 1, 2**89 + 1)] == [
        True,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
    ]


# -------------------------------------------------------------------------------- Shamir
@pytest.mark.parametrize("n, t", [(1, 1), (3, 2), (5, 3), (7, 7), (10, 4)])
def test_any_t_points_reconstruct(n, t) -> None:
    secret = 123_456_789
    pts = shamir_share(secret, n, t, rng=n * 10 + t)
    assert [x for x, _ in pts] == list(range(1, n + 1))
    gen = np.random.default_rng(0)
    for _ in range(5):
        idx = gen.choice(n, size=t, replace=False)
        assert shamir_reconstruct([pts[i] for i in idx]) == secret
    assert shamir_reconstruct(pts) == secret  # more than t points too


def test_shamir_works_over_a_big_prime() -> None:
    p = 2**521 - 1
    secret = 2**256 - 189
    pts = shamir_share(secret, 6, 4, rng=0, prime=p)
    assert shamir_reconstruct(pts[2:], prime=p) == secret
    lam = lagrange_coefficients([3, 4, 5, 6], prime=p)
    assert sum(lj * y for lj, (_, y) in zip(lam, pts[2:], strict=True)) % p == secret


def test_shamir_t_minus_1_points_are_independent_of_the_secret() -> None:
    p, draws = 13, 13_000  # 1,000 expected per value
    for secret in (0, 9):
        vals = [
            shamir_reconstruct(shamir_share(secret, 5, 3, rng=g, prime=p)[:2], prime=p)
            for g in range(draws)
        ]
        assert stats.chisquare(np.bincount(vals, minlength=p)).pvalue > 1e-3
    # negative control: with t points the "interpolated value" is the secret every time
    vals = [
        shamir_reconstruct(shamir_share(9, 5, 3, rng=g, prime=p)[:3], prime=p) for g in range(50)
    ]
    assert set(vals) == {9}


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: shamir_share(5, 3, 4, rng=0), "t"),
        (lambda: shamir_share(5, 3, 0, rng=0), "t"),
        (lambda: shamir_share(-1, 3, 2, rng=0), "secret"),
        (lambda: shamir_share(MODULUS, 3, 2, rng=0), "secret"),
        (lambda: shamir_share(5, 3, 2, rng=0, prime=15), "prime"),
        (lambda: shamir_share(5, 20, 2, rng=0, prime=17), "n"),
        (lambda: shamir_reconstruct([]), "points"),
        (lambda: shamir_reconstruct([(1, 2), (1, 3)]), "distinct"),
        (lambda: shamir_reconstruct([(0, 2)]), "non-zero"),
        (lambda: shamir_reconstruct([(1, 2, 3)]), "pairs"),
        (lambda: lagrange_coefficients([]), "xs"),
    ],
)
def test_shamir_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()


# ------------------------------------------------------------------------ Beaver and dot
def test_beaver_multiply_is_exact_and_elementwise() -> None:
    x = np.array([3, MODULUS - 2, 10**12])
    y = np.array([5, 7, 10**6])
    xs, ys = share(x, 4, rng=1), share(y, 4, rng=2)
    z = beaver_multiply(xs, ys, beaver_triple(3, 4, rng=3))
    want = [(int(a) * int(b)) % MODULUS for a, b in zip(x, y, strict=True)]
    assert reconstruct(z).tolist() == want


def test_beaver_opened_values_reveal_nothing() -> None:
    # d = x - a is uniform whatever x is: chi-square over many triples, two different secrets
    m = 11  # 500 expected per value
    for x in (0, 6):
        gen = np.random.default_rng(x)
        a = [
            reconstruct(beaver_triple((), 2, rng=gen, modulus=m)[0], modulus=m) for _ in range(5500)
        ]
        ds = (x - np.array(a)) % m
        assert stats.chisquare(np.bincount(ds, minlength=m)).pvalue > 1e-3


def test_beaver_bad_input() -> None:
    xs, ys = share(1, 3, rng=0), share(2, 3, rng=1)
    with pytest.raises(ValueError, match="same 3 parties"):
        beaver_multiply(xs, ys, beaver_triple((), 2, rng=2))
    with pytest.raises(ValueError, match="triple"):
        beaver_multiply(xs, ys, (1, 2))
    with pytest.raises(ValueError, match="shape"):
        beaver_multiply(xs, ys, beaver_triple(2, 3, rng=2))
    with pytest.raises(ValueError, match="n_parties"):
        beaver_triple(2, 1, rng=0)


@pytest.mark.parametrize("n_parties", [2, 3, 5])
def test_secure_dot_matches_plaintext_and_counts_costs(n_parties) -> None:
    g = np.random.default_rng(n_parties)
    x, w = g.normal(size=64), g.normal(size=64)
    value, cost = secure_dot(x, w, n_parties=n_parties, rng=g)
    assert abs(value - x @ w) < 64 * 2**-15  # fixed-point rounding of both inputs
    d, b, n = 64, 8, n_parties
    assert cost["rounds"] == 3 and cost["multiplications"] == d
    assert cost["messages"] == 2 * (n - 1) + n * (n - 1) + (n - 1)
    assert cost["bytes_sent"] == 2 * (n - 1) * d * b + n * (n - 1) * 2 * d * b + (n - 1) * b
    assert cost["plaintext_bytes"] == d * b + b
    assert cost["bytes_sent"] > 10 * cost["plaintext_bytes"] * (n - 1) / 2


def test_secure_dot_is_seeded_and_exact_on_grid_values() -> None:
    x, w = [0.5, -1.25, 2.0], [4.0, 0.5, -0.125]
    v1, _ = secure_dot(x, w, rng=5)
    v2, _ = secure_dot(x, w, rng=5)
    assert v1 == v2 == 2.0 - 0.625 - 0.25


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: secure_dot([1.0], [1.0, 2.0], rng=0), "length"),
        (lambda: secure_dot([], [], rng=0), "non-empty"),
        (lambda: secure_dot([np.inf], [1.0], rng=0), "finite"),
        (lambda: secure_dot([1e9], [1e9], rng=0), "too large"),
        (lambda: secure_dot([1.0], [1.0], n_parties=1, rng=0), "n_parties"),
        (lambda: secure_dot([1.0], [1.0], frac_bits=40, rng=0), "frac_bits"),
    ],
)
def test_secure_dot_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()
