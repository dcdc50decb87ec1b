"""Model inversion, white-box and black-box, on a small digits classifier."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.attacks.inversion import (
    correlation_matrix,
    invert_class,
    invert_class_blackbox,
    plot_images,
)
from course_utils.data import digits_split
from course_utils.training import mlp, predict_proba, train


@pytest.fixture(scope="module")
def digits_model():
    torch.set_num_threads(1)
    X_train, _, y_train, _ = digits_split()
    model = mlp(64, (32,), 10, rng=0)
    train(model, X_train, y_train, epochs=15, lr=1e-2)
    means = np.stack([X_train[y_train == c].mean(0) for c in range(10)])
    return model, means


def test_white_box_inversion_resembles_the_class_average(digits_model) -> None:
    model, means = digits_model
    before = [p.detach().clone() for p in model.parameters()]
    model.train()
    images = invert_class(model, list(range(10)), steps=150)
    # the model is left as it was: same weights, gradients on, training mode
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.requires_grad for p in model.parameters()) and model.training
    assert images.shape == (10, 64) and images.min() >= 0 and images.max() <= 1
    probs = predict_proba(model, images)
    assert (probs.argmax(1) == np.arange(10)).all() and probs.max(1).min() > 0.9
    nearest = correlation_matrix(images, means).argmax(1)
    assert (nearest == np.arange(10)).sum() >= 8


def test_single_class_and_penalties(digits_model) -> None:
    model, _ = digits_model
    x = invert_class(model, 3, steps=50)
    assert x.shape == (64,)
    smooth = invert_class(model, 3, steps=50, tv=0.2)
    small = invert_class(model, 3, steps=50, l2=0.5)

    def tv(v):
        img = v.reshape(8, 8)
        return np.abs(np.diff(img, axis=0)).sum() + np.abs(np.diff(img, axis=1)).sum()

    assert tv(smooth) < tv(x)
    assert np.square(small).sum() < np.square(x).sum()
    np.testing.assert_array_equal(x, invert_class(model, 3, steps=50))  # deterministic
    start = np.full(64, 0.3)
    np.testing.assert_allclose(
        invert_class(model, [3, 4], steps=1, lr=1e-9, init=start), np.tile(start, (2, 1)), atol=1e-6
    )


def test_black_box_inversion_with_only_confidences(digits_model) -> None:
    model, means = digits_model
    calls = {"rows": 0}

    def query(X):
        calls["rows"] += len(X)
        return predict_proba(model, X)

    images, n_queries = invert_class_blackbox(
        query, list(range(10)), n_features=64, steps=100, n_directions=10, rng=0
    )
    assert n_queries == 2 * 10 * 100
    assert calls["rows"] == 10 * n_queries + 1  # plus one probe of the output shape
    assert images.shape == (10, 64) and images.min() >= 0 and images.max() <= 1
    assert (predict_proba(model, images).argmax(1) == np.arange(10)).all()
    assert (correlation_matrix(images, means).argmax(1) == np.arange(10)).sum() >= 8
    again, _ = invert_class_blackbox(
        query, list(range(10)), n_features=64, steps=100, n_directions=10, rng=0
    )
    np.testing.assert_array_equal(images, again)


def test_any_input_size_without_tv() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = invert_class(model, 2, steps=100, lr=0.1)

    def p2(v):
        return torch.softmax(model(torch.as_tensor(v, dtype=torch.float32)[None]), 1)[0, 2].item()

    assert x.shape == (10,) and p2(x) > p2(np.zeros(10))
    x2 = invert_class(model, 2, steps=20, tv=0.1, image_shape=(2, 5))
    assert x2.shape == (10,)


def test_correlation_matrix() -> None:
    a = np.array([[0.0, 1.0, 2.0], [5.0, 1.0, 0.0]])
    np.testing.assert_allclose(correlation_matrix(a, a), np.corrcoef(a), atol=1e-12)


def test_plot_images_returns_axes() -> None:
    fig, axes = plt.subplots(1, 2)
    out = plot_images(np.zeros((2, 64)), ax=axes, titles=["x", "y"])
    assert out[0] is axes[0] and axes[1].get_title() == "y"
    plt.close(fig)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: invert_class(m, 10, steps=5), "target_class must be in"),
        (lambda m: invert_class(m, -1, steps=5), "non-negative int"),
        (lambda m: invert_class(m, 1.5, steps=5), "non-negative int"),
        (lambda m: invert_class(m, 1, steps=0), "steps must be"),
        (lambda m: invert_class(m, 1, lr=0), "lr must be"),
        (lambda m: invert_class(m, 1, l2=-1), "l2 and tv"),
        (lambda m: invert_class(m, 1, bounds=(1, 0)), "bounds"),
        (lambda m: invert_class(m, 1, tv=0.1, image_shape=(4, 4)), "image_shape"),
        (lambda m: invert_class(torch.nn.Linear(10, 3), 1, tv=0.1), "square"),
        (lambda m: invert_class(torch.nn.ReLU(), 1), "pass n_features"),
        (
            lambda m: invert_class_blackbox(lambda X: predict_proba(m, X), 1, n_features=0),
            "n_features",
        ),
        (
            lambda m: invert_class_blackbox(
                lambda X: predict_proba(m, X), 1, n_features=64, n_directions=0
            ),
            "n_directions",
        ),
        (
            lambda m: invert_class_blackbox(
                lambda X: predict_proba(m, X), 1, n_features=64, sigma=0
            ),
            "sigma",
        ),
        (
            lambda m: invert_class_blackbox(lambda X: predict_proba(m, X), 12, n_features=64),
            "target_class must be in",
        ),
        (
            lambda m: invert_class_blackbox(lambda X: np.zeros(3), 1, n_features=64),
            "query must return",
        ),
        (lambda m: invert_class(m, 1, init=np.zeros(10)), "init must be"),
        (
            lambda m: invert_class_blackbox(
                lambda X: predict_proba(m, X), 1, n_features=64, init=np.zeros(3)
            ),
            "init must be",
        ),
        (lambda m: correlation_matrix(np.zeros((1, 3)), np.ones((1, 4))), "same width"),
        (lambda m: correlation_matrix(np.ones((1, 3)), np.arange(3.0)[None]), "constant"),
        (lambda m: plot_images(np.zeros((2, 10))), "pixels"),
        (lambda m: plot_images(np.zeros((2, 64)), titles=["a"]), "titles must have one entry"),
    ],
)
def test_bad_input(digits_model, call, match) -> None:
    model, _ = digits_model
    with pytest.raises(ValueError, match=match):
        call(model)
