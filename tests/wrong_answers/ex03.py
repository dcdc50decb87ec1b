"""Wrong and unusual-but-correct answers of exercise set 03 (DP mechanisms)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import math

import numpy as np
"""

#: A correct answer to 3.1; each wrong answer written as ``edited(LAPLACE_MECHANISM, ...)`` is it
#: with one mistake.
LAPLACE_MECHANISM = """
def laplace_mechanism(value, *, sensitivity, epsilon, rng):
    return value + rng.laplace(0.0, sensitivity / epsilon, size=np.shape(value))
"""

#: A correct answer to 3.2; each wrong answer written as ``edited(GAUSSIAN_SIGMA, ...)`` is it with
#: one mistake.
GAUSSIAN_SIGMA = """
def gaussian_sigma(*, sensitivity, epsilon, delta):
    return math.sqrt(2 * math.log(1.25 / delta)) * sensitivity / epsilon
"""

#: A correct answer to 3.3; each wrong answer written as ``edited(EXPONENTIAL_MECHANISM, ...)`` is
#: it with one mistake.
EXPONENTIAL_MECHANISM = """
def exponential_mechanism(candidates, utilities, *, sensitivity, epsilon, rng):
    u = np.asarray(utilities, float)
    w = np.exp(epsilon * (u - u.max()) / (2 * sensitivity))
    return candidates[rng.choice(len(candidates), p=w / w.sum())]
"""

#: A correct answer to 3.4; each wrong answer written as ``edited(RR_ESTIMATE, ...)`` is it with
#: one mistake.
RR_ESTIMATE = """
def rr_estimate(responses, *, epsilon):
    p = math.exp(epsilon) / (1 + math.exp(epsilon))
    return float((np.mean(responses) - (1 - p)) / (2 * p - 1))
"""

#: A correct answer to 3.5; each wrong answer written as ``edited(SPLIT_BUDGET, ...)`` is it with
#: one mistake.
SPLIT_BUDGET = """
def split_budget(sensitivities, *, epsilon):
    w = np.asarray(sensitivities, float) ** (2 / 3)
    return epsilon * w / w.sum()
"""

