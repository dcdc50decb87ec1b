"""DP mechanisms: how tight the audit is, and how fast the mechanisms release.

* ``audit tightness eps=E``: empirical lower bound / true epsilon for a Laplace count at
  epsilon E (100k runs per neighbour, 95 % confidence). A tight audit approaches 1; a value
  above 1 would mean the audit (or the mechanism) is wrong.
* ``<mechanism> 1e6 values``: whole-array releases per second on an array of 10^6 values
  (so values per second = releases per second x 10^6).
"""

from __future__ import annotations

import math
import time

import numpy as np

from course_utils.privacy.audit import empirical_epsilon
from course_utils.privacy.mechanisms import (
    exponential_mechanism,
    gaussian_mechanism,
    laplace_mechanism,
    randomized_response,
)

N_AUDIT = 100_000
N_VALUES = 1_000_000


def _laplace_count(epsilon: float):
    def mech(data, rng):
        return laplace_mechanism(float(sum(data)), sensitivity=1.0, epsilon=epsilon, rng=rng)

    return mech


def _per_second(fn, *, min_time: float = 0.5) -> float:
    fn()  # warm up
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_time:
        fn()
        calls += 1
    return calls / elapsed


def run() -> list[dict]:
    rows: list[dict] = []
    rng = np.random.default_rng(0)
    for eps in (0.5, 1.0, 2.0):
        start = time.perf_counter()
        lb = empirical_epsilon(_laplace_count(eps), [0, 1], [1, 1], n_samples=N_AUDIT, rng=rng)
        rows.append(
            {
                "name": f"audit tightness eps={eps:g}",
                "value": lb / eps,
                "unit": "ratio",
                "note": f"lower bound {lb:.3f} of true {eps:g}; {N_AUDIT} runs/neighbour, {time.perf_counter() - start:.1f} s",
            }
        )
    values = rng.normal(size=N_VALUES)
    bits = (rng.random(N_VALUES) < 0.3).astype(np.int8)
    candidates = list(range(N_VALUES))
    mechanisms = {
        "laplace": lambda: laplace_mechanism(values, sensitivity=1.0, epsilon=1.0, rng=rng),
        "gaussian": lambda: gaussian_mechanism(
            values, sensitivity=1.0, epsilon=1.0, delta=1e-5, rng=rng
        ),
        "randomized response": lambda: randomized_response(bits, epsilon=math.log(3), rng=rng),
        "exponential (1 pick of 1e6)": lambda: exponential_mechanism(
            candidates, values, sensitivity=1.0, epsilon=1.0, rng=rng
        ),
    }
    for name, fn in mechanisms.items():
        rate = _per_second(fn)
        label = name if "exponential" in name else f"{name} 1e6 values"
        rows.append(
            {
                "name": label,
                "value": rate,
                "unit": "rel/s",
                "note": f"{rate * N_VALUES / 1e6:.0f} M values/s"
                if "exponential" not in name
                else "10^6 candidates",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
