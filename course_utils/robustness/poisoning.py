"""Data poisoning: label flipping, backdoor triggers, and how often a backdoor fires."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ._inputs import Array, _EvalMode, _labels, _like, _tensor

__all__ = ["flip_labels", "add_trigger", "poison_backdoor", "attack_success_rate"]


def flip_labels(
    y: np.ndarray, *, fraction: float, rng: np.random.Generator, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Label flipping: give a random ``fraction`` of examples a random *wrong* label.

    Returns
    -------
    y_poisoned : copy of ``y``; flipped : sorted indices that were changed

    Examples
    --------
    >>> y = np.arange(10) % 3
    >>> y_bad, flipped = flip_labels(y, fraction=0.5, rng=np.random.default_rng(0))
    >>> len(flipped), bool(np.all(y_bad[flipped] != y[flipped]))
    (5, True)
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    y = np.asarray(y).astype(np.int64)
    k = int(n_classes if n_classes is not None else y.max() + 1)
    if k < 2:
        raise ValueError(f"n_classes must be at least 2, got {k}")
    flipped = np.sort(rng.choice(len(y), size=int(round(fraction * len(y))), replace=False))
    y_bad = y.copy()
    y_bad[flipped] = (y[flipped] + rng.integers(1, k, size=len(flipped))) % k
    return y_bad, flipped


def add_trigger(
    X: Array, *, size: int = 2, value: float = 1.0, image_shape: tuple[int, int] = (8, 8)
) -> Array:
    """Stamp a ``size x size`` square of ``value`` into the bottom-right corner of each image.

    Examples
    --------
    >>> stamped = add_trigger(np.zeros((1, 64)))
    >>> np.flatnonzero(stamped[0]).tolist()      # pixels (6, 6), (6, 7), (7, 6), (7, 7)
    [54, 55, 62, 63]
    """
    h, w = image_shape
    if not 1 <= size <= min(h, w):
        raise ValueError(f"size must be in 1..{min(h, w)}, got {size}")
    X_t, was_numpy = _tensor(X)
    if len(X_t) and X_t[0].numel() != h * w:
        raise ValueError(
            f"each example must have image_shape {image_shape} = {h * w} values, got {X_t[0].numel()}"
        )
    images = X_t.reshape(len(X_t), h, w).clone()
    images[:, h - size :, w - size :] = value
    return _like(images.reshape(X_t.shape), was_numpy)


def poison_backdoor(
    X: np.ndarray,
    y: np.ndarray,
    *,
    fraction: float,
    target: int,
    rng: np.random.Generator,
    **trigger_kw: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backdoor poisoning (Gu et al. 2017): stamp the trigger on a random ``fraction`` of the
    training examples not of class ``target`` and relabel them ``target``.

    Returns
    -------
    X_poisoned, y_poisoned : copies; poisoned : sorted indices that were changed

    Examples
    --------
    >>> X = np.zeros((20, 64)); y = np.arange(20) % 4
    >>> Xp, yp, idx = poison_backdoor(X, y, fraction=0.2, target=0, rng=np.random.default_rng(0))
    >>> len(idx), set(yp[idx].tolist()), bool(np.all(y[idx] != 0))
    (4, {0}, True)
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y).astype(np.int64)
    candidates = np.flatnonzero(y != target)
    k = int(round(fraction * len(y)))
    if k > len(candidates):
        raise ValueError(
            f"fraction {fraction} asks for {k} poisoned examples, only {len(candidates)} are not of class {target}"
        )
    poisoned = np.sort(rng.choice(candidates, size=k, replace=False))
    X_p, y_p = X.copy(), y.copy()
    X_p[poisoned] = add_trigger(X[poisoned], **trigger_kw)
    y_p[poisoned] = target
    return X_p, y_p, poisoned


def attack_success_rate(
    model: nn.Module, X: Array, y: Array, *, target: int, **trigger_kw: Any
) -> float:
    """Fraction of examples not of class ``target`` that the model calls ``target`` once the
    trigger is stamped on them.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> 0.0 <= attack_success_rate(mlp(seed=0), np.random.default_rng(0).random((30, 64)), np.arange(30) % 10, target=0) <= 1.0
    True
    """
    X_t, _ = _tensor(X)
    y_t = _labels(y, len(X_t))
    keep = y_t != target
    if not bool(keep.any()):
        raise ValueError(f"every example is of class {target}; attack success is undefined")
    stamped = add_trigger(X_t[keep], **trigger_kw)
    with _EvalMode(model), torch.no_grad():
        return float((model(stamped).argmax(1) == target).float().mean())
