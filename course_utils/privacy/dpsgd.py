"""DP-SGD written out in full: per-sample gradients, clipping, noise, Poisson sampling, accounting.

The pieces mirror the algorithm of Abadi et al. (2016) one function at a time, so a notebook can
show each step and the tests can compare each step with Opacus:

1. :func:`poisson_batch` - every example joins a batch independently with probability
   ``sample_rate`` (the sampling the privacy accountant assumes).
2. :func:`per_sample_gradients` - one gradient per example with ``torch.func.vmap(grad(...))``.
3. :func:`clip_per_sample` - rescale each example's whole gradient to norm at most
   ``max_grad_norm``; the summed gradient then changes by at most ``max_grad_norm`` when one
   example is added or removed (its L2 sensitivity).
4. :func:`noisy_aggregate` - add Gaussian noise of standard deviation
   ``noise_multiplier * max_grad_norm`` to the *sum*, then divide by the expected batch size.
5. :func:`noise_multiplier_for` - the noise that makes ``steps`` Poisson-sampled steps
   ``(epsilon, delta)``-DP: another name for
   :func:`course_utils.privacy.accounting.gaussian_noise_multiplier`.

:func:`train_dp_sgd` strings them together; :func:`clipped_sum_microbatch` is the slow,
memory-light alternative to step 2-3 (one backward pass per example); :func:`dp_tpr_bound` is
the best any membership-inference attack can do against an ``(epsilon, delta)``-DP model.
Steps 1-4 and the microbatch loop live in :mod:`course_utils.privacy.dpsgd_steps` and are
re-exported here. How long each way of computing the clipped gradients takes is measured by
:mod:`course_utils.privacy.dpsgd_timing`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..attacks.roc import dp_tpr_bound  # the ROC any attack on a DP model stays under
from ..results import Result
from ..training import evaluate, to_tensors
from ..validation import (
    RNGLike,
    check_int,
    check_positive,
    check_probability,
    torch_generator,
)
from .accounting import gaussian_epsilon
from .accounting import gaussian_noise_multiplier as noise_multiplier_for
from .dpsgd_steps import (
    _noisy_sum,  # the package's DP-SGD noise step (private to course_utils.privacy)
    _poisson_batch,
    clip_per_sample,
    clipped_sum_microbatch,
    noisy_aggregate,
    per_sample_gradients,
    poisson_batch,
)

__all__ = [
    "per_sample_gradients",
    "clip_per_sample",
    "noisy_aggregate",
    "poisson_batch",
    "clipped_sum_microbatch",
    "noise_multiplier_for",
    "train_dp_sgd",
    "dp_tpr_bound",
    "DPTrainingHistory",
]


@dataclass(frozen=True)
class DPTrainingHistory(Result):
    """What :func:`train_dp_sgd` reports besides the model.

    ``epsilon`` is the privacy spent (at most the target; ``math.inf`` without noise) for
    ``delta`` under add/remove-one neighbours, by the accountant that calibrated
    ``noise_multiplier`` for ``steps`` Poisson-sampled steps at ``sample_rate``. ``loss`` (mean
    noiseless loss on the sampled batches), ``accuracy`` (on the whole training set) and, with a
    validation set, ``val_accuracy`` hold one value per epoch.
    """

    epsilon: float
    delta: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    loss: list[float]
    accuracy: list[float]
    val_accuracy: list[float] | None = None


def train_dp_sgd(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    epsilon: float,
    delta: float,
    epochs: int,
    batch_size: int,
    max_grad_norm: float,
    lr: float,
    rng: RNGLike,
    optimizer: str = "adam",
    validation: tuple | None = None,
    accountant: str = "rdp",
) -> tuple[nn.Module, DPTrainingHistory]:
    """Train ``model`` with DP-SGD (from scratch) so that it is ``(epsilon, delta)``-DP.

    Each step Poisson-samples a batch with ``sample_rate = batch_size / n``, computes per-sample
    gradients, clips them to ``max_grad_norm``, adds Gaussian noise to their sum and hands the noisy
    average to Adam (or plain SGD). The noise multiplier is calibrated before training so that
    ``epochs * round(n / batch_size)`` steps spend at most ``epsilon``. ``epsilon=math.inf``
    trains with clipping but no noise (a reference point, not private).

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place and returned.
    X, y : arrays
        Training features and integer labels.
    epsilon, delta : float
        Target privacy budget of the whole training run.
    epochs, batch_size : int
        ``batch_size`` is the *expected* batch size.
    max_grad_norm, lr : float
    rng : numpy.random.Generator, int seed or None
        Source of the sampling and the noise (one torch generator derived from it).
    optimizer : {"adam", "sgd"}
    validation : (X_val, y_val), optional
        Accuracy on it is recorded after every epoch in ``history.val_accuracy``.
    accountant : {"rdp", "prv"}
        Opacus accountant: RDP (default, fast) or PRV (tighter, slower).

    Returns
    -------
    model : torch.nn.Module
    history : DPTrainingHistory

    Examples
    --------
    >>> X = np.r_[np.zeros((50, 2)), np.ones((50, 2))]; y = np.r_[np.zeros(50), np.ones(50)]
    >>> model, history = train_dp_sgd(nn.Linear(2, 2), X, y, epsilon=1.0, delta=1e-3, epochs=5,
    ...                                batch_size=20, max_grad_norm=1.0, lr=0.1, rng=0)
    >>> history.epsilon <= 1.0, history.accuracy[-1]
    (True, 1.0)
    """
    if not (isinstance(epsilon, float) and epsilon == math.inf):  # math.inf: clipping, no noise
        epsilon = check_positive(epsilon, "epsilon")
    delta = check_probability(delta, "delta")
    epochs = check_int(epochs, "epochs", min_val=1)
    batch_size = check_int(batch_size, "batch_size", min_val=1)
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    lr = check_positive(lr, "lr")
    X_t, y_t = to_tensors(X, y)
    n = len(X_t)
    if batch_size > n:
        raise ValueError(
            f"batch_size must be at most the number of examples ({n}), got {batch_size}"
        )
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")

    sample_rate = batch_size / n
    steps_per_epoch = max(1, round(n / batch_size))
    steps = epochs * steps_per_epoch
    if math.isinf(epsilon):
        sigma, spent = 0.0, math.inf
    else:
        schedule = dict(delta=delta, sample_rate=sample_rate, steps=steps, accountant=accountant)
        sigma = noise_multiplier_for(epsilon=epsilon, **schedule)
        with warnings.catch_warnings():  # RDP's "optimal order is the largest alpha": still valid
            warnings.filterwarnings("ignore", message="Optimal order is the", category=UserWarning)
            spent = gaussian_epsilon(noise_multiplier=sigma, **schedule)
    losses: list[float] = []
    accuracies: list[float] = []
    val_accuracies: list[float] | None = None if validation is None else []
    gen = torch_generator(rng)
    loss_fn = nn.CrossEntropyLoss()
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    for _ in range(epochs):
        model.train()
        total_loss, seen = 0.0, 0
        for _ in range(steps_per_epoch):
            idx = _poisson_batch(n, sample_rate, gen)
            xb, yb = X_t[idx], y_t[idx]
            if len(idx) > 0:
                grads = per_sample_gradients(model, loss_fn, xb, yb)
            else:  # an empty batch still takes a (pure noise) step, as the accountant assumes
                grads = {k: torch.zeros(0, *p.shape) for k, p in zip(names, params, strict=True)}
            clipped, _ = clip_per_sample(grads, max_grad_norm=max_grad_norm, inplace=True)
            noisy = _noisy_sum(clipped, sigma * max_grad_norm, gen, sample_rate * n)
            for k, p in zip(names, params, strict=True):
                p.grad = noisy[k]
            opt.step()
            if len(idx) > 0:
                with torch.no_grad():
                    total_loss += float(nn.functional.cross_entropy(model(xb), yb, reduction="sum"))
                seen += len(idx)
        losses.append(total_loss / max(seen, 1))
        accuracies.append(evaluate(model, X_t, y_t))
        if val_accuracies is not None:
            val_accuracies.append(evaluate(model, *validation))
    model.eval()
    history = DPTrainingHistory(
        epsilon=spent,
        delta=delta,
        noise_multiplier=sigma,
        sample_rate=sample_rate,
        steps=steps,
        loss=losses,
        accuracy=accuracies,
        val_accuracy=val_accuracies,
    )
    return model, history


_TIMING = ("GRADIENT_METHODS", "gradient_step_seconds", "epoch_seconds")


def __getattr__(name: str) -> object:
    """The timing helpers live in :mod:`course_utils.privacy.dpsgd_timing`; old imports still work."""
    if name in _TIMING:
        from . import dpsgd_timing

        return getattr(dpsgd_timing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
