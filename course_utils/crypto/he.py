"""Homomorphic encryption for inference: Paillier (``phe``) and CKKS (``tenseal``).

* **Paillier** is additively homomorphic on integers (``phe`` encodes floats for you): a server
  can add ciphertexts and multiply them by *plaintext* numbers - enough for a sum of salaries or
  a linear score ``w . x + b`` with a plaintext model ``w`` and encrypted data ``x``.
* **CKKS** encrypts a whole vector of approximate reals in one ciphertext and supports additions
  and a few multiplications (its *depth*: one level per multiplication, one prime of
  ``coeff_mod_bit_sizes`` each). A dot product costs one level; a degree-3 polynomial
  approximation of the sigmoid (:func:`sigmoid_poly`) costs two more.

"128-bit security" is a property of the parameters: for a ring dimension
``poly_modulus_degree = N``, the total size of the coefficient modulus, ``log2 q =
sum(coeff_mod_bit_sizes)``, must not exceed the bound of the Homomorphic Encryption Standard
(Albrecht et al., 2018; :data:`HE_STANDARD_MAX_LOGQ_128`), derived from the best known lattice
attacks on Ring-LWE. SEAL, under tenseal, refuses parameters beyond it. More levels need a larger
``q``, hence a larger ``N``: slower, bigger ciphertexts.

Encryption randomness comes from the libraries' own secure generators, not from a course ``rng``;
the decrypted results are deterministic up to CKKS's approximation error.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 2.0], [0.5, -1.0]]); w = np.array([0.3, -0.2])
>>> s = encrypted_linear_scores(X, w, 0.1)
>>> bool(np.allclose(s, X @ w + 0.1, atol=1e-4))
True
>>> is_128_bit_secure(8192, (60, 40, 40, 60)), is_128_bit_secure(8192, (60, 40, 40, 40, 60))
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import check_choice, check_int, check_positive

__all__ = [
    "HE_STANDARD_MAX_LOGQ_128",
    "CKKS_SCORES",
    "CKKS_DEPTH3",
    "max_coeff_modulus_bits",
    "is_128_bit_secure",
    "ckks_context",
    "paillier_keypair",
    "sigmoid_poly",
    "encrypted_linear_scores",
    "encrypted_logistic_proba",
    "ciphertext_expansion",
]

#: Largest ``log2 q`` for 128-bit classical security with a ternary secret, per ring dimension
#: ``N`` (Homomorphic Encryption Standard, Table 1; the values SEAL enforces).
HE_STANDARD_MAX_LOGQ_128: dict[int, int] = {
    1024: 27,
    2048: 54,
    4096: 109,
    8192: 218,
    16384: 438,
    32768: 881,
}
#: CKKS parameters for scores (depth 2, 200-bit q, scale 2**40): ``(N, coeff_mod_bit_sizes, scale_bits)``.
CKKS_SCORES: tuple[int, tuple[int, ...], int] = (8192, (60, 40, 40, 60), 40)
#: CKKS parameters with depth 3 (190-bit q, scale 2**30): a dot product plus a cubic polynomial.
CKKS_DEPTH3: tuple[int, tuple[int, ...], int] = (8192, (50, 30, 30, 30, 50), 30)


def max_coeff_modulus_bits(poly_modulus_degree: int) -> int:
    """The HE standard's bound on ``sum(coeff_mod_bit_sizes)`` for 128-bit security.

    Examples
    --------
    >>> max_coeff_modulus_bits(8192)
    218
    """
    n = check_int(poly_modulus_degree, "poly_modulus_degree")
    check_choice(n, "poly_modulus_degree", tuple(HE_STANDARD_MAX_LOGQ_128))
    return HE_STANDARD_MAX_LOGQ_128[n]


def is_128_bit_secure(poly_modulus_degree: int, coeff_mod_bit_sizes: Sequence[int]) -> bool:
    """True when ``sum(coeff_mod_bit_sizes)`` is within :func:`max_coeff_modulus_bits`.

    Examples
    --------
    >>> is_128_bit_secure(4096, (40, 20, 40))
    True
    """
    bits = [check_int(b, "coeff_mod_bit_sizes", min_val=1, max_val=60) for b in coeff_mod_bit_sizes]
    if not bits:
        raise ValueError("coeff_mod_bit_sizes must hold at least one prime size")
    return sum(bits) <= max_coeff_modulus_bits(poly_modulus_degree)


def ckks_context(
    *,
    poly_modulus_degree: int = CKKS_SCORES[0],
    coeff_mod_bit_sizes: Sequence[int] = CKKS_SCORES[1],
    scale_bits: int = CKKS_SCORES[2],
) -> Any:
    """A tenseal CKKS context with galois keys (needed by ``dot``), holding the secret key.

    Raises ``ValueError`` for parameters outside the HE standard's 128-bit table.

    Examples
    --------
    >>> ctx = ckks_context()
    >>> ctx.is_private(), ctx.global_scale == 2**40
    (True, True)
    """
    if not is_128_bit_secure(poly_modulus_degree, coeff_mod_bit_sizes):
        raise ValueError(
            f"coeff_mod_bit_sizes sum to {sum(coeff_mod_bit_sizes)} bits, above the "
            f"{max_coeff_modulus_bits(poly_modulus_degree)} that 128-bit security allows for "
            f"poly_modulus_degree={poly_modulus_degree}"
        )
    scale_bits = check_int(scale_bits, "scale_bits", min_val=10, max_val=60)
    import tenseal as ts

    ctx = ts.context(
        ts.SCHEME_TYPE.CKKS,
        poly_modulus_degree=int(poly_modulus_degree),
        coeff_mod_bit_sizes=[int(b) for b in coeff_mod_bit_sizes],
    )
    ctx.global_scale = 2.0**scale_bits
    ctx.generate_galois_keys()
    return ctx


def paillier_keypair(*, n_length: int = 2048) -> tuple[Any, Any]:
    """``(public_key, private_key)`` of ``phe``; 2048 bits is about 112-bit security, 3072 ~128.

    Examples
    --------
    >>> pk, sk = paillier_keypair(n_length=512)
    >>> sk.decrypt(pk.encrypt(3) + pk.encrypt(4))
    7
    """
    n_length = check_int(n_length, "n_length", min_val=256)
    from phe import paillier

    return paillier.generate_paillier_keypair(n_length=n_length)


def sigmoid_poly(*, degree: int = 3, bound: float = 8.0) -> np.ndarray:
    """Least-squares odd polynomial ``1/2 + c1 z + c3 z**3 + ...`` for the sigmoid on ``[-bound, bound]``.

    Returns the coefficients lowest degree first (even ones, except the constant, are 0).

    Examples
    --------
    >>> c = sigmoid_poly(degree=3, bound=8.0)
    >>> z = np.linspace(-8, 8, 101)
    >>> float(np.abs(np.polynomial.polynomial.polyval(z, c) - 1 / (1 + np.exp(-z))).max()) < 0.12
    True
    """
    degree = check_int(degree, "degree", min_val=1, max_val=9)
    if degree % 2 == 0:
        raise ValueError(f"degree must be odd (the sigmoid minus 1/2 is odd), got {degree}")
    bound = check_positive(bound, "bound")
    z = np.linspace(-bound, bound, 2001)
    powers = np.arange(1, degree + 1, 2)
    A = z[:, None] ** powers[None, :]
    odd, *_ = np.linalg.lstsq(A, 1.0 / (1.0 + np.exp(-z)) - 0.5, rcond=None)
    coeffs = np.zeros(degree + 1)
    coeffs[0] = 0.5
    coeffs[powers] = odd
    return coeffs


def _check_linear(X: Any, w: Any, b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    Xa = np.asarray(X, dtype=float)
    wa = np.asarray(w, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[None, :]
    if Xa.ndim != 2 or Xa.shape[0] == 0:
        raise ValueError(
            f"X must be a non-empty 2-d array (rows are examples), got shape {Xa.shape}"
        )
    vector = wa.ndim == 1
    W = wa[:, None] if vector else wa
    if W.ndim != 2 or W.shape[0] != Xa.shape[1]:
        raise ValueError(
            f"w must have shape (d,) or (d, k) with d = X.shape[1] = {Xa.shape[1]}, got {wa.shape}"
        )
    try:
        b_arr = np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"b must be a number or an array of numbers, got {b!r:.60}") from None
    if b_arr.ndim > 1 or b_arr.size not in (1, W.shape[1]):
        raise ValueError(f"b must be a number or have shape ({W.shape[1]},), got {b_arr.shape}")
    ba = np.broadcast_to(b_arr.reshape(-1), (W.shape[1],)).astype(float)
    for name, arr in (("X", Xa), ("w", W), ("b", ba)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    return Xa, W, ba, vector


def encrypted_linear_scores(
    X: Any,
    w: Any,
    b: Any = 0.0,
    *,
    scheme: str = "ckks",
    context: Any = None,
    public_key: Any = None,
    private_key: Any = None,
) -> np.ndarray:
    """Encrypt each row of ``X``, compute ``x . w + b`` under encryption, return the decryptions.

    The client's row is encrypted; the model (``w``, ``b``) stays in plaintext at the server, so
    each score needs only ciphertext-plaintext products and additions.

    Parameters
    ----------
    X : array of shape (n, d) (or (d,) for one row)
    w : array of shape (d,) or (d, k)
    b : float or array of shape (k,), default 0
    scheme : {"ckks", "paillier"}
        CKKS: one ciphertext per row, one ``dot`` per output. Paillier: one ciphertext per
        *feature* and one modular exponentiation per product - slow, for small inputs only.
    context : tenseal context, optional (CKKS)
        Default: :func:`ckks_context` with :data:`CKKS_SCORES`.
    public_key, private_key : phe keys, optional (Paillier)
        Default: a fresh 1024-bit pair (fast for teaching; use 2048+ bits for real data).

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)`` for a vector ``w``, ``(n, k)`` for a matrix.

    Examples
    --------
    >>> X = np.array([[2.0, 1.0]]); w = np.array([[1.0, 0.0], [0.0, -1.0]])
    >>> np.round(encrypted_linear_scores(X, w, [0.5, 0.5], scheme="paillier"), 6).tolist()
    [[2.5, -0.5]]
    """
    scheme = check_choice(scheme, "scheme", ("ckks", "paillier"))
    Xa, W, ba, vector = _check_linear(X, w, b)
    out = np.empty((Xa.shape[0], W.shape[1]))
    if scheme == "ckks":
        import tenseal as ts

        ctx = ckks_context() if context is None else context
        cols = [W[:, k].tolist() for k in range(W.shape[1])]
        for i, row in enumerate(Xa):
            enc = ts.ckks_vector(ctx, row.tolist())
            for k, col in enumerate(cols):
                out[i, k] = (enc.dot(col) + float(ba[k])).decrypt()[0]
    else:
        if (public_key is None) != (private_key is None):
            raise ValueError("give both public_key and private_key, or neither")
        if public_key is None:
            public_key, private_key = paillier_keypair(n_length=1024)
        for i, row in enumerate(Xa):
            enc = [public_key.encrypt(float(v)) for v in row]
            for k in range(W.shape[1]):
                total = public_key.encrypt(float(ba[k]))
                for c, wj in zip(enc, W[:, k], strict=True):
                    if wj != 0.0:
                        total = total + c * float(wj)
                out[i, k] = private_key.decrypt(total)
    return out[:, 0] if vector else out


def encrypted_logistic_proba(
    X: Any, w: Any, b: float = 0.0, *, degree: int = 3, bound: float = 8.0, context: Any = None
) -> np.ndarray:
    """CKKS: encrypted ``p(x . w + b)`` with ``p`` = :func:`sigmoid_poly`, decrypted.

    The server returns an encrypted *probability*; only degree 3 fits the depth of
    :data:`CKKS_DEPTH3` (dot product: 1 level; ``z**2`` and ``c3 z``: 1; their product: 1).

    Examples
    --------
    >>> p = encrypted_logistic_proba(np.array([[1.0, 1.0]]), np.array([0.5, 0.5]))
    >>> abs(float(p[0]) - float(np.polynomial.polynomial.polyval(1.0, sigmoid_poly()))) < 0.01
    True
    """
    check_choice(degree, "degree", (3,))
    Xa, W, ba, vector = _check_linear(X, w, b)
    if not vector:
        raise ValueError(f"w must be a vector (one logistic output), got shape {np.shape(w)}")
    c = sigmoid_poly(degree=3, bound=bound)
    import tenseal as ts

    if context is None:
        n, sizes, scale = CKKS_DEPTH3
        context = ckks_context(poly_modulus_degree=n, coeff_mod_bit_sizes=sizes, scale_bits=scale)
    col = W[:, 0].tolist()
    out = np.empty(Xa.shape[0])
    for i, row in enumerate(Xa):
        z = ts.ckks_vector(context, row.tolist()).dot(col) + float(ba[0])
        cubic = (z * float(c[3])) * (z * z)
        out[i] = (cubic + z * float(c[1]) + float(c[0])).decrypt()[0]
    return out


def ciphertext_expansion(
    x: Any, *, scheme: str = "ckks", context: Any = None, public_key: Any = None
) -> dict[str, float]:
    """Bytes of the encryption of vector ``x`` against its 8 bytes per float64 value.

    CKKS: the serialized ciphertext (one for the whole vector). Paillier: one ciphertext of
    ``2 * n_length`` bits per value.

    Examples
    --------
    >>> r = ciphertext_expansion(np.zeros(64))
    >>> r["plaintext_bytes"], r["ratio"] > 100
    (512, True)
    """
    scheme = check_choice(scheme, "scheme", ("ckks", "paillier"))
    xa = np.asarray(x, dtype=float).ravel()
    if xa.size == 0 or not np.all(np.isfinite(xa)):
        raise ValueError("x must be a non-empty finite vector")
    if scheme == "ckks":
        import tenseal as ts

        ctx = ckks_context() if context is None else context
        ct = len(ts.ckks_vector(ctx, xa.tolist()).serialize())
    else:
        pk = paillier_keypair(n_length=1024)[0] if public_key is None else public_key
        ct = xa.size * ((2 * pk.n.bit_length() + 7) // 8)
    plain = 8 * xa.size
    return {"ciphertext_bytes": ct, "plaintext_bytes": plain, "ratio": ct / plain}
