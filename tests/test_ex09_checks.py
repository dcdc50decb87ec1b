"""Exercise set 09: each check passes the reference answer and correct answers written
differently, and fails the typical mistakes with a hint naming that mistake (one test per
question)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy import optimize

from course_utils.attacks import aggregates
from course_utils.checks import REGISTRY, run_check
from course_utils.privacy import local, mechanisms
from tests.check_support import fails_with as _fails_with
from tests.check_support import passes, solution_namespace

# This set's feedback may quote the value the answer returned: look for hint words there too.
fails_with = partial(_fails_with, search_got=True)

SOL = solution_namespace("09_dp_in_the_wild", np=np, math=math)


def test_set09_is_registered_with_points() -> None:
    qs = [REGISTRY[q] for q in ("9.1", "9.2", "9.3", "9.4")]
    assert [q.points for q in qs] == [2, 2, 2, 3]
    assert [q.answer for q in qs] == [
        "reconstruct",
        "report_noisy_max",
        "grr_estimate",
        "above_threshold",
    ]
    assert all(q.reference for q in qs)
    assert "9.5" not in REGISTRY


# --------------------------------------------------------------------------------------- 9.1
def _lstsq(Q, answers):
    return np.linalg.lstsq(np.asarray(Q, float), np.asarray(answers, float), rcond=None)[0]


def test_9_1_reconstruct() -> None:
    passes("9.1", SOL["reconstruct"])
    passes("9.1", aggregates.reconstruct_bits)

    def linear_programme(Q, answers):  # Dinur-Nissim's LP: smallest largest residual, x in [0, 1]
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

    passes("9.1", linear_programme)

    def bounded_least_squares(Q, answers):  # box-constrained least squares, returns booleans
        return optimize.lsq_linear(Q, answers, bounds=(0.0, 1.0)).x > 0.5

    passes("9.1", bounded_least_squares)

    def normal_equations(Q, answers):
        return (np.linalg.solve(Q.T @ Q, Q.T @ answers) > 0.5).astype(float)

    passes("9.1", normal_equations)

    def no_rounding(Q, answers):
        return _lstsq(Q, answers)

    fails_with("9.1", no_rounding, "round", "x > 0.5")

    def np_round(Q, answers):  # values outside [0, 1] round to -1 or 2
        x = _lstsq(Q, answers)
        return np.round(x * 1.6 - 0.3)

    fails_with("9.1", np_round, "outside [0, 1]")

    def correlation(Q, answers):
        c = Q.T @ answers
        return (c > np.median(c)).astype(int)

    fails_with("9.1", correlation, "Q.T @ answers", "lstsq")

    def median_threshold(Q, answers):
        x = _lstsq(Q, answers)
        return (x > np.median(x)).astype(int)

    fails_with("9.1", median_threshold, "median", "15 %")

    def truncated(Q, answers):
        return np.clip(_lstsq(Q, answers), 0, 1).astype(int)

    fails_with("9.1", truncated, "astype(int) truncates")

    def per_query(Q, answers):
        return (np.asarray(answers) > np.median(answers)).astype(int)

    fails_with("9.1", per_query, "columns of Q")

    def in_place(Q, answers):
        answers -= 0.0 * answers.mean()
        Q *= 1.0
        answers[0] += 0.0
        answers += 1e-9
        return (_lstsq(Q, answers) > 0.5).astype(int)

    fails_with("9.1", in_place, "not modified")


# --------------------------------------------------------------------------------------- 9.2
def test_9_2_report_noisy_max() -> None:
    passes("9.2", SOL["report_noisy_max"])
    passes("9.2", partial(mechanisms.report_noisy_max))

    def gumbel(scores, *, epsilon, sensitivity, rng):  # = the exponential mechanism
        s = np.asarray(scores, float)
        return int(np.argmax(s + rng.gumbel(0.0, 2 * sensitivity / epsilon, size=s.size)))

    passes("9.2", gumbel)

    def exponential_noise(
        scores, *, epsilon, sensitivity, rng
    ):  # one-sided noise (permute-and-flip's law)
        s = np.asarray(scores, float)
        return int(np.argmax(s + rng.exponential(2 * sensitivity / epsilon, size=s.size)))

    passes("9.2", exponential_noise)

    def difference_of_exponentials(scores, *, epsilon, sensitivity, rng):  # Laplace drawn by hand
        b = 2 * sensitivity / epsilon
        noisy = [s + rng.exponential(b) - rng.exponential(b) for s in scores]
        return noisy.index(max(noisy))

    passes("9.2", difference_of_exponentials)

    def no_noise(scores, *, epsilon, sensitivity, rng):
        return int(np.argmax(scores))

    fails_with("9.2", no_noise, "always returning the largest", "every score")

    def shared_noise(scores, *, epsilon, sensitivity, rng):  # one draw added to all: same argmax
        return int(
            np.argmax(np.asarray(scores, float) + rng.laplace(0.0, 2 * sensitivity / epsilon))
        )

    fails_with("9.2", shared_noise, "fresh noise to every score")

    def monotone_scale(scores, *, epsilon, sensitivity, rng):  # forgot the factor 2
        s = np.asarray(scores, float)
        return int(np.argmax(s + rng.laplace(0.0, sensitivity / epsilon, size=s.size)))

    fails_with("9.2", monotone_scale, "sensitivity / epsilon", "same direction", "2 * sensitivity")

    def inverted_scale(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        return int(np.argmax(s + rng.laplace(0.0, 2 * sensitivity * epsilon, size=s.size)))

    fails_with("9.2", inverted_scale, "more noise")

    def noisy_value(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        return float(np.max(s + rng.laplace(0.0, 2 * sensitivity / epsilon, size=s.size)))

    fails_with("9.2", noisy_value, "index")

    def too_much_noise(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        return int(np.argmax(s + rng.laplace(0.0, 20 * sensitivity / epsilon, size=s.size)))

    fails_with("9.2", too_much_noise, "too much noise")

    def global_state(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        return int(
            np.argmax(
                s + np.random.default_rng().laplace(0.0, 2 * sensitivity / epsilon, size=s.size)
            )
        )

    fails_with("9.2", global_state, "rng")


# --------------------------------------------------------------------------------------- 9.3
def test_9_3_grr_estimate() -> None:
    passes("9.3", SOL["grr_estimate"])
    passes("9.3", local.grr_estimate)

    def channel_inverse(reports, k, *, epsilon):  # invert the k x k channel matrix
        e = math.exp(epsilon)
        channel = np.full((k, k), 1 / (e + k - 1)) + np.eye(k) * (e - 1) / (e + k - 1)
        return np.linalg.solve(channel, np.bincount(reports, minlength=k).astype(float))

    passes("9.3", channel_inverse)

    def loop(reports, k, *, epsilon):  # one value at a time, a plain list, q = (1 - p) / (k - 1)
        p = math.exp(epsilon) / (math.exp(epsilon) + k - 1)
        q = (1 - p) / (k - 1)
        n = len(reports)
        return [(sum(1 for r in reports if r == v) - n * q) / (p - q) for v in range(k)]

    passes("9.3", loop)

    def raw_counts(reports, k, *, epsilon):
        return np.bincount(reports, minlength=k).astype(float)

    fails_with("9.3", raw_counts, "biased", "n * q")

    def fractions(reports, k, *, epsilon):
        return SOL["grr_estimate"](reports, k, epsilon=epsilon) / len(reports)

    fails_with("9.3", fractions, "counts", "not fractions")

    def binary_rr(reports, k, *, epsilon):
        p = math.exp(epsilon) / (1 + math.exp(epsilon))
        return (np.bincount(reports, minlength=k) - len(reports) * (1 - p)) / (2 * p - 1)

    fails_with("9.3", binary_rr, "e^eps + k - 1")

    def q_over_k(reports, k, *, epsilon):
        p = math.exp(epsilon) / (math.exp(epsilon) + k - 1)
        q = (1 - p) / k
        return (np.bincount(reports, minlength=k) - len(reports) * q) / (p - q)

    fails_with("9.3", q_over_k, "(k - 1)")

    def clipped(reports, k, *, epsilon):
        return np.clip(SOL["grr_estimate"](reports, k, epsilon=epsilon), 0, None)

    fails_with("9.3", clipped, "clip")

    def no_minlength(reports, k, *, epsilon):
        e = math.exp(epsilon)
        p, q = e / (e + k - 1), 1 / (e + k - 1)
        return (np.bincount(reports) - len(reports) * q) / (p - q)

    fails_with("9.3", no_minlength, "minlength")

    def rounded_up(reports, k, *, epsilon):  # biased: every estimate rounded up
        return np.ceil(SOL["grr_estimate"](reports, k, epsilon=epsilon) + 0.5)

    fails_with("9.3", rounded_up, "n_v")


# --------------------------------------------------------------------------------------- 9.4
def _at(answers, threshold, epsilon, rng, *, t_scale=2.0, a_scale=4.0, redraw=False):
    noisy_t = threshold + rng.laplace(0.0, t_scale / epsilon)
    for i, a in enumerate(answers):
        if redraw:
            noisy_t = threshold + rng.laplace(0.0, t_scale / epsilon)
        noise = rng.laplace(0.0, a_scale / epsilon) if a_scale else 0.0
        if a + noise >= noisy_t:
            return i
    return None


def test_9_4_above_threshold() -> None:
    passes("9.4", SOL["above_threshold"])

    def vectorised(answers, threshold, *, epsilon, rng):  # all noise drawn up front
        a = np.asarray(answers, float)
        rho = rng.laplace(0.0, 2 / epsilon)
        hits = np.flatnonzero(a + rng.laplace(0.0, 4 / epsilon, size=a.size) >= threshold + rho)
        return int(hits[0]) if hits.size else None

    passes("9.4", vectorised)

    def via_library(answers, threshold, *, epsilon, rng):  # the course's SVT, general queries
        flags = mechanisms.sparse_vector(answers, threshold, epsilon=epsilon, rng=rng)
        return len(flags) - 1 if flags[-1] else None

    passes("9.4", via_library)

    def exponential_differences(answers, threshold, *, epsilon, rng):  # Laplace by hand, while loop
        rho = rng.exponential(2 / epsilon) - rng.exponential(2 / epsilon)
        i = 0
        while i < len(answers):
            if (
                answers[i] + rng.exponential(4 / epsilon) - rng.exponential(4 / epsilon)
                >= threshold + rho
            ):
                return np.int64(i)
            i += 1
        return None

    passes("9.4", exponential_differences)

    def no_answer_noise(answers, threshold, *, epsilon, rng):  # the published broken variant
        return _at(answers, threshold, epsilon, rng, a_scale=0.0)

    fails_with("9.4", no_answer_noise, "no noise on the answers", "broken")

    def no_threshold_noise(answers, threshold, *, epsilon, rng):
        return _at(answers, threshold, epsilon, rng, t_scale=1e-12)

    fails_with("9.4", no_threshold_noise, "no threshold noise", "once, before the loop")

    def redrawn_threshold(answers, threshold, *, epsilon, rng):
        return _at(answers, threshold, epsilon, rng, redraw=True)

    fails_with("9.4", redrawn_threshold, "a new one for every answer", "once, before the loop")

    def monotone_scale(answers, threshold, *, epsilon, rng):
        return _at(answers, threshold, epsilon, rng, a_scale=2.0)

    fails_with("9.4", monotone_scale, "2 / epsilon", "opposite directions")

    def swapped(answers, threshold, *, epsilon, rng):
        return _at(answers, threshold, epsilon, rng, t_scale=4.0, a_scale=2.0)

    fails_with("9.4", swapped, "swapped")

    def largest(answers, threshold, *, epsilon, rng):
        a = np.asarray(answers, float) + rng.laplace(0.0, 4 / epsilon, size=len(answers))
        return int(np.argmax(a)) if a.max() >= threshold + rng.laplace(0.0, 2 / epsilon) else None

    fails_with("9.4", largest, "first", "not the largest")

    def flags(answers, threshold, *, epsilon, rng):
        rho = rng.laplace(0.0, 2 / epsilon)
        return [bool(a + rng.laplace(0.0, 4 / epsilon) >= threshold + rho) for a in answers]

    fails_with("9.4", flags, "not a list of flags")

    def minus_one(answers, threshold, *, epsilon, rng):
        out = SOL["above_threshold"](answers, threshold, epsilon=epsilon, rng=rng)
        return -1 if out is None else out

    fails_with("9.4", minus_one, "return None")


def test_checks_never_crash_on_junk() -> None:
    """Answers that raise or return junk give a failed result, never an exception."""
    for qid in ("9.1", "9.2", "9.3", "9.4"):
        r = run_check(qid, lambda *a, **k: "junk")
        assert r.status == "failed" and r.points == 0, r

        def boom(*a, **k):
            raise ZeroDivisionError("boom")

        r = run_check(qid, boom)
        assert r.status == "failed" and "ZeroDivisionError" in r.message, r


def test_unseeded_answers_fail_every_time() -> None:
    """The rng checks compare five seeds: an answer ignoring rng cannot pass by luck."""

    def rnm_global(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        return int(
            np.argmax(
                s + np.random.default_rng().laplace(0, 2 * sensitivity / epsilon, size=s.size)
            )
        )

    def at_global(answers, threshold, *, epsilon, rng):
        return SOL["above_threshold"](
            answers, threshold, epsilon=epsilon, rng=np.random.default_rng()
        )

    for _ in range(5):
        fails_with("9.2", rnm_global, "rng")
        fails_with("9.4", at_global, "rng")
