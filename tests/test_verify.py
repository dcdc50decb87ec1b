"""Tests of course_utils.robustness.verify: interval bound propagation is sound (1,000 random
points of the ball per test input stay inside the bounds), exact for one linear layer, tight at
epsilon = 0, monotone in epsilon, below any attack's robust accuracy, and refuses what it cannot
bound."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.robustness import (
    Preprocessed,
    feature_squeeze,
    ibp_bounds,
    ibp_certified_accuracy,
    pgd,
    robust_accuracy,
)
from course_utils.training import evaluate, mlp
from course_utils.validation import as_rng
from tests.digits_support import digits_fixtures

torch.set_num_threads(1)


def _random_mlp(seed: int, hidden: int = 32) -> nn.Sequential:
    """An untrained 64-hidden-10 ReLU network (built here: independent of mlp's seed keyword)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def _deep_image_model(seed: int) -> nn.Sequential:
    """Flatten + nested Sequential: (N, 1, 8, 8) images to 10 logits, three hidden layers."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(),
        nn.Sequential(nn.Linear(64, 32), nn.ReLU()),
        nn.Linear(32, 32),
        nn.ReLU(),
        nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10)),
    )


digits, trained = digits_fixtures(n_test=150, hidden=64, epochs=10)


def _ball_points(x: np.ndarray, eps: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points of the L-inf ball around x intersected with [0, 1]: half uniform inside, half
    at (clipped) corners, where the extremes of a piecewise-linear network tend to be."""
    lo, hi = np.clip(x - eps, 0, 1), np.clip(x + eps, 0, 1)
    inside = lo + (hi - lo) * rng.random((n // 2,) + x.shape)
    corners = np.where(rng.random((n - n // 2,) + x.shape) < 0.5, lo, hi)
    return np.concatenate([inside, corners]).astype(np.float32)


# --------------------------------------------------------------------------------------------
# soundness, exactness, tightness, monotonicity
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2])
@pytest.mark.parametrize("which", ["trained", "random", "deep"])
def test_bounds_are_sound_on_1000_points_per_input(which, eps, digits, trained):
    _, X, _, _ = digits
    model = {"trained": trained, "random": _random_mlp(1), "deep": _deep_image_model(2)}[which]
    shape = (1, 8, 8) if which == "deep" else (64,)
    rng = as_rng(10)
    inputs = np.concatenate([X[:8], np.zeros((1, 64)), np.ones((1, 64))]).astype(np.float32)
    inputs = inputs.reshape((-1,) + shape)
    lower, upper = ibp_bounds(model, inputs, epsilon=eps)
    assert lower.shape == upper.shape == (len(inputs), 10)
    for i, x in enumerate(inputs):
        points = _ball_points(x, eps, 1000, rng)
        assert np.abs(points - x).max() <= eps + 1e-6 and points.min() >= 0 and points.max() <= 1
        with torch.no_grad():
            logits = model(torch.from_numpy(points))
        assert bool((logits >= lower[i] - 1e-5).all()), f"input {i}: a logit below its lower bound"
        assert bool((logits <= upper[i] + 1e-5).all()), f"input {i}: a logit above its upper bound"


def test_bounds_hold_at_pgd_adversarial_examples(trained, digits):
    _, X, _, y = digits
    X_adv = pgd(trained, X, y, eps=0.1, step_size=0.025, steps=20)  # any random start
    lower, upper = ibp_bounds(trained, X, epsilon=0.1)
    with torch.no_grad():
        logits = trained(torch.from_numpy(X_adv))
    assert bool(((lower - 1e-5 <= logits) & (logits <= upper + 1e-5)).all())


def test_one_linear_layer_is_exact():
    """For a single affine map each bound is attained at a (clipped) corner of the box."""
    torch.manual_seed(3)
    layer = nn.Linear(64, 10)
    model = nn.Sequential(layer)
    x = np.clip(as_rng(3).random((5, 64)) * 1.4 - 0.2, 0, 1).astype(np.float32)
    eps = 0.15
    lower, upper = ibp_bounds(model, x, epsilon=eps)
    W, b = layer.weight.detach().numpy().astype(float), layer.bias.detach().numpy().astype(float)
    lo, hi = np.clip(x - eps, 0, 1), np.clip(x + eps, 0, 1)
    for i in range(len(x)):
        best_hi = np.where(W > 0, hi[i], lo[i])  # the corner maximising each logit
        best_lo = np.where(W > 0, lo[i], hi[i])
        np.testing.assert_allclose(upper[i].detach().numpy(), (W * best_hi).sum(1) + b, atol=1e-5)
        np.testing.assert_allclose(lower[i].detach().numpy(), (W * best_lo).sum(1) + b, atol=1e-5)


@pytest.mark.parametrize("which", ["trained", "deep"])
def test_epsilon_zero_gives_the_logits(which, trained, digits):
    _, X, _, _ = digits
    model = trained if which == "trained" else _deep_image_model(4)
    x = (
        torch.from_numpy(X[:20])
        if which == "trained"
        else torch.from_numpy(X[:20]).reshape(-1, 1, 8, 8)
    )
    lower, upper = ibp_bounds(model, x, epsilon=0.0)
    with torch.no_grad():
        logits = model(x)
    assert torch.allclose(lower, logits, atol=1e-6) and torch.allclose(upper, logits, atol=1e-6)


def test_bounds_grow_monotonically_with_epsilon(trained, digits):
    _, X, _, _ = digits
    previous = ibp_bounds(trained, X, epsilon=0.0)
    for eps in (0.005, 0.02, 0.05, 0.1, 0.3, 1.0):
        lower, upper = ibp_bounds(trained, X, epsilon=eps)
        assert bool((lower <= previous[0] + 1e-6).all()) and bool(
            (upper >= previous[1] - 1e-6).all()
        )
        assert bool((lower <= upper).all())
        previous = (lower, upper)
    # the box is clipped to [0, 1]: beyond epsilon = 1 it no longer grows
    full = ibp_bounds(trained, X, epsilon=5.0)
    assert torch.allclose(full[0], previous[0]) and torch.allclose(full[1], previous[1])


def test_one_example_numpy_and_tensor_inputs(trained, digits):
    _, X, _, _ = digits
    lo_batch, up_batch = ibp_bounds(trained, X[:3], epsilon=0.05)
    lo_one, up_one = ibp_bounds(trained, X[1], epsilon=0.05)
    assert lo_one.shape == (10,) and isinstance(lo_one, torch.Tensor)
    assert torch.allclose(lo_one, lo_batch[1], atol=1e-6) and torch.allclose(
        up_one, up_batch[1], atol=1e-6
    )
    lo_t, _ = ibp_bounds(trained, torch.from_numpy(X[:3]).double(), epsilon=0.05)
    assert lo_t.dtype == torch.float32 and torch.allclose(lo_t, lo_batch, atol=1e-5)


def test_bounds_are_differentiable_for_ibp_training():
    model = _random_mlp(5, hidden=16)
    x = torch.full((4, 64), 0.5)
    lower, upper = ibp_bounds(model, x, epsilon=0.1)
    (upper - lower).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)


# --------------------------------------------------------------------------------------------
# certified accuracy
# --------------------------------------------------------------------------------------------
def test_certified_accuracy_at_zero_is_clean_accuracy_and_falls(trained, digits):
    _, X, _, y = digits
    accs = [ibp_certified_accuracy(trained, X, y, epsilon=e) for e in (0.0, 0.01, 0.03, 0.1, 0.5)]
    assert accs[0] == pytest.approx(evaluate(trained, X, y))
    assert all(np.diff(accs) <= 0)
    assert accs[-1] == 0.0 and 0.0 < accs[1]


@pytest.mark.parametrize("eps", [0.01, 0.03])
def test_certified_accuracy_is_below_robust_accuracy_under_attack(trained, digits, eps):
    _, X, _, y = digits
    certified = ibp_certified_accuracy(trained, X, y, epsilon=eps)
    attacked = robust_accuracy(trained, X, y, partial(pgd, eps=eps, step_size=eps / 4, steps=20))
    assert certified <= attacked


def test_a_constant_model_is_certified_at_any_epsilon():
    layer = nn.Linear(64, 10)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.arange(10.0) == 3)
    model = nn.Sequential(layer, nn.ReLU())
    X = as_rng(0).random((30, 64)).astype(np.float32)
    y = np.array([3] * 20 + [1] * 10)
    for eps in (0.0, 0.5, 2.0):
        assert ibp_certified_accuracy(model, X, y, epsilon=eps) == pytest.approx(20 / 30)


def test_certified_accuracy_keeps_the_training_mode_and_accepts_empty_batches(trained):
    trained.train()
    try:
        ibp_certified_accuracy(trained, np.full((2, 64), 0.5), [0, 1], epsilon=0.1)
        assert trained.training
    finally:
        trained.eval()
    assert (
        ibp_certified_accuracy(trained, np.zeros((0, 64)), np.zeros(0, dtype=int), epsilon=0.1)
        == 0.0
    )


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "model, words",
    [
        (nn.Sequential(nn.Linear(64, 10), nn.Tanh()), ["layer 1", "Tanh"]),
        (nn.Sequential(nn.Linear(64, 10), nn.Dropout(0.5)), ["Dropout"]),
        (
            nn.Sequential(nn.Sequential(nn.Linear(64, 8), nn.Sigmoid()), nn.Linear(8, 10)),
            ["Sigmoid"],
        ),
        (nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 2, 3)), ["Unflatten"]),
        (nn.Linear(64, 10), ["nn.Sequential", "Linear"]),
        (Preprocessed(mlp(64, 8, 10), partial(feature_squeeze, bits=2)), ["Preprocessed"]),
    ],
)
def test_unsupported_models_raise_naming_the_layer(model, words):
    with pytest.raises(ValueError) as info:
        ibp_bounds(model, np.full((2, 64), 0.5, dtype=np.float32), epsilon=0.1)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("eps", [-0.1, float("nan"), float("inf"), "0.1", None, True])
