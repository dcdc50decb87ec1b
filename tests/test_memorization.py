"""Character n-gram, canary insertion and exposure."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.attacks.memorization import (
    CharNgram,
    candidate_log_probs,
    card_log,
    exposure,
    insert_canary,
)


def test_ngram_probabilities_sum_to_one() -> None:
    model = CharNgram(order=3, alpha=0.5).fit("the cat sat on the mat\n")
    for ctx in ("th", "at", "zz", ""):
        total = sum(np.exp(model.log_prob(ch, context=ctx)) for ch in model.vocab)
        assert total == pytest.approx(1.0)


def test_candidate_log_probs_match_brute_force() -> None:
    model = CharNgram(order=3, alpha=1.0).fit(
        insert_canary(card_log(200, n_digits=3, rng=1), "my card number is 042", 6)
    )
    lp = candidate_log_probs(model, "my card number is ", 3)
    brute = [model.log_prob(f"{j:03d}", context="my card number is ") for j in range(1000)]
    np.testing.assert_allclose(lp, brute)
    assert int(lp.argmax()) == 42


def test_exposure_rises_with_insertions() -> None:
    lines = card_log(2000, rng=0)
    secret = "281265"
    exposures = []
    for k in (0, 1, 2, 4):
        model = CharNgram(order=4).fit(
            insert_canary(lines, "my card number is " + secret, k, rng=0)
        )
        exposures.append(exposure(candidate_log_probs(model, "my card number is ", 6), int(secret)))
    assert exposures == sorted(exposures)
    assert exposures[0] < 5 and exposures[-1] == pytest.approx(np.log2(1e6))


def test_exposure_of_a_random_candidate_is_small_on_average() -> None:
    rng = np.random.default_rng(0)
    lp = rng.normal(size=10_000)
    values = [exposure(lp, int(i)) for i in rng.integers(0, 10_000, 200)]
    assert 0.8 < np.mean(values) < 2.0  # about 1/ln 2 = 1.44 bits


def test_insert_canary_and_card_log() -> None:
    lines = card_log(50, rng=3)
    assert lines == card_log(50, rng=3) and len(lines) == 50
    assert any("card number is" in s for s in lines)
    text = insert_canary(lines, "CANARY", 3, rng=1)
    assert text.count("CANARY") == 3 and text.count("\n") == 53
    assert insert_canary(lines, "CANARY", 0) == "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: CharNgram(order=0), "order"),
        (lambda: CharNgram(alpha=0), "alpha"),
        (lambda: CharNgram().fit(""), "non-empty"),
        (lambda: CharNgram().log_prob("a"), "fit the model"),
        (lambda: card_log(0), "n_lines"),
        (lambda: card_log(5, n_digits=9), "n_digits"),
        (lambda: insert_canary(["a"], "c", -1), "n_insertions"),
        (lambda: candidate_log_probs(CharNgram(), "x", 2), "fitted"),
        (lambda: candidate_log_probs(CharNgram().fit("ab"), "x", 8), "n_digits"),
        (lambda: exposure(np.zeros(1), 0), "at least two"),
        (lambda: exposure(np.zeros(4), 4), "canary_index"),
    ],
)
def test_bad_input(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()
