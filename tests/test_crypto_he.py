"""Paillier and CKKS helpers: encrypted scores match plaintext ones, the sigmoid polynomial, the
security table, ciphertext sizes, and the argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.crypto.he import (
    CKKS_DEPTH3,
    CKKS_SCORES,
    HE_STANDARD_MAX_LOGQ_128,
    ciphertext_expansion,
    ckks_context,
    encrypted_linear_scores,
    encrypted_logistic_proba,
    is_128_bit_secure,
    max_coeff_modulus_bits,
    paillier_keypair,
    sigmoid_poly,
)


@pytest.fixture(scope="module")
def ctx():
    return ckks_context()


@pytest.fixture(scope="module")
def keys():
    return paillier_keypair(n_length=512)


def data(seed: int = 0, n: int = 6, d: int = 8):
    g = np.random.default_rng(seed)
    return g.random((n, d)), g.normal(size=d), float(g.normal())


def test_ckks_scores_match_plaintext(ctx) -> None:
    X, w, b = data()
    s = encrypted_linear_scores(X, w, b, context=ctx)
    assert s.shape == (6,) and np.allclose(s, X @ w + b, atol=1e-4)
    W = np.random.default_rng(1).normal(size=(8, 3))
    S = encrypted_linear_scores(X, W, [0.1, 0.2, 0.3], context=ctx)
    assert S.shape == (6, 3) and np.allclose(S, X @ W + [0.1, 0.2, 0.3], atol=1e-4)
    one = encrypted_linear_scores(X[0], w, b, context=ctx)  # a single row
    assert one.shape == (1,)


def test_paillier_scores_are_exact_up_to_encoding(keys) -> None:
    pk, sk = keys
    X, w, b = data(2, n=3, d=5)
    s = encrypted_linear_scores(X, w, b, scheme="paillier", public_key=pk, private_key=sk)
    assert np.allclose(s, X @ w + b, atol=1e-9)
    assert (
        sk.decrypt(sum([pk.encrypt(v) for v in (52_000, 61_500, 48_250)], pk.encrypt(0))) == 161_750
    )


def test_security_table_and_seal_agree() -> None:
    assert HE_STANDARD_MAX_LOGQ_128[8192] == 218 == max_coeff_modulus_bits(8192)
    n, sizes, _ = CKKS_SCORES
    assert is_128_bit_secure(n, sizes) and is_128_bit_secure(*CKKS_DEPTH3[:2])
    assert not is_128_bit_secure(8192, (60, 40, 40, 40, 60))
    with pytest.raises(ValueError, match="128-bit"):
        ckks_context(coeff_mod_bit_sizes=(60, 40, 40, 40, 60))
    import tenseal as ts  # SEAL itself refuses the same parameters

    with pytest.raises(ValueError):
        ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[60, 40, 40, 40, 60])


def test_sigmoid_poly_is_odd_and_close() -> None:
    c = sigmoid_poly(degree=3, bound=8.0)
    assert c[0] == 0.5 and c[2] == 0.0 and c[1] > 0 > c[3]
    z = np.linspace(-8, 8, 201)
    err = np.abs(np.polynomial.polynomial.polyval(z, c) - 1 / (1 + np.exp(-z)))
    assert err.max() < 0.12
    c5 = sigmoid_poly(degree=5, bound=8.0)
    err5 = np.abs(np.polynomial.polynomial.polyval(z, c5) - 1 / (1 + np.exp(-z)))
    assert err5.max() < err.max()


def test_encrypted_logistic_follows_the_polynomial() -> None:
    X, w, b = data(3, n=4, d=8)
    w = w * 0.5
    p = encrypted_logistic_proba(X, w, b)
    want = np.polynomial.polynomial.polyval(X @ w + b, sigmoid_poly())
    assert np.allclose(p, want, atol=1e-2)


def test_ciphertext_expansion(ctx, keys) -> None:
    r = ciphertext_expansion(np.zeros(64), context=ctx)
    assert r["plaintext_bytes"] == 512 and 100 < r["ratio"] < 5000
    r = ciphertext_expansion(np.zeros(4), scheme="paillier", public_key=keys[0])
    assert r["ciphertext_bytes"] == 4 * 128 and r["ratio"] == 16


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: encrypted_linear_scores(np.ones((2, 3)), np.ones(3), scheme="rsa"), "scheme"),
        (lambda: encrypted_linear_scores(np.ones((2, 3)), np.ones(4)), "w must"),
        (lambda: encrypted_linear_scores(np.ones((2, 3)), np.ones(3), [1, 2]), "b must"),
        (lambda: encrypted_linear_scores(np.ones((2, 3)), np.ones(3), "x"), "b must"),
        (lambda: encrypted_linear_scores(np.ones((0, 3)), np.ones(3)), "X must"),
        (lambda: encrypted_linear_scores(np.full((1, 3), np.nan), np.ones(3)), "finite"),
        (
            lambda: encrypted_linear_scores(
                np.ones((1, 3)), np.ones(3), scheme="paillier", public_key=1
            ),
            "both",
        ),
        (lambda: encrypted_logistic_proba(np.ones((1, 3)), np.ones((3, 2))), "vector"),
        (lambda: encrypted_logistic_proba(np.ones((1, 3)), np.ones(3), degree=5), "degree"),
        (lambda: sigmoid_poly(degree=4), "odd"),
        (lambda: sigmoid_poly(bound=0), "bound"),
        (lambda: max_coeff_modulus_bits(1000), "poly_modulus_degree"),
        (lambda: is_128_bit_secure(8192, ()), "coeff_mod_bit_sizes"),
        (lambda: ckks_context(scale_bits=70), "scale_bits"),
        (lambda: paillier_keypair(n_length=64), "n_length"),
        (lambda: ciphertext_expansion([]), "non-empty"),
    ],
)
def test_he_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()
