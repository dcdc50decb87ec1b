"""Federated names kept for one release after the one-convention refactor (issue 17).

Label flipping and backdoors have one implementation, in :mod:`course_utils.attacks.poisoning`;
these wrappers keep the old federated calls working, with their old behaviour, and warn.
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import Any

import numpy as np

from ..attacks.poisoning import TRIGGER_PIXELS, attack_success_rate, poison_backdoor
from ..attacks.poisoning import add_trigger as _add_trigger
from ..attacks.poisoning import flip_labels as _flip
from ..validation import RNGLike

__all__ = ["flip_labels", "add_trigger", "backdoor_data", "backdoor_success"]


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"course_utils.federated.{old} is deprecated; use course_utils.attacks.poisoning.{new}",
        DeprecationWarning,
        stacklevel=3,
    )


def flip_labels(y: np.ndarray, *, n_classes: int = 10) -> np.ndarray:
    """Deprecated: ``flip_labels(y, rule="mirror", n_classes=n_classes)[0]``.

    Examples
    --------
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     flip_labels(np.array([0, 3, 9])).tolist()
    [9, 6, 0]
    """
    _warn("flip_labels(y)", 'flip_labels(y, rule="mirror", n_classes=10)[0]')
    return _flip(y, rule="mirror", n_classes=n_classes)[0]


def add_trigger(X: np.ndarray, *, value: float = 1.0) -> np.ndarray:
    """Deprecated: ``add_trigger(X, pixels=TRIGGER_PIXELS, value=value)`` on float64 data."""
    _warn("add_trigger(X)", "add_trigger(X, pixels=TRIGGER_PIXELS)")
    return _add_trigger(np.asarray(X, dtype=float), pixels=TRIGGER_PIXELS, value=value)


def backdoor_data(
    X: np.ndarray, y: np.ndarray, *, target: int, fraction: float = 0.5, rng: RNGLike
) -> tuple[np.ndarray, np.ndarray]:
    """Deprecated: ``poison_backdoor(X, y, ..., pixels=TRIGGER_PIXELS, append=True)[:2]``."""
    _warn("backdoor_data", "poison_backdoor(..., pixels=TRIGGER_PIXELS, append=True)[:2]")
    out = poison_backdoor(
        X, y, fraction=fraction, target=target, rng=rng, pixels=TRIGGER_PIXELS, append=True
    )
    return out[0], out[1]


def backdoor_success(
    net: Any, params: np.ndarray, X: np.ndarray, y: np.ndarray, *, target: int
) -> float:
    """Deprecated: ``attack_success_rate(partial(net.predict, params), X, y, target=target,
    pixels=TRIGGER_PIXELS)``."""
    _warn(
        "backdoor_success",
        "attack_success_rate(partial(net.predict, params), ..., pixels=TRIGGER_PIXELS)",
    )
    return attack_success_rate(
        partial(net.predict, params), X, y, target=target, pixels=TRIGGER_PIXELS
    )
