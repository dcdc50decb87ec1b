"""Verified robustness: interval bound propagation (IBP) for small ReLU networks.

A certificate is a proof, not an attack: if the lower bound of the true logit beats the upper
bound of every other logit over the whole threat model, no input in it can change the prediction.
IBP (Gowal et al. 2018, after Mirman et al. 2018) carries a box ``[lower, upper]`` through the
network layer by layer:

* ``Linear``: with centre ``m = (upper + lower) / 2`` and radius ``r = (upper - lower) / 2``, the
  output box has centre ``W m + b`` and radius ``|W| r`` - the tightest box for one layer;
* ``ReLU`` (monotone): ``[relu(lower), relu(upper)]``;
* ``Flatten``: reshapes both bounds.

Every step is sound, so the final box contains every logit vector the model can produce on the
threat model; it is loose because each layer forgets how its outputs depend on each other. It is
cheap (about two forward passes) and differentiable, which is what makes IBP *training* work.

Threat model
------------
The L-infinity ball of radius ``epsilon`` around ``x`` **intersected with the pixel box
[0, 1]**: the course's inputs are pixels in [0, 1] (``digits_split(scale=True)``), and an
attacker cannot send a pixel outside that range (the attacks of
:mod:`~course_utils.robustness.evasion` clip to it as well). Inputs outside [0, 1] are refused.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..validation import check_non_negative
from ._inputs import Array, _check_unit_box, _EvalMode, _labels

__all__ = ["ibp_bounds", "ibp_certified_accuracy"]

_SUPPORTED = "nn.Linear, nn.ReLU and nn.Flatten"


def _layers(model: nn.Module) -> list[nn.Module]:
    """The model's layers in order (nested ``nn.Sequential`` unrolled), or a ValueError."""
    if not isinstance(model, nn.Sequential):
        raise ValueError(
            f"model must be an nn.Sequential of {_SUPPORTED} layers, got {type(model).__name__}"
        )
    layers: list[nn.Module] = []
    for index, layer in enumerate(model):
        if isinstance(layer, nn.Sequential):
            layers += _layers(layer)
        elif isinstance(layer, (nn.Linear, nn.ReLU, nn.Flatten)):
            layers.append(layer)
        else:
            raise ValueError(
                f"ibp_bounds supports only {_SUPPORTED} layers; layer {index} of the model is "
                f"{type(layer).__name__} ({layer!r})"
            )
    return layers


def _input_tensor(x: Array) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        x_t = x.to(torch.float32)
    else:
        try:
            x_t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"x must be a numeric array or tensor, got {type(x).__name__}"
            ) from exc
    if x_t.dim() == 0:
        raise ValueError("x must be one example (e.g. shape (64,)) or a batch, got a scalar")
    if not bool(torch.isfinite(x_t).all()):
        raise ValueError("x must hold finite numbers (no nan or inf)")
    _check_unit_box(x_t.detach())
    return x_t


