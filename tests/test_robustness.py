"""Tests of course_utils.robustness: attacks stay in the ball, PGD beats FGSM, certificates match
their formula, smoothing abstains when it should, poisoning helpers do what they say."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from course_utils.robustness import (
    Preprocessed,
    Temperature,
    add_noise,
    add_trigger,
    adversarial_training,
    as_generator,
    attack_success_rate,
    bpda_pgd,
    certified_accuracy,
    certified_radius,
    certify,
    certify_dataset,
    clopper_pearson_lower,
    defensive_distillation,
    distill,
    feature_squeeze,
    fgsm,
    flip_labels,
    gaussian_augment,
    hidden_features,
    median_smooth,
    per_example_loss,
    pgd,
    poison_backdoor,
    robust_accuracy,
    smoothed_predict,
    spectral_signature_scores,
)
from course_utils.training import evaluate, mlp, train
from tests.digits_support import digits_fixtures

torch.set_num_threads(1)


digits, trained = digits_fixtures(n_test=200, hidden=64, epochs=10)


def _linf(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def _l2(a, b):
    return np.linalg.norm((np.asarray(a) - np.asarray(b)).reshape(len(a), -1), axis=1)


# --------------------------------------------------------------------------------------------
# evasion attacks
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3])
def test_fgsm_stays_in_ball_and_box(trained, digits, eps):
    _, X, _, y = digits
    X_adv = fgsm(trained, X, y, eps=eps)
    assert isinstance(X_adv, np.ndarray) and X_adv.dtype == np.float32 and X_adv.shape == X.shape
    assert _linf(X_adv, X) <= eps + 1e-6
    assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_fgsm_is_the_signed_gradient_step(trained, digits):
    _, X, _, y = digits
    x = torch.tensor(X, requires_grad=True)
    nn.functional.cross_entropy(trained(x), torch.tensor(y), reduction="sum").backward()
    expected = np.clip(X + 0.05 * np.sign(x.grad.numpy()), 0, 1)
    np.testing.assert_allclose(fgsm(trained, X, y, eps=0.05), expected, atol=1e-6)


def test_fgsm_keeps_tensor_type_and_model_mode(trained, digits):
    _, X, _, y = digits
    trained.train()
    out = fgsm(trained, torch.tensor(X), torch.tensor(y), eps=0.1)
    assert isinstance(out, torch.Tensor) and not out.requires_grad
    assert trained.training  # the attack restored the mode it found
    trained.eval()


@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("linf", 0.25), ("l2", 0.5), ("l2", 2.0)])
def test_pgd_stays_in_ball_and_box(trained, digits, norm, eps):
    _, X, _, y = digits
    X_adv = pgd(trained, X, y, eps=eps, step_size=eps / 4, steps=10, norm=norm, rng=0)
    assert X_adv.min() >= 0 and X_adv.max() <= 1
    if norm == "linf":
        assert _linf(X_adv, X) <= eps + 1e-6
    else:
        assert _l2(X_adv, X).max() <= eps + 1e-5


def test_pgd_random_start_is_in_ball_even_at_the_box_edges():
    X = np.r_[np.zeros((5, 64)), np.ones((5, 64)), np.full((5, 64), 0.5)].astype(np.float32)
    y = np.zeros(15, dtype=int)
    model = mlp(64, 8, 10, rng=0)
    for norm, eps in (("linf", 0.3), ("l2", 1.0)):
        X_adv = pgd(model, X, y, eps=eps, step_size=1e-3, steps=1, norm=norm, rng=1)
        assert X_adv.min() >= 0 and X_adv.max() <= 1
        dist = _l2(X_adv, X).max() if norm == "l2" else _linf(X_adv, X)
        assert dist <= eps + 1e-5


def test_pgd_is_at_least_as_strong_as_fgsm(trained, digits):
    _, X, _, y = digits
    for eps in (0.05, 0.1, 0.15):
        acc_fgsm = robust_accuracy(trained, X, y, partial(fgsm, eps=eps))
        acc_pgd = robust_accuracy(
            trained, X, y, partial(pgd, eps=eps, step_size=eps / 4, steps=20, rng=0)
        )
        assert acc_pgd <= acc_fgsm
    assert acc_pgd < evaluate(trained, X, y) - 0.3


def test_pgd_is_deterministic_for_a_seed_and_works_without_random_start(trained, digits):
    _, X, _, y = digits
    a = pgd(trained, X, y, eps=0.1, step_size=0.02, steps=3, rng=5)
    b = pgd(trained, X, y, eps=0.1, step_size=0.02, steps=3, rng=np.random.default_rng(5))
    c = pgd(trained, X, y, eps=0.1, step_size=0.02, steps=3, rng=5)
    np.testing.assert_array_equal(a, c)
    assert b.shape == a.shape
    d = pgd(trained, X, y, eps=0.1, step_size=0.02, steps=3, random_start=False)
    assert _linf(d, X) <= 0.1 + 1e-6


def test_pgd_on_image_shaped_inputs():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    X = torch.rand(4, 1, 8, 8)
    X_adv = pgd(model, X, torch.arange(4), eps=0.5, step_size=0.2, steps=3, norm="l2", rng=0)
    assert X_adv.shape == X.shape
    assert (X_adv - X).flatten(1).norm(dim=1).max() <= 0.5 + 1e-5


def test_margin_loss_attacks_a_saturated_model(digits):
    X_train, X, y_train, y = digits
    base = mlp(64, 64, 10, rng=0)
    train(base, X_train, y_train, epochs=10, lr=2e-2, batch_size=128)
    saturated = Temperature(base, 1e-3)  # logits x 1000: the softmax saturates
    kw = dict(eps=0.1, step_size=0.025, steps=10, rng=0)
    ce = robust_accuracy(saturated, X, y, partial(pgd, **kw))
    margin = robust_accuracy(saturated, X, y, partial(pgd, loss="margin", **kw))
    assert margin < ce - 0.2


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(eps=-0.1, step_size=0.1, steps=1), "eps"),
        (dict(eps=0.1, step_size=0.0, steps=1), "step_size"),
        (dict(eps=0.1, step_size=0.1, steps=0), "steps"),
        (dict(eps=0.1, step_size=0.1, steps=1, norm="l1"), "norm"),
        (dict(eps=0.1, step_size=0.1, steps=1, loss="hinge"), "loss"),
        (dict(eps=0.1, step_size=0.1, steps=1, rng="seed"), "rng"),
    ],
)
def test_pgd_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pgd(mlp(rng=0), np.zeros((2, 64)), np.zeros(2, dtype=int), **kwargs)


def test_attacks_reject_inputs_outside_unit_box_and_length_mismatch():
    model = mlp(rng=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fgsm(model, np.full((2, 64), 16.0), np.zeros(2, dtype=int), eps=0.1)
    with pytest.raises(ValueError, match="different lengths"):
        fgsm(model, np.zeros((2, 64)), np.zeros(3, dtype=int), eps=0.1)
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, np.zeros((2, 64)), np.zeros(2, dtype=int), eps=float("nan"))


def test_robust_accuracy(trained, digits):
    _, X, _, y = digits
    assert robust_accuracy(trained, X, y, None) == evaluate(trained, X, y)
    assert robust_accuracy(trained, X, y, partial(fgsm, eps=0.2)) < robust_accuracy(
        trained, X, y, None
    )
    with pytest.raises(ValueError, match="attack"):
        robust_accuracy(trained, X, y, "pgd")


def test_adversarial_training_uses_the_training_loop_and_helps(digits):
    X_train, X, y_train, y = digits
    X_small, y_small = X_train[:600], y_train[:600]
    standard, robust = mlp(64, 64, 10, rng=0), mlp(64, 64, 10, rng=0)
    train(standard, X_small, y_small, epochs=15, lr=2e-2, batch_size=128)
    history = adversarial_training(
        robust, X_small, y_small, eps=0.1, steps=3, epochs=15, lr=2e-2, batch_size=128
    )
    assert set(history) == {"loss", "accuracy"} and len(history["loss"]) == 15
    attack = partial(pgd, eps=0.1, step_size=0.025, steps=10, rng=0)
    assert robust_accuracy(robust, X, y, attack) > robust_accuracy(standard, X, y, attack) + 0.2
    with pytest.raises(ValueError, match="steps"):
        adversarial_training(robust, X_small, y_small, eps=0.1, steps=0)


def test_gaussian_augment():
    noisy = gaussian_augment(sigma=0.5, rng=0)
    out = noisy(None, torch.zeros(4000, 2), None)
    assert abs(float(out.std()) - 0.5) < 0.03 and abs(float(out.mean())) < 0.03
    with pytest.raises(ValueError, match="sigma"):
        gaussian_augment(sigma=-1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_deprecated_as_generator_behaves_as_before():
    assert as_generator(None) is None
    g = torch.Generator().manual_seed(1)
    assert as_generator(g) is g
    assert isinstance(as_generator(np.random.default_rng(0)), torch.Generator)
    same = [torch.rand(3, generator=as_generator(4)) for _ in range(2)]
    assert torch.equal(*same)
    with pytest.raises(ValueError, match="non-negative"):
        as_generator(-1)
    with pytest.raises(ValueError, match="generator"):
        as_generator(True)


def test_as_generator_warns():
    with pytest.warns(DeprecationWarning, match="rng"):
        as_generator(0)


# --------------------------------------------------------------------------------------------
# defences and adaptive attacks
# --------------------------------------------------------------------------------------------
def test_feature_squeeze_levels_and_zero_gradient():
    X = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, -1)
    for bits in (1, 2, 3):
        out = feature_squeeze(X, bits=bits)
        assert len(np.unique(out)) == 2**bits
        np.testing.assert_array_equal(feature_squeeze(out, bits=bits), out)  # idempotent
        assert np.abs(out - X).max() <= 0.5 / (2**bits - 1) + 1e-6
    x = torch.rand(3, 64, requires_grad=True)
    feature_squeeze(x, bits=3).sum().backward()
    assert float(x.grad.abs().max()) == 0.0
    for bad in (0, 17, 2.5, True):
        with pytest.raises(ValueError, match="bits"):
            feature_squeeze(X, bits=bad)


def test_median_smooth():
    flat = np.full((2, 64), 0.3, dtype=np.float32)
    np.testing.assert_allclose(median_smooth(flat), flat)
    img = torch.rand(3, 1, 8, 8)
    assert median_smooth(img).shape == img.shape
    with pytest.raises(ValueError, match="size"):
        median_smooth(flat, size=2)
    with pytest.raises(ValueError, match="image_shape"):
        median_smooth(np.zeros((2, 10)))


def test_add_noise():
    X = np.full((500, 64), 0.5, dtype=np.float32)
    a = add_noise(X, sigma=0.1, rng=3)
    np.testing.assert_array_equal(a, add_noise(X, sigma=0.1, rng=3))
    assert abs(float((a - X).std()) - 0.1) < 0.01
    assert add_noise(X, sigma=2.0, rng=0).max() <= 1
    assert add_noise(X, sigma=2.0, rng=0, clip=False).max() > 1
    with pytest.raises(ValueError, match="sigma"):
        add_noise(X, sigma=-0.1)


def test_bpda_breaks_feature_squeezing(trained, digits):
    _, X, _, y = digits
    squeezed = Preprocessed(trained, partial(feature_squeeze, bits=3))
    kw = dict(eps=0.1, step_size=0.025, steps=10, rng=0)
    naive = robust_accuracy(squeezed, X, y, partial(pgd, **kw))
    adaptive = robust_accuracy(squeezed, X, y, partial(bpda_pgd, **kw))
    assert naive > 0.85 and adaptive < naive - 0.4
    X_adv = bpda_pgd(trained, X, y, transform=partial(feature_squeeze, bits=3), **kw)
    assert _linf(X_adv, X) <= 0.1 + 1e-6 and X_adv.min() >= 0 and X_adv.max() <= 1
    with pytest.raises(ValueError, match="transform"):
        bpda_pgd(trained, X, y, **kw)
    with pytest.raises(ValueError, match="eot_samples"):
        bpda_pgd(squeezed, X, y, eot_samples=0, **kw)


def test_eot_with_a_random_transform_stays_in_ball(trained, digits):
    _, X, _, y = digits
    noisy = Preprocessed(trained, partial(add_noise, sigma=0.1, rng=0))
    X_adv = bpda_pgd(noisy, X[:20], y[:20], eps=0.1, step_size=0.05, steps=2, eot_samples=4, rng=0)
    assert _linf(X_adv, X[:20]) <= 0.1 + 1e-6


def test_distill_and_defensive_distillation(digits):
    X_train, X, y_train, y = digits
    with pytest.raises(ValueError, match="probability"):
        distill(mlp(rng=0), X_train[:4], np.full((4, 10), 0.5))
    with pytest.raises(ValueError, match="shape"):
        distill(mlp(rng=0), X_train[:4], np.full((3, 10), 0.1))
    student = defensive_distillation(
        mlp(64, 64, 10, rng=0),
        mlp(64, 64, 10, rng=1),
        X_train,
        y_train,
        temperature=100,
        epochs=20,
        batch_size=128,
        lr=2e-2,
    )
    assert evaluate(student, X, y) > 0.85
    x = torch.tensor(X, requires_grad=True)
    nn.functional.cross_entropy(student(x), torch.tensor(y), reduction="sum").backward()
    assert float((x.grad.abs().sum(1) == 0).float().mean()) > 0.5  # the softmax saturates


# --------------------------------------------------------------------------------------------
# randomized smoothing
# --------------------------------------------------------------------------------------------
class _Fixed(nn.Module):
    """Per batch of b rows: the first round(p * b) rows vote class 0, the others class 1."""

    def __init__(self, p: float, n_classes: int = 3) -> None:
        super().__init__()
        self.p, self.n_classes = p, n_classes

    def forward(self, x):
        k = int(round(self.p * len(x)))
        labels = torch.cat([torch.zeros(k), torch.ones(len(x) - k)]).long()
        return nn.functional.one_hot(labels, self.n_classes).float()


class _Coin(nn.Module):
    """Ignores the input: a uniformly random class out of two."""

    def forward(self, x):
        return torch.rand(len(x), 2)


def test_certify_radius_equals_the_formula_for_known_counts():
    sigma, n, alpha = 0.5, 1000, 0.001
    label, radius = certify(_Fixed(0.9), np.zeros(64), sigma=sigma, n0=100, n=n, alpha=alpha, rng=0)
    p_lower = stats.beta.ppf(alpha, 900, n - 900 + 1)
    assert label == 0
    assert radius == pytest.approx(sigma * stats.norm.ppf(p_lower), rel=1e-9)
    # all votes agree: p_lower = alpha ** (1 / n)
    _, radius1 = certify(_Fixed(1.0), np.zeros(64), sigma=sigma, n0=10, n=n, alpha=alpha)
    assert radius1 == pytest.approx(sigma * stats.norm.ppf(alpha ** (1 / n)), rel=1e-9)


def test_certify_on_a_linear_model_recovers_the_distance_to_the_boundary():
    # f(x) = 1 if x[0] > 0 else 0, so p_A = Phi(t / sigma) at x = (t, 0, ...): the true radius is t
    model = nn.Linear(64, 2)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
        model.weight[1, 0], model.weight[0, 0] = 1.0, -1.0
    x = np.zeros(64, dtype=np.float32)
    x[0] = 0.3
    label, radius = certify(model, x, sigma=0.25, n0=100, n=20000, alpha=0.001, rng=0)
    assert label == 1 and 0.22 < radius <= 0.3 + 1e-3


def test_certify_abstains_and_validates():
    label, radius = certify(_Coin(), np.zeros(64), sigma=0.25, n0=50, n=500, rng=0)
    assert (label, radius) == (-1, 0.0)
    with pytest.raises(ValueError, match="n0"):
        certify(_Coin(), np.zeros(64), sigma=0.25, n0=0, n=10)
    with pytest.raises(ValueError, match="sigma"):
        certify(_Coin(), np.zeros(64), sigma=0.0, n0=10, n=10)
    with pytest.raises(ValueError, match="alpha"):
        certify(_Coin(), np.zeros(64), sigma=0.1, n0=10, n=10, alpha=1.5)
    with pytest.raises(ValueError, match="one example"):
        certify(_Coin(), np.float32(0.0), sigma=0.1, n0=10, n=10)


def test_smoothed_predict_abstains_on_pure_noise_and_answers_when_sure():
    assert smoothed_predict(_Coin(), np.zeros(64), sigma=0.25, n=400, alpha=0.001, rng=0) == -1
    assert smoothed_predict(_Fixed(1.0), np.zeros(64), sigma=0.25, n=100, alpha=0.001) == 0
    assert smoothed_predict(_Fixed(0.55), np.zeros(64), sigma=0.25, n=100, alpha=0.001) == -1
    with pytest.raises(ValueError, match="n must"):
        smoothed_predict(_Coin(), np.zeros(64), sigma=0.25, n=0)


def test_certify_dataset_and_certified_accuracy():
    labels, radii = certify_dataset(_Fixed(1.0), np.zeros((3, 64)), sigma=0.25, n0=10, n=100, rng=0)
    assert labels.tolist() == [0, 0, 0] and np.all(radii > 0)
    assert certified_accuracy(labels, radii, [0, 0, 1], 0.0) == pytest.approx(2 / 3)
    curve = certified_accuracy(labels, radii, [0, 0, 0], [0.0, radii[0], radii[0] + 0.01])
    assert curve.tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="same shape"):
        certified_accuracy([0], [0.1, 0.2], [0], 0.1)


def test_radius_helper_and_the_deprecated_clopper_pearson_lower():
    assert certified_radius(stats.norm.cdf(2.0), sigma=0.3) == pytest.approx(0.6)
    assert certified_radius(0.5, sigma=0.3) == 0.0
    with pytest.raises(ValueError, match="p_lower"):
        certified_radius(1.5, sigma=0.3)
    with pytest.warns(DeprecationWarning, match="clopper_pearson"):
        assert clopper_pearson_lower(100, 100, alpha=0.01) == pytest.approx(0.01 ** (1 / 100))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="count <= n"):
        clopper_pearson_lower(5, 3, alpha=0.1)


# --------------------------------------------------------------------------------------------
# poisoning
# --------------------------------------------------------------------------------------------
def test_flip_labels():
    y = np.arange(200) % 10
    y_bad, flipped = flip_labels(y, fraction=0.3, rng=np.random.default_rng(0))
    assert len(flipped) == 60 and np.all(y_bad[flipped] != y[flipped])
    assert np.array_equal(np.delete(y_bad, flipped), np.delete(y, flipped))
    assert y_bad.min() >= 0 and y_bad.max() <= 9
    same, none = flip_labels(y, fraction=0.0, rng=np.random.default_rng(0))
    assert np.array_equal(same, y) and len(none) == 0
    with pytest.raises(ValueError, match="fraction"):
        flip_labels(y, fraction=1.5, rng=np.random.default_rng(0))


def test_trigger_and_backdoor():
    X = np.zeros((50, 64), dtype=np.float32)
    y = np.arange(50) % 5
    stamped = add_trigger(X, pixels=(0, 1, 2, 8, 9, 10, 16, 17, 18), value=0.7)
    assert np.count_nonzero(stamped[0]) == 9 and stamped.max() == pytest.approx(0.7)
    assert np.count_nonzero(X) == 0  # input untouched
    Xp, yp, idx = poison_backdoor(X, y, fraction=0.1, target=2, rng=np.random.default_rng(0))
    assert len(idx) == 5 and np.all(yp[idx] == 2) and np.all(y[idx] != 2)
    assert np.count_nonzero(Xp.sum(1)) == 5
    with pytest.raises(ValueError, match="pixels"):
        add_trigger(X, pixels=(64,))
    with pytest.raises(ValueError, match="not of class"):
        poison_backdoor(X, y, fraction=0.9, target=2, rng=np.random.default_rng(0))


def test_backdoor_end_to_end_and_spectral_signatures(digits):
    X_train, X, y_train, y = digits
    Xp, yp, idx = poison_backdoor(
        X_train, y_train, fraction=0.03, target=0, rng=np.random.default_rng(0)
    )
    model = mlp(64, 64, 10, rng=0)
    train(model, Xp, yp, epochs=15, lr=2e-2, batch_size=128)
    assert attack_success_rate(model, X, y, target=0) > 0.8
    assert evaluate(model, X, y) > 0.9
    in_class = np.flatnonzero(yp == 0)
    scores = spectral_signature_scores(hidden_features(model, Xp[in_class]))
    top = in_class[np.argsort(scores)[-int(1.5 * len(idx)) :]]
    assert np.isin(idx, top).mean() > 0.8
    losses = per_example_loss(model, Xp, yp)
    assert losses.shape == (len(yp),) and np.all(losses >= 0)
    with pytest.raises(ValueError, match="class 0"):
        attack_success_rate(model, X[y == 0], y[y == 0], target=0)


def test_feature_helpers_validate():
    with pytest.raises(ValueError, match="Sequential"):
        hidden_features(nn.Linear(64, 10), np.zeros((2, 64)))
    with pytest.raises(ValueError, match="features"):
        spectral_signature_scores(np.zeros(5))


def test_pgd_is_never_weaker_than_fgsm_even_on_an_untrained_model():
    rng = np.random.default_rng(0)
    X = rng.random((300, 64)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    for seed in range(3):
        model = mlp(64, 16, 10, rng=seed)
        for eps in (0.01, 0.05, 0.2):
            X_f = fgsm(model, X, y, eps=eps)
            X_p = pgd(model, X, y, eps=eps, step_size=eps / 10, steps=2, rng=seed)
            with torch.no_grad():
                wrong_f = model(torch.tensor(X_f)).argmax(1).numpy() != y
                wrong_p = model(torch.tensor(X_p)).argmax(1).numpy() != y
            assert np.all(wrong_p[wrong_f])  # every FGSM success is a PGD success
