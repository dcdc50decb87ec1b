"""Wrong and unusual-but-correct answers of exercise set 09 (DP in the wild)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import math

import numpy as np


def _lstsq(Q, answers):
    return np.linalg.lstsq(np.asarray(Q, float), np.asarray(answers, float), rcond=None)[0]
"""

#: A correct answer to 9.1; each wrong answer written as ``edited(RECONSTRUCT, ...)`` is it with
#: one mistake.
RECONSTRUCT = """
def reconstruct(Q, answers):
    return (_lstsq(Q, answers) > 0.5).astype(int)
"""

#: A correct answer to 9.3; each wrong answer written as ``edited(GRR_ESTIMATE, ...)`` is it with
#: one mistake.
GRR_ESTIMATE = """
def grr_estimate(reports, k, *, epsilon):
    e = math.exp(epsilon)
    p, q = e / (e + k - 1), 1 / (e + k - 1)
    return (np.bincount(reports, minlength=k) - len(reports) * q) / (p - q)
"""

#: A correct answer to 9.4; each wrong answer written as ``edited(ABOVE_THRESHOLD, ...)`` is it
#: with one mistake.
ABOVE_THRESHOLD = """
def above_threshold(answers, threshold, *, epsilon, rng):
    noisy_threshold = threshold + rng.laplace(0.0, 2 / epsilon)
    for i, a in enumerate(answers):
        if a + rng.laplace(0.0, 4 / epsilon) >= noisy_threshold:
            return i
    return None
"""

#: A correct answer to 9.2; each wrong answer written as ``edited(REPORT_NOISY_MAX, ...)`` is it
#: with one mistake.
REPORT_NOISY_MAX = """
def report_noisy_max(scores, *, epsilon, sensitivity, rng):
    s = np.asarray(scores, float)
    return int(np.argmax(s + rng.laplace(0.0, 2 * sensitivity / epsilon, size=s.size)))
"""

