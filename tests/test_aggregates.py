"""course_utils.attacks.aggregates: noisy subset sums and the Dinur-Nissim reconstruction."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.attacks.aggregates import (
    plot_recovery,
    reconstruct_bits,
    recovery_curve,
    recovery_rate,
    subset_sum_queries,
)


def test_queries_are_01_and_answers_within_the_noise_bound() -> None:
    bits = np.random.default_rng(0).integers(0, 2, size=50)
    Q, answers = subset_sum_queries(bits, 300, noise=2.5, rng=1)
    assert Q.shape == (300, 50) and set(np.unique(Q)) == {0.0, 1.0}
    err = answers - Q @ bits
    assert np.all(np.abs(err) <= 2.5) and err.std() > 1.0  # uniform on [-2.5, 2.5]: sd 1.44
    assert 0.4 < Q.mean() < 0.6  # each person in each subset with probability 1/2
    Q2, a2 = subset_sum_queries(bits, 300, noise=2.5, rng=np.random.default_rng(1))
    assert np.array_equal(Q, Q2) and np.array_equal(answers, a2)  # int seed == Generator(seed)
    Q0, a0 = subset_sum_queries(bits.astype(bool), 10, noise=0.0, rng=0)
    assert np.array_equal(a0, Q0 @ bits)


@pytest.mark.parametrize("method", ["lstsq", "lp"])
def test_exact_answers_give_exact_reconstruction(method: str) -> None:
    bits = np.random.default_rng(3).integers(0, 2, size=40)
    Q, answers = subset_sum_queries(bits, 160, noise=0.0, rng=3)
    guess = reconstruct_bits(Q, answers, method=method)
    assert guess.dtype == np.int8 and np.array_equal(guess, bits)


def test_small_noise_recovers_and_large_noise_is_a_coin_flip() -> None:
    n, m = 100, 400
    rng = np.random.default_rng(5)
    small, large = [], []
    for _ in range(10):
        bits = rng.integers(0, 2, size=n)
        Q, a = subset_sum_queries(bits, m, noise=0.1 * math.sqrt(n), rng=rng)
        small.append(recovery_rate(bits, reconstruct_bits(Q, a)))
        Q, a = subset_sum_queries(bits, m, noise=30 * math.sqrt(n), rng=rng)
        large.append(recovery_rate(bits, reconstruct_bits(Q, a)))
    assert min(small) > 0.95
    # 10 x 100 bits; the least-squares error has sd ~ 17 here, so P(correct) ~ 0.51
    assert abs(np.mean(large) - 0.5) < 0.06


def test_linear_programme_uses_the_noise_bound() -> None:
    """With bounded noise around sqrt(n), the LP beats least squares on average (one seed: both
    decoders attack the same six secrets through the same queries)."""
    ls, lp = (
        recovery_curve(64, 256, [1.5 * math.sqrt(64)], trials=6, rng=8, method=method)["recovery"]
        for method in ("lstsq", "lp")
    )
    assert lp.mean() > ls.mean()


def test_recovery_curve_table_and_plot() -> None:
    table = recovery_curve(32, 128, [0.0, 1.0, 50.0], trials=3, rng=0, progress=True)
    assert list(table.columns) == ["noise", "noise_over_sqrt_n", "trial", "recovery"]
    assert len(table) == 9 and table["trial"].tolist() == [0, 1, 2] * 3
    assert np.allclose(table["noise_over_sqrt_n"], table["noise"] / math.sqrt(32))
    assert (table.loc[table["noise"] == 0.0, "recovery"] == 1.0).all()
    ax = plot_recovery(table, label="median")
    assert ax.get_ylabel() == "fraction of bits recovered" and ax.get_xscale() == "symlog"
    plt.close("all")


def test_recovery_rate() -> None:
    assert recovery_rate([0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    with pytest.raises(ValueError, match="guess must have the shape"):
        recovery_rate([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="guess must contain only 0/1"):
        recovery_rate([0, 1], [0.5, 1])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: subset_sum_queries([0, 2], 5, noise=1.0, rng=0), "bits must contain only 0/1"),
        (lambda: subset_sum_queries([[0, 1]], 5, noise=1.0, rng=0), "bits must be a non-empty 1-D"),
        (lambda: subset_sum_queries([], 5, noise=1.0, rng=0), "bits must be a non-empty 1-D"),
        (lambda: subset_sum_queries([0, 1], 0, noise=1.0, rng=0), "m must be an integer >= 1"),
        (lambda: subset_sum_queries([0, 1], 2.0, noise=1.0, rng=0), "m must be an integer"),
        (lambda: subset_sum_queries([0, 1], 5, noise=-1.0, rng=0), "noise must be a non-negative"),
        (lambda: subset_sum_queries([0, 1], 5, noise=1.0, rng=-3), "rng must be"),
        (lambda: reconstruct_bits(np.ones((3, 2)), [1, 2]), "answers must have one entry per row"),
        (lambda: reconstruct_bits(np.ones(3), [1, 2, 3]), "Q must be a non-empty 2-D"),
        (lambda: reconstruct_bits(np.ones((2, 2)), [1, np.nan]), "must be finite"),
        (lambda: reconstruct_bits(np.ones((2, 2)), [1, 1], method="svd"), "method must be one of"),
        (lambda: recovery_curve(8, 8, [], trials=1, rng=0), "noise_levels must hold"),
        (
            lambda: recovery_curve(8, 8, [-1.0], trials=1, rng=0),
            "noise_levels must be a non-negative",
        ),
        (lambda: recovery_curve(8, 8, [1.0], trials=0, rng=0), "trials must be an integer >= 1"),
        (
            lambda: recovery_curve(8, 8, [1.0], trials=1, rng=0, progress="yes"),
            "progress must be True or False",
        ),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
