"""Robustness: evasion attacks, adversarial training, defences and how to break them, randomized
smoothing certificates, and data poisoning.

Conventions
-----------
* A *model* is a ``torch.nn.Module`` mapping a float batch to logits. The course's models take
  flattened 8x8 digits, shape ``(N, 64)``; every attack here works on any input shape whose first
  axis is the batch (``(N, 1, 8, 8)`` too), and norms are taken over all non-batch axes.
* Inputs live in ``[0, 1]``. Attacks return inputs inside the eps-ball around ``X`` *and* inside
  ``[0, 1]``. Functions that take ``X`` return the same kind they were given: a numpy array in,
  a numpy array out; a tensor in, a tensor out.
* An *attack* is any callable ``attack(model, X, y) -> X_adv`` on tensors, e.g.
  ``functools.partial(pgd, eps=0.1, alpha=0.01, steps=20)``; it plugs into
  :func:`course_utils.training.train` (adversarial training) and
  :func:`course_utils.training.evaluate` (robust accuracy).
* Random functions take ``generator``: a ``torch.Generator``, a ``numpy.random.Generator`` (a
  torch generator is seeded from it), an ``int`` seed, or ``None`` for torch's global generator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from .training import Attack, evaluate, to_tensors, train

__all__ = [
    "as_generator",
    "fgsm",
    "pgd",
    "robust_accuracy",
    "adversarial_training",
    "gaussian_augment",
    "Preprocessed",
    "Temperature",
    "feature_squeeze",
    "median_smooth",
    "add_noise",
    "bpda_pgd",
    "distill",
    "defensive_distillation",
    "clopper_pearson_lower",
    "certified_radius",
    "smoothed_predict",
    "certify",
    "certify_dataset",
    "certified_accuracy",
    "flip_labels",
    "add_trigger",
    "poison_backdoor",
    "attack_success_rate",
    "per_example_loss",
    "hidden_features",
    "spectral_signature_scores",
]

Array = np.ndarray | torch.Tensor
Generator = torch.Generator | np.random.Generator | int | None


# --------------------------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------------------------
def as_generator(generator: Generator) -> torch.Generator | None:
    """A ``torch.Generator`` from a torch generator, a numpy generator, an int seed, or None.

    ``None`` stays ``None`` (torch's global generator, seeded by :func:`course_utils.setup`).

    Examples
    --------
    >>> g = as_generator(3)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=as_generator(3)).item()
    True
    >>> as_generator(None) is None
    True
    """
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, np.random.Generator):
        return torch.Generator().manual_seed(int(generator.integers(0, 2**62)))
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"generator seed must be non-negative, got {generator}")
        return torch.Generator().manual_seed(int(generator))
    raise ValueError(
        "generator must be a torch.Generator, a numpy Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


def _tensor(X: Array, name: str = "X") -> tuple[torch.Tensor, bool]:
    """``X`` as a detached float32 tensor, and whether it came in as numpy."""
    if isinstance(X, torch.Tensor):
        return X.detach().to(torch.float32), False
    try:
        return torch.as_tensor(np.asarray(X, dtype=np.float32)), True
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array or tensor, got {type(X).__name__}"
        ) from exc


def _tensor_keep_graph(X: Array, name: str = "X") -> tuple[torch.Tensor, bool]:
    """Like :func:`_tensor`, but a tensor keeps its autograd graph (for transforms)."""
    if isinstance(X, torch.Tensor):
        return X.to(torch.float32), False
    return _tensor(X, name)


def _like(X_t: torch.Tensor, was_numpy: bool) -> Array:
    X_t = X_t.detach()
    return X_t.numpy() if was_numpy else X_t


def _labels(y: Array, n: int) -> torch.Tensor:
    y_t = (
        torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long().reshape(-1)
    )
    if len(y_t) != n:
        raise ValueError(f"X and y have different lengths: {n} and {len(y_t)}")
    return y_t


def _check_unit_box(X_t: torch.Tensor) -> None:
    if X_t.numel() and (float(X_t.min()) < -1e-6 or float(X_t.max()) > 1 + 1e-6):
        raise ValueError(
            f"X must lie in [0, 1] (got values in [{float(X_t.min()):.3g}, {float(X_t.max()):.3g}]); "
            "scale the inputs first, e.g. digits_split(scale=True)"
        )


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    """L2 norm of each example, shaped to broadcast against ``t``."""
    norms = t.reshape(len(t), -1).norm(dim=1)
    return norms.reshape((-1,) + (1,) * (t.dim() - 1))


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


class _EvalMode:
    """Context manager: put a model in eval mode and restore its previous mode."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        self.model.train(self.was_training)


