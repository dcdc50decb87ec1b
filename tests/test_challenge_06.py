"""Challenge 6.7 (an adaptive attack against gradient masking): the reference passes, the blank
exercise scores 0, attacks that miss one adaptive step fail with the hint naming it, and
differently built adaptive attacks pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import numpy as np
import torch
import torch.nn.functional as F


def margin_loss(logits, y):
    true = logits.gather(1, y[:, None])[:, 0]
    other = logits.masked_fill(F.one_hot(y, 10).bool(), -torch.inf).amax(1)
    return (other - true).sum()


def ce_loss(logits, y):
    return F.cross_entropy(logits, y, reduction="sum")


def gradient(model, X_adv, y, loss, bpda):
    if bpda:
        z = model[0](X_adv).detach().requires_grad_(True)
        return torch.autograd.grad(loss(model[1](z), y), z)[0]
    x = X_adv.clone().requires_grad_(True)
    return torch.autograd.grad(loss(model(x), y), x)[0]
"""


# a correct adaptive attack (BPDA, margin loss); the wrong answers written as
# ``edited(ADAPTIVE_PGD, ...)`` are it with one mistake
ADAPTIVE_PGD = """
def adaptive_attack(model, X, y, eps):
    X_adv = X.clone()
    for _ in range(40):
        g = gradient(model, X_adv, y, margin_loss, True)
        X_new = X_adv + eps / 8 * g.sign()
        X_adv = X + (X_new - X).clamp(-eps, eps)
        X_adv = X_adv.clamp(0, 1)
    return X_adv.detach()
"""


WRONG = [
    Wrong(
        "PGD on the cross-entropy through the whole model",
        "saturates",
        edited(ADAPTIVE_PGD, "margin_loss, True)", "ce_loss, False)"),
    ),
    Wrong(
        "BPDA, but the cross-entropy", "margin", edited(ADAPTIVE_PGD, "margin_loss,", "ce_loss,")
    ),
    Wrong(
        "the margin loss, but no BPDA",
        "bpda",
        edited(ADAPTIVE_PGD, "margin_loss, True)", "margin_loss, False)"),
    ),
    Wrong(
        "no projection into the eps-ball",
        "project back",
        edited(ADAPTIVE_PGD, "X + (X_new - X).clamp(-eps, eps)", "X_new"),
    ),
    Wrong(
        "no clipping to [0, 1]", "clamp(0, 1)", edited(ADAPTIVE_PGD, "X_adv.clamp(0, 1)", "X_adv")
    ),
    Wrong(
        "a step down the loss",
        "step up",
        edited(ADAPTIVE_PGD, "= X_adv + eps /", "= X_adv - eps /"),
    ),
    Wrong(
        "changes X in place",
        "modified in place",
        """
        def adaptive_attack(model, X, y, eps):
            X0 = X.clone()
            for _ in range(40):
                g = gradient(model, X, y, margin_loss, True)
                X += eps / 8 * g.sign()
                X.copy_((X0 + (X - X0).clamp(-eps, eps)).clamp(0, 1))
            return X
        """,
    ),
]

RIGHT = [
    Right(
        "BPDA with a cross-entropy on logits rescaled per example (a temperature)",
        """
        def adaptive_attack(model, X, y, eps):
            X_adv = X.clone()
            for _ in range(50):
                z = model[0](X_adv).detach().requires_grad_(True)
                logits = model[1](z)
                scale = logits.detach().std(dim=1, keepdim=True) + 1e-6
                loss = F.cross_entropy(logits / scale, y, reduction="sum")
                (g,) = torch.autograd.grad(loss, z)
                X_adv = torch.min(torch.max(X_adv + eps / 10 * g.sign(), X - eps), X + eps)
                X_adv = X_adv.clamp(0.0, 1.0).detach()
            return X_adv
        """,
    ),
    Right(
        "momentum steps from a random start, keeping each digit's best point",
        """
        def adaptive_attack(model, X, y, eps):
            gen = torch.Generator().manual_seed(0)
            X_adv = (X + (torch.rand(X.shape, generator=gen) * 2 - 1) * eps).clamp(0, 1)
            best, momentum = X.clone(), torch.zeros_like(X)
            best_margin = torch.full((len(X),), -torch.inf)
            for _ in range(60):
                z = model[0](X_adv).detach().requires_grad_(True)
                logits = model[1](z)
                true = logits.gather(1, y[:, None])[:, 0]
                other = logits.masked_fill(F.one_hot(y, 10).bool(), -torch.inf).amax(1)
                margin = (other - true).detach()
                better = margin > best_margin
                best[better], best_margin[better] = X_adv[better], margin[better]
                (g,) = torch.autograd.grad((other - true).sum(), z)
                momentum = 0.9 * momentum + g / (g.abs().mean(1, keepdim=True) + 1e-12)
                X_adv = (X + (X_adv + eps / 6 * momentum.sign() - X).clamp(-eps, eps)).clamp(0, 1)
                X_adv = X_adv.detach()
            return best
        """,
    ),
]

globals().update(challenge_tests("6.7", "06_robustness", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
