"""Check of exercise 6.6: the adaptive attacker's gradient (BPDA), the tool that verifies whether
a preprocessing defence (feature squeezing, JPEG compression; notebooks 06 and 06b) really makes a
model robust or only hides its gradient.

The learner's ``bpda_gradient(model, transform, X, y)`` returns an input gradient; every case
calls it once and compares the result here (plain tensors in, a tensor out), so the check works
the same whether the answer runs in this process or in the grader's kernel. The transforms are
module-level functions, so that they can be sent to a kernel.

Expected values are computed here with torch autograd, never with
:mod:`course_utils.robustness`; the usual mistakes are recomputed on the same inputs so that the
hint names the one that was made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from . import expect, question

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# defences the check attacks (module level: they can travel to a grading kernel)
# ---------------------------------------------------------------------------------------------
def squeeze_8_levels(x: torch.Tensor) -> torch.Tensor:
    """Feature squeezing to 8 grey levels: torch.round, whose gradient is zero almost everywhere."""
    return torch.round(x.clamp(0, 1) * 7) / 7


def numpy_quantise(x: torch.Tensor) -> torch.Tensor:
    """Rounds to 4 grey levels through numpy (like Pillow's JPEG): no autograd graph at all."""
    values = np.round(np.clip(x.detach().numpy(), 0, 1) * 3) / 3
    return torch.from_numpy(values.astype(np.float32))


def smooth_contrast(x: torch.Tensor) -> torch.Tensor:
    """A differentiable transform far from the identity; BPDA still uses the identity for it."""
    return 0.5 - 0.5 * torch.cos(np.pi * x)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _mlp(seed: int, image: bool = False) -> nn.Module:
    """A small seeded MLP; torch's global random state is left as it was (fork_rng)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = [nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)]
    return nn.Sequential(nn.Flatten(), *layers) if image else nn.Sequential(*layers)


def _batch(seed: int, n: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 64, generator=gen)
    X[X < 0.25] = 0.0
    y = torch.randint(0, 10, (n,), generator=gen)
    return X, y


def _input_grad(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, forward: Callable | None = None
) -> torch.Tensor:
    """d/dx of the summed cross-entropy of ``forward(x)`` (default ``model(x)``)."""
    x = x.clone().requires_grad_(True)
    logits = model(x) if forward is None else forward(x)
    nn.functional.cross_entropy(logits, y, reduction="sum").backward()
    return x.grad.detach() if x.grad is not None else torch.zeros_like(x)


def _as_tensor(value: Any, shape: tuple[int, ...]) -> torch.Tensor:
    try:
        if isinstance(value, torch.Tensor):
            out = value.detach().to(torch.float32)
        else:
            out = torch.as_tensor(np.asarray(value, dtype=np.float32))
    except Exception:
        expect(
            False,
            "bpda_gradient returns the input gradient",
            expected="a tensor shaped like X",
            got=type(value).__name__,
            hint="Return the gradient with respect to the input: a tensor (or array) shaped like X.",
        )
    expect(
        tuple(out.shape) == shape,
        "the gradient has the shape of X",
        expected=shape,
        got=tuple(out.shape),
        hint="Return one gradient value per input pixel, shaped like X (not per example, not summed).",
    )
    return out


def _scale(got: torch.Tensor, ref: torch.Tensor) -> tuple[float, float]:
    """Best c with got ~ c * ref, and the relative error of that fit."""
    ref_sq = float((ref * ref).sum())
    c = float((got * ref).sum()) / ref_sq
    err = float((got - c * ref).norm()) / max(float((c * ref).norm()), 1e-12)
    return c, err


# ---------------------------------------------------------------------------------------------
# 6.6  the BPDA gradient
# ---------------------------------------------------------------------------------------------
@question(
    "6.6",
    points=2,
    reference=(
        "course_utils.robustness.bpda_pgd",
        "course_utils.robustness.evasion.bpda_pgd",
        "course_utils.robustness.evasion._StraightThrough",
    ),
)
def _check_bpda_gradient(bpda_gradient: Any) -> None:
    """Return the BPDA input gradient of the cross-entropy of model(transform(X)): transform in the
    forward pass, the identity in the backward pass."""
    cases = [
        (squeeze_8_levels, "feature squeezing (torch.round)", False),
        (numpy_quantise, "a transform computed in numpy", False),
        (smooth_contrast, "a differentiable transform", False),
        (numpy_quantise, "image-shaped inputs (N, 1, 8, 8)", True),
    ]
    for seed, (transform, name, image) in enumerate(cases):
        model = _mlp(seed, image)
        X, y = _batch(seed)
        if image:
            X = X.reshape(-1, 1, 8, 8)
        X_before = X.clone()
        got = _as_tensor(bpda_gradient(model, transform, X, y.clone()), tuple(X.shape))
        what = f"{name}"
        expect(
            torch.equal(X.detach(), X_before),
            f"{what}: X is left unchanged",
            hint="Do not modify X in place (e.g. X.data = ...): work on a copy, such as "
            "transform(X).detach().",
        )
        X = X_before
        expect(
            bool(torch.isfinite(got).all()),
            f"{what}: the gradient is finite",
            hint="Check the loss: cross-entropy of the logits model(...) against the labels y.",
        )
        expect(
            float(got.abs().max()) > 0,
            f"{what}: the gradient is not zero",
            expected="a non-zero gradient",
            got="all zeros",
            hint="You back-propagated through the transform: rounding has derivative zero almost "
            "everywhere, which is exactly how the defence hides the gradient. BPDA treats the "
            "transform as the identity in the backward pass: take the gradient with respect to "
            "the transformed input z = transform(X).",
        )
        z = transform(X).detach()
        ref = _input_grad(model, z, y)  # BPDA: the model's gradient at transform(X)
        c, err = _scale(got, ref)
        if err < 1e-3 and c < 0:
            expect(
                False,
                f"{what}: the gradient points up the loss",
                expected="+ gradient",
                got="- gradient",
                hint="Return the gradient of the loss itself (the attacker steps along it), not of "
                "its negative.",
            )
        # the usual mistakes, each as the forward pass whose plain gradient it returns
        mistakes = [
            (
                model,  # the defence ignored: the model's gradient at X
                "the forward pass runs the defence",
                "Evaluate the model at transform(X), not at X: the defence must run in the "
                "forward pass; only the backward pass treats it as the identity.",
            )
        ]
        if transform is smooth_contrast:
            mistakes += [
                (
                    lambda x, m=model: m(smooth_contrast(x)),
                    "the backward pass is the identity",
                    "You used the transform's own derivative (the chain rule through it). BPDA "
                    "replaces the transform by the identity in the backward pass, even when it "
                    "is differentiable: detach it, e.g. x + (transform(x) - x).detach().",
                ),
                (
                    lambda x, m=model: m(smooth_contrast(x) + x - x.detach()),
                    "the backward pass is the identity",
                    "The transform's own derivative leaks in next to the identity: detach the "
                    "transform's output, x + (transform(x) - x).detach(), so that only the "
                    "identity carries the gradient.",
                ),
            ]
        for forward, case, hint in mistakes:
            _, err_mistake = _scale(got, _input_grad(model, X, y, forward=forward))
            if err_mistake < 1e-3 and err > 1e-3:
                expect(False, f"{what}: {case}", hint=hint)
        if err > 1e-3:
            z_p = z.clone().requires_grad_(True)  # the loss -p_y: nll_loss fed probabilities
            nn.functional.nll_loss(torch.softmax(model(z_p), 1), y, reduction="sum").backward()
            _, err_p = _scale(got, z_p.grad.detach())
            expect(
                err_p > 1e-3,
                f"{what}: the BPDA gradient of the cross-entropy",
                hint="Your loss is minus the probability of the true class: nll_loss expects "
                "log-probabilities, and you passed it softmax probabilities. Use "
                "cross_entropy(model(z), y) on the logits (or nll_loss of log_softmax).",
            )
        expect(
            err < 1e-3 and c > 0,
            f"{what}: the BPDA gradient",
            expected="the gradient of the loss at z = transform(X) (any positive scale: sum or mean)",
            got=f"relative error {err:.2g} after the best scaling",
            hint="Forward: logits = model(transform(X)); backward: the identity for transform. For "
            "example z = transform(X).detach().requires_grad_(True), loss = cross-entropy of "
            "model(z) against y, and return the gradient with respect to z.",
        )