WRONG = {
    "9.1": [
        Wrong(
            "the least-squares solution without rounding",
            "round each entry",
            edited(RECONSTRUCT, "(_lstsq(Q, answers) > 0.5).astype(int)", "_lstsq(Q, answers)"),
        ),
        Wrong(
            "np.round of values outside [0, 1]",
            "outside [0, 1] gives -1 or 2",
            """
            def reconstruct(Q, answers):
                return np.round(_lstsq(Q, answers) * 1.6 - 0.3)
            """,
        ),
        Wrong(
            "correlates people with the answers (Q.T @ answers) instead of solving",
            "q.t @ answers only correlates",
            """
            def reconstruct(Q, answers):
                c = Q.T @ answers
                return (c > np.median(c)).astype(int)
            """,
        ),
        Wrong(
            "thresholds at the median of x instead of 1/2",
            "not at the median or mean",
            """
            def reconstruct(Q, answers):
                x = _lstsq(Q, answers)
                return (x > np.median(x)).astype(int)
            """,
        ),
        Wrong(
            "astype(int) truncates instead of rounding",
            "astype(int) truncates",
            """
            def reconstruct(Q, answers):
                return np.clip(_lstsq(Q, answers), 0, 1).astype(int)
            """,
        ),
        Wrong(
            "one guess per query (the rows of Q) instead of per person",
            "columns of q (people), not its rows",
            """
            def reconstruct(Q, answers):
                return (np.asarray(answers) > np.median(answers)).astype(int)
            """,
        ),
        Wrong(
            "changes the answers in place",
            "are not modified",
            edited(RECONSTRUCT, "    return", "    answers += 1e-9\n    return"),
        ),
        Wrong(
            "returns booleans as strings",
            "one number per person",
            """
            def reconstruct(Q, answers):
                return ["yes" if v > 0.5 else "no" for v in _lstsq(Q, answers)]
            """,
        ),
    ],
    "9.2": [
        Wrong(
            "no noise: always the largest score",
            "always returning the largest score is not private",
            """
            def report_noisy_max(scores, *, epsilon, sensitivity, rng):
                return int(np.argmax(scores))
            """,
        ),
        Wrong(
            "one noise draw shared by every score",
            "fresh noise to every score",
            edited(REPORT_NOISY_MAX, ", size=s.size)", ")"),
        ),
        Wrong(
            "scale sensitivity / epsilon (the factor 2 forgotten)",
            "only when all scores move in the same direction",
            edited(REPORT_NOISY_MAX, "2 * sensitivity", "sensitivity"),
        ),
        Wrong(
            "scale 2 * sensitivity * epsilon",
            "must give more noise",
            edited(REPORT_NOISY_MAX, "sensitivity / epsilon,", "sensitivity * epsilon,"),
        ),
        Wrong(
            "returns the largest noisy score, not its index",
            "not the noisy score itself",
            edited(REPORT_NOISY_MAX, "int(np.argmax(s", "float(np.max(s"),
        ),
        Wrong(
            "ten times too much noise",
            "too much noise",
            edited(REPORT_NOISY_MAX, "rng.laplace(0.0, 2 *", "rng.laplace(0.0, 20 *"),
        ),
        Wrong(
            "a fresh default_rng() instead of the rng argument",
            "the `rng` you are given",
            edited(REPORT_NOISY_MAX, "s + rng.laplace(", "s + np.random.default_rng().laplace("),
        ),
    ],
    "9.3": [
        Wrong(
            "the raw report counts",
            "biased towards uniform",
            """
            def grr_estimate(reports, k, *, epsilon):
                return np.bincount(reports, minlength=k).astype(float)
            """,
        ),
        Wrong(
            "fractions instead of counts",
            "not fractions",
            edited(GRR_ESTIMATE, "- len(reports) *", "/ len(reports) -"),
        ),
        Wrong(
            "binary randomized response's p = e^eps / (1 + e^eps)",
            "not e^eps / (1 + e^eps)",
            """
            def grr_estimate(reports, k, *, epsilon):
                p = math.exp(epsilon) / (1 + math.exp(epsilon))
                return (np.bincount(reports, minlength=k) - len(reports) * (1 - p)) / (2 * p - 1)
            """,
        ),
        Wrong(
            "q = (1 - p) / k instead of (1 - p) / (k - 1)",
            "not (1 - p) / k",
            edited(
                GRR_ESTIMATE,
                "e = math.exp(epsilon)",
                "p = math.exp(epsilon) / (math.exp(epsilon) + k - 1)",
                ("p, q = e / (e + k - 1), 1 / (e + k - 1)", "q = (1 - p) / k"),
            ),
        ),
        Wrong(
            "negative estimates clipped to 0",
            "do not clip negative estimates",
            edited(
                GRR_ESTIMATE,
                "return (np.bincount",
                "return np.clip((np.bincount",
                ("/ (p - q)", "/ (p - q), 0, None)"),
            ),
        ),
        Wrong(
            "np.bincount without minlength",
            "minlength=k",
            edited(GRR_ESTIMATE, "(np.bincount(reports, minlength=k)", "(np.bincount(reports)"),
        ),
        Wrong(
            "every estimate rounded up",
            "look rounded",
            edited(
                GRR_ESTIMATE,
                "return (np.bincount",
                "return np.ceil(0.5 + (np.bincount",
                ("/ (p - q)", "/ (p - q))"),
            ),
        ),
    ],
    "9.4": [
        Wrong(
            "no noise on the answers (a published broken variant)",
            "no noise on the answers",
            edited(ABOVE_THRESHOLD, "+ rng.laplace(0.0, 4 / epsilon) >=", ">="),
        ),
        Wrong(
            "no threshold noise",
            "no threshold noise",
            edited(
                ABOVE_THRESHOLD,
                "    noisy_threshold = threshold + rng.laplace(0.0, 2 / epsilon)\n",
                "",
                ("noisy_threshold:", "threshold:"),
            ),
        ),
        Wrong(
            "a new threshold noise for every answer",
            "a new one for every answer",
            edited(
                ABOVE_THRESHOLD,
                "    noisy_threshold = threshold + rng.laplace(0.0, 2 / epsilon)\n",
                "",
                (
                    "    for i, a in enumerate(answers):\n",
                    "    for i, a in enumerate(answers):\n"
                    "        noisy_threshold = threshold + rng.laplace(0.0, 2 / epsilon)\n",
                ),
            ),
        ),
        Wrong(
            "answer noise of scale 2 / epsilon",
            "opposite directions",
            edited(ABOVE_THRESHOLD, "rng.laplace(0.0, 4 /", "rng.laplace(0.0, 2 /"),
        ),
        Wrong(
            "the two scales swapped",
            "the two scales swapped",
            edited(
                ABOVE_THRESHOLD,
                "rng.laplace(0.0, 2 /",
                "rng.laplace(0.0, 4 /",
                ("a + rng.laplace(0.0, 4 / epsilon) >=", "a + rng.laplace(0.0, 2 / epsilon) >="),
            ),
        ),
        Wrong(
            "the largest noisy answer instead of the first",
            "not the largest",
            """
            def above_threshold(answers, threshold, *, epsilon, rng):
                a = np.asarray(answers, float) + rng.laplace(0.0, 4 / epsilon, size=len(answers))
                if a.max() >= threshold + rng.laplace(0.0, 2 / epsilon):
                    return int(np.argmax(a))
                return None
            """,
        ),
        Wrong(
            "a list of flags instead of one index",
            "not a list of flags",
            """
            def above_threshold(answers, threshold, *, epsilon, rng):
                rho = rng.laplace(0.0, 2 / epsilon)
                return [bool(a + rng.laplace(0.0, 4 / epsilon) >= threshold + rho) for a in answers]
            """,
        ),
        Wrong(
            "-1 instead of None when nothing is above",
            "not -1 or len(answers)",
            edited(ABOVE_THRESHOLD, "return None", "return -1"),
        ),
        Wrong(
            "a fresh default_rng() instead of the rng argument",
            "the `rng` you are given",
            edited(
                ABOVE_THRESHOLD,
                "    noisy_threshold = threshold + rng.laplace(",
                "    g = np.random.default_rng()\n    noisy_threshold = threshold + g.laplace(",
                ("a + rng.laplace(", "a + g.laplace("),
            ),
        ),
    ],
}

