"""The package's one validation module: every check names the argument and refuses near-misses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.validation import (
    as_rng,
    check_bool,
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    check_probability,
    check_scalar,
    torch_generator,
)


def test_as_rng_accepts_the_three_forms():
    g = np.random.default_rng(1)
    assert as_rng(g) is g
    assert as_rng(np.int64(4)).integers(10**9) == np.random.default_rng(4).integers(10**9)
    a, b = as_rng(None).random(), as_rng(None).random()
    assert a != b  # fresh entropy each time


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0", np.random.RandomState(0), torch.Generator()])
def test_as_rng_refuses_the_rest(bad):
    with pytest.raises(ValueError, match="^seed_or_gen must be a numpy.random.Generator"):
        as_rng(bad, name="seed_or_gen")


def test_torch_generator_follows_the_convention():
    same = [torch.rand(3, generator=torch_generator(9)) for _ in range(2)]
    assert torch.equal(*same)
    g = np.random.default_rng(0)
    first, second = (torch.rand(3, generator=torch_generator(g)) for _ in range(2))
    assert not torch.equal(first, second)  # the numpy stream advanced
    g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    assert torch.equal(
        torch.rand(3, generator=torch_generator(g1)), torch.rand(3, generator=torch_generator(g2))
    )
    with pytest.raises(ValueError, match="^rng must"):
        torch_generator(2.0)


@pytest.mark.parametrize(
    "value, kwargs, ok",
    [
        (0.5, dict(min_val=0, max_val=1), True),
        (0, dict(min_val=0, include_min=False), False),
        (1, dict(max_val=1, include_max=False), False),
        (np.float32(2), {}, True),
        (np.array(2.0), {}, True),
        (float("nan"), {}, False),
        (float("inf"), {}, False),
        (True, {}, False),
        ("1", {}, False),
        ([1.0], {}, False),
    ],
)
def test_check_scalar(value, kwargs, ok):
    if ok:
        assert isinstance(check_scalar(value, "x", **kwargs), float)
    else:
        with pytest.raises(ValueError, match="^x must be a number in"):
            check_scalar(value, "x", **kwargs)


def test_positive_non_negative_probability():
    assert check_positive(3, "eps") == 3.0
    for bad in (0, -1, np.nan, None, False):
        with pytest.raises(ValueError, match="^eps must be a positive number"):
            check_positive(bad, "eps")
    assert check_non_negative(0, "s") == 0.0
    with pytest.raises(ValueError, match="^s must be a non-negative number"):
        check_non_negative(-0.1, "s")
    assert check_probability(0.2, "p") == 0.2
    assert check_probability(1, "p", closed=True) == 1.0
    with pytest.raises(ValueError, match=r"^p must be a number in \(0, 1\)"):
        check_probability(0, "p")


def test_check_int():
    assert check_int(np.int32(5), "n", min_val=1, max_val=5) == 5
    for bad in (5.0, True, "5", None):
        with pytest.raises(ValueError, match="^n must be an integer"):
            check_int(bad, "n")
    with pytest.raises(ValueError, match="^n must be an integer >= 1 and <= 5, got 6"):
        check_int(6, "n", min_val=1, max_val=5)


def test_check_bool_and_choice():
    assert check_bool(np.bool_(False), "flag") is False
    with pytest.raises(ValueError, match="^flag must be True or False"):
        check_bool(1, "flag")
    assert check_choice("l2", "norm", ("linf", "l2")) == "l2"
    with pytest.raises(ValueError, match="^norm must be one of 'linf', 'l2', got \\['l2'\\]"):
        check_choice(["l2"], "norm", ("linf", "l2"))


def test_long_values_are_summarised_in_messages():
    with pytest.raises(ValueError, match="got a list$"):
        check_int(list(range(100)), "n")


def test_check_vector():
    from course_utils.validation import check_vector

    assert check_vector((1, 2), "x").dtype == float
    for bad, word in (([], "empty"), ([[1.0]], "1-d"), ([1.0, np.nan], "NaN"), (["a"], "numbers")):
        with pytest.raises(ValueError, match=f"^x .*{word}"):
            check_vector(bad, "x")


def test_as_seed_and_old_keyword():
    import warnings

    from course_utils.validation import as_seed, old_keyword

    assert as_seed(np.int64(3)) == 3 and 0 <= as_seed(None) < 2**62
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert as_seed(g1) == as_seed(g2)
    with pytest.raises(ValueError, match="^rng must"):
        as_seed(-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert old_keyword(4, None, old_name="seed") == 4
    with pytest.warns(DeprecationWarning, match="seed= is deprecated"):
        assert old_keyword(4, 7, old_name="seed") == 7


def test_check_matrix():
    from course_utils.validation import check_matrix

    assert check_matrix([[1, 2]], "X").dtype == float
    for bad, word in (
        ([1.0], "2-d"),
        (np.zeros((0, 3)), "non-empty"),
        ([[np.inf]], "infinite"),
        ("ab", "numbers"),
    ):
        with pytest.raises(ValueError, match=f"^X .*{word}"):
            check_matrix(bad, "X")
