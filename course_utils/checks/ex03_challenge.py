"""Challenge of exercise set 03: a differentially private mean with public bounds (3.6).

The learner writes the whole release: clip to the public bounds, add noise calibrated to those
bounds (never to the data), pay for the number of records too (under add/remove-one neighbours
the count is private), spend the budget across the parts, and post-process into a usable number.
The check

* audits the privacy claim like notebook 03 and exercise 10.2 do: on neighbouring data sets it
  runs the mechanism many times, picks the most telling event on one half of the runs and turns
  its counts on the other half into a Clopper-Pearson lower bound on epsilon, which must not
  exceed the claimed epsilon. The neighbours are chosen to expose noise sized from the data, a
  missing clip, and a release that treats the number of records as public;
* requires the answer to be useful: on 2,000 records the error must be small;
* requires a number in [lower, upper] for every data set, the empty one included, and the
  noise drawn from the ``rng`` it is given.

An audit can only refute a privacy claim. Some mistakes are below what a few thousand runs can
see (e.g. paying the full epsilon for both the sum and the count: the released mean leaks little
more than the sum alone); the task asks for the budget to be split, and INSTRUCTORS says what the
audit can and cannot prove.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from . import expect, expect_number, question
from ._values import expect_reproducible

__all__: list[str] = []

#: Runs per data set in each audit (half choose the event, half are counted).
AUDIT_RUNS = 1000
#: Confidence of each audit's lower bound: a correct mechanism fails one audit with probability
#: at most 1 - AUDIT_CONFIDENCE.
AUDIT_CONFIDENCE = 0.9999
LOWER, UPPER = 0.0, 100.0


def _epsilon_lower_bound(k1: int, n1: int, k2: int, n2: int, confidence: float) -> float:
    """ln(TPR_low / FPR_high) with one-sided Clopper-Pearson bounds (both hold w.p. confidence)."""
    level = 1 - (1 - confidence) / 2
    low = stats.beta.ppf(1 - level, k1, n1 - k1 + 1) if k1 > 0 else 0.0
    high = stats.beta.ppf(level, k2 + 1, n2 - k2) if k2 < n2 else 1.0
    return float(math.log(low / high)) if low > 0 else 0.0


def _audit(a: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """A valid epsilon lower bound from outputs ``a`` (data set D) and ``b`` (its neighbour):
    the event "output >= t" or "output <= t" (either data set in the numerator) that gives the
    largest bound on the first halves, counted on the second halves."""
    a1, a2 = np.array_split(np.asarray(a, float), 2)
    b1, b2 = np.array_split(np.asarray(b, float), 2)
    cuts = np.unique(np.r_[np.quantile(np.r_[a1, b1], np.linspace(0.005, 0.995, 100)), a1, b1])
    cuts = cuts[:: max(1, len(cuts) // 400)]
    best, event = -1.0, (cuts[0], 1.0, True)
    for sign in (1.0, -1.0):
        ka = (sign * a1[None, :] >= sign * cuts[:, None]).sum(1)
        kb = (sign * b1[None, :] >= sign * cuts[:, None]).sum(1)
        for i, t in enumerate(cuts):
            for first, (k1, n1, k2, n2) in (
                (True, (ka[i], len(a1), kb[i], len(b1))),
                (False, (kb[i], len(b1), ka[i], len(a1))),
            ):
                bound = _epsilon_lower_bound(int(k1), n1, int(k2), n2, AUDIT_CONFIDENCE)
                if bound > best:
                    best, event = bound, (t, sign, first)
    t, sign, first = event
    x, y = (a2, b2) if first else (b2, a2)
    k1, k2 = int(np.sum(sign * x >= sign * t)), int(np.sum(sign * y >= sign * t))
    bound = _epsilon_lower_bound(k1, len(x), k2, len(y), AUDIT_CONFIDENCE)
    which = "the larger" if first else "the smaller"
    what = (
        f"output {'>=' if sign > 0 else '<='} {t:.4g}: {k1} of {len(x)} runs on {which} data set, "
        f"{k2} of {len(y)} on the other"
    )
    return bound, what


@question("3.6", points=4)
def _check_dp_mean(dp_mean: Any) -> None:
    """Release the mean of values clipped to [lower, upper] with epsilon-DP (add/remove-one), noise
    calibrated to the bounds, the count private too."""

    def run(values, seed, epsilon=1.0, lower=LOWER, upper=UPPER, what=None):
        out = dp_mean(
            np.asarray(values, float),
            lower=lower,
            upper=upper,
            epsilon=epsilon,
            rng=np.random.default_rng(seed),
        )
        what = what or f"dp_mean returns one number ({len(values)} values)"
        got = expect_number(out, what, "Return the released mean as one float.")
        expect(
            math.isfinite(got) and lower - 1e-9 <= got <= upper + 1e-9,
            f"the release is a number in [lower, upper] = [{lower:g}, {upper:g}] "
            f"({len(values)} values, epsilon={epsilon:g})",
            expected=f"a number in [{lower:g}, {upper:g}]",
            got=got,
            hint="A noisy count can be 0 or negative and a noisy sum can be anything: divide by "
            "max(noisy count, 1) and clamp the result into [lower, upper] (post-processing "
            "costs no privacy). The empty data set is a data set too.",
        )
        return got

    # 1. the noise comes from rng, and a smaller epsilon gives more noise
    values = np.linspace(10.0, 90.0, 50)
    expect_reproducible(
        lambda seed: run(values, seed),
        "the noise comes from the rng argument (same seed, same output)",
        seeds=[5],
        other_seed=6,
        hint="Draw every noise value with the `rng` you are given (rng.laplace), not np.random.",
    )
    spread = {
        eps: float(np.std([run(values, 500 + s, eps) for s in range(200)])) for eps in (0.5, 4.0)
    }
    expect(
        spread[0.5] > spread[4.0],
        "a smaller epsilon gives more noise (50 values in [10, 90])",
        expected="a larger spread at epsilon = 0.5 than at epsilon = 4",
        got=f"standard deviation {spread[0.5]:.3g} at 0.5, {spread[4.0]:.3g} at 4",
        hint="The Laplace scale is sensitivity / epsilon: a SMALLER epsilon (more privacy) must "
        "give MORE noise. Check that you divide by (your share of) epsilon.",
    )

    # 2. useful: small error on 2,000 records
    data = np.random.default_rng(42).uniform(20.0, 80.0, 2000)
    errors = np.abs([run(data, 1000 + s) - data.mean() for s in range(100)])
    median = float(np.median(errors))
    expect(
        median <= 0.5,
        "the mean of 2,000 values in [20, 80] (bounds [0, 100], epsilon = 1) is accurate",
        expected="median error over 100 releases <= 0.5 (a sum and a count with Laplace "
        "noise: about 0.1)",
        got=round(median, 3),
        hint="Noise of scale (upper - lower) / epsilon on the MEAN swamps it. Release a noisy "
        "SUM (sensitivity max(|lower|, |upper|): one record adds at most that) and a noisy "
        "COUNT (sensitivity 1), each with part of the budget, and divide: the noise then "
        "shrinks like 1/n.",
    )

    # 3. private: audits on neighbouring data sets (D, D plus one record)
    audits = [
        (
            [50.0] * 30,
            [50.0] * 30 + [UPPER],
            1.0,
            "30 equal values, and the same plus one value at the upper bound",
            "The noise must not depend on the data: with 30 equal values a scale taken from "
            "the data (max - min, a standard deviation) is 0, and the release tells everyone "
            "that nobody else is in. Calibrate the noise to the public bounds only.",
        ),
        (
            [10.0, 20.0, 30.0, 40.0, 50.0],
            [10.0, 20.0, 30.0, 40.0, 50.0, 1e6],
            1.0,
            "5 values, and the same plus an outlier of 1,000,000",
            "Clip every value into [lower, upper] BEFORE summing: otherwise one person moves "
            "the sum without bound and no noise calibrated to the bounds can hide them.",
        ),
        (
            [],
            [UPPER],
            0.5,
            "the empty data set, and a data set of one value at the upper bound",
            "Under add/remove-one the number of records is private too: a release that needs "
            "the exact n (dividing by len(values), a special case for no data) gives it away. "
            "Add noise to the count as well, and make sure a SMALLER epsilon gives MORE noise "
            "(scale = sensitivity / epsilon).",
        ),
    ]
    for k, (d_small, d_large, epsilon, label, hint) in enumerate(audits):
        if not d_small:
            run([], 0, what="dp_mean of an empty data set returns one number")
        a = np.array([run(d_small, 10_000 * (k + 1) + s, epsilon) for s in range(AUDIT_RUNS)])
        b = np.array([run(d_large, 20_000 * (k + 1) + s, epsilon) for s in range(AUDIT_RUNS)])
        bound, event = _audit(b, a)
        expect(
            bound <= epsilon,
            f"an audit of {label} (epsilon = {epsilon:g}) finds no more than epsilon",
            expected=f"an epsilon lower bound <= {epsilon:g} ({AUDIT_CONFIDENCE:.2%} confidence)",
            got=f"epsilon >= {bound:.2f}, from the event {event}",
            hint=hint,
        )
