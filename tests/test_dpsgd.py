"""DP-SGD from scratch: each piece against its definition and against Opacus."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.data import digits_split
from course_utils.privacy.accounting import gaussian_epsilon
from course_utils.privacy.dpsgd import (
    GRADIENT_METHODS,
    clip_per_sample,
    clipped_sum_microbatch,
    dp_tpr_bound,
    epoch_seconds,
    gradient_step_seconds,
    noise_multiplier_for,
    noisy_aggregate,
    per_sample_gradients,
    poisson_batch,
    train_dp_sgd,
)
from course_utils.training import evaluate, mlp, to_tensors


@pytest.fixture(scope="module")
def digits():
    return digits_split(rng=0)


@pytest.fixture(scope="module")
def batch(digits):
    X_train, _, y_train, _ = digits
    return to_tensors(X_train[:48], y_train[:48])


def _opacus_grad_samples(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict:
    from opacus import GradSampleModule

    gsm = GradSampleModule(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.CrossEntropyLoss()(gsm(X), y).backward()
    return {
        k.removeprefix("_module."): p.grad_sample.detach().clone()
        for k, p in gsm.named_parameters()
    }


# --- per-sample gradients ---------------------------------------------------------------------
def test_per_sample_gradients_match_opacus(batch):
    X, y = batch
    ours = per_sample_gradients(mlp(64, (32,), 10, rng=1), nn.CrossEntropyLoss(), X, y)
    theirs = _opacus_grad_samples(mlp(64, (32,), 10, rng=1), X, y)
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert ours[k].shape == (len(X), *theirs[k].shape[1:])
        torch.testing.assert_close(ours[k], theirs[k], rtol=1e-5, atol=1e-6)


def test_per_sample_gradients_average_to_the_batch_gradient(batch):
    X, y = batch
    model = mlp(64, (16,), 10, rng=2)
    grads = per_sample_gradients(model, nn.CrossEntropyLoss(), X, y)
    model.zero_grad()
    nn.CrossEntropyLoss()(model(X), y).backward()
    for k, p in model.named_parameters():
        torch.testing.assert_close(grads[k].mean(0), p.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "loss_fn",
    [
        nn.CrossEntropyLoss(),
        nn.CrossEntropyLoss(reduction="sum"),
        nn.CrossEntropyLoss(label_smoothing=0.1),
        nn.CrossEntropyLoss(weight=torch.linspace(0.5, 1.5, 10)),
        nn.CrossEntropyLoss(ignore_index=3),
    ],
    ids=["plain", "sum", "smoothing", "weights", "ignore-3"],
)
def test_per_sample_gradients_equal_one_backward_per_example(batch, loss_fn):
    """The written-out cross-entropy (plain loss) and the generic path both match autograd, example by example."""
    X, y = batch
    X, y = X[:12], y[:12]
    model = mlp(64, (16,), 10, rng=3)
    grads = per_sample_gradients(model, loss_fn, X, y)
    for i in range(len(X)):
        model.zero_grad()
        loss_fn(model(X[i : i + 1]), y[i : i + 1]).backward()
        for k, p in model.named_parameters():
            expected = torch.nan_to_num(p.grad)  # an ignored class: 0/0 in the mean, no gradient
            torch.testing.assert_close(
                torch.nan_to_num(grads[k][i]), expected, rtol=1e-5, atol=1e-6
            )


def test_per_sample_gradients_accept_numpy(batch):
    X, y = batch
    model = mlp(64, (8,), 10)
    a = per_sample_gradients(model, nn.CrossEntropyLoss(), X.numpy(), y.numpy())
    b = per_sample_gradients(model, nn.CrossEntropyLoss(), X, y)
    torch.testing.assert_close(a["0.weight"], b["0.weight"])


def test_per_sample_gradients_skip_frozen_parameters(batch):
    X, y = batch
    model = mlp(64, (16,), 10)
    model[0].weight.requires_grad_(False)
    assert "0.weight" not in per_sample_gradients(model, nn.CrossEntropyLoss(), X, y)


@pytest.mark.parametrize(
    "args, match",
    [
        (("not a model",), "model"),
        ((nn.Linear(2, 2), np.zeros((2, 2)), np.zeros(3)), "equal length"),
        (
            (nn.Linear(2, 2), torch.zeros(3, 2), torch.zeros(2, dtype=torch.long)),
            "same non-zero length",
        ),
    ],
)
def test_per_sample_gradients_bad_input(args, match):
    model = args[0]
    X = args[1] if len(args) > 1 else torch.zeros(2, 2)
    y = args[2] if len(args) > 2 else torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match=match):
        per_sample_gradients(model, nn.CrossEntropyLoss(), X, y)


# --- clipping ---------------------------------------------------------------------------------
def test_clipped_norms_are_at_most_the_bound(batch):
    X, y = batch
    grads = per_sample_gradients(mlp(64, (32,), 10), nn.CrossEntropyLoss(), X, y)
    for C in (0.01, 0.5, 100.0):
        clipped, norms = clip_per_sample(grads, max_grad_norm=C)
        flat = torch.cat([g.reshape(len(X), -1) for g in clipped.values()], dim=1)
        after = flat.norm(dim=1)
        assert torch.all(after <= C * (1 + 1e-5))
        small = norms < C  # gradients under the bound are left alone
        torch.testing.assert_close(after[small], norms[small], rtol=1e-5, atol=1e-7)
        # the direction never changes
        before = torch.cat([g.reshape(len(X), -1) for g in grads.values()], dim=1)
        cos = torch.nn.functional.cosine_similarity(before, flat, dim=1)
        assert torch.all(cos > 1 - 1e-5)


def test_clip_inplace_and_copy_agree():
    g = {"w": torch.randn(5, 3, 2), "b": torch.randn(5, 3)}
    copy = {k: v.clone() for k, v in g.items()}
    clipped, norms = clip_per_sample(g, max_grad_norm=0.3)
    torch.testing.assert_close(g["w"], copy["w"])  # input untouched by default
    clipped_in, norms_in = clip_per_sample(copy, max_grad_norm=0.3, inplace=True)
    assert clipped_in["w"] is copy["w"]
    torch.testing.assert_close(clipped_in["w"], clipped["w"])
    torch.testing.assert_close(norms, norms_in)


@pytest.mark.parametrize(
    "grads, C, match",
    [
        ({}, 1.0, "non-empty dict"),
        ({"a": torch.zeros(3, 2), "b": torch.zeros(4)}, 1.0, "same leading batch dimension"),
        ({"a": torch.zeros(3, 2)}, 0.0, "max_grad_norm"),
        ({"a": torch.zeros(3, 2)}, -1.0, "max_grad_norm"),
        ({"a": torch.zeros(3, 2)}, "1", "max_grad_norm"),
    ],
)
def test_clip_bad_input(grads, C, match):
    with pytest.raises(ValueError, match=match):
        clip_per_sample(grads, max_grad_norm=C)


# --- noise ------------------------------------------------------------------------------------
def test_noise_std_matches_noise_multiplier_times_bound():
    n, d = 8, 200_000
    clipped = {"w": torch.zeros(n, d)}
    rng = np.random.default_rng(0)
    out = noisy_aggregate(clipped, noise_multiplier=1.5, max_grad_norm=0.4, rng=rng)["w"]
    # sum + N(0, (1.5 * 0.4)^2), divided by the batch size 8
    assert out.std().item() == pytest.approx(1.5 * 0.4 / n, rel=0.01)
    assert abs(out.mean().item()) < 5 * 1.5 * 0.4 / n / math.sqrt(d)
    out = noisy_aggregate(
        clipped, noise_multiplier=1.5, max_grad_norm=0.4, rng=rng, expected_batch_size=20.0
    )["w"]
    assert out.std().item() == pytest.approx(1.5 * 0.4 / 20, rel=0.01)


def test_noiseless_aggregate_is_the_mean_and_a_seed_reproduces():
    clipped = {"w": torch.randn(6, 3), "b": torch.randn(6)}
    out = noisy_aggregate(clipped, noise_multiplier=0.0, max_grad_norm=1.0)
    torch.testing.assert_close(out["w"], clipped["w"].mean(0))
    a = noisy_aggregate(clipped, noise_multiplier=1.0, max_grad_norm=1.0, rng=3)
    c = noisy_aggregate(clipped, noise_multiplier=1.0, max_grad_norm=1.0, rng=4)
    torch.testing.assert_close(
        a["w"], noisy_aggregate(clipped, noise_multiplier=1.0, max_grad_norm=1.0, rng=3)["w"]
    )
    assert not torch.equal(a["w"], c["w"])
    empty = noisy_aggregate({"w": torch.zeros(0, 3)}, noise_multiplier=0.0, max_grad_norm=1.0)
    assert empty["w"].shape == (3,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise_multiplier": -1.0, "max_grad_norm": 1.0}, "noise_multiplier"),
        ({"noise_multiplier": 1.0, "max_grad_norm": 0.0}, "max_grad_norm"),
        (
            {"noise_multiplier": 1.0, "max_grad_norm": 1.0, "expected_batch_size": 0},
            "expected_batch_size",
        ),
    ],
)
def test_noisy_aggregate_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        noisy_aggregate({"w": torch.zeros(2, 2)}, **kwargs)


def test_one_scratch_step_equals_one_opacus_step(batch):
    """No noise, fixed batch: the scratch update is Opacus's update to float precision."""
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    X, y = batch
    ours = mlp(64, (16,), 10, rng=4)
    clipped, _ = clip_per_sample(
        per_sample_gradients(ours, nn.CrossEntropyLoss(), X, y), max_grad_norm=0.05
    )
    step = noisy_aggregate(
        clipped, noise_multiplier=0.0, max_grad_norm=0.05, expected_batch_size=len(X)
    )

    model = mlp(64, (16,), 10, rng=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gsm, opt, _ = PrivacyEngine(accountant="rdp").make_private(
            module=model,
            optimizer=torch.optim.SGD(model.parameters(), lr=1.0),
            data_loader=DataLoader(TensorDataset(X, y), batch_size=len(X)),
            noise_multiplier=0.0,
            max_grad_norm=0.05,
            poisson_sampling=False,
        )
        before = {k: p.detach().clone() for k, p in ours.named_parameters()}
        opt.zero_grad()
        nn.CrossEntropyLoss()(gsm(X), y).backward()
        opt.step()
    for k, p in model.named_parameters():
        torch.testing.assert_close(before[k] - p.detach(), step[k], rtol=1e-4, atol=1e-7)


def test_microbatching_equals_vmap(batch):
    X, y = batch
    model = mlp(64, (16,), 10, rng=5)
    total, norms = clipped_sum_microbatch(model, nn.CrossEntropyLoss(), X, y, max_grad_norm=0.1)
    clipped, norms_v = clip_per_sample(
        per_sample_gradients(model, nn.CrossEntropyLoss(), X, y), max_grad_norm=0.1
    )
    torch.testing.assert_close(norms, norms_v, rtol=1e-4, atol=1e-6)
    for k in total:
        torch.testing.assert_close(total[k], clipped[k].sum(0), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="max_grad_norm"):
        clipped_sum_microbatch(model, nn.CrossEntropyLoss(), X, y, max_grad_norm=-1)


# --- sampling and accounting ------------------------------------------------------------------
def test_poisson_batch_sizes_are_binomial():
    rng = np.random.default_rng(0)
    sizes = np.array([len(poisson_batch(500, sample_rate=0.2, rng=rng)) for _ in range(400)])
    assert sizes.mean() == pytest.approx(100, rel=0.03)
    assert sizes.std() == pytest.approx(math.sqrt(500 * 0.2 * 0.8), rel=0.15)
    idx = poisson_batch(50, sample_rate=1.0)
    assert idx.tolist() == list(range(50))
    for kwargs, match in (
        ({"n": 0, "sample_rate": 0.1}, "n must"),
        ({"n": 5, "sample_rate": 0.0}, "sample_rate"),
        ({"n": 5, "sample_rate": 1.5}, "sample_rate"),
    ):
        with pytest.raises(ValueError, match=match):
            poisson_batch(**kwargs)


@pytest.mark.parametrize(
    "epsilon, accountant",
    [
        (0.5, "rdp"),
        (1.0, "rdp"),
        (3.0, "rdp"),
        (8.0, "rdp"),
        (0.5, "prv"),
        (1.0, "prv"),
    ],  # PRV is slow at low noise
)
def test_noise_multiplier_spends_within_one_percent(epsilon, accountant):
    q, steps = 256 / 1347, 150
    sigma = noise_multiplier_for(
        epsilon=epsilon, delta=1e-5, sample_rate=q, steps=steps, accountant=accountant
    )
    spent = gaussian_epsilon(
        noise_multiplier=sigma, steps=steps, delta=1e-5, sample_rate=q, accountant=accountant
    )
    assert 0.99 * epsilon <= spent <= epsilon


def test_noise_multiplier_bad_input():
    good = {"epsilon": 1.0, "delta": 1e-5, "sample_rate": 0.1, "steps": 10}
    for key, value, match in (
        ("epsilon", 0.0, "epsilon"),
        ("delta", 1.0, "delta"),
        ("sample_rate", 2.0, "sample_rate"),
        ("steps", 0, "steps"),
        ("accountant", "gdp?", "accountant"),
        ("rtol", 1.0, "rtol"),
    ):
        with pytest.raises(ValueError, match=match):
            noise_multiplier_for(**{**good, key: value})


# --- training ---------------------------------------------------------------------------------
def _linear() -> nn.Module:
    model = mlp(64, (), 10)
    for p in model.parameters():
        p.data.zero_()
    return model


def test_train_dp_sgd_spends_its_budget_and_learns(digits):
    X_train, X_test, y_train, y_test = digits
    model, history = train_dp_sgd(
        _linear(),
        X_train,
        y_train,
        epsilon=3.0,
        delta=1e-5,
        epochs=10,
        batch_size=256,
        max_grad_norm=1.0,
        lr=0.05,
        rng=0,
        validation=(X_test, y_test),
    )
    assert 0.99 * 3.0 <= history["epsilon"] <= 3.0
    assert history["steps"] == 10 * round(len(X_train) / 256)
    assert history["sample_rate"] == pytest.approx(256 / len(X_train))
    assert history["noise_multiplier"] > 1.0
    assert len(history["loss"]) == len(history["accuracy"]) == len(history["val_accuracy"]) == 10
    assert evaluate(model, X_test, y_test) > 0.85
    assert history["val_accuracy"][-1] == pytest.approx(evaluate(model, X_test, y_test))


def test_train_dp_sgd_is_seeded_and_more_noise_hurts(digits):
    X_train, X_test, y_train, y_test = digits
    kw = dict(delta=1e-5, epochs=5, batch_size=256, max_grad_norm=1.0, lr=0.05)
    a, ha = train_dp_sgd(_linear(), X_train, y_train, epsilon=1.0, rng=1, **kw)
    b, hb = train_dp_sgd(_linear(), X_train, y_train, epsilon=1.0, rng=1, **kw)
    torch.testing.assert_close(a[0].weight, b[0].weight)
    c, hc = train_dp_sgd(
        _linear(), X_train, y_train, epsilon=math.inf, rng=1, optimizer="sgd", **{**kw, "lr": 1.0}
    )
    assert hc["noise_multiplier"] == 0.0 and hc["epsilon"] == math.inf
    assert hb["noise_multiplier"] > 1.0
    assert evaluate(c, X_test, y_test) > 0.85


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("epsilon", 0.0, "epsilon"),
        ("epsilon", "1", "epsilon"),
        ("delta", 0.0, "delta"),
        ("epochs", 0, "epochs"),
        ("batch_size", 10_000, "batch_size"),
        ("batch_size", 2.5, "batch_size"),
        ("max_grad_norm", 0.0, "max_grad_norm"),
        ("lr", -1.0, "lr"),
        ("optimizer", "rmsprop", "optimizer"),
    ],
)
def test_train_dp_sgd_bad_input(key, value, match):
    X = np.zeros((20, 2), dtype=np.float32)
    y = np.arange(20) % 2
    kw = dict(epsilon=1.0, delta=1e-5, epochs=1, batch_size=5, max_grad_norm=1.0, lr=0.1, rng=0)
    with pytest.raises(ValueError, match=match):
        train_dp_sgd(nn.Linear(2, 2), X, y, **{**kw, key: value})