RIGHT = {
    "9.1": [
        Right(
            "Dinur and Nissim's linear programme (smallest largest residual)",
            """
            from scipy import optimize


            def reconstruct(Q, answers):
                m, n = Q.shape
                a_ub = np.vstack([np.hstack([Q, -np.ones((m, 1))]), np.hstack([-Q, -np.ones((m, 1))])])
                res = optimize.linprog(
                    np.r_[np.zeros(n), 1.0],
                    A_ub=a_ub,
                    b_ub=np.r_[answers, -answers],
                    bounds=[(0, 1)] * n + [(0, None)],
                    method="highs",
                )
                return np.where(res.x[:n] >= 0.5, 1, 0)
            """,
        ),
        Right(
            "box-constrained least squares, returning booleans",
            """
            from scipy import optimize


            def reconstruct(Q, answers):
                return optimize.lsq_linear(Q, answers, bounds=(0.0, 1.0)).x > 0.5
            """,
        ),
        Right(
            "the normal equations, returning floats",
            """
            def reconstruct(Q, answers):
                return (np.linalg.solve(Q.T @ Q, Q.T @ answers) > 0.5).astype(float)
            """,
        ),
    ],
    "9.2": [
        Right(
            "Gumbel noise (the exponential mechanism)",
            """
            def report_noisy_max(scores, *, epsilon, sensitivity, rng):
                s = np.asarray(scores, float)
                return int(np.argmax(s + rng.gumbel(0.0, 2 * sensitivity / epsilon, size=s.size)))
            """,
        ),
        Right(
            "one-sided exponential noise (permute-and-flip's law)",
            """
            def report_noisy_max(scores, *, epsilon, sensitivity, rng):
                s = np.asarray(scores, float)
                return int(np.argmax(s + rng.exponential(2 * sensitivity / epsilon, size=s.size)))
            """,
        ),
        Right(
            "Laplace drawn by hand as a difference of exponentials, a plain list",
            """
            def report_noisy_max(scores, *, epsilon, sensitivity, rng):
                b = 2 * sensitivity / epsilon
                noisy = [s + rng.exponential(b) - rng.exponential(b) for s in scores]
                return noisy.index(max(noisy))
            """,
        ),
    ],
    "9.3": [
        Right(
            "inverting the k x k channel matrix",
            """
            def grr_estimate(reports, k, *, epsilon):
                e = math.exp(epsilon)
                channel = np.full((k, k), 1 / (e + k - 1)) + np.eye(k) * (e - 1) / (e + k - 1)
                return np.linalg.solve(channel, np.bincount(reports, minlength=k).astype(float))
            """,
        ),
        Right(
            "one value at a time, a plain list, q = (1 - p) / (k - 1)",
            """
            def grr_estimate(reports, k, *, epsilon):
                p = math.exp(epsilon) / (math.exp(epsilon) + k - 1)
                q = (1 - p) / (k - 1)
                n = len(reports)
                return [(sum(1 for r in reports if r == v) - n * q) / (p - q) for v in range(k)]
            """,
        ),
    ],
    "9.4": [
        Right(
            "every noise value drawn up front, vectorised",
            """
            def above_threshold(answers, threshold, *, epsilon, rng):
                a = np.asarray(answers, float)
                rho = rng.laplace(0.0, 2 / epsilon)
                noisy = a + rng.laplace(0.0, 4 / epsilon, size=a.size)
                hits = np.flatnonzero(noisy >= threshold + rho)
                return int(hits[0]) if hits.size else None
            """,
        ),
        Right(
            "Laplace as a difference of exponentials, a while loop, a numpy int",
            """
            def above_threshold(answers, threshold, *, epsilon, rng):
                rho = rng.exponential(2 / epsilon) - rng.exponential(2 / epsilon)
                i = 0
                while i < len(answers):
                    nu = rng.exponential(4 / epsilon) - rng.exponential(4 / epsilon)
                    if answers[i] + nu >= threshold + rho:
                        return np.int64(i)
                    i += 1
                return None
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(9, PRELUDE, WRONG, RIGHT),
    "9.5",
    importlib.import_module("tests.test_challenge_09"),  # the challenge's answers live there
)