def ibp_bounds(model: nn.Module, x: Array, *, epsilon: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Sound lower and upper bounds on the logits of ``model`` over the L-infinity ball of radius
    ``epsilon`` around ``x``, intersected with the pixel box [0, 1].

    For every ``x'`` with ``|x' - x|_inf <= epsilon`` and ``0 <= x' <= 1``:
    ``lower <= model(x') <= upper`` element-wise (up to float32 rounding, ~1e-6).

    Parameters
    ----------
    model : torch.nn.Sequential
        Made of ``nn.Linear``, ``nn.ReLU`` and ``nn.Flatten`` layers (nested ``nn.Sequential``
        allowed), like :func:`course_utils.training.mlp`. Any other layer raises ``ValueError``
        naming it: its interval rule is not implemented here.
    x : array or tensor, values in [0, 1]
        One example or a batch, shaped as ``model`` expects (``(64,)`` or ``(N, 64)`` for the
        course's MLPs).
    epsilon : float
        Radius of the L-infinity ball, ``>= 0``. At ``epsilon = 0`` both bounds equal
        ``model(x)``.

    Returns
    -------
    lower, upper : torch.Tensor
        Shaped like ``model(x)``. Differentiable with respect to the model's parameters (and to
        ``x`` when it is a tensor that requires grad), so a loss on them can train the model
        (IBP training).

    Raises
    ------
    ValueError
        If ``model`` is not an ``nn.Sequential`` of supported layers, ``x`` is not numeric, not
        finite or outside [0, 1], or ``epsilon`` is negative or not a number.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> model = mlp(64, 16, 10)
    >>> x = torch.full((2, 64), 0.5)
    >>> lower, upper = ibp_bounds(model, x, epsilon=0.1)
    >>> lower.shape, bool((lower <= model(x)).all() and (model(x) <= upper).all())
    (torch.Size([2, 10]), True)
    >>> lo0, up0 = ibp_bounds(model, x, epsilon=0.0)
    >>> bool(torch.allclose(lo0, model(x)) and torch.allclose(up0, model(x)))
    True
    >>> ibp_bounds(nn.Sequential(nn.Linear(64, 10), nn.Tanh()), x, epsilon=0.1)
    Traceback (most recent call last):
    ...
    ValueError: ibp_bounds supports only nn.Linear, nn.ReLU and nn.Flatten layers; layer 1 of the model is Tanh (Tanh())
    """
    epsilon = check_non_negative(epsilon, "epsilon")
    layers = _layers(model)
    x_t = _input_tensor(x)
    lower = (x_t - epsilon).clamp(0.0, 1.0)
    upper = (x_t + epsilon).clamp(0.0, 1.0)
    for layer in layers:
        if isinstance(layer, nn.Linear):
            centre = (upper + lower) / 2
            radius = (upper - lower) / 2
            centre = nn.functional.linear(centre, layer.weight, layer.bias)
            radius = nn.functional.linear(radius, layer.weight.abs())
            lower, upper = centre - radius, centre + radius
        else:  # ReLU and Flatten are monotone element-wise maps (Flatten only reshapes)
            lower, upper = layer(lower), layer(upper)
    return lower, upper


def ibp_certified_accuracy(model: nn.Module, X: Array, y: Array, *, epsilon: float) -> float:
    """Fraction of the examples whose label IBP proves constant over the whole threat model.

    An example counts when the lower bound of its true logit exceeds the upper bound of every
    other logit (:func:`ibp_bounds`: L-infinity ball of radius ``epsilon`` intersected with
    [0, 1]); ties count as not certified. A certified example is classified correctly at every
    point of the ball, so this is a **lower bound** on robust accuracy, and any attack's robust
    accuracy (an upper bound) is at least this number.

    Parameters
    ----------
    model : torch.nn.Sequential of Linear, ReLU and Flatten layers
    X : array or tensor of shape ``(N, ...)``, values in [0, 1]
    y : integer labels, shape ``(N,)``
    epsilon : float, ``>= 0``

    Returns
    -------
    float in [0, 1] (0.0 for an empty batch).

    Examples
    --------
    >>> from course_utils.data import digits_split
    >>> from course_utils.training import evaluate, mlp, train
    >>> X_train, X_test, y_train, y_test = digits_split()
    >>> model = mlp(64, 32, 10)
    >>> _ = train(model, X_train, y_train, epochs=5, lr=2e-2, batch_size=128)
    >>> ibp_certified_accuracy(model, X_test, y_test, epsilon=0.0) == evaluate(model, X_test, y_test)
    True
    >>> ibp_certified_accuracy(model, X_test, y_test, epsilon=0.3)
    0.0
    """
    epsilon = check_non_negative(epsilon, "epsilon")
    x_t = _input_tensor(X)
    if x_t.dim() < 2:
        raise ValueError(f"X must be a batch of shape (N, ...), got shape {tuple(x_t.shape)}")
    y_t = _labels(y, len(x_t))
    if len(x_t) == 0:
        return 0.0
    with torch.no_grad(), _EvalMode(model):
        lower, upper = ibp_bounds(model, x_t, epsilon=epsilon)
    if lower.dim() != 2:
        raise ValueError(
            f"model must map a batch to (N, n_classes) logits, got {tuple(lower.shape)}"
        )
    if int(y_t.min()) < 0 or int(y_t.max()) >= lower.shape[1]:
        raise ValueError(f"y must hold class indices in 0..{lower.shape[1] - 1}")
    true_lower = lower.gather(1, y_t[:, None])[:, 0]
    others = upper.clone()
    others.scatter_(1, y_t[:, None], float("-inf"))
    return float((true_lower > others.max(1).values).float().mean())