WRONG = {
    "3.1": [
        Wrong(
            "scale sensitivity * epsilon",
            "smaller epsilon (more privacy) must give more noise",
            edited(LAPLACE_MECHANISM, "sensitivity / epsilon", "sensitivity * epsilon"),
        ),
        Wrong(
            "scale 1 / epsilon (sensitivity forgotten)",
            "by the sensitivity too",
            edited(LAPLACE_MECHANISM, "sensitivity / epsilon", "1.0 / epsilon"),
        ),
        Wrong(
            "Gaussian noise instead of Laplace",
            "not gaussian",
            edited(LAPLACE_MECHANISM, "rng.laplace(", "rng.normal("),
        ),
        Wrong(
            "the global np.random instead of rng",
            "the `rng` you are given",
            edited(LAPLACE_MECHANISM, "rng.laplace(", "np.random.laplace("),
        ),
        Wrong(
            "one noise draw shared by every entry",
            "every entry gets its own noise",
            edited(LAPLACE_MECHANISM, ", size=np.shape(value))", ")"),
        ),
        Wrong(
            "adds the noise in place (value += noise)",
            "not modified",
            """
            def laplace_mechanism(value, *, sensitivity, epsilon, rng):
                if np.ndim(value) == 0:
                    return value + rng.laplace(0.0, sensitivity / epsilon)
                value += rng.laplace(0.0, sensitivity / epsilon, size=np.shape(value))
                return value
            """,
        ),
        Wrong(
            "returns the noise alone",
            "returned the noise alone",
            """
            def laplace_mechanism(value, *, sensitivity, epsilon, rng):
                if np.ndim(value) == 0:
                    return value + rng.laplace(0.0, sensitivity / epsilon)
                return rng.laplace(0.0, sensitivity / epsilon, size=np.shape(value))
            """,
        ),
        Wrong(
            "passes the variance 2 b^2 as numpy's scale",
            "not the variance",
            edited(LAPLACE_MECHANISM, "sensitivity / epsilon", "2 * (sensitivity / epsilon) ** 2"),
        ),
        Wrong(
            "noise located at the value, added to the value again",
            "location 0",
            edited(LAPLACE_MECHANISM, "rng.laplace(0.0,", "rng.laplace(value,"),
        ),
    ],
    "3.2": [
        Wrong(
            "multiplies by epsilon",
            "divide by epsilon",
            edited(GAUSSIAN_SIGMA, "sensitivity / epsilon", "sensitivity * epsilon"),
        ),
        Wrong(
            "no square root",
            "square root",
            edited(
                GAUSSIAN_SIGMA,
                "math.sqrt(2 * math.log(1.25 / delta))",
                "2 * math.log(1.25 / delta)",
            ),
        ),
        Wrong(
            "sensitivity forgotten",
            "multiply by the sensitivity",
            edited(GAUSSIAN_SIGMA, " * sensitivity / epsilon", " / epsilon"),
        ),
        Wrong(
            "log10 instead of the natural log",
            "log10",
            edited(GAUSSIAN_SIGMA, "math.log(", "math.log10("),
        ),
        Wrong(
            "epsilon and delta swapped",
            "swapped epsilon and delta",
            edited(
                GAUSSIAN_SIGMA,
                "1.25 / delta",
                "1.25 / epsilon",
                ("sensitivity / epsilon", "sensitivity / delta"),
            ),
        ),
        Wrong(
            "returns the variance sigma^2",
            "not the variance",
            edited(GAUSSIAN_SIGMA, "return math", "return (math", ("/ epsilon", "/ epsilon) ** 2")),
        ),
        Wrong(
            "returns a formatted string",
            "one number",
            edited(
                GAUSSIAN_SIGMA, "return math", 'return f"{math', ("/ epsilon", '/ epsilon:.4f}"')
            ),
        ),
    ],
    "3.3": [
        Wrong(
            "always the best candidate (argmax)",
            "not private",
            """
            def exponential_mechanism(candidates, utilities, *, sensitivity, epsilon, rng):
                rng.random()
                return candidates[int(np.argmax(utilities))]
            """,
        ),
        Wrong(
            "exp(-epsilon * u / 2s): favours low utility",
            "favour high utility",
            edited(
                EXPONENTIAL_MECHANISM,
                "np.exp(epsilon * (u - u.max())",
                "np.exp(-epsilon * (u - u.min())",
            ),
        ),
        Wrong(
            "the factor 2 missing",
            "missing factor 2",
            edited(EXPONENTIAL_MECHANISM, "(2 * sensitivity))", "sensitivity)"),
        ),
        Wrong(
            "the sensitivity ignored",
            "ignoring the sensitivity",
            edited(EXPONENTIAL_MECHANISM, "(2 * sensitivity))", "2)"),
        ),
        Wrong(
            "a uniform choice",
            "uniform choice",
            edited(EXPONENTIAL_MECHANISM, ", p=w / w.sum())]", ")]"),
        ),
        Wrong(
            "no max subtraction: exp(5000) overflows",
            "overflow",
            """
            def exponential_mechanism(candidates, utilities, *, sensitivity, epsilon, rng):
                with np.errstate(over="ignore", invalid="ignore"):
                    w = np.exp(epsilon * np.asarray(utilities, float) / (2 * sensitivity))
                    return candidates[rng.choice(len(candidates), p=w / w.sum())]
            """,
        ),
        Wrong(
            "returns the index instead of the candidate",
            "not the index",
            edited(
                EXPONENTIAL_MECHANISM,
                "candidates[rng.choice(len(candidates), p=w / w.sum())]",
                "int(rng.choice(len(candidates), p=w / w.sum()))",
            ),
        ),
        Wrong(
            "the global random module instead of rng",
            "the `rng` you are given",
            edited(
                EXPONENTIAL_MECHANISM,
                "def exponential_mechanism(",
                "import random\n\n\ndef exponential_mechanism(",
                (
                    "return candidates[rng.choice(len(candidates), p=w / w.sum())]",
                    "return random.choices(candidates, weights=w)[0]",
                ),
            ),
        ),
    ],
    "3.4": [
        Wrong(
            "the raw mean of the reports",
            "biased towards 1/2",
            """
            def rr_estimate(responses, *, epsilon):
                return float(np.mean(responses))
            """,
        ),
        Wrong(
            "p = 1 / (1 + e^eps): the probability of lying",
            "telling the truth",
            edited(RR_ESTIMATE, "= math.exp(epsilon) /", "= 1 /"),
        ),
        Wrong(
            "clips the estimate to [0, 1]",
            "do not clip",
            edited(
                RR_ESTIMATE,
                "float((np.mean(responses) - (1 - p)) / (2 * p -",
                "float(np.clip((np.mean(responses) - (1 - p)) / (2 * p - 1), 0,",
            ),
        ),
        Wrong(
            "forgets to divide by 2p - 1",
            "divide by (2p - 1)",
            edited(
                RR_ESTIMATE,
                "float((np.mean(responses) - (1 - p)) / (2 * p - 1))",
                "float(np.mean(responses) - (1 - p))",
            ),
        ),
        Wrong(
            "returns one de-biased value per response",
            "returns one number",
            edited(
                RR_ESTIMATE,
                "float((np.mean(responses) - (1 - p)) / (2 * p - 1))",
                "(np.asarray(responses, float) - (1 - p)) / (2 * p - 1)",
            ),
        ),
        Wrong(
            "divides by p instead of 2p - 1",
            "not by p",
            edited(RR_ESTIMATE, "(2 * p - 1))", "p)"),
        ),
    ],
    "3.5": [
        Wrong(
            "an equal split",
            "equal split",
            """
            def split_budget(sensitivities, *, epsilon):
                return np.full(len(sensitivities), epsilon / len(sensitivities))
            """,
        ),
        Wrong(
            "proportional to the sensitivity",
            "proportional to the sensitivity",
            edited(
                SPLIT_BUDGET,
                "w = np.asarray(sensitivities, float) ** (2 / 3)",
                "s = np.asarray(sensitivities, float)",
                ("* w / w.sum()", "* s / s.sum()"),
            ),
        ),
        Wrong(
            "the whole budget for every query",
            "add up",
            """
            def split_budget(sensitivities, *, epsilon):
                return np.full(len(sensitivities), float(epsilon))
            """,
        ),
        Wrong(
            "proportional to sqrt(sensitivity)",
            "s_i^0.5",
            edited(
                SPLIT_BUDGET,
                "np.asarray(sensitivities, float) ** (2 / 3)",
                "np.sqrt(np.asarray(sensitivities, float))",
            ),
        ),
        Wrong(
            "keeps 10 % of the budget back",
            "unspent",
            edited(SPLIT_BUDGET, "return epsilon *", "return 0.9 * epsilon *"),
        ),
        Wrong(
            "inversely proportional to the sensitivity",
            "s_i^-1",
            edited(
                SPLIT_BUDGET,
                "np.asarray(sensitivities, float) ** (2 / 3)",
                "1 / np.asarray(sensitivities, float)",
            ),
        ),
    ],
}

