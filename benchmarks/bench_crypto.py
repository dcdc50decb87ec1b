"""Cryptographic privacy (notebook 08): milliseconds per CKKS-encrypted prediction and per Paillier
operation, ciphertext expansion, secure_dot's bytes and rounds against plaintext, and secure
aggregation's bytes per client for 10 / 100 / 1000 clients (from the formulas) with real runs up
to 100 clients (time, and the measured bytes checked against the formula)."""

from __future__ import annotations

import time

import numpy as np

from course_utils.crypto import he, secagg
from course_utils.crypto import sharing as ss
from course_utils.data import digits_split


def _ms(fn, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) * 1e3 / repeats


def run() -> list[dict]:
    rows: list[dict] = []
    X, Xt, y, _ = digits_split()
    g = np.random.default_rng(0)
    w, b = g.normal(size=64) * 0.1, 0.2

    # CKKS: one ciphertext per image, one dot product
    start = time.perf_counter()
    ctx = he.ckks_context()
    rows.append(
        {
            "name": "CKKS context + galois keys",
            "value": round((time.perf_counter() - start) * 1e3, 1),
            "unit": "ms",
            "note": "N=8192, (60,40,40,60), once per client",
        }
    )
    n = 100
    start = time.perf_counter()
    scores = he.encrypted_linear_scores(Xt[:n], w, b, context=ctx)
    ms = (time.perf_counter() - start) * 1e3 / n
    err = float(np.abs(scores - (Xt[:n] @ w + b)).max())
    rows.append(
        {
            "name": "CKKS encrypted prediction",
            "value": round(ms, 2),
            "unit": "ms",
            "note": f"encrypt + dot + decrypt, 64 features, {n} images; max error {err:.1e}",
        }
    )
    start = time.perf_counter()
    he.encrypted_logistic_proba(Xt[:20], w, b)
    rows.append(
        {
            "name": "CKKS encrypted sigmoid prediction",
            "value": round((time.perf_counter() - start) * 1e3 / 20, 2),
            "unit": "ms",
            "note": "depth-3 context (50,30,30,30,50) incl. its set-up, cubic sigmoid, 20 images",
        }
    )
    r = he.ciphertext_expansion(Xt[0], context=ctx)
    rows.append(
        {
            "name": "CKKS ciphertext / plaintext bytes",
            "value": round(r["ratio"], 1),
            "unit": "x",
            "note": f"{r['ciphertext_bytes']} bytes for 64 float64 (4096 slots available)",
        }
    )

    # Paillier
    for bits in (1024, 2048):
        start = time.perf_counter()
        pk, sk = he.paillier_keypair(n_length=bits)
        keygen = (time.perf_counter() - start) * 1e3
        c1, c2 = pk.encrypt(52_000), pk.encrypt(61_500)
        rows += [
            {
                "name": f"Paillier-{bits} key generation",
                "value": round(keygen, 1),
                "unit": "ms",
                "note": "phe, pure Python (no gmpy2)",
            },
            {
                "name": f"Paillier-{bits} encryption",
                "value": round(_ms(lambda pk=pk: pk.encrypt(123_456), 20), 2),
                "unit": "ms",
                "note": "one integer",
            },
            {
                "name": f"Paillier-{bits} addition",
                "value": round(_ms(lambda c1=c1, c2=c2: c1 + c2, 200), 4),
                "unit": "ms",
                "note": "ciphertext + ciphertext",
            },
            {
                "name": f"Paillier-{bits} plaintext multiply",
                "value": round(_ms(lambda c1=c1: c1 * 0.37, 50), 3),
                "unit": "ms",
                "note": "ciphertext * float",
            },
            {
                "name": f"Paillier-{bits} decryption",
                "value": round(_ms(lambda sk=sk, c1=c1: sk.decrypt(c1), 20), 2),
                "unit": "ms",
                "note": "",
            },
            {
                "name": f"Paillier-{bits} ciphertext / plaintext bytes",
                "value": he.ciphertext_expansion([1.0], scheme="paillier", public_key=pk)["ratio"],
                "unit": "x",
                "note": "per 8-byte value",
            },
        ]
    pk, sk = he.paillier_keypair(n_length=1024)
    start = time.perf_counter()
    he.encrypted_linear_scores(Xt[:2], w, b, scheme="paillier", public_key=pk, private_key=sk)
    rows.append(
        {
            "name": "Paillier-1024 encrypted prediction",
            "value": round((time.perf_counter() - start) * 1e3 / 2, 1),
            "unit": "ms",
            "note": "64 encryptions + 64 products, 2 images",
        }
    )

    # secure dot product (Beaver triples)
    for parties in (2, 3, 5):
        value, cost = ss.secure_dot(Xt[0], w, n_parties=parties, rng=0)
        rows.append(
            {
                "name": f"secure_dot bytes online ({parties} parties)",
                "value": cost["bytes_sent"],
                "unit": "bytes",
                "note": f"{cost['rounds']} rounds; plaintext {cost['plaintext_bytes']} bytes = {cost['bytes_sent'] / cost['plaintext_bytes']:.1f}x; dealer {cost['dealer_bytes']} bytes; error {abs(value - Xt[0] @ w):.1e}",
            }
        )
    rows.append(
        {
            "name": "secure_dot time (3 parties)",
            "value": round(_ms(lambda: ss.secure_dot(Xt[0], w, rng=1), 20), 2),
            "unit": "ms",
            "note": "64 features, simulated in one process",
        }
    )

    # secure aggregation: formulas for 10 / 100 / 1000, real runs up to 100
    dim = 1000
    for n_cl in (10, 100, 1000):
        c = secagg.secagg_cost(n_cl, dim, n_dropped=n_cl // 10)
        rows.append(
            {
                "name": f"SecAgg bytes sent per client ({n_cl} clients)",
                "value": c["bytes_per_client"],
                "unit": "bytes",
                "note": f"d={dim}, 10% dropped; plain update {c['plaintext_bytes_per_client']} bytes ({c['expansion']:.2f}x); computed",
            }
        )
    for n_cl in (10, 30, 100):
        U = g.normal(size=(n_cl, dim))
        start = time.perf_counter()
        total, info = secagg.secure_aggregate(
            U, dropped=range(n_cl // 10), threshold=n_cl // 2 + 1, rng=n_cl
        )
        seconds = time.perf_counter() - start
        ok = (
            info["bytes_per_client"]
            == secagg.secagg_cost(n_cl, dim, n_dropped=n_cl // 10)["bytes_per_client"]
        )
        err = float(np.abs(total - U[info["survivors"]].sum(axis=0)).max())
        rows.append(
            {
                "name": f"SecAgg simulated run ({n_cl} clients)",
                "value": round(seconds, 2),
                "unit": "s",
                "note": f"d={dim}, {n_cl // 10} dropped, t={n_cl // 2 + 1}; measured bytes == formula: {ok}; sum error {err:.1e}",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
