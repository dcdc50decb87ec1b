"""Exercise set 09: the course's own implementations pass, and the randomness tests cannot be
passed by luck. Registration, the reference answers and unfinished ones are tested for every set
in ``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex09.py``."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from course_utils.attacks import aggregates
from course_utils.checks._ex09_support import _instance
from course_utils.privacy import local, mechanisms
from tests.check_support import fails_with, passes, solution_namespace

SOL = solution_namespace("09_dp_in_the_wild", np=np, math=math)


def test_the_course_implementations_pass() -> None:
    passes("9.1", aggregates.reconstruct_bits)
    passes("9.2", partial(mechanisms.report_noisy_max))
    passes("9.3", local.grr_estimate)

    def via_library(answers, threshold, *, epsilon, rng):  # the course's SVT, general queries
        flags = mechanisms.sparse_vector(answers, threshold, epsilon=epsilon, rng=rng)
        return len(flags) - 1 if flags[-1] else None

    passes("9.4", via_library)


def test_9_1_the_skewed_case_defeats_a_median_threshold() -> None:
    """One case has 15 % ones, so thresholding x at its median (half the people guessed 1) gets
    about a third of the bits wrong, far below the 95 % the check asks for."""
    bits, Q, answers = _instance(120, 480, 1.0, 2, 0.15)
    assert 0.08 < bits.mean() < 0.25
    x = np.linalg.lstsq(Q, answers, rcond=None)[0]
    assert np.mean((x > 0.5) == bits) > 0.95
    assert np.mean((x > np.median(x)) == bits) < 0.8


def test_unseeded_answers_fail_every_time() -> None:
    """The rng checks compare several seeds: an answer ignoring rng cannot pass by luck."""

    def rnm_global(scores, *, epsilon, sensitivity, rng):
        s = np.asarray(scores, float)
        noise = np.random.default_rng().laplace(0, 2 * sensitivity / epsilon, size=s.size)
        return int(np.argmax(s + noise))

    def at_global(answers, threshold, *, epsilon, rng):
        return SOL["above_threshold"](
            answers, threshold, epsilon=epsilon, rng=np.random.default_rng()
        )

    for _ in range(5):
        fails_with("9.2", rnm_global, "rng")
        fails_with("9.4", at_global, "rng")
