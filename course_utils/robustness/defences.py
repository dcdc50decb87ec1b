"""Defences: adversarial training, Gaussian data augmentation, input transformations that hide the
gradient (and are broken by :func:`~course_utils.robustness.evasion.bpda_pgd`), defensive
distillation, and the spectral-signature filter against poisoned training data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from ..results import Result
from ..training import Attack, TrainingHistory, train
from ..validation import (
    RNGLike,
    as_rng,
    as_seed,
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    torch_generator,
)
from ._inputs import Array, _EvalMode, _tensor, _tensor_keep_graph
from .evasion import NORMS, pgd

__all__ = [
    "adversarial_training",
    "gaussian_augment",
    "Preprocessed",
    "Temperature",
    "feature_squeeze",
    "median_smooth",
    "add_noise",
    "distill",
    "DistillationHistory",
    "defensive_distillation",
    "hidden_features",
    "spectral_signature_scores",
]


def adversarial_training(
    model: nn.Module,
    X: Array,
    y: Array,
    *,
    eps: float,
    step_size: float | None = None,
    steps: int = 7,
    norm: str = "linf",
    rng: RNGLike = 0,
    **train_kw: Any,
) -> TrainingHistory:
    """PGD adversarial training (Madry et al. 2018): :func:`course_utils.training.train` with
    every batch replaced by its PGD attack.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place.
    X, y : training data (X in [0, 1])
    eps, step_size, steps, norm : the PGD attack used during training
        ``step_size`` defaults to ``2.5 * eps / steps``.
    rng : numpy.random.Generator, int seed or None, default 0
        One stream for the batch order and the attacks' random starts.
    **train_kw : passed to :func:`course_utils.training.train` (``epochs``, ``lr``...)

    Returns
    -------
    The training history (loss and accuracy on the attacked batches, per epoch).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(64, 64); y = (X[:, 0] > 0.5).long()
    >>> history = adversarial_training(mlp(rng=0), X, y, eps=0.05, steps=2, epochs=2)
    >>> len(history["loss"])
    2
    """
    eps = check_non_negative(eps, "eps")
    steps = check_int(steps, "steps", min_val=1)
    check_choice(norm, "norm", NORMS)
    step_size = 2.5 * eps / steps if step_size is None else check_positive(step_size, "step_size")
    gen = as_rng(rng)
    attack = partial(pgd, eps=eps, step_size=step_size, steps=steps, norm=norm, rng=gen)
    return train(model, X, y, attack=attack, rng=gen, **train_kw)


def gaussian_augment(*, sigma: float, rng: RNGLike = 0) -> Attack:
    """An ``attack=`` callable for :func:`course_utils.training.train` that adds N(0, sigma^2)
    noise to every batch: the training recipe of randomized smoothing (no clipping).

    Examples
    --------
    >>> noisy = gaussian_augment(sigma=0.25, rng=0)
    >>> X = torch.zeros(1000, 4)
    >>> round(float(noisy(None, X, None).std()), 1)
    0.2
    """
    sigma = check_non_negative(sigma, "sigma")
    gen = torch_generator(rng)  # one torch stream for every batch

    def augment(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return X + sigma * torch.randn(X.shape, generator=gen)

    return augment


class Preprocessed(nn.Module):
    """A defended model: ``model(transform(x))``. ``transform`` acts on tensors.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> defended = Preprocessed(mlp(rng=0), partial(feature_squeeze, bits=1))
    >>> defended(torch.rand(3, 64)).shape
    torch.Size([3, 10])
    """

    def __init__(self, model: nn.Module, transform: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        if not callable(transform):
            raise ValueError(f"transform must be callable, got {transform!r}")
        self.model = model
        self.transform = transform

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.transform(x))


class Temperature(nn.Module):
    """``model(x) / temperature``: the softened logits used to train and read distillation.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> base = mlp(rng=0); x = torch.rand(2, 64)
    >>> torch.allclose(Temperature(base, 10.0)(x) * 10, base(x))
    True
    """

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        self.model = model
        self.temperature = check_positive(temperature, "temperature")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x) / self.temperature


def feature_squeeze(X: Array, *, bits: int) -> Array:
    """Bit-depth reduction (Xu et al. 2018): round each value in [0, 1] to ``2**bits`` levels.

    Its gradient is zero almost everywhere, which is what fools a naive gradient attack.

    Examples
    --------
    >>> feature_squeeze(np.array([[0.1, 0.4, 0.6, 0.9]]), bits=1).tolist()
    [[0.0, 0.0, 1.0, 1.0]]
    """
    bits = check_int(bits, "bits", min_val=1, max_val=16)
    X_t, was_numpy = _tensor_keep_graph(X)
    levels = 2**bits - 1
    out = torch.round(X_t.clamp(0.0, 1.0) * levels) / levels
    return out.detach().numpy() if was_numpy else out


def median_smooth(X: Array, *, size: int = 3, image_shape: tuple[int, int] = (8, 8)) -> Array:
    """Median filter over ``size x size`` windows of each image (edges reflected).

    ``X`` has shape ``(N, H*W)`` or ``(N, ..., H, W)``; the result has the same shape.
    Torch back-propagates through the median (to the selected pixel), so unlike
    :func:`feature_squeeze` this defence does not hide the gradient.

    Examples
    --------
    >>> X = np.zeros((1, 64)); X[0, 27] = 1.0          # one bright pixel
    >>> float(median_smooth(X).max())                    # salt noise is removed
    0.0
    """
    size = check_int(size, "size", min_val=1)
    if size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer, got {size!r}")
    X_t, was_numpy = _tensor_keep_graph(X)
    h, w = image_shape
    if len(X_t) and X_t[0].numel() != h * w:
        raise ValueError(
            f"each example must have image_shape {image_shape} = {h * w} values, got {X_t[0].numel()}"
        )
    images = X_t.reshape(len(X_t), 1, h, w)
    pad = size // 2
    padded = nn.functional.pad(images, (pad, pad, pad, pad), mode="reflect")
    patches = padded.unfold(2, size, 1).unfold(3, size, 1)  # (N, 1, h, w, size, size)
    smoothed = patches.reshape(len(X_t), 1, h, w, size * size).median(dim=-1).values
    out = smoothed.reshape(X_t.shape)
    return out.detach().numpy() if was_numpy else out


def add_noise(X: Array, *, sigma: float, rng: RNGLike = None, clip: bool = True) -> Array:
    """Noise injection: ``X + N(0, sigma^2)``, clipped to [0, 1] unless ``clip=False``.

    As a preprocessing step it is a *random* defence; unclipped it is the noise of randomized
    smoothing.

    Examples
    --------
    >>> X = np.full((2, 3), 0.5)
    >>> np.array_equal(add_noise(X, sigma=0.1, rng=1), add_noise(X, sigma=0.1, rng=1))
    True
    """
    sigma = check_non_negative(sigma, "sigma")
    X_t, was_numpy = _tensor_keep_graph(X)
    noise = torch.randn(X_t.shape, generator=torch_generator(rng))
    out = X_t + sigma * noise
    if clip:
        out = out.clamp(0.0, 1.0)
    return out.detach().numpy() if was_numpy else out


@dataclass(frozen=True)
class DistillationHistory(Result):
    """What :func:`distill` returns, per epoch: the cross-entropy against the soft targets and the
    agreement (argmax of the student equals argmax of the targets) on the training batches."""

    loss: list[float]
    agreement: list[float]


def distill(
    student: nn.Module,
    X: Array,
    soft_targets: Array,
    *,
    temperature: float = 1.0,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-2,
    rng: RNGLike = 0,
) -> DistillationHistory:
    """Train ``student`` so that ``softmax(student(X) / temperature)`` matches ``soft_targets``.

    Cross-entropy against probability vectors (Hinton et al. 2015). Used by defensive
    distillation and by model extraction from a probability API.

    Parameters
    ----------
    student : torch.nn.Module
        Trained in place (Adam).
    X : inputs; soft_targets : array of shape (N, n_classes), rows summing to 1
    temperature : float, default 1
    epochs, batch_size, lr, rng : as in :func:`course_utils.training.train`

    Returns
    -------
    DistillationHistory

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))]
    >>> P = np.r_[np.tile([0.9, 0.1], (20, 1)), np.tile([0.2, 0.8], (20, 1))]
    >>> history = distill(mlp(2, (), 2), X, P, epochs=40, lr=0.1)
    >>> history["agreement"][-1]
    1.0
    """
    temperature = check_positive(temperature, "temperature")
    X_t, _ = _tensor(X)
    P_t, _ = _tensor(soft_targets, "soft_targets")
    if P_t.dim() != 2 or len(P_t) != len(X_t):
        raise ValueError(
            f"soft_targets must have shape (len(X), n_classes), got {tuple(P_t.shape)}"
        )
    if float(P_t.min()) < 0 or not torch.allclose(P_t.sum(1), torch.ones(len(P_t)), atol=1e-3):
        raise ValueError(
            "soft_targets rows must be probability vectors (non-negative, summing to 1)"
        )
    history = train(
        student,
        X_t,
        P_t,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        temperature=temperature,
        rng=rng,
    )
    student.eval()
    return DistillationHistory(loss=history.loss, agreement=history.accuracy)


def defensive_distillation(
    teacher: nn.Module,
    student: nn.Module,
    X: Array,
    y: Array,
    *,
    temperature: float = 100.0,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-2,
    rng: RNGLike = 0,
) -> nn.Module:
    """Defensive distillation (Papernot et al. 2016).

    Train ``teacher`` at temperature T (softmax of logits / T), label ``X`` with its soft
    predictions at T, train ``student`` on them at T, and deploy the student at temperature 1.
    The deployed logits are about T times larger, so the softmax saturates and the
    cross-entropy gradient underflows to zero: the defence hides the gradient, it does not
    move the decision boundary.

    ``rng`` (an int seed, a numpy Generator or None) gives one seed ``s``: the teacher trains
    with ``s`` and the student with ``s + 1``.

    Returns
    -------
    The trained ``student`` (deployed at temperature 1).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(64, 64); y = (X[:, 0] > 0.5).long()
    >>> student = defensive_distillation(mlp(rng=0), mlp(rng=1), X, y, temperature=20, epochs=2)
    >>> student(X).shape
    torch.Size([64, 10])
    """
    temperature = check_positive(temperature, "temperature")
    seed = as_seed(rng)
    train(
        Temperature(teacher, temperature),
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        rng=seed,
    )
    X_t, _ = _tensor(X)
    with _EvalMode(teacher), torch.no_grad():
        soft = torch.softmax(teacher(X_t) / temperature, dim=1)
    distill(
        student,
        X_t,
        soft,
        temperature=temperature,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        rng=seed + 1,
    )
    return student


@torch.no_grad()
def hidden_features(model: nn.Sequential, X: Array) -> np.ndarray:
    """Activations of the last hidden layer of a ``nn.Sequential`` (everything but the last
    layer), e.g. the 64 ReLU units of ``course_utils.training.mlp``.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> hidden_features(mlp(64, 32, 10), np.zeros((5, 64))).shape
    (5, 32)
    """
    if not isinstance(model, nn.Sequential) or len(model) < 2:
        raise ValueError("model must be an nn.Sequential with at least two layers")
    with _EvalMode(model):
        return model[:-1](_tensor(X)[0]).numpy()


def spectral_signature_scores(features: np.ndarray) -> np.ndarray:
    """Outlier score of each example within one class (Tran et al. 2018): the squared
    projection of its centred feature vector on the top singular direction.

    Poisoned examples share a strong feature (the trigger), which tends to dominate that
    direction; remove the highest-scoring examples and retrain.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> F = rng.normal(size=(100, 5)); F[:10, 0] += 6       # ten examples share a shifted feature
    >>> int(np.argsort(spectral_signature_scores(F))[-10:].min()) < 10
    True
    """
    F = np.asarray(features, dtype=float)
    if F.ndim != 2 or len(F) < 2:
        raise ValueError(f"features must have shape (n >= 2, d), got {F.shape}")
    centred = F - F.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return (centred @ vt[0]) ** 2