# --------------------------------------------------------------------------------------------
# evasion attacks
# --------------------------------------------------------------------------------------------
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
    >>> X_adv = fgsm(mlp(seed=0), X, y, eps=0.1)
    >>> bool((X_adv - X).abs().max() <= 0.1 + 1e-6), bool(X_adv.min() >= 0)
    (True, True)
    """
    eps = _positive(eps, "eps", allow_zero=True)
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
    alpha: float,
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
            x = ascend(x, grad, alpha)
    return best_x


def _check_pgd_args(eps: float, alpha: float, steps: int, norm: str) -> tuple[float, float, int]:
    eps = _positive(eps, "eps", allow_zero=True)
    alpha = _positive(alpha, "alpha")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
    return eps, alpha, int(steps)


def pgd(
    model: nn.Module,
    X: Array,
    y: Array,
    *,
    eps: float,
    alpha: float,
    steps: int,
    norm: str = "linf",
    random_start: bool = True,
    generator: Generator = None,
    loss: str = "ce",
) -> Array:
    """Projected gradient descent attack (Madry et al. 2018), L-infinity or L2.

    Starting from a random point of the eps-ball (``random_start``), take ``steps`` steps of size
    ``alpha`` up the loss (along the gradient's sign for ``"linf"``, along the normalised gradient
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
    alpha : float
        Step size, ``> 0``; ``2.5 * eps / steps`` is a common choice.
    steps : int
        Number of gradient steps, ``>= 1``.
    norm : {"linf", "l2"}
    random_start : bool, default True
    generator : torch.Generator, numpy Generator, int or None
        Randomness of the start.
    loss : {"ce", "margin"}
        Cross-entropy, or the logit margin (robust to a saturated softmax).

    Returns
    -------
    Same type as ``X``; ``||X_adv - X|| <= eps`` in the chosen norm, values in ``[0, 1]``.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(8, 64); y = torch.arange(8) % 10
    >>> X_adv = pgd(mlp(seed=0), X, y, eps=0.5, alpha=0.2, steps=5, norm="l2", generator=0)
    >>> bool((X_adv - X).flatten(1).norm(dim=1).max() <= 0.5 + 1e-5)
    True
    """
    # plain PGD is the adaptive attack below with nothing in front of the model: one loop
    return bpda_pgd(
        model,
        X,
        y,
        eps=eps,
        alpha=alpha,
        steps=steps,
        transform=_identity,
        norm=norm,
        bpda=False,
        random_start=random_start,
        generator=generator,
        loss=loss,
    )


def robust_accuracy(model: nn.Module, X: Array, y: Array, attack: Attack | None) -> float:
    """Accuracy on ``attack(model, X, y)`` (clean accuracy when ``attack`` is None).

    A thin name for :func:`course_utils.training.evaluate` with an attack.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(20, 64); y = torch.zeros(20, dtype=torch.long)
    >>> model = mlp(seed=0)
    >>> robust_accuracy(model, X, y, partial(fgsm, eps=0.3)) <= robust_accuracy(model, X, y, None)
    True
    """
    if attack is not None and not callable(attack):
        raise ValueError(f"attack must be a callable attack(model, X, y) or None, got {attack!r}")
    return evaluate(model, X, y, attack=attack)


def adversarial_training(
    model: nn.Module,
    X: Array,
    y: Array,
    *,
    eps: float,
    alpha: float | None = None,
    steps: int = 7,
    norm: str = "linf",
    generator: Generator = 0,
    **train_kw: Any,
) -> dict[str, list[float]]:
    """PGD adversarial training (Madry et al. 2018): :func:`course_utils.training.train` with
    every batch replaced by its PGD attack.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place.
    X, y : training data (X in [0, 1])
    eps, alpha, steps, norm : the PGD attack used during training
        ``alpha`` defaults to ``2.5 * eps / steps``.
    generator : random start of the attacks (default seed 0)
    **train_kw : passed to :func:`course_utils.training.train` (``epochs``, ``lr``, ``seed``...)

    Returns
    -------
    The training history (loss and accuracy on the attacked batches, per epoch).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(64, 64); y = (X[:, 0] > 0.5).long()
    >>> history = adversarial_training(mlp(seed=0), X, y, eps=0.05, steps=2, epochs=2)
    >>> len(history["loss"])
    2
    """
    if alpha is None:
        alpha = 2.5 * float(eps) / max(int(steps), 1)
    eps, alpha, steps = _check_pgd_args(eps, alpha, steps, norm)
    gen = as_generator(generator)
    attack = partial(pgd, eps=eps, alpha=alpha, steps=steps, norm=norm, generator=gen)
    return train(model, X, y, attack=attack, **train_kw)


def gaussian_augment(*, sigma: float, generator: Generator = 0) -> Attack:
    """An ``attack=`` callable for :func:`course_utils.training.train` that adds N(0, sigma^2)
    noise to every batch: the training recipe of randomized smoothing (no clipping).

    Examples
    --------
    >>> noisy = gaussian_augment(sigma=0.25, generator=0)
    >>> X = torch.zeros(1000, 4)
    >>> round(float(noisy(None, X, None).std()), 1)
    0.2
    """
    sigma = _positive(sigma, "sigma", allow_zero=True)
    gen = as_generator(generator)

    def augment(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return X + sigma * torch.randn(X.shape, generator=gen)

    return augment


# --------------------------------------------------------------------------------------------
# defences that hide the gradient, and the adaptive attacks that see through them
# --------------------------------------------------------------------------------------------
class Preprocessed(nn.Module):
    """A defended model: ``model(transform(x))``. ``transform`` acts on tensors.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> defended = Preprocessed(mlp(seed=0), partial(feature_squeeze, bits=1))
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
    >>> base = mlp(seed=0); x = torch.rand(2, 64)
    >>> torch.allclose(Temperature(base, 10.0)(x) * 10, base(x))
    True
    """

    def __init__(self, model: nn.Module, temperature: float) -> None:
        super().__init__()
        self.model = model
        self.temperature = _positive(temperature, "temperature")

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
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an integer in 1..16, got {bits!r}")
    X_t, was_numpy = _tensor_keep_graph(X)
    levels = 2 ** int(bits) - 1
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
    if (
        isinstance(size, bool)
        or not isinstance(size, (int, np.integer))
        or size < 1
        or size % 2 == 0
    ):
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


def add_noise(X: Array, *, sigma: float, generator: Generator = None, clip: bool = True) -> Array:
    """Noise injection: ``X + N(0, sigma^2)``, clipped to [0, 1] unless ``clip=False``.

    As a preprocessing step it is a *random* defence; unclipped it is the noise of randomized
    smoothing.

    Examples
    --------
    >>> X = np.full((2, 3), 0.5)
    >>> np.array_equal(add_noise(X, sigma=0.1, generator=1), add_noise(X, sigma=0.1, generator=1))
    True
    """
    sigma = _positive(sigma, "sigma", allow_zero=True)
    X_t, was_numpy = _tensor_keep_graph(X)
    noise = torch.randn(X_t.shape, generator=as_generator(generator))
    out = X_t + sigma * noise
    if clip:
        out = out.clamp(0.0, 1.0)
    return out.detach().numpy() if was_numpy else out


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
    alpha: float,
    steps: int,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    norm: str = "linf",
    bpda: bool = True,
    eot_samples: int = 1,
    random_start: bool = True,
    generator: Generator = None,
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
    >>> from course_utils.training import mlp
    >>> X = torch.rand(6, 64); y = torch.zeros(6, dtype=torch.long)
    >>> defended = Preprocessed(mlp(seed=0), partial(feature_squeeze, bits=2))
    >>> X_adv = bpda_pgd(defended, X, y, eps=0.1, alpha=0.02, steps=5, generator=0)
    >>> bool((X_adv - X).abs().max() <= 0.1 + 1e-6)
    True
    """
    eps, alpha, steps = _check_pgd_args(eps, alpha, steps, norm)
    if (
        isinstance(eot_samples, bool)
        or not isinstance(eot_samples, (int, np.integer))
        or eot_samples < 1
    ):
        raise ValueError(f"eot_samples must be a positive integer, got {eot_samples!r}")
    if transform is None:
        if not isinstance(model, Preprocessed):
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
            alpha=alpha,
            steps=steps,
            norm=norm,
            random_start=random_start,
            gen=as_generator(generator),
            loss=loss,
            eot_samples=int(eot_samples),
        )
    return _like(X_adv, was_numpy)