RIGHT = {
    "3.1": [
        Right(
            "inverse-CDF sampling from rng.random",
            """
            def laplace_mechanism(value, *, sensitivity, epsilon, rng):
                u = rng.random(np.shape(value)) - 0.5
                b = sensitivity / epsilon
                return value - b * np.sign(u) * np.log1p(-2 * np.abs(u))
            """,
        ),
        Right(
            "difference of two exponentials",
            """
            def laplace_mechanism(value, *, sensitivity, epsilon, rng):
                b = sensitivity / epsilon
                shape = np.shape(value)
                return np.add(value, rng.exponential(b, shape) - rng.exponential(b, shape))
            """,
        ),
    ],
    "3.2": [
        Right(
            "the analytic Gaussian mechanism by bisection (less noise, still private)",
            """
            from scipy.stats import norm

            def gaussian_sigma(*, sensitivity, epsilon, delta):
                def leak(sigma):
                    s = sigma / sensitivity
                    return (norm.cdf(0.5 / s - epsilon * s)
                            - math.exp(epsilon) * norm.cdf(-0.5 / s - epsilon * s))

                lo, hi = 1e-3 * sensitivity, math.sqrt(2 * math.log(1.25 / delta)) * sensitivity / epsilon
                for _ in range(100):
                    mid = (lo + hi) / 2
                    lo, hi = (lo, mid) if leak(mid) <= delta else (mid, hi)
                return hi
            """,
        ),
        Right(
            "numpy with the formula rearranged",
            """
            def gaussian_sigma(*, sensitivity, epsilon, delta):
                return np.sqrt(np.log(1.5625 / delta**2)) * (sensitivity / epsilon)
            """,
        ),
    ],
    "3.3": [
        Right(
            "the Gumbel-max trick",
            """
            def exponential_mechanism(candidates, utilities, *, sensitivity, epsilon, rng):
                u = np.asarray(utilities, float)
                keys = epsilon * u / (2 * sensitivity) + rng.gumbel(size=len(u))
                return candidates[int(np.argmax(keys))]
            """,
        ),
        Right(
            "inverse CDF with a log-sum-exp normalisation",
            """
            from scipy.special import logsumexp

            def exponential_mechanism(candidates, utilities, *, sensitivity, epsilon, rng):
                logits = epsilon * np.asarray(utilities, float) / (2 * sensitivity)
                probs = np.exp(logits - logsumexp(logits))
                i = int(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum()))
                return candidates[min(i, len(candidates) - 1)]
            """,
        ),
    ],
    "3.4": [
        Right(
            "rearranged with e^eps directly",
            """
            def rr_estimate(responses, *, epsilon):
                e = math.exp(epsilon)
                m = sum(bool(r) for r in responses) / len(responses)
                return (m * (e + 1) - 1) / (e - 1)
            """,
        ),
        Right(
            "solving the 1x1 linear system",
            """
            def rr_estimate(responses, *, epsilon):
                p = 1 / (1 + math.exp(-epsilon))
                mean = np.asarray(responses, dtype=float).mean()
                return float(np.linalg.solve([[2 * p - 1]], [mean - 1 + p])[0])
            """,
        ),
    ],
    "3.5": [
        Right(
            "cube roots of the squared sensitivities",
            """
            def split_budget(sensitivities, *, epsilon):
                w = np.cbrt(np.square(sensitivities))
                return w * (epsilon / w.sum())
            """,
        ),
        Right(
            "scipy.optimize.minimize under the budget constraint",
            """
            from scipy.optimize import minimize

            def split_budget(sensitivities, *, epsilon):
                s = np.asarray(sensitivities, float)
                start = np.full(len(s), epsilon / len(s))
                res = minimize(lambda e: np.sum(2 * (s / e) ** 2), start, method="SLSQP",
                               bounds=[(1e-9, epsilon)] * len(s),
                               constraints=[{"type": "eq", "fun": lambda e: e.sum() - epsilon}],
                               options={"ftol": 1e-12, "maxiter": 500})
                return res.x * epsilon / max(res.x.sum(), epsilon)
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(3, PRELUDE, WRONG, RIGHT),
    "3.6",
    importlib.import_module("tests.test_challenge_03"),  # the challenge's answers live there
)
