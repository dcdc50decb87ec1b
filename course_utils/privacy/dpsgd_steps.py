"""The steps of DP-SGD, one function each (Abadi et al. 2016): Poisson sampling, per-sample
gradients, clipping, and the noisy aggregate; plus the memory-light per-example loop that does
the gradients and the clipping together. :func:`course_utils.privacy.dpsgd.train_dp_sgd` strings
them into a training loop, and :mod:`course_utils.privacy.dpsgd` re-exports them all.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ..training import to_tensors
from ..validation import (
    RNGLike,
    check_int,
    check_non_negative,
    check_positive,
    check_scalar,
    old_keyword,
    torch_generator,
)

__all__ = [
    "per_sample_gradients",
    "clip_per_sample",
    "noisy_aggregate",
    "poisson_batch",
    "clipped_sum_microbatch",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Grads = dict[str, torch.Tensor]


def _check_grads(grads: Grads) -> int:
    if not isinstance(grads, dict) or not grads:
        raise ValueError("grads must be a non-empty dict of name -> tensor with a batch dimension")
    sizes = {int(g.shape[0]) if g.dim() > 0 else -1 for g in grads.values()}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(
            f"every gradient needs the same leading batch dimension, got sizes {sorted(sizes)}"
        )
    return sizes.pop()


def per_sample_gradients(
    model: nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor
) -> Grads:
    """One gradient per example, computed in a single vectorised pass (``vmap(grad(...))``).

    Parameters
    ----------
    model : torch.nn.Module
        Any module without batch-coupling layers (no BatchNorm); its trainable parameters are
        differentiated, its buffers are used as they are.
    loss_fn : callable
        ``loss_fn(logits, targets) -> scalar``, e.g. ``nn.CrossEntropyLoss()``; it is called on a
        batch of one, so ``"mean"`` and ``"sum"`` reductions give the same result.
    X, y : torch.Tensor (or numpy arrays, converted with ``to_tensors``)
        Inputs and targets with the same leading batch dimension.

    Returns
    -------
    dict
        ``name -> tensor of shape (batch, *param.shape)``, names as in ``model.named_parameters()``.

    Examples
    --------
    >>> model = nn.Linear(3, 2)
    >>> X, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    >>> grads = per_sample_gradients(model, nn.CrossEntropyLoss(), X, y)
    >>> {name: tuple(g.shape) for name, g in grads.items()}
    {'weight': (5, 2, 3), 'bias': (5, 2)}
    >>> torch.allclose(grads["bias"].mean(0), torch.autograd.grad(
    ...     nn.CrossEntropyLoss()(model(X), y), model.bias)[0], atol=1e-6)
    True
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        try:  # numpy arrays: float32 features and int64 labels, as everywhere in the course
            X, y = to_tensors(X, y)
        except Exception as exc:
            raise ValueError(f"X and y must be tensors or arrays of equal length: {exc}") from exc
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y need the same non-zero length, got {len(X)} and {len(y)}")
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError("model has no trainable parameters")
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    return _PER_SAMPLE_GRADS(params, buffers, model, loss_fn, X, y)


def _plain_cross_entropy(loss_fn: LossFn) -> bool:
    """``nn.CrossEntropyLoss()`` without class weights, smoothing or an ignored class."""
    return (
        type(loss_fn) is nn.CrossEntropyLoss
        and loss_fn.weight is None
        and loss_fn.label_smoothing == 0.0
        and loss_fn.ignore_index < 0
        and loss_fn.reduction in ("mean", "sum")  # the same on a batch of one
    )


def _loss_one(
    params: Grads,
    buffers: Grads,
    model: nn.Module,
    loss_fn: LossFn,
    x: torch.Tensor,
    t: torch.Tensor,
) -> torch.Tensor:
    """The loss of ONE example as a function of the parameters (vmap adds the batch)."""
    out = functional_call(model, (params, buffers), (x.unsqueeze(0),))
    if out.dim() == 2 and not t.is_floating_point() and _plain_cross_entropy(loss_fn):
        # cross-entropy written out (minus the log-softmax of the true class): the same value,
        # about 15% faster under vmap than the batched decomposition of nn.CrossEntropyLoss
        return -out.log_softmax(-1).gather(1, t.reshape(1, 1)).sum()
    return loss_fn(out, t.unsqueeze(0))