def test_bad_epsilon_raises(eps):
    with pytest.raises(ValueError, match="epsilon"):
        ibp_bounds(mlp(64, 8, 10), np.full((2, 64), 0.5), epsilon=eps)
    with pytest.raises(ValueError, match="epsilon"):
        ibp_certified_accuracy(mlp(64, 8, 10), np.full((2, 64), 0.5), [0, 1], epsilon=eps)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.full((2, 64), 1.5), r"\[0, 1\]"),
        (np.full((2, 64), -0.2), r"\[0, 1\]"),
        (np.full((2, 64), np.nan), "finite"),
        (np.float32(0.5), "scalar"),
        ([["a"] * 64], "numeric"),
    ],
)
def test_bad_inputs_raise(x, match):
    with pytest.raises(ValueError, match=match):
        ibp_bounds(mlp(64, 8, 10), x, epsilon=0.1)


def test_bad_labels_and_shapes_raise():
    model = mlp(64, 8, 10)
    X = np.full((3, 64), 0.5)
    with pytest.raises(ValueError, match="different lengths"):
        ibp_certified_accuracy(model, X, [0, 1], epsilon=0.1)
    with pytest.raises(ValueError, match="class indices"):
        ibp_certified_accuracy(model, X, [0, 1, 10], epsilon=0.1)
    with pytest.raises(ValueError, match="batch"):
        ibp_certified_accuracy(model, X[0], [0], epsilon=0.1)