# --- the attacker's ceiling -------------------------------------------------------------------
def test_dp_tpr_bound_values():
    assert dp_tpr_bound(0.01, epsilon=1.0, delta=1e-5) == pytest.approx(math.e * 0.01 + 1e-5)
    # the second branch takes over at large FPR
    assert dp_tpr_bound(0.9, epsilon=1.0, delta=0.0) == pytest.approx(1 - math.exp(-1) * 0.1)
    assert dp_tpr_bound(0.3, epsilon=0.0, delta=0.0) == pytest.approx(0.3)
    assert dp_tpr_bound(0.0, epsilon=2.0, delta=1e-3) == pytest.approx(1e-3)
    assert dp_tpr_bound(1.0, epsilon=2.0, delta=1e-3) == 1.0
    assert dp_tpr_bound(0.5, epsilon=1e4, delta=0.0) == 1.0  # no overflow warning, just 1
    grid = np.linspace(0, 1, 101)
    tpr = dp_tpr_bound(grid, epsilon=1.0, delta=1e-5)
    assert tpr.shape == grid.shape and np.all(np.diff(tpr) >= 0) and np.all(tpr >= grid)
    assert isinstance(dp_tpr_bound(0.1, epsilon=1.0, delta=0.0), float)


@pytest.mark.parametrize(
    "fpr, epsilon, delta, match",
    [
        (-0.1, 1.0, 0.0, "fpr"),
        (1.5, 1.0, 0.0, "fpr"),
        (0.1, -1.0, 0.0, "epsilon"),
        (0.1, 1.0, 1.0, "delta"),
    ],
)
def test_dp_tpr_bound_bad_input(fpr, epsilon, delta, match):
    with pytest.raises(ValueError, match=match):
        dp_tpr_bound(fpr, epsilon=epsilon, delta=delta)


