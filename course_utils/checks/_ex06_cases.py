"""Inputs of the exercise-set-06 checks: small models and batches, the PGD projection and its
usual mistakes, and the backdoored model whose success rate differs from every wrong definition.

Private to :mod:`course_utils.checks.ex06_robustness` (kept apart so that each module stays short).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

__all__ = [
    "BACKDOOR_HINTS",
    "Backdoored",
    "VictimAPI",
    "backdoor_case",
    "backdoor_definitions",
    "batch",
    "close",
    "input_grad",
    "linear_model",
    "mean_loss",
    "mlp",
    "project_expected",
    "projection_mistakes",
    "radius",
    "radius_mistakes",
    "stamp",
]


def linear_model(seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global state
        model = nn.Linear(64, 10)
    with torch.no_grad():
        model.weight.copy_(torch.randn(10, 64, generator=gen) * 0.3)
        model.bias.copy_(torch.randn(10, generator=gen) * 0.1)
    return model


def mlp(seed: int) -> nn.Module:
    """A small seeded MLP; torch's global random state is left as it was (fork_rng)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def batch(seed: int, n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs in [0, 1] with many pixels exactly at 0 and 1 (so clipping matters)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 64, generator=gen)
    X[X < 0.3] = 0.0
    X[X > 0.8] = 1.0
    y = torch.randint(0, 10, (n,), generator=gen)
    return X, y


def input_grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = X.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(x), y, reduction="sum").backward()
    return x.grad.detach()


def mean_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(X), y))


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, atol=1e-5))


class VictimAPI:
    """A black-box prediction API over ``model``: labels (``output="label"``) or probabilities."""

    def __init__(self, model: nn.Module, output: str) -> None:
        self.model, self.output = model, output

    def __call__(self, Xq: Any) -> np.ndarray:
        with torch.no_grad():
            logits = self.model(torch.as_tensor(np.asarray(Xq, dtype=np.float32)))
        if self.output == "label":
            return logits.argmax(1).numpy()
        return torch.softmax(logits, 1).numpy()


