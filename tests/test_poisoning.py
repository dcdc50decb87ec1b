"""course_utils.attacks.poisoning: one label flipper, one trigger, one backdoor, one success rate."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import numpy as np
import pytest
import torch

from course_utils.attacks.poisoning import (
    CORNER_TRIGGER,
    TRIGGER_PIXELS,
    add_trigger,
    attack_success_rate,
    flip_labels,
    poison_backdoor,
)


def test_random_flips_change_exactly_the_chosen_labels():
    y = np.arange(200) % 10
    y_bad, flipped = flip_labels(y, fraction=0.3, rng=0)
    assert len(flipped) == 60 and np.all(y_bad[flipped] != y[flipped])
    assert np.array_equal(np.delete(y_bad, flipped), np.delete(y, flipped))
    again, _ = flip_labels(y, fraction=0.3, rng=np.random.default_rng(0))
    assert np.array_equal(again, y_bad)  # an int seed is default_rng(seed)
    same, none = flip_labels(y, fraction=0.0, rng=0)
    assert np.array_equal(same, y) and len(none) == 0


def test_mirror_rule_needs_no_randomness():
    y_bad, flipped = flip_labels(np.arange(10), rule="mirror")
    assert y_bad.tolist() == list(range(9, -1, -1)) and flipped.tolist() == list(range(10))
    part, chosen = flip_labels(
        np.zeros(10, dtype=int), fraction=0.5, rule="mirror", n_classes=10, rng=1
    )
    assert len(chosen) == 5 and set(part[chosen].tolist()) == {9} and part.sum() == 45


def test_triggers_stamp_their_pixels_on_arrays_and_tensors():
    X = np.zeros((3, 64), dtype=np.float32)
    out = add_trigger(X)
    assert out.dtype == np.float32 and np.flatnonzero(out[0]).tolist() == list(CORNER_TRIGGER)
    assert np.count_nonzero(X) == 0  # a copy
    edge = add_trigger(np.zeros((2, 8, 8)), pixels=TRIGGER_PIXELS, value=0.5)
    assert edge.shape == (2, 8, 8) and edge[0, :4, 0].tolist() == [0.5] * 4 and edge.dtype == float
    t = add_trigger(torch.zeros(2, 64))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and float(t.sum()) == 8.0


def test_backdoor_in_place_and_appended():
    X, y = np.zeros((40, 64)), np.arange(40) % 4
    Xp, yp, idx = poison_backdoor(X, y, fraction=0.25, target=0, rng=0)
    assert Xp.shape == X.shape and len(idx) == 10 and np.all(y[idx] != 0) and np.all(yp[idx] == 0)
    assert np.all(Xp[idx][:, list(CORNER_TRIGGER)] == 1) and Xp.sum() == 10 * 4
    Xa, ya, new = poison_backdoor(
        X, y, fraction=0.1, target=2, rng=0, pixels=TRIGGER_PIXELS, append=True
    )
    assert Xa.shape == (44, 64) and new.tolist() == [40, 41, 42, 43]
    assert (
        np.array_equal(Xa[:40], X)
        and np.all(ya[new] == 2)
        and np.all(Xa[new][:, list(TRIGGER_PIXELS)] == 1)
    )


def test_attack_success_rate_for_torch_models_and_plain_predictors():
    class SaysZeroWhenTriggered(torch.nn.Module):
        def forward(self, x):
            hit = x[:, list(CORNER_TRIGGER)].min(1).values > 0.5
            return torch.nn.functional.one_hot(torch.where(hit, 0, 1), 10).float()

    X, y = np.zeros((6, 64), dtype=np.float32), np.array([0, 1, 2, 3, 4, 5])
    assert attack_success_rate(SaysZeroWhenTriggered(), X, y, target=0) == 1.0
    assert (
        attack_success_rate(SaysZeroWhenTriggered(), X, y, target=0, pixels=TRIGGER_PIXELS) == 0.0
    )
    scores = lambda X: np.eye(10)[np.zeros(len(X), dtype=int)]  # noqa: E731 - scores, argmax 0
    assert attack_success_rate(scores, torch.as_tensor(X), y, target=0) == 1.0

    def predict(offset, X):  # the k-th stamped image is called offset + k
        return offset + np.arange(len(X))

    assert attack_success_rate(partial(predict, 0), X, y, target=3) == 0.2  # 1 of the 5 others


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: flip_labels(np.arange(10), fraction=1.5, rng=0), "fraction"),
        (lambda: flip_labels(np.arange(10), rule="swap", rng=0), "rule"),
        (lambda: flip_labels(np.array([0, 12]), n_classes=10, rng=0), "labels must lie"),
        (lambda: flip_labels(np.array([0.5, 1.0]), rng=0), "integer labels"),
        (lambda: flip_labels(np.arange(4), rng=-1), "rng"),
        (lambda: add_trigger(np.zeros((2, 10))), "pixels"),
        (lambda: add_trigger(np.zeros(64)), "batch"),
        (lambda: add_trigger(np.zeros((2, 64)), value=float("nan")), "value"),
        (
            lambda: poison_backdoor(np.zeros((4, 64)), [1, 1, 1, 2], fraction=0.9, target=1, rng=0),
            "not of class",
        ),
        (
            lambda: poison_backdoor(
                np.zeros((4, 64)), [1, 1, 1, 2], fraction=0, target=1, rng=0, append=True
            ),
            "fraction",
        ),
        (lambda: attack_success_rate(len, np.zeros((2, 64)), [0, 0], target=0), "class 0"),
        (lambda: attack_success_rate(len, np.zeros((2, 64)), [0], target=0), "lengths"),
        (lambda: attack_success_rate("model", np.zeros((2, 64)), [1, 1], target=0), "callable"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_importing_it_does_not_load_torch():
    code = "import sys, course_utils.attacks.poisoning; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