# Built once at import: the model and the loss are arguments shared by all examples (in_dims None),
# so no closure or transform is rebuilt per call and nothing keeps a model alive.
_PER_SAMPLE_GRADS = vmap(grad(_loss_one), in_dims=(None, None, None, None, 0, 0))


def clip_per_sample(
    grads: Grads, *, max_grad_norm: float, inplace: bool = False
) -> tuple[Grads, torch.Tensor]:
    """Scale each example's gradient (all parameters together) to L2 norm at most ``max_grad_norm``.

    The factor is ``min(1, max_grad_norm / (norm + 1e-6))``, exactly as Opacus's flat clipping.

    Parameters
    ----------
    grads : dict
        ``name -> tensor of shape (batch, ...)`` as returned by :func:`per_sample_gradients`.
    max_grad_norm : float
        The clipping bound ``C`` (> 0).
    inplace : bool, default False
        Scale the tensors of ``grads`` in place instead of returning copies (faster on wide
        models, where the per-sample gradients are the largest tensors in memory).

    Returns
    -------
    clipped : dict
        Same shapes as ``grads``.
    per_sample_norms : torch.Tensor of shape (batch,)
        Norms *before* clipping.

    Examples
    --------
    >>> grads = {"w": torch.tensor([[3.0, 4.0], [0.3, 0.4]])}
    >>> clipped, norms = clip_per_sample(grads, max_grad_norm=1.0)
    >>> norms.tolist()
    [5.0, 0.5]
    >>> [round(v, 4) for v in clipped["w"].norm(dim=1).tolist()]
    [1.0, 0.5]
    """
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    n = _check_grads(grads)
    # one norm per example over all parameters; vector_norm avoids a squared copy of the gradients
    layer_norms = torch.stack(
        [torch.linalg.vector_norm(g.reshape(n, -1), dim=1) for g in grads.values()]
    )
    norms = torch.linalg.vector_norm(layer_norms, dim=0)
    factor = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
    shape = {k: factor.view(-1, *([1] * (g.dim() - 1))) for k, g in grads.items()}
    if inplace:  # saves a copy of every per-sample gradient (the big tensor) on wide models
        clipped = {k: g.mul_(shape[k]) for k, g in grads.items()}
    else:
        clipped = {k: g * shape[k] for k, g in grads.items()}
    return clipped, norms


def noisy_aggregate(
    clipped: Grads,
    *,
    noise_multiplier: float,
    max_grad_norm: float,
    rng: RNGLike = None,
    expected_batch_size: float | None = None,
) -> Grads:
    """Sum the clipped gradients, add N(0, (noise_multiplier * max_grad_norm)^2), divide by the batch size.

    The noise goes on the *sum*, whose sensitivity is ``max_grad_norm``: one example changes it by
    at most that much. Dividing by the *expected* batch size (``sample_rate * n`` under Poisson
    sampling), not the realised one, keeps the division itself from depending on who was sampled.

    Parameters
    ----------
    clipped : dict
        ``name -> tensor of shape (batch, ...)``; the batch may be empty (size 0).
    noise_multiplier : float
        ``sigma >= 0``; the noise standard deviation is ``sigma * max_grad_norm``.
    max_grad_norm : float
        The clipping bound used by :func:`clip_per_sample`.
    rng : numpy.random.Generator, int seed or None
        Source of the noise (a torch generator is derived from it,
        :func:`course_utils.validation.torch_generator`).
    expected_batch_size : float, optional
        Divisor; defaults to the realised batch size (at least 1).

    Returns
    -------
    dict
        ``name -> tensor of the parameter's shape``: the noisy average gradient.

    Examples
    --------
    >>> clipped = {"w": torch.ones(4, 2)}
    >>> noisy_aggregate(clipped, noise_multiplier=0.0, max_grad_norm=1.0)["w"].tolist()
    [1.0, 1.0]
    >>> out = noisy_aggregate({"w": torch.zeros(1, 100_000)}, noise_multiplier=2.0,
    ...                       max_grad_norm=0.5, rng=0)
    >>> round(float(out["w"].std()), 1)
    1.0
    """
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    noise_multiplier = check_non_negative(noise_multiplier, "noise_multiplier")
    n = _check_grads(clipped)
    if expected_batch_size is None:
        expected_batch_size = max(n, 1)
    expected_batch_size = check_positive(expected_batch_size, "expected_batch_size")
    gen = torch_generator(rng) if noise_multiplier > 0 else None
    return _noisy_sum(clipped, noise_multiplier * max_grad_norm, gen, expected_batch_size)


