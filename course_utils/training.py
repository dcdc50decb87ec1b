"""One small train / evaluate loop for torch models, shared by notebooks 04-07.

The loop takes an optional ``attack`` callable so that standard training, adversarial training
and friends are the same code with one argument changed (no ``epoch`` / ``epoch_adv`` twins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .results import Result
from .validation import (
    RNGLike,
    as_seed,
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    old_keyword,
    torch_generator,
)

__all__ = [
    "mlp",
    "to_tensors",
    "train",
    "TrainingHistory",
    "evaluate",
    "predict_proba",
    "per_example_loss",
]

Attack = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def mlp(
    n_in: int = 64, n_hidden: int | tuple[int, ...] = 64, n_out: int = 10, *, rng: RNGLike = 0
) -> nn.Sequential:
    """A ReLU multilayer perceptron; ``n_hidden=()`` gives a linear model.

    The weights are drawn by torch's default initialisation after ``torch.manual_seed(s)``, with
    ``s`` the seed of ``rng`` (:func:`course_utils.validation.as_seed`): ``rng=0`` always builds
    the same network. (This re-seeds torch's global generator, as ``torch.manual_seed`` does.)

    Examples
    --------
    >>> model = mlp(64, (32,), 10, rng=0)
    >>> model(torch.zeros(2, 64)).shape
    torch.Size([2, 10])
    """
    hidden = (n_hidden,) if isinstance(n_hidden, int) else tuple(n_hidden)
    n_in = check_int(n_in, "n_in", min_val=1)
    hidden = tuple(check_int(h, "n_hidden", min_val=1) for h in hidden)
    n_out = check_int(n_out, "n_out", min_val=1)
    torch.manual_seed(as_seed(rng))
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def to_tensors(X: np.ndarray, y: np.ndarray | None = None) -> tuple[torch.Tensor, ...]:
    """float32 features and labels as torch tensors.

    Labels of shape (N,) become int64 class indices; labels of shape (N, C) are kept as float32
    probability vectors (soft targets, as in distillation).

    Examples
    --------
    >>> X, y = to_tensors(np.zeros((3, 2)), np.array([0, 1, 1]))
    >>> X.dtype, y.dtype
    (torch.float32, torch.int64)
    >>> to_tensors(np.zeros((3, 2)), np.full((3, 2), 0.5))[1].dtype
    torch.float32
    """
    X_t = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, dtype=torch.float32)
    if y is None:
        return (X_t,)
    y_np = y if torch.is_tensor(y) else np.asarray(y)
    y_t = torch.as_tensor(y_np, dtype=torch.float32 if y_np.ndim == 2 else torch.int64)
    if len(X_t) != len(y_t):
        raise ValueError(f"X and y have different lengths: {len(X_t)} and {len(y_t)}")
    return X_t, y_t


@dataclass(frozen=True)
class TrainingHistory(Result):
    """What :func:`train` returns: one value per epoch, measured on the training batches.

    ``accuracy`` is the share of correct predictions (with soft targets: agreement with the
    targets' argmax; with an ``attack``: accuracy on the attacked batches).
    """

    loss: list[float]
    accuracy: list[float]


def train(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-2,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    attack: Attack | None = None,
    temperature: float = 1.0,
    rng: RNGLike = 0,
    seed: RNGLike | None = None,
) -> TrainingHistory:
    """Train ``model`` with cross-entropy; return the per-epoch history.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float batch to logits; trained in place.
    X, y : arrays
        Features, and integer labels of shape (N,) or probability vectors of shape (N, C)
        (soft targets: distillation, extraction from a probability API).
    epochs, batch_size, lr, weight_decay : training knobs
    optimizer : {"adam", "sgd"}
    attack : callable, optional
        ``attack(model, X_batch, y_batch) -> X_adv``; when given, each batch is replaced by
        the attacked batch before the step (adversarial training).
    temperature : float, default 1
        Logits are divided by it before the loss (distillation).
    rng : numpy.random.Generator, int seed or None, default 0
        Source of the batch order (one torch generator derived from it).
    seed : deprecated
        The old name of ``rng``; still accepted for one release, with a DeprecationWarning.

    Returns
    -------
    TrainingHistory
        ``loss`` and ``accuracy`` per epoch (``history.loss`` or ``history["loss"]``).

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))]; y = np.r_[np.zeros(20), np.ones(20)]
    >>> model = mlp(2, (), 2)
    >>> history = train(model, X, y, epochs=30, lr=0.1)
    >>> history["accuracy"][-1]
    1.0
    """
    epochs = check_int(epochs, "epochs", min_val=1)
    batch_size = check_int(batch_size, "batch_size", min_val=1)
    lr = check_positive(lr, "lr")
    weight_decay = check_non_negative(weight_decay, "weight_decay")
    temperature = check_positive(temperature, "temperature")
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    gen = torch_generator(old_keyword(rng, seed, old_name="seed"))
    X_t, y_t = to_tensors(X, y)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    losses: list[float] = []
    accuracies: list[float] = []
    for _ in range(epochs):
        order = torch.randperm(len(X_t), generator=gen)
        total_loss, correct = 0.0, 0
        model.train()
        for start in range(0, len(X_t), batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X_t[idx], y_t[idx]
            if attack is not None:
                xb = attack(model, xb, yb).detach()
            opt.zero_grad()
            logits = model(xb) / temperature
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total_loss += loss.detach().item() * len(idx)
            labels = yb.argmax(1) if yb.dim() == 2 else yb
            correct += int((logits.argmax(1) == labels).sum())
        losses.append(total_loss / len(X_t))
        accuracies.append(correct / len(X_t))
    return TrainingHistory(loss=losses, accuracy=accuracies)


@torch.no_grad()
def predict_proba(model: nn.Module, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """Softmax probabilities of ``model`` on ``X`` as a numpy array (eval mode).

    Examples
    --------
    >>> predict_proba(mlp(2, (), 3), np.zeros((4, 2))).shape
    (4, 3)
    """
    model.eval()
    (X_t,) = to_tensors(X)
    return torch.softmax(model(X_t), dim=1).numpy()


def evaluate(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    attack: Attack | None = None,
) -> float:
    """Accuracy of ``model`` on ``(X, y)``, on attacked inputs when ``attack`` is given.

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))]; y = np.r_[np.zeros(20), np.ones(20)]
    >>> model = mlp(2, (), 2); _ = train(model, X, y, epochs=30, lr=0.1)
    >>> evaluate(model, X, y)
    1.0
    """
    X_t, y_t = to_tensors(X, y)
    model.eval()
    if attack is not None:
        X_t = attack(model, X_t, y_t).detach()
    with torch.no_grad():
        return float((model(X_t).argmax(1) == y_t).float().mean())


@torch.no_grad()
def per_example_loss(
    model: nn.Module, X: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor
) -> np.ndarray:
    """Cross-entropy of each example under ``model`` (eval mode), as a numpy array.

    The statistic of the loss-threshold membership attack and of loss-based data filtering;
    computed from the logits, so it stays accurate (and positive) for confident predictions.

    Examples
    --------
    >>> per_example_loss(mlp(rng=0), np.zeros((4, 64)), np.zeros(4, dtype=int)).shape
    (4,)
    """
    X_t, y_t = to_tensors(X, y)
    was_training = model.training
    model.eval()
    try:
        return nn.functional.cross_entropy(model(X_t), y_t, reduction="none").numpy()
    finally:
        model.train(was_training)
