"""Exercise set 03: each check passes the reference answer and correct answers written
differently, and fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from scipy import optimize

from course_utils.checks import REGISTRY, run_check
from course_utils.privacy import mechanisms as lib
from tests.check_support import fails_with as _fails_with
from tests.check_support import passes, solution_namespace

# This set's feedback may quote the value the answer returned: look for hint words there too.
fails_with = partial(_fails_with, search_got=True)

SOL = solution_namespace("03_dp_mechanisms", np=np, math=math)


def test_set03_is_registered_with_points() -> None:
    qs = {q: REGISTRY[q] for q in ("3.1", "3.2", "3.3", "3.4", "3.5")}
    assert [q.points for q in qs.values()] == [2, 1, 2, 2, 2]
    assert [q.answer for q in qs.values()] == [
        "laplace_mechanism",
        "gaussian_sigma",
        "exponential_mechanism",
        "rr_estimate",
        "split_budget",
    ]
    assert all(q.reference for q in list(qs.values())[:4])


def test_3_1_laplace_mechanism() -> None:
    passes("3.1", SOL["laplace_mechanism"])
    passes("3.1", lib.laplace_mechanism)

    def difference_of_exponentials(value, *, sensitivity, epsilon, rng):
        b = sensitivity / epsilon
        shape = np.shape(value)
        return np.asarray(value) + rng.exponential(b, shape) - rng.exponential(b, shape)

    passes("3.1", difference_of_exponentials)

    def inverse_cdf(value, *, sensitivity, epsilon, rng):
        u = rng.random(np.shape(value)) - 0.5
        return value - sensitivity / epsilon * np.sign(u) * np.log1p(-2 * np.abs(u))

    passes("3.1", inverse_cdf)

    def inverted(value, *, sensitivity, epsilon, rng):  # THE classic bug
        return value + rng.laplace(0.0, sensitivity * epsilon, size=np.shape(value))

    fails_with("3.1", inverted, "smaller epsilon", "sensitivity * epsilon")

    def no_sensitivity(value, *, sensitivity, epsilon, rng):
        return value + rng.laplace(0.0, 1.0 / epsilon, size=np.shape(value))

    fails_with("3.1", no_sensitivity, "sensitivity")

    def gaussian(value, *, sensitivity, epsilon, rng):
        return value + rng.normal(0.0, math.sqrt(2) * sensitivity / epsilon * 0.71, size=np.shape(value))

    fails_with("3.1", gaussian)

    def gaussian_same_mean_abs(value, *, sensitivity, epsilon, rng):  # right scale, wrong shape
        b = sensitivity / epsilon
        return value + rng.normal(0.0, b * math.sqrt(math.pi / 2), size=np.shape(value))

    fails_with("3.1", gaussian_same_mean_abs, "laplace distribution", "rng.normal")

    def global_state(value, *, sensitivity, epsilon, rng):
        return value + np.random.default_rng().laplace(0.0, sensitivity / epsilon, size=np.shape(value))

    fails_with("3.1", global_state, "rng")

    def one_draw(value, *, sensitivity, epsilon, rng):  # the same noise for every entry
        return value + rng.laplace(0.0, sensitivity / epsilon)

    fails_with("3.1", one_draw, "one noise value per entry")

    def in_place(value, *, sensitivity, epsilon, rng):
        if isinstance(value, np.ndarray):
            value += rng.laplace(0.0, sensitivity / epsilon, size=value.shape)
            return value
        return value + rng.laplace(0.0, sensitivity / epsilon)

    fails_with("3.1", in_place, "not modified")

    def std_as_scale(value, *, sensitivity, epsilon, rng):  # b chosen so the std is s/eps
        return value + rng.laplace(0.0, sensitivity / epsilon / math.sqrt(2), size=np.shape(value))

    fails_with("3.1", std_as_scale, "scale b")


def test_3_2_gaussian_sigma() -> None:
    passes("3.2", SOL["gaussian_sigma"])

    def analytic(*, sensitivity, epsilon, delta):  # tighter, and still private: also accepted
        return lib.gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta)

    passes("3.2", analytic)

    def times_epsilon(*, sensitivity, epsilon, delta):
        return math.sqrt(2 * math.log(1.25 / delta)) * sensitivity * epsilon

    fails_with("3.2", times_epsilon, "divide by epsilon")

    def no_sqrt(*, sensitivity, epsilon, delta):
        return 2 * math.log(1.25 / delta) * sensitivity / epsilon

    fails_with("3.2", no_sqrt, "square root")

    def no_sensitivity(*, sensitivity, epsilon, delta):
        return math.sqrt(2 * math.log(1.25 / delta)) / epsilon

    fails_with("3.2", no_sensitivity, "sensitivity")


def test_3_3_exponential_mechanism() -> None:
    passes("3.3", SOL["exponential_mechanism"])
    passes("3.3", lib.exponential_mechanism)

    def gumbel_max(candidates, utilities, *, sensitivity, epsilon, rng):  # the same distribution
        scores = epsilon * np.asarray(utilities, float) / (2 * sensitivity) + rng.gumbel(size=len(candidates))
        return candidates[int(np.argmax(scores))]

    passes("3.3", gumbel_max)

    def argmax(candidates, utilities, *, sensitivity, epsilon, rng):
        return candidates[int(np.argmax(utilities))]

    fails_with("3.3", argmax, "argmax")

    def no_factor_two(candidates, utilities, *, sensitivity, epsilon, rng):
        u = np.asarray(utilities, float)
        w = np.exp(epsilon * (u - u.max()) / sensitivity)
        return candidates[rng.choice(len(candidates), p=w / w.sum())]

    fails_with("3.3", no_factor_two, "factor 2")

    def uniform(candidates, utilities, *, sensitivity, epsilon, rng):
        return candidates[rng.integers(len(candidates))]

    fails_with("3.3", uniform)

    def wrong_sign(candidates, utilities, *, sensitivity, epsilon, rng):
        u = -np.asarray(utilities, float)
        w = np.exp(epsilon * (u - u.max()) / (2 * sensitivity))
        return candidates[rng.choice(len(candidates), p=w / w.sum())]

    fails_with("3.3", wrong_sign, "sign")

    def overflows(candidates, utilities, *, sensitivity, epsilon, rng):
        w = np.exp(epsilon * np.asarray(utilities, float) / (2 * sensitivity))
        return candidates[rng.choice(len(candidates), p=w / w.sum())]

    with np.errstate(all="ignore"):
        fails_with("3.3", overflows, "subtract max")

    def returns_index(candidates, utilities, *, sensitivity, epsilon, rng):
        u = np.asarray(utilities, float)
        w = np.exp(epsilon * (u - u.max()) / (2 * sensitivity))
        return int(rng.choice(len(candidates), p=w / w.sum()))

    fails_with("3.3", returns_index, "candidates[i]")


def test_3_4_rr_estimate() -> None:
    passes("3.4", SOL["rr_estimate"])
    passes("3.4", lib.rr_estimate)

    def rearranged(responses, *, epsilon):
        e = math.exp(epsilon)
        return (np.mean(responses) * (e + 1) - 1) / (e - 1)

    passes("3.4", rearranged)

    def raw_mean(responses, *, epsilon):
        return float(np.mean(responses))

    fails_with("3.4", raw_mean, "biased towards 1/2")

    def lie_probability(responses, *, epsilon):
        p = 1 / (1 + math.exp(epsilon))
        return (np.mean(responses) - (1 - p)) / (2 * p - 1)

    fails_with("3.4", lie_probability, "truth")

    def clipped(responses, *, epsilon):
        return float(np.clip(SOL["rr_estimate"](responses, epsilon=epsilon), 0.0, 1.0))

    fails_with("3.4", clipped, "clip")


def test_3_5_split_budget() -> None:
    passes("3.5", SOL["split_budget"])

    def numerical(sensitivities, *, epsilon):
        s = np.asarray(sensitivities, float)
        k = s.size

        def total(z):  # softmax parametrisation keeps the sum exactly epsilon
            e = epsilon * np.exp(z - z.max()) / np.exp(z - z.max()).sum()
            return np.sum(2 * (s / e) ** 2)

        z = optimize.minimize(total, np.zeros(k), method="Nelder-Mead",
                              options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 20_000}).x
        return epsilon * np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    passes("3.5", numerical)

    def full_budget_each(sensitivities, *, epsilon):
        return np.full(len(sensitivities), float(epsilon))

    fails_with("3.5", full_budget_each, "add up")

    def equal(sensitivities, *, epsilon):
        return np.full(len(sensitivities), epsilon / len(sensitivities))

    fails_with("3.5", equal, "equal split", "2/3")

    def proportional(sensitivities, *, epsilon):
        s = np.asarray(sensitivities, float)
        return epsilon * s / s.sum()

    fails_with("3.5", proportional, "proportional to the sensitivity")

    def half_spent(sensitivities, *, epsilon):
        return SOL["split_budget"](sensitivities, epsilon=epsilon / 2)

    fails_with("3.5", half_spent, "unspent")


@pytest.mark.parametrize("qid", ["3.1", "3.2", "3.3", "3.4", "3.5"])
def test_unfinished_answers_are_reported_not_implemented(qid) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}: ...")

    assert run_check(qid, unfinished).status == "not implemented"