def _noisy_sum(
    clipped: Grads, std: float, generator: torch.Generator | None, divisor: float
) -> Grads:
    """Sum over the batch, add N(0, std^2) noise drawn from ``generator``, divide (the hot path)."""
    out = {}
    for k, g in clipped.items():
        total = g.sum(0)  # a fresh tensor: safe to update in place
        if std > 0:
            noise = torch.randn(
                total.shape, generator=generator, dtype=total.dtype, device=total.device
            )
            total.add_(noise, alpha=std)
        out[k] = total.div_(divisor)
    return out


def poisson_batch(
    n: int, *, sample_rate: float, rng: RNGLike = None, generator: object = None
) -> torch.Tensor:
    """Indices of a Poisson-sampled batch: each of ``n`` examples joins with probability ``sample_rate``.

    The batch size is random (Binomial(n, sample_rate)) and may be zero; this is the sampling
    that the privacy amplification of the accountants assumes. ``rng`` (a numpy Generator, an
    int seed or None) seeds a torch generator; the old ``generator=`` still works for one release.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> sizes = [len(poisson_batch(1000, sample_rate=0.1, rng=rng)) for _ in range(200)]
    >>> 95 < sum(sizes) / len(sizes) < 105
    True
    """
    n = check_int(n, "n", min_val=1)
    sample_rate = check_scalar(
        sample_rate, "sample_rate", min_val=0.0, max_val=1.0, include_min=False
    )
    if generator is not None:  # the old keyword, which took a torch.Generator
        old = old_keyword(rng, generator, old_name="generator")
        gen = old if isinstance(old, torch.Generator) else torch_generator(old, name="generator")
    else:
        gen = torch_generator(rng)
    return _poisson_batch(n, sample_rate, gen)


def _poisson_batch(n: int, sample_rate: float, generator: torch.Generator) -> torch.Tensor:
    return torch.nonzero(torch.rand(n, generator=generator) < sample_rate).flatten()


def clipped_sum_microbatch(
    model: nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor, *, max_grad_norm: float
) -> tuple[Grads, torch.Tensor]:
    """Sum of clipped per-sample gradients by brute force: one backward pass per example.

    Slower than :func:`per_sample_gradients` on small models, but it never holds more than one
    example's gradient in memory, so on wide models it can be the faster of the two.

    Returns
    -------
    clipped_sum : dict
        ``name -> tensor of the parameter's shape``.
    per_sample_norms : torch.Tensor of shape (batch,)

    Examples
    --------
    >>> model = nn.Linear(3, 2)
    >>> X, y = torch.randn(4, 3), torch.tensor([0, 1, 1, 0])
    >>> total, norms = clipped_sum_microbatch(model, nn.CrossEntropyLoss(), X, y, max_grad_norm=0.1)
    >>> clipped, _ = clip_per_sample(per_sample_gradients(model, nn.CrossEntropyLoss(), X, y),
    ...                              max_grad_norm=0.1)
    >>> torch.allclose(total["weight"], clipped["weight"].sum(0), atol=1e-6)
    True
    """
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    if len(X) != len(y):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    params = [p for p in model.parameters() if p.requires_grad]
    total = {k: torch.zeros_like(p) for k, p in zip(names, params, strict=True)}
    norms = torch.zeros(len(X))
    for i in range(len(X)):
        loss = loss_fn(model(X[i : i + 1]), y[i : i + 1])
        gs = torch.autograd.grad(loss, params)
        norm = torch.sqrt(sum(g.pow(2).sum() for g in gs))
        factor = (max_grad_norm / (norm + 1e-6)).clamp(max=1.0)
        for k, g in zip(names, gs, strict=True):
            total[k] += factor * g
        norms[i] = norm
    return total, norms
