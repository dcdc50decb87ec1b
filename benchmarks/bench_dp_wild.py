"""Notebook 09's helpers at scale: reconstruction, local DP on 100,000 users, OpenDP, synthesis.

* ``reconstruction recovery at E/sqrt(n)=x``: mean fraction of bits the least-squares attack
  recovers (n = 128, m = 4n, 20 databases) - 1.0 below the threshold, 0.5 far above it.
* ``reconstruction attack``: seconds per attack (query generation excluded).
* ``<oracle> 100k users``: seconds to perturb and estimate 100,000 users (32 values, epsilon 2),
  with the RMS count error next to the formula's (their ratio should be near 1).
* ``local / central error, n=100k``: OLH's count error over the central Laplace histogram's.
* ``opendp laplace``: scalar releases per second, OpenDP's exact sampler vs numpy's.
* ``synthesize 3000 rows``: seconds per DP synthetic table and its marginal error at epsilon 1.

Wall-clock numbers depend on the machine and its load; the error rows do not.
"""

from __future__ import annotations

import math
import time

import numpy as np

from course_utils.attacks import aggregates as agg
from course_utils.data import synthetic_patients
from course_utils.privacy import local, synthetic

N_USERS, K, EPSILON = 100_000, 32, 2.0


def _seconds(fn, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _reconstruction(rng: np.random.Generator) -> list[dict]:
    n, m = 128, 512
    rows = []
    table = agg.recovery_curve(
        n, m, [0.1 * math.sqrt(n), math.sqrt(n), 16 * math.sqrt(n)], trials=20, rng=rng
    )
    for x, rate in table.groupby("noise_over_sqrt_n")["recovery"].mean().items():
        rows.append(
            {
                "name": f"reconstruction recovery at E/sqrt(n)={x:g}",
                "value": float(rate),
                "unit": "share",
                "note": "n=128, m=512, 20 databases, least squares",
            }
        )
    bits = rng.integers(0, 2, size=n)
    Q, answers = agg.subset_sum_queries(bits, m, noise=1.0, rng=rng)
    rows.append(
        {
            "name": "reconstruction attack",
            "value": _seconds(lambda: agg.reconstruct_bits(Q, answers)),
            "unit": "s",
            "note": "least squares, 512 x 128, best of 3",
        }
    )
    rows.append(
        {
            "name": "reconstruction attack (LP)",
            "value": _seconds(lambda: agg.reconstruct_bits(Q, answers, method="lp"), repeat=2),
            "unit": "s",
            "note": "HiGHS linear programme, 512 x 128, best of 2",
        }
    )
    return rows


def _oracles(rng: np.random.Generator) -> list[dict]:
    popularity = 1 / np.arange(1, K + 1) ** 1.1
    values = rng.choice(K, size=N_USERS, p=popularity / popularity.sum())
    counts = np.bincount(values, minlength=K)
    runs = {
        "GRR": (
            lambda: local.grr_estimate(
                local.grr_perturb(values, K, epsilon=EPSILON, rng=rng), K, epsilon=EPSILON
            ),
            local.grr_variance(counts, epsilon=EPSILON),
        ),
        "OLH": (
            lambda: local.olh_estimate(
                local.olh_perturb(values, K, epsilon=EPSILON, rng=rng), K, epsilon=EPSILON
            ),
            local.olh_variance(counts, epsilon=EPSILON),
        ),
        "CMS": (
            lambda: local.cms_estimate(
                local.cms_perturb(values, epsilon=EPSILON, m=1024, hashes=256, rng=rng),
                K,
                epsilon=EPSILON,
                m=1024,
                hashes=256,
            ),
            local.cms_variance(counts, epsilon=EPSILON, m=1024, hashes=256),
        ),
    }
    rows = []
    for name, (run, variance) in runs.items():
        start = time.perf_counter()
        errors = [run() - counts for _ in range(3)]
        seconds = (time.perf_counter() - start) / 3
        rms, predicted = np.sqrt(np.mean(np.square(errors))), np.sqrt(np.mean(variance))
        rows.append(
            {
                "name": f"{name} 100k users",
                "value": seconds,
                "unit": "s",
                "note": f"perturb + estimate, k={K}, eps={EPSILON:g}; RMS error {rms:.0f} vs formula {predicted:.0f} "
                f"(ratio {rms / predicted:.2f}, 3 runs)",
            }
        )
        if name == "OLH":
            rows.append(
                {
                    "name": "local / central error, n=100k",
                    "value": float(rms / (math.sqrt(2) / EPSILON)),
                    "unit": "ratio",
                    "note": "OLH vs Laplace histogram, same epsilon; grows like sqrt(n)",
                }
            )
    return rows


def _opendp(rng: np.random.Generator) -> list[dict]:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    exact = dp.m.make_laplace(
        dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale=2.0
    )

    def rate(fn, calls: int = 2_000) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return calls / (time.perf_counter() - start)

    opendp_rate = rate(lambda: exact(100.0))
    numpy_rate = rate(lambda: 100.0 + rng.laplace(0.0, 2.0))
    return [
        {
            "name": "opendp laplace",
            "value": opendp_rate,
            "unit": "rel/s",
            "note": f"numpy rng.laplace: {numpy_rate:,.0f} rel/s ({numpy_rate / opendp_rate:.0f}x faster, not private "
            "on floats)",
        }
    ]


def _synthesis(rng: np.random.Generator) -> list[dict]:
    table = synthetic.discretize_patients(synthetic_patients(3_000, rng=1))
    fakes = []
    seconds = _seconds(lambda: fakes.append(synthetic.synthesize(table, epsilon=1.0, rng=rng)))
    error = float(np.mean([synthetic.marginal_error(table, f) for f in fakes]))
    return [
        {
            "name": "synthesize 3000 rows",
            "value": seconds,
            "unit": "s",
            "note": f"5 columns, epsilon 1, best of 3; marginal error {error:.3f}",
        }
    ]


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    return _reconstruction(rng) + _oracles(rng) + _opendp(rng) + _synthesis(rng)


if __name__ == "__main__":
    for row in run():
        print(row)
