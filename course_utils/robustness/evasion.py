"""Evasion attacks: FGSM, PGD (L-infinity and L2) and the adaptive PGD (BPDA, EOT) that sees
through defences which hide the gradient.

Conventions
-----------
* A *model* is a ``torch.nn.Module`` mapping a float batch to logits. The course's models take
  flattened 8x8 digits, shape ``(N, 64)``; every attack here works on any input shape whose first
  axis is the batch (``(N, 1, 8, 8)`` too), and norms are taken over all non-batch axes.
* Inputs live in ``[0, 1]``. Attacks return inputs inside the eps-ball around ``X`` *and* inside
  ``[0, 1]``, of the kind they were given: a numpy array in, a numpy array out; a tensor in, a
  tensor out.
* An *attack* is any callable ``attack(model, X, y) -> X_adv`` on tensors, e.g.
  ``functools.partial(pgd, eps=0.1, step_size=0.01, steps=20)``; it plugs into
  :func:`course_utils.training.train` (adversarial training) and
  :func:`course_utils.training.evaluate` (robust accuracy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..training import Attack, evaluate
from ..validation import (
    RNGLike,
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
    torch_generator,
)
from ._inputs import Array, _check_unit_box, _EvalMode, _flat_norm, _labels, _like, _tensor

__all__ = ["fgsm", "pgd", "bpda_pgd", "robust_accuracy"]


NORMS = ("linf", "l2")


def _loss(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-example loss the attacker maximises."""
    if kind == "ce":
        return nn.functional.cross_entropy(logits, y, reduction="none")
    if kind == "margin":  # Carlini-Wagner style: best wrong logit minus true logit
        true = logits.gather(1, y[:, None])[:, 0]
        other = logits.clone()
        other.scatter_(1, y[:, None], float("-inf"))
        return other.max(1).values - true
    raise ValueError(f"loss must be 'ce' or 'margin', got {kind!r}")


def fgsm(model: nn.Module, X: Array, y: Array, *, eps: float, loss: str = "ce") -> Array:
    """Fast gradient sign method: one step of size ``eps`` along the sign of the input gradient.

    ``X_adv = clip(X + eps * sign(grad_X loss(model(X), y)), 0, 1)`` (Goodfellow et al. 2015).

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float batch (e.g. shape ``(N, 64)``) to logits.
    X : array or tensor, values in [0, 1]
    y : integer labels, shape ``(N,)``
    eps : float
        L-infinity budget, ``>= 0``.
    loss : {"ce", "margin"}
        Cross-entropy, or the logit margin (best wrong logit minus true logit).

    Returns
    -------
    Same type as ``X``: adversarial inputs with ``|X_adv - X|_inf <= eps`` inside ``[0, 1]``.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(5, 64); y = torch.zeros(5, dtype=torch.long)
    >>> X_adv = fgsm(mlp(rng=0), X, y, eps=0.1)
    >>> bool((X_adv - X).abs().max() <= 0.1 + 1e-6), bool(X_adv.min() >= 0)
    (True, True)
    """
    eps = check_non_negative(eps, "eps")
    X_t, was_numpy = _tensor(X)
    _check_unit_box(X_t)
    y_t = _labels(y, len(X_t))
    x = X_t.clone().requires_grad_(True)
    with _EvalMode(model):
        value = _loss(model(x), y_t, loss).sum()
        (grad,) = torch.autograd.grad(value, x)
    X_adv = (X_t + eps * grad.sign()).clamp(0.0, 1.0)
    return _like(X_adv, was_numpy)


