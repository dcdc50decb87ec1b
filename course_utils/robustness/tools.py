"""Bridges to the field's robustness libraries.

:func:`art_classifier` wraps a course model in the Adversarial Robustness Toolbox's
``PyTorchClassifier`` (IBM / LF AI & Data, ``adversarial-robustness-toolbox``), so that ART's
attacks (PGD, AutoAttack's APGD, Carlini-Wagner, HopSkipJump...), defences and certifiers run on
the same weights as the course's from-scratch code. ART is imported only when the function is
called: importing :mod:`course_utils.robustness` stays cheap.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..validation import check_int

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from art.estimators.classification import PyTorchClassifier

__all__ = ["art_classifier"]


class _Float32Input(nn.Module):
    """``model(x.float())``: some ART attacks (HopSkipJump) send float64 batches, which a float32
    ``nn.Linear`` refuses. Shares ``model``'s parameters."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Any) -> Any:
        return self.model(x.to(torch.float32))


def _input_shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        shape = tuple(value)
    except TypeError:
        shape = ()
    if not shape or any(
        isinstance(s, bool) or not isinstance(s, Integral) or int(s) < 1 for s in shape
    ):
        raise ValueError(
            f"input_shape must be the shape of ONE input, a tuple of positive integers such as "
            f"(64,) or (1, 8, 8), got {value!r}"
        )
    return tuple(int(s) for s in shape)


def _clip_values(value: Any) -> tuple[float, float]:
    try:
        lo, hi = value
        ok = all(isinstance(v, Real) and not isinstance(v, bool) for v in (lo, hi)) and lo < hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"clip_values must be a pair (min, max) of numbers with min < max, got {value!r}"
        )
    return float(lo), float(hi)


def art_classifier(
    model: nn.Module,
    *,
    input_shape: tuple[int, ...],
    nb_classes: int,
    clip_values: tuple[float, float] = (0, 1),
) -> PyTorchClassifier:
    """ART's ``PyTorchClassifier`` around ``model``: the bridge to ART's attacks and defences.

    The wrapper shares ``model``'s weights (nothing is copied or retrained), runs on the CPU, uses
    the cross-entropy loss for ART's loss gradients, and clips every adversarial example to
    ``clip_values``. Inputs are cast to float32 before they reach ``model`` (ART's decision-based
    attacks, HopSkipJump among them, send float64 batches). ``predict`` returns the model's logits as a numpy array (ART puts the model
    in eval mode for it). No optimizer is attached: train with
    :func:`course_utils.training.train`, attack with ART.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float batch of shape ``(N, *input_shape)`` to ``(N, nb_classes)`` logits.
    input_shape : tuple of int
        Shape of one input, without the batch axis: ``(64,)`` for the course's MLPs.
    nb_classes : int
        Number of classes, ``>= 2``.
    clip_values : (float, float), default (0, 1)
        Valid input range; the course's pixels lie in [0, 1].

    Returns
    -------
    art.estimators.classification.PyTorchClassifier

    Raises
    ------
    ValueError
        For a model that is not a ``torch.nn.Module`` or a malformed ``input_shape``,
        ``nb_classes`` or ``clip_values``.
    ImportError
        If ``adversarial-robustness-toolbox`` is not installed.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from course_utils.training import mlp
    >>> model = mlp(64, 16, 10)
    >>> classifier = art_classifier(model, input_shape=(64,), nb_classes=10)
    >>> x = np.full((3, 64), 0.5, dtype=np.float32)
    >>> logits = classifier.predict(x)
    >>> logits.shape, bool(np.allclose(logits, model(torch.from_numpy(x)).detach().numpy(), atol=1e-6))
    ((3, 10), True)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _input_shape(input_shape)
    nb_classes = check_int(nb_classes, "nb_classes", min_val=2)
    clip = _clip_values(clip_values)
    try:
        from art.estimators.classification import PyTorchClassifier
    except ImportError as exc:  # pragma: no cover - ART is a dependency of the course
        raise ImportError(
            "art_classifier needs the Adversarial Robustness Toolbox: "
            "pip install -c constraints.txt adversarial-robustness-toolbox"
        ) from exc
    return PyTorchClassifier(
        model=_Float32Input(model),
        loss=nn.CrossEntropyLoss(),
        input_shape=shape,
        nb_classes=nb_classes,
        clip_values=clip,
        device_type="cpu",
    )
