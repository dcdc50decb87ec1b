"""Challenge 3.6 (a DP mean with public bounds): the reference passes, the blank exercise scores 0,
the usual mistakes fail with the hint naming them, and differently built correct releases pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import math

import numpy as np
"""

# a correct DP mean (half the budget on the sum, half on the count); the wrong answers written as
# ``edited(DP_MEAN, ...)`` are it with one mistake
DP_MEAN = """
def dp_mean(values, *, lower, upper, epsilon, rng):
    x = np.clip(np.asarray(values, float), lower, upper)
    s = x.sum() + rng.laplace(0.0, max(abs(lower), abs(upper)) / (epsilon / 2))
    c = len(x) + rng.laplace(0.0, 2.0 / epsilon)
    return float(np.clip(s / max(c, 1.0), lower, upper))
"""

WRONG = [
    Wrong(
        "noise scaled by the data's range (max - min)",
        "must not depend on the data",
        """
        def dp_mean(values, *, lower, upper, epsilon, rng):
            x = np.clip(np.asarray(values, float), lower, upper)
            if len(x) == 0:
                return (lower + upper) / 2
            scale = (x.max() - x.min()) / (len(x) * epsilon)
            return float(np.clip(x.mean() + rng.laplace(0.0, scale), lower, upper))
        """,
    ),
    Wrong(
        "no clipping of the values",
        "clip every value",
        edited(
            DP_MEAN, "np.clip(np.asarray(values, float), lower, upper)", "np.asarray(values, float)"
        ),
    ),
    Wrong(
        "Laplace noise of scale (upper - lower) / epsilon on the mean",
        "swamps it",
        """
        def dp_mean(values, *, lower, upper, epsilon, rng):
            x = np.clip(np.asarray(values, float), lower, upper)
            centre = x.mean() if len(x) else (lower + upper) / 2
            return float(np.clip(centre + rng.laplace(0.0, (upper - lower) / epsilon), lower, upper))
        """,
    ),
    Wrong(
        "the exact number of records (noise on the sum only)",
        "number of records is private",
        """
        def dp_mean(values, *, lower, upper, epsilon, rng):
            x = np.clip(np.asarray(values, float), lower, upper)
            if len(x) == 0:
                return (lower + upper) / 2
            s = x.sum() + rng.laplace(0.0, max(abs(lower), abs(upper)) / epsilon)
            return float(np.clip(s / len(x), lower, upper))
        """,
    ),
    Wrong(
        "the inverted scale sensitivity * epsilon",
        "smaller epsilon",
        edited(DP_MEAN, "/ (epsilon / 2))", "* epsilon / 2)", ("2.0 / epsilon", "epsilon / 2")),
    ),
    Wrong(
        "the global np.random instead of rng",
        "the `rng` you are given",
        edited(
            DP_MEAN,
            "x.sum() + rng.laplace",
            "x.sum() + np.random.laplace",
            ("len(x) + rng.laplace", "len(x) + np.random.laplace"),
        ),
    ),
    Wrong(
        "no clamp: a noisy count near 0 gives a wild number",
        "clamp the result",
        edited(DP_MEAN, "float(np.clip(s / max(c, 1.0), lower, upper))", "float(s / c)"),
    ),
]

RIGHT = [
    Right(
        "a centred sum (sensitivity (upper - lower) / 2) and a 30/70 budget split",
        """
        def dp_mean(values, *, lower, upper, epsilon, rng):
            mid, half = (lower + upper) / 2, (upper - lower) / 2
            x = np.clip(np.asarray(values, float), lower, upper) - mid
            noisy_sum = x.sum() + rng.laplace(0.0, half / (0.7 * epsilon))
            noisy_n = x.size + rng.laplace(0.0, 1.0 / (0.3 * epsilon))
            if noisy_n < 1:
                return mid  # too few people to say more than the middle
            return float(min(upper, max(lower, mid + noisy_sum / noisy_n)))
        """,
    ),
    Right(
        "Laplace noise as a difference of two exponentials, in plain Python",
        """
        def dp_mean(values, *, lower, upper, epsilon, rng):
            def laplace(scale):
                return rng.exponential(scale) - rng.exponential(scale)

            total = sum(min(upper, max(lower, float(v))) for v in values)
            count = len(values)
            total += laplace(max(abs(lower), abs(upper)) * 2 / epsilon)
            count += laplace(2 / epsilon)
            estimate = total / max(count, 1.0)
            return min(upper, max(lower, estimate))
        """,
    ),
]

globals().update(
    challenge_tests("3.6", "03_dp_mechanisms", prelude=PRELUDE, wrong=WRONG, right=RIGHT)
)