def distill(
    student: nn.Module,
    X: Array,
    soft_targets: Array,
    *,
    temperature: float = 1.0,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Train ``student`` so that ``softmax(student(X) / temperature)`` matches ``soft_targets``.

    Cross-entropy against probability vectors (Hinton et al. 2015). Used by defensive
    distillation and by model extraction from a probability API.

    Parameters
    ----------
    student : torch.nn.Module
        Trained in place (Adam).
    X : inputs; soft_targets : array of shape (N, n_classes), rows summing to 1
    temperature : float, default 1

    Returns
    -------
    dict with the per-epoch ``"loss"`` and ``"agreement"`` (argmax of student equals argmax of
    targets, on the training batches).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = np.r_[np.zeros((20, 2)), np.ones((20, 2))]
    >>> P = np.r_[np.tile([0.9, 0.1], (20, 1)), np.tile([0.2, 0.8], (20, 1))]
    >>> history = distill(mlp(2, (), 2), X, P, epochs=40, lr=0.1)
    >>> history["agreement"][-1]
    1.0
    """
    temperature = _positive(temperature, "temperature")
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
    if epochs <= 0 or batch_size <= 0 or lr <= 0:
        raise ValueError(
            f"epochs, batch_size and lr must be positive, got {epochs}, {batch_size}, {lr}"
        )
    history = train(
        student, X_t, P_t, epochs=epochs, batch_size=batch_size, lr=lr, temperature=temperature, seed=seed
    )
    student.eval()
    return {"loss": history["loss"], "agreement": history["accuracy"]}


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
    seed: int = 0,
) -> nn.Module:
    """Defensive distillation (Papernot et al. 2016).

    Train ``teacher`` at temperature T (softmax of logits / T), label ``X`` with its soft
    predictions at T, train ``student`` on them at T, and deploy the student at temperature 1.
    The deployed logits are about T times larger, so the softmax saturates and the
    cross-entropy gradient underflows to zero: the defence hides the gradient, it does not
    move the decision boundary.

    Returns
    -------
    The trained ``student`` (deployed at temperature 1).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> X = torch.rand(64, 64); y = (X[:, 0] > 0.5).long()
    >>> student = defensive_distillation(mlp(seed=0), mlp(seed=1), X, y, temperature=20, epochs=2)
    >>> student(X).shape
    torch.Size([64, 10])
    """
    temperature = _positive(temperature, "temperature")
    train(
        Temperature(teacher, temperature),
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
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
        seed=seed + 1,
    )
    return student


# --------------------------------------------------------------------------------------------
# randomized smoothing (Cohen, Rosenfeld and Kolter 2019)
# --------------------------------------------------------------------------------------------
def clopper_pearson_lower(k: int, n: int, *, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower confidence bound on a binomial proportion.

    Examples
    --------
    >>> round(clopper_pearson_lower(100, 100, alpha=0.001), 4)   # = alpha ** (1 / n)
    0.9333
    >>> clopper_pearson_lower(0, 10, alpha=0.05)
    0.0
    """
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if k == 0:
        return 0.0
    return float(stats.beta.ppf(alpha, k, n - k + 1))


def certified_radius(p_lower: float, *, sigma: float) -> float:
    """L2 radius ``sigma * Phi^-1(p_lower)`` certified when the top class has probability at
    least ``p_lower`` under N(0, sigma^2 I) noise; 0 when ``p_lower <= 0.5`` (no certificate).

    Examples
    --------
    >>> round(certified_radius(0.8413, sigma=0.5), 3)      # Phi^-1(0.8413) ~ 1
    0.5
    >>> certified_radius(0.4, sigma=0.5)
    0.0
    """
    if not 0 <= p_lower <= 1:
        raise ValueError(f"p_lower must be a probability in [0, 1], got {p_lower}")
    sigma = _positive(sigma, "sigma")
    if p_lower <= 0.5:
        return 0.0
    return float(sigma * stats.norm.ppf(p_lower))


@torch.no_grad()
def _noisy_counts(
    model: nn.Module,
    x: torch.Tensor,
    *,
    sigma: float,
    num: int,
    gen: torch.Generator | None,
    batch_size: int,
) -> np.ndarray:
    """Class counts of ``argmax model(x + noise)`` over ``num`` Gaussian draws."""
    counts: np.ndarray | None = None
    remaining = num
    with _EvalMode(model):
        while remaining > 0:
            b = min(batch_size, remaining)
            batch = x.unsqueeze(0).expand((b,) + tuple(x.shape))
            noisy = batch + sigma * torch.randn(batch.shape, generator=gen)
            logits = model(noisy)
            if logits.dim() != 2 or len(logits) != b:
                raise ValueError(
                    f"model must map a batch of {b} inputs to (batch, n_classes) logits, got {tuple(logits.shape)}"
                )
            pred = logits.argmax(1).numpy()
            if counts is None:
                counts = np.zeros(logits.shape[1], dtype=np.int64)
            counts += np.bincount(pred, minlength=len(counts))
            remaining -= b
    assert counts is not None
    return counts


def _check_single(x: Array) -> torch.Tensor:
    x_t, _ = _tensor(x, "x")
    if x_t.dim() == 0:
        raise ValueError("x must be one example (e.g. shape (64,)), got a scalar")
    return x_t


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def smoothed_predict(
    model: nn.Module,
    x: Array,
    *,
    sigma: float,
    n: int,
    alpha: float = 0.001,
    generator: Generator = None,
    batch_size: int = 1000,
) -> int:
    """PREDICT of the smoothed classifier ``g(x) = argmax_c P(f(x + noise) = c)``.

    Draws ``n`` noisy copies of the single example ``x`` (e.g. shape ``(64,)``), counts the
    base model's argmax, and returns the top class if a two-sided binomial test says it beats the
    runner-up at level ``alpha``; otherwise abstains with ``-1``.

    Examples
    --------
    >>> class Coin(nn.Module):            # ignores x: class 0 or 1 at random
    ...     def forward(self, x):
    ...         return torch.randn(len(x), 2)
    >>> smoothed_predict(Coin(), np.zeros(64), sigma=0.25, n=200, generator=0)
    -1
    """
    sigma = _positive(sigma, "sigma")
    n = _check_count(n, "n")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    x_t = _check_single(x)
    counts = _noisy_counts(
        model, x_t, sigma=sigma, num=n, gen=as_generator(generator), batch_size=batch_size
    )
    top2 = np.argsort(counts)[::-1][:2]
    n_a, n_b = int(counts[top2[0]]), int(counts[top2[1]]) if len(top2) > 1 else 0
    if stats.binomtest(n_a, n_a + n_b, 0.5).pvalue > alpha:
        return -1
    return int(top2[0])


def certify(
    model: nn.Module,
    x: Array,
    *,
    sigma: float,
    n0: int = 100,
    n: int = 1000,
    alpha: float = 0.001,
    generator: Generator = None,
    batch_size: int = 1000,
) -> tuple[int, float]:
    """CERTIFY (Cohen et al. 2019): a class and an L2 radius within which the smoothed
    classifier's prediction provably stays that class (with probability >= 1 - alpha over the
    sampling).

    1. ``n0`` noisy copies of ``x`` select the candidate class ``c_A`` (the most frequent argmax).
    2. ``n`` fresh copies count how often the base model says ``c_A``: ``n_A``.
    3. ``p_A_lower`` = one-sided Clopper-Pearson lower bound of ``n_A / n`` at level ``alpha``.
    4. If ``p_A_lower > 0.5`` return ``(c_A, sigma * Phi^-1(p_A_lower))``, else abstain:
       ``(-1, 0.0)``.

    ``x`` is ONE unbatched example (e.g. shape ``(64,)``); the model is called on batches of at
    most ``batch_size`` noisy copies and its argmax taken.

    Examples
    --------
    >>> class Always3(nn.Module):           # p_A = 1 whatever the noise
    ...     def forward(self, x):
    ...         return nn.functional.one_hot(torch.full((len(x),), 3), 10).float()
    >>> label, radius = certify(Always3(), np.zeros(64), sigma=0.5, n0=10, n=100, alpha=0.001, generator=0)
    >>> label, round(radius, 3), round(0.5 * float(stats.norm.ppf(0.001 ** (1 / 100))), 3)
    (3, 0.75, 0.75)
    """
    sigma = _positive(sigma, "sigma")
    n0, n = _check_count(n0, "n0"), _check_count(n, "n")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    x_t = _check_single(x)
    gen = as_generator(generator)
    selection = _noisy_counts(model, x_t, sigma=sigma, num=n0, gen=gen, batch_size=batch_size)
    c_a = int(selection.argmax())
    estimation = _noisy_counts(model, x_t, sigma=sigma, num=n, gen=gen, batch_size=batch_size)
    p_lower = clopper_pearson_lower(int(estimation[c_a]), n, alpha=alpha)
    if p_lower <= 0.5:
        return -1, 0.0
    return c_a, certified_radius(p_lower, sigma=sigma)


def certify_dataset(
    model: nn.Module,
    X: Array,
    *,
    sigma: float,
    n0: int = 100,
    n: int = 1000,
    alpha: float = 0.001,
    generator: Generator = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`certify` on every row of ``X``: arrays of labels (-1 = abstain) and radii.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> labels, radii = certify_dataset(mlp(seed=0), np.zeros((3, 64)), sigma=0.25, n0=10, n=50, generator=0)
    >>> labels.shape, radii.shape
    ((3,), (3,))
    """
    X_t, _ = _tensor(X)
    gen = as_generator(generator)
    results = [certify(model, x, sigma=sigma, n0=n0, n=n, alpha=alpha, generator=gen) for x in X_t]
    labels = np.array([r[0] for r in results], dtype=np.int64)
    radii = np.array([r[1] for r in results], dtype=float)
    return labels, radii


def certified_accuracy(
    labels: Array, radii: Array, y: Array, radius: float | Array
) -> float | np.ndarray:
    """Fraction of examples certified correct with radius at least ``radius``.

    ``radius`` may be a number (returns a float) or an array (returns an array: the curve).

    Examples
    --------
    >>> certified_accuracy([1, 2, -1], [0.3, 0.6, 0.0], [1, 2, 0], 0.5)
    0.3333333333333333
    >>> certified_accuracy([1, 2, -1], [0.3, 0.6, 0.0], [1, 2, 0], [0.0, 0.5]).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    labels, radii, y = np.asarray(labels), np.asarray(radii, dtype=float), np.asarray(y)
    if not labels.shape == radii.shape == y.shape:
        raise ValueError(
            f"labels, radii and y must have the same shape, got {labels.shape}, {radii.shape}, {y.shape}"
        )
    r = np.asarray(radius, dtype=float)
    ok = (labels == y)[None, :] & (radii[None, :] >= r.reshape(-1, 1))
    curve = ok.mean(axis=1)
    return float(curve[0]) if r.ndim == 0 else curve


# --------------------------------------------------------------------------------------------
# data poisoning
# --------------------------------------------------------------------------------------------
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


@torch.no_grad()
def per_example_loss(model: nn.Module, X: Array, y: Array) -> np.ndarray:
    """Cross-entropy of each example under ``model`` (for loss-based filtering).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> per_example_loss(mlp(seed=0), np.zeros((4, 64)), np.zeros(4, dtype=int)).shape
    (4,)
    """
    X_t, y_t = to_tensors(_tensor(X)[0], np.asarray(y))
    with _EvalMode(model):
        return nn.functional.cross_entropy(model(X_t), y_t, reduction="none").numpy()


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