# --- timing helper ----------------------------------------------------------------------------
def test_gradient_step_seconds_runs_every_method(digits):
    X_train, _, y_train, _ = digits
    for method in GRADIENT_METHODS:
        assert (
            gradient_step_seconds(
                lambda: mlp(64, (8,), 10), X_train, y_train, method=method, batch_size=16, repeats=1
            )
            > 0
        )
    with pytest.raises(ValueError, match="method"):
        gradient_step_seconds(lambda: mlp(64, (8,), 10), X_train, y_train, method="jax")
    with pytest.raises(ValueError, match="batch_size"):
        gradient_step_seconds(
            lambda: mlp(64, (8,), 10), X_train, y_train, method="vmap", batch_size=0
        )
    with pytest.raises(ValueError, match="repeats"):
        gradient_step_seconds(lambda: mlp(64, (8,), 10), X_train, y_train, method="vmap", repeats=0)


class _Counter:
    """Makes plain ``nn.Linear`` layers (so Opacus treats them as usual) that count their forward
    calls and the examples those calls see."""

    def __init__(self):
        self.calls = self.seen = 0

    def _count(self, module, args):
        self.calls += 1
        self.seen += args[0].shape[0] if args[0].dim() > 1 else 1  # under vmap: one example

    def make(self) -> nn.Module:
        layer = nn.Linear(4, 3)
        layer.register_forward_pre_hook(self._count)
        return layer


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_epoch_seconds_reads_every_example_once_per_epoch(method):
    # 200 examples, batch 25, 2 timed epochs + 1 warm-up = 24 batches and 600 examples (about
    # 600 under Poisson sampling: 24 batches x 200 coin flips with p = 1/8, sd 23)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 4)).astype(np.float32), np.arange(200) % 3
    counter = _Counter()
    assert epoch_seconds(counter.make, X, y, method=method, batch_size=25, epochs=2) > 0
    if method == "non-private":
        assert (counter.calls, counter.seen) == (24, 600)
    elif method == "vmap":  # vmap traces forward once per batch, with one example's shape
        assert counter.calls == 24
    else:  # hooks and ghost: one batched forward per batch; microbatch: one forward per example
        assert 500 < counter.seen < 700 and counter.seen != 600  # Poisson batches, not a shuffle
        assert counter.calls == (counter.seen if method == "microbatch" else 24)


def test_epoch_seconds_bad_input(digits):
    X_train, _, y_train, _ = digits
    make = lambda: mlp(64, (8,), 10)  # noqa: E731
    with pytest.raises(ValueError, match="method"):
        epoch_seconds(make, X_train, y_train, method="jax")
    with pytest.raises(ValueError, match="batch_size"):
        epoch_seconds(make, X_train, y_train, method="vmap", batch_size=len(X_train) + 1)
    with pytest.raises(ValueError, match="epochs"):
        epoch_seconds(make, X_train, y_train, method="vmap", epochs=0)
    with pytest.raises(ValueError, match="make_model must be a function"):
        epoch_seconds(mlp(64, (8,), 10), X_train, y_train, method="vmap")  # a model, not a factory
    with pytest.raises(ValueError, match=r"make_model\(\) must return a torch.nn.Module"):
        gradient_step_seconds(lambda: None, X_train, y_train, method="non-private")