def _project(x: torch.Tensor, X: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """Project ``x`` onto the eps-ball around ``X`` intersected with [0, 1]."""
    delta = x - X
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        delta = delta * torch.clamp(eps / (_flat_norm(delta) + 1e-12), max=1.0)
    # clipping to [0, 1] only moves a coordinate towards X's (which is in [0, 1]), so the
    # result stays inside the ball
    return (X + delta).clamp(0.0, 1.0)


def _random_start(
    X: torch.Tensor, eps: float, norm: str, gen: torch.Generator | None
) -> torch.Tensor:
    if norm == "linf":
        delta = (torch.rand(X.shape, generator=gen) * 2 - 1) * eps
    else:  # uniform in the L2 ball: Gaussian direction, radius eps * U^(1/d)
        direction = torch.randn(X.shape, generator=gen)
        direction = direction / (_flat_norm(direction) + 1e-12)
        d = X[0].numel() if len(X) else 1
        radius = torch.rand((len(X),) + (1,) * (X.dim() - 1), generator=gen) ** (1.0 / d)
        delta = direction * radius * eps
    return _project(X + delta, X, eps, norm)


def _pgd_core(
    forward: Callable[[torch.Tensor], torch.Tensor],
    X_t: torch.Tensor,
    y_t: torch.Tensor,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: str,
    random_start: bool,
    gen: torch.Generator | None,
    loss: str,
    eot_samples: int = 1,
) -> torch.Tensor:
    """Projected gradient ascent on ``loss(forward(x), y)``.

    Candidates are the one-step (FGSM-like) point from ``X`` and every PGD iterate; each example
    keeps its strongest candidate: a misclassified one if any, the highest loss among equals. So
    PGD is never weaker than the one-step attack with the same budget.
    """

    def assess(
        x: torch.Tensor, need_grad: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        x = x.detach().requires_grad_(need_grad)
        grad = torch.zeros_like(X_t) if need_grad else None
        value = torch.zeros(len(X_t))
        wrong = torch.zeros(len(X_t), dtype=torch.bool)
        for i in range(eot_samples):  # expectation over transformation (EOT)
            logits = forward(x)
            per_example = _loss(logits, y_t, loss)
            value = value + per_example.detach() / eot_samples
            if i == 0:
                wrong = logits.detach().argmax(1) != y_t
            if need_grad:
                grad = grad + torch.autograd.grad(per_example.sum(), x)[0]
        return value, wrong, grad

    def ascend(x: torch.Tensor, grad: torch.Tensor, size: float) -> torch.Tensor:
        if norm == "linf":
            step = grad.sign()
        else:
            step = grad / (_flat_norm(grad) + 1e-12)
        return _project(x + size * step, X_t, eps, norm)

    best_x = X_t.clone()
    best_loss = torch.full((len(X_t),), float("-inf"))
    best_wrong = torch.zeros(len(X_t), dtype=torch.bool)

    def keep_best(x: torch.Tensor, value: torch.Tensor, wrong: torch.Tensor) -> None:
        nonlocal best_loss, best_wrong
        better = (wrong & ~best_wrong) | ((wrong == best_wrong) & (value > best_loss))
        best_loss = torch.where(better, value, best_loss)
        best_wrong = best_wrong | wrong
        best_x[better] = x[better]

    _, _, grad0 = assess(X_t, True)
    one_step = ascend(X_t, grad0, eps)
    keep_best(one_step, *assess(one_step, False)[:2])
    x = _random_start(X_t, eps, norm, gen) if random_start else X_t.clone()
    for step in range(steps + 1):
        value, wrong, grad = assess(x, step < steps)
        keep_best(x, value, wrong)
        if step < steps:
            x = ascend(x, grad, step_size)
    return best_x


def _check_pgd_args(
    eps: float, step_size: float, steps: int, norm: str
) -> tuple[float, float, int]:
    eps = check_non_negative(eps, "eps")
    step_size = check_positive(step_size, "step_size")
    steps = check_int(steps, "steps", min_val=1)
    check_choice(norm, "norm", NORMS)
    return eps, step_size, steps


def pgd(
    model: nn.Module,
    X: Array,
    y: Array,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: str = "linf",
    random_start: bool = True,
    rng: RNGLike = None,
    loss: str = "ce",
) -> Array:
    """Projected gradient descent attack (Madry et al. 2018), L-infinity or L2.

    Starting from a random point of the eps-ball (``random_start``), take ``steps`` steps of size
    ``step_size`` up the loss (along the gradient's sign for ``"linf"``, along the normalised gradient
    for ``"l2"``), projecting back onto the eps-ball and ``[0, 1]`` after each step. Each example
    keeps its strongest candidate among the iterates and the one-step (FGSM) point: a
    misclassified one if any, else the one with the highest loss. So PGD is never weaker than
    FGSM with the same budget (the one-step point of ``"l2"`` is the normalised-gradient step).

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float batch (e.g. ``(N, 64)``) to logits; left in the mode it was in.
    X : array or tensor, values in [0, 1]
    y : integer labels, shape ``(N,)``
    eps : float
        Radius of the ball (L-infinity or L2), ``>= 0``.
    step_size : float
        Step size, ``> 0`` (Madry et al.'s alpha); ``2.5 * eps / steps`` is a common choice.
    steps : int
        Number of gradient steps, ``>= 1``.
    norm : {"linf", "l2"}
    random_start : bool, default True
    rng : numpy.random.Generator, int seed or None
        Randomness of the start (a torch generator is derived from it).
    loss : {"ce", "margin"}
        Cross-entropy, or the logit margin (robust to a saturated softmax).

    Returns
    -------
    Same type as ``X``; ``||X_adv - X|| <= eps`` in the chosen norm, values in ``[0, 1]``.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(8, 64); y = torch.arange(8) % 10
    >>> X_adv = pgd(mlp(rng=0), X, y, eps=0.5, step_size=0.2, steps=5, norm="l2", rng=0)
    >>> bool((X_adv - X).flatten(1).norm(dim=1).max() <= 0.5 + 1e-5)
    True
    """
    # plain PGD is the adaptive attack below with nothing in front of the model: one loop
    return bpda_pgd(
        model,
        X,
        y,
        eps=eps,
        step_size=step_size,
        steps=steps,
        transform=_identity,
        norm=norm,
        bpda=False,
        random_start=random_start,
        rng=rng,
        loss=loss,
    )


def robust_accuracy(model: nn.Module, X: Array, y: Array, attack: Attack | None) -> float:
    """Accuracy on ``attack(model, X, y)`` (clean accuracy when ``attack`` is None).

    A thin name for :func:`course_utils.training.evaluate` with an attack.

    Examples
    --------
    >>> from functools import partial
    >>> from course_utils.training import mlp
    >>> X = torch.rand(20, 64); y = torch.zeros(20, dtype=torch.long)
    >>> model = mlp(rng=0)
    >>> robust_accuracy(model, X, y, partial(fgsm, eps=0.3)) <= robust_accuracy(model, X, y, None)
    True
    """
    if attack is not None and not callable(attack):
        raise ValueError(f"attack must be a callable attack(model, X, y) or None, got {attack!r}")
    return evaluate(model, X, y, attack=attack)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


class _StraightThrough(torch.autograd.Function):
    """Forward: ``transform(x)``; backward: the identity (BPDA, Athalye et al. 2018)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, transform: Callable) -> torch.Tensor:  # type: ignore[override]
        return transform(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return grad, None


def bpda_pgd(
    model: nn.Module,
    X: Array,
    y: Array,
    *,
    eps: float,
    step_size: float,
    steps: int,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    norm: str = "linf",
    bpda: bool = True,
    eot_samples: int = 1,
    random_start: bool = True,
    rng: RNGLike = None,
    loss: str = "ce",
) -> Array:
    """Adaptive PGD against ``model(transform(x))``, the defended model.

    * BPDA (backward pass differentiable approximation): the forward pass runs ``transform``,
      the backward pass treats it as the identity, so a non-differentiable preprocessing step
      (rounding) no longer zeroes the gradient. ``bpda=False`` back-propagates through it.
    * EOT (expectation over transformation): for a random ``transform`` the gradient is averaged
      over ``eot_samples`` draws.

    Either pass the defended model ``Preprocessed(base, transform)`` alone (so that
    ``partial(bpda_pgd, eps=..., ...)`` is an ``attack`` for :func:`robust_accuracy`), or the
    undefended ``model`` together with ``transform``. Other arguments as in :func:`pgd`.

    Examples
    --------
    >>> from functools import partial
    >>> from course_utils.robustness.defences import Preprocessed, feature_squeeze
    >>> from course_utils.training import mlp
    >>> X = torch.rand(6, 64); y = torch.zeros(6, dtype=torch.long)
    >>> defended = Preprocessed(mlp(rng=0), partial(feature_squeeze, bits=2))
    >>> X_adv = bpda_pgd(defended, X, y, eps=0.1, step_size=0.02, steps=5, rng=0)
    >>> bool((X_adv - X).abs().max() <= 0.1 + 1e-6)
    True
    """
    eps, step_size, steps = _check_pgd_args(eps, step_size, steps, norm)
    eot_samples = check_int(eot_samples, "eot_samples", min_val=1)
    if transform is None:
        # a defended model Preprocessed(model, transform), recognised by its two parts
        if not (
            isinstance(getattr(model, "model", None), nn.Module) and hasattr(model, "transform")
        ):
            raise ValueError("pass transform=..., or a Preprocessed(model, transform) as model")
        model, transform = model.model, model.transform
    if not callable(transform):
        raise ValueError(f"transform must be callable, got {transform!r}")
    X_t, was_numpy = _tensor(X)
    _check_unit_box(X_t)
    y_t = _labels(y, len(X_t))

    def forward(x: torch.Tensor) -> torch.Tensor:
        return model(_StraightThrough.apply(x, transform) if bpda else transform(x))

    with _EvalMode(model):
        X_adv = _pgd_core(
            forward,
            X_t,
            y_t,
            eps=eps,
            step_size=step_size,
            steps=steps,
            norm=norm,
            random_start=random_start,
            gen=torch_generator(rng),
            loss=loss,
            eot_samples=eot_samples,
        )
    return _like(X_adv, was_numpy)
