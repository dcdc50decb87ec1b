"""The one randomness convention: every random function takes ``rng`` (Generator, int seed, None).

For each public random function: an int seed reproduces its output, a numpy Generator is
accepted, and anything else is a ValueError naming ``rng``. Plus the three crashes of issue 17
and the keywords kept for one release.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from course_utils import data, federated, training
from course_utils.attacks import extraction, membership, memorization, poisoning, reconstruction
from course_utils.privacy import audit, dpsgd, mechanisms
from course_utils.robustness import defences, evasion, smoothing
from course_utils.toys import salary
from course_utils.unlearning import sisa

X8 = np.random.default_rng(0).random((8, 64)).astype(np.float32)
Y8 = np.arange(8) % 4


def _value(out):
    """Something comparable with == from a function's output."""
    if isinstance(out, torch.nn.Module):
        return [p.detach().numpy().tolist() for p in out.parameters()]
    if isinstance(out, torch.Tensor):
        return out.detach().numpy().tolist()
    if isinstance(out, tuple):
        return [_value(o) for o in out]
    if isinstance(out, (list, dict)):
        return repr(out)
    if hasattr(out, "to_numpy"):
        return out.to_numpy().tolist()
    return np.asarray(out).tolist()


CALLS = {
    "mlp": lambda rng: training.mlp(8, 4, 2, rng=rng),
    "train": lambda rng: training.train(
        training.mlp(64, (), 4, rng=0), X8, Y8, epochs=2, batch_size=3, rng=rng
    )["loss"],
    "digits_split": lambda rng: data.digits_split(rng=rng)[3][:20],
    "synthetic_patients": lambda rng: data.synthetic_patients(20, rng=rng),
    "voter_list": lambda rng: data.voter_list(
        data.synthetic_patients(20, rng=0), n_others=5, rng=rng
    ),
    "laplace_mechanism": lambda rng: mechanisms.laplace_mechanism(
        np.zeros(3), sensitivity=1, epsilon=1, rng=rng
    ),
    "randomized_response": lambda rng: mechanisms.randomized_response(
        np.ones(20, int), epsilon=1, rng=rng
    ),
    "empirical_epsilon": lambda rng: audit.empirical_epsilon(
        lambda d, g: mechanisms.laplace_mechanism(float(d), sensitivity=1, epsilon=1, rng=g),
        0,
        1,
        n_samples=200,
        rng=rng,
    ),
    "poisson_batch": lambda rng: dpsgd.poisson_batch(50, sample_rate=0.3, rng=rng),
    "noisy_aggregate": lambda rng: dpsgd.noisy_aggregate(
        {"w": torch.zeros(2, 3)}, noise_multiplier=1, max_grad_norm=1, rng=rng
    )["w"],
    "pgd": lambda rng: evasion.pgd(
        training.mlp(rng=0), X8, Y8, eps=0.1, step_size=0.05, steps=2, rng=rng
    ),
    "add_noise": lambda rng: defences.add_noise(X8, sigma=0.1, rng=rng),
    "certify": lambda rng: smoothing.certify(
        training.mlp(rng=0), X8[0], sigma=0.5, n0=10, n=50, rng=rng
    ),
    "flip_labels": lambda rng: poisoning.flip_labels(Y8, fraction=0.5, rng=rng),
    "poison_backdoor": lambda rng: poisoning.poison_backdoor(
        X8, Y8, fraction=0.25, target=0, rng=rng
    )[2],
    "mixup_queries": lambda rng: extraction.mixup_queries(X8, 3, rng=rng),
    "membership_masks": lambda rng: membership.membership_masks(6, 4, rng=rng),
    "card_log": lambda rng: memorization.card_log(5, rng=rng),
    "noisy_release": lambda rng: reconstruction.noisy_release(np.zeros(3), sigma=1.0, rng=rng),
    "iid_partition": lambda rng: federated.iid_partition(10, 3, rng=rng),
    "local_sgd": lambda rng: federated.local_sgd(
        federated.NumpyNet(n_hidden=0), np.zeros(650), X8, Y8, batch_size=2, rng=rng
    ),
    "run_federated": lambda rng: (
        federated.run_federated(
            federated.NumpyNet(n_hidden=0),
            [(X8[:4], Y8[:4]), (X8[4:], Y8[4:])],
            rounds=1,
            X_test=X8,
            y_test=Y8,
            rng=rng,
        ).params
    ),
    "dp_group_lines": lambda rng: salary.dp_group_lines(
        [1.0, 5, 9], [5e4, 6e4, 7e4], [0, 0, 0], epsilon=1, rng=rng
    ),
    "sisa_train": lambda rng: [
        s.tolist()
        for s in sisa.sisa_train(np.r_[X8, X8], np.r_[Y8, Y8] % 2, n_shards=2, rng=rng).shards
    ],
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_int_seed_reproduces_and_a_generator_is_accepted(name):
    call = CALLS[name]
    assert _value(call(3)) == _value(call(3))
    call(np.random.default_rng(3))  # accepted
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        call(-1)


def test_an_int_seed_means_default_rng_of_that_seed():
    a = mechanisms.laplace_mechanism(np.zeros(4), sensitivity=1, epsilon=1, rng=5)
    b = mechanisms.laplace_mechanism(
        np.zeros(4), sensitivity=1, epsilon=1, rng=np.random.default_rng(5)
    )
    assert np.array_equal(a, b)


# ---------------------------------------------------------------- the three crashes of issue 17
def test_train_accepts_a_numpy_generator_and_the_old_seed_keyword():
    model = training.mlp(64, (), 4, rng=0)
    training.train(model, X8, Y8, epochs=1, rng=np.random.default_rng(0))  # was a RuntimeError
    with pytest.warns(DeprecationWarning, match="seed= is deprecated"):
        old = training.train(
            training.mlp(64, (), 4, rng=0), X8, Y8, epochs=2, seed=np.random.default_rng(1)
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = training.train(
            training.mlp(64, (), 4, rng=0), X8, Y8, epochs=2, rng=np.random.default_rng(1)
        )
    assert old == new


def test_flip_labels_accepts_an_int_seed():
    y_bad, flipped = poisoning.flip_labels(Y8, fraction=0.5, rng=0)  # was an AttributeError
    assert len(flipped) == 4 and np.all(y_bad[flipped] != Y8[flipped])


def test_poisson_batch_accepts_the_old_generator_keyword():
    with pytest.warns(DeprecationWarning, match="generator= is deprecated"):
        a = dpsgd.poisson_batch(100, sample_rate=0.2, generator=0)  # was a raw TypeError
    assert torch.equal(a, dpsgd.poisson_batch(100, sample_rate=0.2, rng=0))
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    with pytest.warns(DeprecationWarning):
        old = dpsgd.poisson_batch(
            100, sample_rate=0.2, generator=g1
        )  # a torch generator, as before
    assert torch.equal(old, torch.nonzero(torch.rand(100, generator=g2) < 0.2).flatten())
    with pytest.raises(ValueError, match="rng"):
        dpsgd.poisson_batch(
            100, sample_rate=0.2, rng=torch.Generator()
        )  # rng= is numpy/int/None only


def test_synthetic_patients_keeps_seed_for_one_release():
    with pytest.warns(DeprecationWarning):
        old = data.synthetic_patients(10, seed=4)
    assert old.equals(data.synthetic_patients(10, rng=4))