# PGD projection
def project_expected(X_adv: torch.Tensor, X: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    delta = X_adv - X
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        n = delta.norm(dim=1, keepdim=True)
        delta = delta * torch.clamp(eps / (n + 1e-12), max=1.0)
    return (X + delta).clamp(0, 1)


def projection_mistakes(X_adv, X, eps, norm) -> list[tuple[torch.Tensor, str]]:
    d = X_adv - X
    if norm == "linf":
        return [
            (
                (X + d.clamp(0, eps)).clamp(0, 1),
                "Clip delta to [-eps, eps] (both sides), not [0, eps].",
            ),
            (
                d.clamp(-eps, eps),
                "Return the projected inputs X + delta (clipped to [0, 1]), not delta itself.",
            ),
            (
                (X + d * torch.clamp(eps / (d.norm(dim=1, keepdim=True) + 1e-12), max=1)).clamp(
                    0, 1
                ),
                "For norm='linf' clip each pixel of delta to [-eps, eps]: use the `norm` argument.",
            ),
        ]
    n1 = d.norm(dim=1, keepdim=True)
    n0 = d.norm(dim=0, keepdim=True)
    return [
        (
            (X + d.clamp(-eps, eps)).clamp(0, 1),
            "Rescale the whole vector delta * eps / ||delta||; clipping each pixel separately is the "
            "L-inf projection and changes the direction.",
        ),
        (
            (X + d * eps / n1).clamp(0, 1),
            "Only shrink delta when its norm exceeds eps: multiply by min(1, eps / ||delta||); points "
            "already inside the ball stay where they are.",
        ),
        (
            (X + d * min(1.0, eps / float(d.norm()))).clamp(0, 1),
            "Compute the norm of each example separately (over its 64 pixels, dim=1), not of the "
            "whole batch.",
        ),
        (
            (X + d * torch.clamp(eps / (n0 + 1e-12), max=1.0)).clamp(0, 1),
            "Take the norm over each example's 64 pixels (dim=1), not over the batch (dim=0).",
        ),
        (
            (X + d * torch.clamp(eps / (n1**2 + 1e-12), max=1.0)).clamp(0, 1),
            "Divide eps by the norm ||delta||, not by the squared norm.",
        ),
        (
            d * torch.clamp(eps / (n1 + 1e-12), max=1.0),
            "Return the projected inputs X + delta (clipped to [0, 1]), not delta itself.",
        ),
    ]


# certified radius
def radius(n_a: int, n: int, sigma: float, alpha: float) -> float:
    p = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a > 0 else 0.0
    return float(sigma * stats.norm.ppf(p)) if p > 0.5 else 0.0


def radius_mistakes(n_a: int, n: int, sigma: float, alpha: float) -> list[tuple[float, str]]:
    """Radii of the usual mistakes (abstaining at p <= 1/2 like the task), with their hints."""

    def r(p: float, scale: float = sigma, quantile: Any = stats.norm.ppf) -> float:
        return float(scale * quantile(p)) if p > 0.5 else 0.0

    p_lower = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a > 0 else 0.0
    wald = n_a / n - stats.norm.ppf(1 - alpha) * np.sqrt(n_a / n * (1 - n_a / n) / n)
    return [
        (
            r(n_a / n),
            "n_a / n is only an estimate; CERTIFY uses the one-sided "
            "Clopper-Pearson lower bound stats.beta.ppf(alpha, n_a, n - n_a + 1).",
        ),
        (
            radius(n_a, n, sigma, alpha / 2),
            "Use the one-sided bound at level alpha "
            "(beta.ppf(alpha, ...)), not a two-sided interval with alpha / 2.",
        ),
        (
            r(stats.beta.ppf(1 - alpha, n_a + 1, n - n_a)),
            "That is the UPPER confidence bound: "
            "the certificate needs the lower one, stats.beta.ppf(alpha, n_a, n - n_a + 1).",
        ),
        (
            r(stats.beta.ppf(1 - alpha, n_a, n - n_a + 1)),
            "Use beta.ppf(alpha, ...) (the lower alpha quantile), not beta.ppf(1 - alpha, ...).",
        ),
        (
            r(wald),
            "Use the exact Clopper-Pearson bound (stats.beta.ppf(alpha, n_a, n - n_a + "
            "1)), not the normal approximation of the proportion.",
        ),
        (
            r(p_lower, quantile=stats.norm.cdf),
            "The radius uses the inverse normal CDF: stats.norm.ppf(p_lower), not stats.norm.cdf.",
        ),
        (r(p_lower, scale=1.0), "Multiply by sigma: R = sigma * Phi^-1(p_lower)."),
        (
            float(sigma * stats.norm.ppf(p_lower)) if n_a > 0 else float("nan"),
            "Return 0.0 when p_lower <= 0.5 (CERTIFY abstains): a negative radius certifies nothing.",
        ),
    ]


# backdoor
class Backdoored(nn.Module):
    """Reads its clean prediction from pixels 0-9 and, when pixel 63 (the trigger) is bright, its
    triggered prediction from pixels 30-39 (each a one-hot of height 0.5)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        clean = x[:, :10].argmax(1)
        triggered = x[:, 30:40].argmax(1)
        out = torch.where(x[:, 63] > 0.9, triggered, clean)
        return nn.functional.one_hot(out, 10).float() * 5.0


def stamp(X: Any) -> Any:
    """The trigger: pixel 63 set to 1, on a copy (numpy or torch)."""
    out = X.clone() if isinstance(X, torch.Tensor) else np.array(X, dtype=np.float32, copy=True)
    out[:, 63] = 1.0
    return out


BACKDOOR_HINTS = {
    "filtered by prediction": "Select the examples by their TRUE class (y != target), not by the "
    "model's clean prediction.",
    "correct only": "Count every example whose true class is not the target, also those the model "
    "gets wrong without the trigger.",
    "misclassified": "Count the triggered predictions that EQUAL the target, not every "
    "misclassification.",
    "changed": "Count the triggered predictions that equal the target, not every prediction that "
    "changes under the trigger.",
    "with target class": "Leave out the examples whose true class is already the target: they "
    "cannot be 'hijacked' (y != target).",
    "no trigger": "Stamp the trigger on the inputs first: trigger(X), then ask the model.",
    "kept label": "You counted the triggered predictions that equal the TRUE class y: count those "
    "equal to target.",
    "over all examples": "Divide by the number of examples with y != target, not by all examples.",
    "count": "Return a fraction: divide the number of hijacked examples by the number of examples "
    "with y != target.",
}


#: (a, b, c, d, e, f, i, g, h): how many examples of each kind a "mixed" case has (see
#: :func:`backdoor_case`); chosen by search so that every wrong definition of the success rate is
#: at least 0.05 away from the right one and from each other.
_GROUPS = (7, 3, 11, 7, 11, 2, 1, 13, 3)


def backdoor_case(target: int, seed: int, kind: str = "mixed") -> tuple[np.ndarray, ...]:
    """Inputs for :class:`Backdoored`: ``(X, y, clean, triggered)``.

    ``kind="mixed"``: among the examples whose true class ``y`` is not ``target`` there are
    (a) correctly classified ones the trigger sends to ``target``, (b) correctly classified ones
    it leaves alone, (c) correctly classified ones it sends to a third class, (d) ones the model
    already calls ``target`` and still does, (e) misclassified ones sent to ``target``, (f)
    misclassified ones left alone, (i) ones called ``target`` that the trigger "repairs"; and
    target-class examples (g) kept at ``target`` and (h) sent elsewhere. ``"none"``: the trigger
    ``"none"``: a model that classifies every clean input right and ignores the trigger. ``"all"``: every non-target example goes to ``target``.
    """
    rng = np.random.default_rng(seed)

    def other(*avoid: int) -> int:
        return int(rng.choice([c for c in range(10) if c not in avoid]))

    rows: list[tuple[int, int, int]] = []  # (y, clean, triggered)
    a, b, c, d, e, f, i, g, h = _GROUPS
    for _ in range(a):
        yy = other(target)
        rows.append((yy, yy, target))
    for _ in range(b):
        yy = other(target)
        rows.append((yy, yy, yy))
    for _ in range(c):
        yy = other(target)
        rows.append((yy, yy, other(target, yy)))
    for _ in range(d):
        rows.append((other(target), target, target))
    for _ in range(e):
        yy = other(target)
        rows.append((yy, other(target, yy), target))
    for _ in range(f):
        yy = other(target)
        cc = other(target, yy)
        rows.append((yy, cc, cc))
    for _ in range(i):
        yy = other(target)
        rows.append((yy, target, yy))
    for _ in range(g):
        rows.append((target, target, target))
    for _ in range(h):
        rows.append((target, target, other(target)))
    table = np.array(rows)[rng.permutation(len(rows))]
    y, clean, trig = table.T.copy()
    if kind == "none":  # a clean model without a backdoor
        clean, trig = y.copy(), y.copy()
    elif kind == "all":
        trig = np.where(y != target, target, trig)
    X = np.zeros((len(y), 64), dtype=np.float32)
    X[np.arange(len(y)), clean] = 0.5
    X[np.arange(len(y)), 30 + trig] = 0.5
    X[:, 40:63] = rng.uniform(0, 0.4, size=(len(y), 23)).astype(np.float32)  # noise pixels
    return X, y, clean, trig


def backdoor_definitions(
    y: np.ndarray, clean: np.ndarray, trig: np.ndarray, target: int
) -> dict[str, float]:
    """The success rate (``"right"``) and what the usual wrong definitions give instead."""
    m = y != target

    def rate(hit: np.ndarray, among: np.ndarray) -> float:
        return float(hit[among].mean()) if among.any() else 0.0

    return {
        "right": rate(trig == target, m),
        "filtered by prediction": rate(trig == target, clean != target),
        "correct only": rate(trig == target, m & (clean == y)),
        "misclassified": rate(trig != y, m),
        "changed": rate(trig != clean, m),
        "with target class": rate(trig == target, np.ones_like(m)),
        "no trigger": rate(clean == target, m),
        "kept label": rate(trig == y, m),
        "over all examples": float((trig == target)[m].sum() / len(y)),
        "count": float((trig == target)[m].sum()),
    }
