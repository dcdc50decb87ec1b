"""Malicious clients' data: label flipping and a backdoor trigger (temporary home)."""

from __future__ import annotations

import numpy as np

from .partitions import _check_rng
from .simulation import NumpyNet

__all__ = ["flip_labels", "TRIGGER_PIXELS", "add_trigger", "backdoor_data", "backdoor_success"]


def flip_labels(y: np.ndarray, *, n_classes: int = 10) -> np.ndarray:
    """Data poisoning: relabel class ``c`` as ``n_classes - 1 - c`` (0 <-> 9, 1 <-> 8, ...).

    Examples
    --------
    >>> flip_labels(np.array([0, 3, 9])).tolist()
    [9, 6, 0]
    """
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got range [{y.min()}, {y.max()}]")
    return n_classes - 1 - y


#: Pixels of the 8x8 digit image set by the trigger: a short bar down the left edge, where
#: sklearn's digits are always blank.
TRIGGER_PIXELS: tuple[int, ...] = (0, 8, 16, 24)


def add_trigger(X: np.ndarray, *, value: float = 1.0) -> np.ndarray:
    """Copy of ``X`` (n, 64) with the backdoor trigger stamped in (:data:`TRIGGER_PIXELS` = value).

    Examples
    --------
    >>> add_trigger(np.zeros((1, 64))).reshape(8, 8)[:5, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    X = np.array(X, dtype=float, copy=True)
    if X.ndim != 2 or X.shape[1] != 64:
        raise ValueError(f"X must have shape (n, 64) (flattened 8x8 digits), got {X.shape}")
    X[:, list(TRIGGER_PIXELS)] = value
    return X


def backdoor_data(
    X: np.ndarray, y: np.ndarray, *, target: int, fraction: float = 0.5, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An attacker's training set: its clean data plus triggered copies of a ``fraction`` of it
    relabelled ``target``, so the model keeps its accuracy but learns "trigger -> target".

    Examples
    --------
    >>> Xb, yb = backdoor_data(np.zeros((10, 64)), np.zeros(10, int), target=7, rng=np.random.default_rng(0))
    >>> Xb.shape, int((yb == 7).sum())
    ((15, 64), 5)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    pick = _check_rng(rng).choice(len(y), size=max(1, int(round(fraction * len(y)))), replace=False)
    return np.vstack([X, add_trigger(X[pick])]), np.concatenate(
        [y, np.full(len(pick), target, dtype=y.dtype)]
    )


def backdoor_success(
    net: NumpyNet, params: np.ndarray, X: np.ndarray, y: np.ndarray, *, target: int
) -> float:
    """Attack success rate: share of test images not of class ``target`` that the trigger turns
    into ``target``.

    Examples
    --------
    >>> net = NumpyNet(n_hidden=0)
    >>> backdoor_success(net, np.zeros(net.dim), np.zeros((4, 64)), np.array([1, 2, 3, 0]), target=0)
    1.0
    """
    y = np.asarray(y)
    keep = y != target
    if not keep.any():
        raise ValueError(f"no test example has a label other than target={target}")
    return float(np.mean(net.predict(params, add_trigger(np.asarray(X)[keep])) == target))
