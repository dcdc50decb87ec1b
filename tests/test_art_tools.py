"""Tests of course_utils.robustness.tools.art_classifier: ART's PyTorchClassifier around a course
model predicts exactly what the model predicts, shares its weights, gives ART's attacks the same
gradients (ART's FGSM equals the course's fgsm), accepts the float64 batches of decision-based
attacks, is imported lazily, and refuses malformed arguments."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.robustness import art_classifier, fgsm
from course_utils.training import mlp
from tests.digits_support import digits_fixtures

torch.set_num_threads(1)


digits, trained = digits_fixtures(n_test=100, hidden=32, epochs=5)


def _logits(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32)).numpy()


def test_predictions_equal_the_models(trained, digits):
    _, X, _, _ = digits
    classifier = art_classifier(trained, input_shape=(64,), nb_classes=10)
    out = classifier.predict(X)
    assert out.shape == (len(X), 10)
    np.testing.assert_allclose(out, _logits(trained, X), atol=1e-6)
    assert np.array_equal(out.argmax(1), _logits(trained, X).argmax(1))


def test_float64_batches_are_accepted(trained, digits):
    """Decision-based attacks (HopSkipJump) send float64 arrays; the wrapper casts them."""
    _, X, _, _ = digits
    classifier = art_classifier(trained, input_shape=(64,), nb_classes=10)
    np.testing.assert_allclose(
        classifier.predict(X.astype(np.float64)), _logits(trained, X), atol=1e-5
    )


def test_weights_are_shared_not_copied():
    model = mlp(64, 8, 10)
    classifier = art_classifier(model, input_shape=(64,), nb_classes=10)
    x = np.full((2, 64), 0.5, dtype=np.float32)
    before = classifier.predict(x)
    with torch.no_grad():
        model[-1].bias.add_(1.0)
    np.testing.assert_allclose(classifier.predict(x), before + 1.0, atol=1e-5)


def test_settings_reach_art(trained):
    classifier = art_classifier(trained, input_shape=(64,), nb_classes=10, clip_values=(0, 1))
    assert classifier.nb_classes == 10 and tuple(classifier.input_shape) == (64,)
    assert tuple(np.asarray(classifier.clip_values, dtype=float)) == (0.0, 1.0)


def test_loss_gradient_is_the_cross_entropy_gradient(trained, digits):
    _, X, _, y = digits
    classifier = art_classifier(trained, input_shape=(64,), nb_classes=10)
    x = torch.from_numpy(X[:10]).requires_grad_(True)
    nn.functional.cross_entropy(trained(x), torch.from_numpy(y[:10])).backward()
    grad_art = classifier.loss_gradient(X[:10], np.eye(10)[y[:10]])  # ART wants one-hot labels here
    cosine = (grad_art * x.grad.numpy()).sum() / (np.linalg.norm(grad_art) * np.linalg.norm(x.grad))
    assert cosine > 0.999


def test_art_fgsm_equals_the_course_fgsm(trained, digits):
    from art.attacks.evasion import FastGradientMethod

    _, X, _, y = digits
    classifier = art_classifier(trained, input_shape=(64,), nb_classes=10)
    for eps in (0.05, 0.2):
        art_adv = FastGradientMethod(classifier, norm=np.inf, eps=eps, batch_size=256).generate(
            X, y=y
        )
        ours = fgsm(trained, X, y, eps=eps)
        assert art_adv.min() >= 0 and art_adv.max() <= 1
        assert np.mean(np.abs(art_adv - ours) < 1e-5) > 0.999


def test_images_with_channels(digits):
    _, X, _, _ = digits
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    images = X[:4].reshape(-1, 1, 8, 8)
    classifier = art_classifier(model, input_shape=(1, 8, 8), nb_classes=10)
    np.testing.assert_allclose(classifier.predict(images), _logits(model, images), atol=1e-6)


def test_importing_the_package_does_not_import_art():
    code = "import sys, course_utils.robustness; print('art' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(input_shape=()), "input_shape"),
        (dict(input_shape=(0,)), "input_shape"),
        (dict(input_shape=(64.0,)), "input_shape"),
        (dict(input_shape="64"), "input_shape"),
        (dict(input_shape=None), "input_shape"),
        (dict(nb_classes=1), "nb_classes"),
        (dict(nb_classes=2.5), "nb_classes"),
        (dict(nb_classes=True), "nb_classes"),
        (dict(clip_values=(1, 0)), "clip_values"),
        (dict(clip_values=(0,)), "clip_values"),
        (dict(clip_values="ab"), "clip_values"),
        (dict(clip_values=(0, "1")), "clip_values"),
        (dict(clip_values=None), "clip_values"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = dict(input_shape=(64,), nb_classes=10) | kwargs
    with pytest.raises(ValueError, match=match):
        art_classifier(mlp(64, 8, 10), **args)


def test_a_non_module_model_raises():
    with pytest.raises(ValueError, match="torch.nn.Module"):
        art_classifier(lambda x: x, input_shape=(64,), nb_classes=10)


def test_an_int_input_shape_is_one_axis():
    classifier = art_classifier(mlp(64, 8, 10), input_shape=64, nb_classes=10)
    assert tuple(classifier.input_shape) == (64,)
