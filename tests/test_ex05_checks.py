"""Exercise set 05: a correct pairwise construction never fails the masks' size test, and
counting draws tells pairwise masks from centred ones. Registration, the reference answers and
unfinished ones are tested for every set in ``tests/test_every_question.py``; the wrong and
unusual-but-correct answers are in ``tests/wrong_answers/ex05.py``."""

from __future__ import annotations

import numpy as np
import pytest

from tests.check_support import passes


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e4])
def test_5_4_pairwise_masks_of_any_scale_and_distribution_pass(scale) -> None:
    def pairwise(n_clients, dim, rng):
        masks = np.zeros((n_clients, dim))
        for i in range(n_clients):
            for j in range(i + 1, n_clients):
                m = rng.laplace(0.0, scale, size=dim)
                masks[i] += m
                masks[j] -= m
        return masks

    passes("5.4", pairwise)


def test_5_4_counting_draws_tells_pairwise_masks_from_centred_ones() -> None:
    """Gaussian masks minus their mean have the same distribution as pairwise masks (both are
    exchangeable and zero-sum with correlation -1/(n-1)), so the check counts the values drawn
    from rng: every common distribution takes at least half a 64-bit draw per value, so 66 pairs
    of 400 values take far more than the 0.4 x 66 x 400 the check asks, and 12 centred masks far
    fewer."""
    from course_utils.checks._ex05_cases import pcg64_steps

    g = np.random.default_rng(0)
    draws = {
        "normal": lambda: g.normal(0, 100, 400),
        "uniform": lambda: g.uniform(-50, 50, 400),
        "laplace": lambda: g.laplace(0, 1, 400),
        "integers": lambda: g.integers(-50, 50, 400),
        "int32": lambda: g.integers(-50, 50, 400, dtype=np.int32),
        "exponential": lambda: g.exponential(1, 400),
    }
    for name, draw in draws.items():
        state = g.bit_generator.state
        draw()
        assert pcg64_steps(state, g.bit_generator.state) >= 0.5 * 400, name
    state = g.bit_generator.state
    centred = g.normal(0, 100, (12, 400))
    centred -= centred.mean(axis=0)
    assert pcg64_steps(state, g.bit_generator.state) < 0.4 * 66 * 400 / 2
    assert pcg64_steps(state, np.random.default_rng(1).bit_generator.state) is None
