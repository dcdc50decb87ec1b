"""Challenge of exercise set 06: an adaptive attack that breaks two gradient-masking defences (6.7).

The learner writes one L-infinity attack, ``adaptive_attack(model, X, y, eps)``, and the check
runs it on three models built on the same digit classifier (an MLP trained here, 98 % clean
accuracy on 300 test digits):

* **plain** - the classifier itself;
* **saturated** - its logits multiplied by 1,000: the softmax saturates, the cross-entropy's
  input gradient underflows to exactly 0 for confidently classified digits, and PGD on the
  cross-entropy stalls (defensive distillation's failure mode);
* **squeezed** - the inputs rounded to 8 grey levels first (feature squeezing): the gradient
  through the rounding is 0.

Every model is ``torch.nn.Sequential(preprocess, classifier)`` (``preprocess`` is
``nn.Identity()`` when there is none), as the task says. Each adversarial batch must stay in the
eps-ball and in [0, 1], and the model's accuracy on it must be at most the accuracy the check's
own adaptive attack leaves (PGD on the margin loss with BPDA through the preprocessing) plus a
margin. The hint names what is missing: projection, clipping, the direction of the step, a loss
that does not saturate, or BPDA.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from . import expect, question
from ._challenge_models import digits_mlp, margin_loss

__all__ = ["LogitScale", "Squeeze"]

EPS = 0.1
#: An answer may leave this much more accuracy than the check's own adaptive attack.
SLACK = 0.12


class LogitScale(nn.Module):
    """Multiplies the logits by a constant: the predictions do not change, the softmax saturates."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


class Squeeze(nn.Module):
    """Feature squeezing: round every pixel to one of ``levels`` grey levels (zero gradient)."""

    def __init__(self, levels: int = 8) -> None:
        super().__init__()
        self.levels = levels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x * (self.levels - 1)) / (self.levels - 1)


def _setting() -> tuple[dict[str, nn.Module], torch.Tensor, torch.Tensor]:
    """The three models (built on one trained MLP) and 300 test digits."""
    net, X, y = digits_mlp(64, 0)
    models = {
        "plain": nn.Sequential(nn.Identity(), net),
        "saturated": nn.Sequential(nn.Identity(), nn.Sequential(net, LogitScale(1000.0))),
        "squeezed": nn.Sequential(Squeeze(8), net),
    }
    return models, X, y


def _accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(X).argmax(1) == y).float().mean())


def _reference_attack(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps: float):
    """PGD-40 (steps of eps/8) on the margin loss, BPDA through model[0]."""
    X_adv = X.clone()
    for _ in range(40):
        z = model[0](X_adv).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(margin_loss(model[1](z), y).sum(), z)
        X_adv = (X + (X_adv + eps / 8 * grad.sign() - X).clamp(-eps, eps)).clamp(0, 1)
    return X_adv.detach()


_HINTS = {
    "plain": "Your attack is too weak on an undefended model: take many small signed steps "
    "(e.g. 40 steps of eps / 8) up the loss, projecting back into the eps-ball and [0, 1] after "
    "every step (PGD).",
    "saturated": "This model's logits are multiplied by 1,000: its softmax saturates, so the "
    "cross-entropy's gradient is exactly 0 for confident digits and your attack never moves. "
    "Attack a loss that does not saturate: the margin, (largest other logit) - (true logit), "
    "as Carlini and Wagner do.",
    "squeezed": "This model rounds its input to 8 grey levels (model[0]), whose gradient is 0. "
    "Use BPDA (exercise 6.6): run model[0] forward, then take the gradient of the loss of "
    "model[1] with respect to ITS input, and use it as the gradient with respect to X.",
}


@question(
    "6.7",
    points=5,
    reference=("course_utils.robustness.evasion.pgd", "course_utils.robustness.evasion.bpda_pgd"),
)
def _check_adaptive_attack(adaptive_attack: Any) -> None:
    """Return adversarial examples in the L-infinity eps-ball (and [0, 1]) that fool models whose
    gradients are masked by a saturated softmax or a rounding preprocessing."""
    models, X, y = _setting()
    results = {}
    for name, model in models.items():
        X_sent = X.clone()
        out = adaptive_attack(model, X_sent, y.clone(), EPS)
        expect(
            torch.equal(X_sent, X),
            f"X is not modified in place ({name} model)",
            hint="Work on a copy: X_adv = X.clone(), never X += ... .",
        )
        try:
            X_adv = torch.as_tensor(
                np.asarray(out.detach() if torch.is_tensor(out) else out), dtype=torch.float32
            )
        except Exception:
            X_adv = torch.full((1,), float("nan"))
        expect(
            tuple(X_adv.shape) == tuple(X.shape),
            f"one adversarial digit per input ({name} model)",
            expected=f"shape {tuple(X.shape)}",
            got=f"shape {tuple(np.shape(out))}",
            hint="Return a tensor shaped like X.",
        )
        expect(
            bool(torch.isfinite(X_adv).all()),
            f"the adversarial digits are finite ({name} model)",
            got="NaN or inf",
            hint="Check the gradient and the step for divisions by zero.",
        )
        expect(
            float(X_adv.min()) >= 0.0 and float(X_adv.max()) <= 1.0,
            f"pixels stay in [0, 1] ({name} model)",
            got=f"values in [{float(X_adv.min()):.3f}, {float(X_adv.max()):.3f}]",
            hint="Clip to the valid pixel range after every step: .clamp(0, 1).",
        )
        linf = float((X_adv - X).abs().max())
        expect(
            linf <= EPS + 1e-5,
            f"every pixel moves by at most eps = {EPS} ({name} model)",
            expected=f"<= {EPS}",
            got=round(linf, 4),
            hint="Project back into the eps-ball after EVERY step: "
            "X + (X_adv - X).clamp(-eps, eps). Steps add up; without the projection the "
            "perturbation grows past eps.",
        )
        results[name] = _accuracy(model, X_adv, y)
    clean = _accuracy(models["plain"], X, y)
    expect(
        results["plain"] < clean - 0.02,
        "the attack lowers the undefended model's accuracy",
        expected=f"well below the clean accuracy {clean:.3f}",
        got=round(results["plain"], 3),
        hint="Step UP the loss: X_adv + step * grad.sign(), not minus (that makes the digits "
        "easier to classify).",
    )
    for name in ("plain", "saturated", "squeezed"):
        ours = _accuracy(models[name], _reference_attack(models[name], X, y, EPS), y)
        expect(
            results[name] <= ours + SLACK,
            f"the {name} model's accuracy under your attack (eps = {EPS}, 300 test digits)",
            expected=f"<= {ours + SLACK:.3f} (an adaptive PGD leaves {ours:.3f}; clean "
            f"{clean:.3f})",
            got=round(results[name], 3),
            hint=_HINTS[name],
        )
