"""Challenge of exercise set 10: sandwich the robust accuracy of a ReLU network (10.5).

Exercise 10.4 computed a linear model's worst case exactly. For a network with a hidden ReLU
layer the exact worst case is hard, so an auditor reports a *sandwich*: a lower bound from a
certificate (interval bound propagation, IBP: every digit it certifies provably keeps its class
in the whole eps-box) and an upper bound from an attack (every digit it breaks provably does
not). The learner returns both halves for a network given by its weights; the check

* verifies the attack half exactly: every adversarial digit in the box and in [0, 1], and a
  digit counts as broken only if the network really misclassifies it;
* tests the certificate half for soundness: a certified digit must be correctly classified,
  must not be broken by the learner's own attack, and must survive the check's strong attack
  (PGD on the margin, several restarts) - unsound interval arithmetic (ignoring the sign of the
  weights, skipping a ReLU) certifies digits this attack breaks; and a digit made provably
  non-robust by a pocket no gradient leads to (:func:`_pockets`) must not be certified - an
  attack's survivors reported as certificates pass every attack but not this;
* requires the sandwich to be tight enough: at least as many certificates as IBP on the logit
  intervals gives (minus 2 points), and an attack at most 3 points weaker than the check's PGD.

Expected values are computed here with numpy and torch, never with
:mod:`course_utils.robustness`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import expect, question
from ._challenge_models import digits_mlp, margin_loss

__all__ = ["network"]

EPS = 0.02


def network() -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``([W1, b1, W2, b2], X, y)``: the check's ReLU network (64 -> 32 -> 10, trained on digits)
    as float64 numpy arrays, and its 300 test digits and labels.

    Examples
    --------
    >>> (W1, b1, W2, b2), X, y = network()
    >>> W1.shape, W2.shape, X.shape
    ((32, 64), (10, 32), (300, 64))
    """
    net, X, y = digits_mlp(32, 1)
    params = [
        p.detach().double().numpy().copy()
        for p in (net[0].weight, net[0].bias, net[2].weight, net[2].bias)
    ]
    return params, X.double().numpy(), y.numpy()


def _logits(params: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    W1, b1, W2, b2 = params
    return np.maximum(X @ W1.T + b1, 0.0) @ W2.T + b2


def _box(X: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(X - eps, 0.0, 1.0), np.clip(X + eps, 0.0, 1.0)


def _hidden_bounds(params, lo, hi, *, sound: bool = True):
    W1, b1, _, _ = params
    if sound:
        centre, radius = (lo + hi) / 2, (hi - lo) / 2
        z_c, z_r = centre @ W1.T + b1, radius @ np.abs(W1).T
        return np.maximum(z_c - z_r, 0.0), np.maximum(z_c + z_r, 0.0)
    return np.maximum(lo @ W1.T + b1, 0.0), np.maximum(hi @ W1.T + b1, 0.0)  # ignores signs


def _ibp_logits(params, X, y, eps, *, sound: bool = True) -> np.ndarray:
    """Certified by comparing logit intervals (looser than the margin form)."""
    _, _, W2, b2 = params
    h_lo, h_hi = _hidden_bounds(params, *_box(X, eps), sound=sound)
    centre, radius = (h_lo + h_hi) / 2, (h_hi - h_lo) / 2
    low = centre @ W2.T + b2 - radius @ np.abs(W2).T
    high = centre @ W2.T + b2 + radius @ np.abs(W2).T
    if not sound:
        low, high = h_lo @ W2.T + b2, h_hi @ W2.T + b2
    rows = np.arange(len(y))
    others = high.copy()
    others[rows, y] = -np.inf
    return low[rows, y] > others.max(1)


def _strong_attack(params, X, y, eps, restarts: int = 4, steps: int = 60) -> np.ndarray:
    """Digits broken by PGD on the margin loss (sign steps, a plain start then random starts)."""
    W1, b1, W2, b2 = (torch.tensor(p) for p in params)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    gen = torch.Generator().manual_seed(10)
    broken = torch.zeros(len(y), dtype=torch.bool)
    for r in range(restarts):
        start = torch.zeros_like(Xt) if r == 0 else (torch.rand(Xt.shape, generator=gen) * 2 - 1)
        X_adv = (Xt + eps * start.to(Xt.dtype)).clamp(0, 1)
        for _ in range(steps):
            z = X_adv.clone().requires_grad_(True)
            logits = torch.relu(z @ W1.T + b1) @ W2.T + b2
            (grad,) = torch.autograd.grad(margin_loss(logits, yt).sum(), z)
            X_adv = (Xt + (X_adv + eps / 10 * grad.sign() - Xt).clamp(-eps, eps)).clamp(0, 1)
            X_adv = X_adv.detach()
            with torch.no_grad():
                pred = (torch.relu(X_adv @ W1.T + b1) @ W2.T + b2).argmax(1)
            broken |= pred != yt
    return broken.numpy()


def _pockets(
    params, X, y, eps, count: int = 3
) -> list[tuple[list[np.ndarray], np.ndarray, np.ndarray]]:
    """One-digit networks that an attack's survivors would wrongly "certify": the check's network
    plus one hidden unit that switches on only near one corner of the digit's box (every pixel
    below 1 - eps raised by eps) and then votes for a wrong class. At the digit the unit is off, so
    no gradient leads to the pocket and attacks miss it, yet the corner is misclassified: the digit
    is provably not robust. Digits are taken where IBP certifies the plain network (so nothing but
    the pocket breaks them) and the check's own attack fails on the pocket network."""
    W1, b1, W2, b2 = params
    found = []
    for i in np.flatnonzero(_ibp_logits(params, X, y, eps)):
        x, label = X[i], int(y[i])
        pixels = (x < 1 - eps).astype(float)  # the pixels that can rise by a full eps
        vote = 1e4 * (np.arange(W2.shape[0]) == (label + 1) % W2.shape[0])[:, None]
        net = [
            np.vstack([W1, pixels]),
            np.r_[b1, -(pixels @ x + 0.9 * eps * pixels.sum())],  # on past 90 % of the rise
            np.hstack([W2, vote]),
            b2.copy(),
        ]
        corner = (x + eps * pixels)[None]
        if _logits(net, corner).argmax(1)[0] == label:
            continue
        if _strong_attack(net, X[i : i + 1], y[i : i + 1], eps).any():
            continue
        found.append((net, X[i : i + 1].copy(), y[i : i + 1].copy()))
        if len(found) == count:
            break
    return found


@question(
    "10.5",
    points=5,
    reference=(
        "course_utils.robustness.verify.ibp_bounds",
        "course_utils.robustness.verify.ibp_certified_accuracy",
    ),
)
def _check_sandwich(robustness_sandwich: Any) -> None:
    """Return (certified, X_adv): an IBP certificate per digit and adversarial digits, bounding a
    ReLU network's robust accuracy from below and above."""
    params, X, y = network()
    n = len(y)
    sent = [p.copy() for p in params]
    out = robustness_sandwich(*sent, X.copy(), y.copy(), eps=EPS)
    hint = "Return a pair (certified, X_adv): a boolean array of n, and an (n, 64) array."
    expect(
        isinstance(out, (tuple, list)) and len(out) == 2,
        "returns (certified, X_adv)",
        got=type(out).__name__,
        hint=hint,
    )
    try:
        certified = np.asarray(out[0]).astype(bool).reshape(-1)
        X_adv = np.asarray(out[1], dtype=float)
    except Exception:
        expect(False, "returns (certified, X_adv) as arrays", got=repr(out)[:200], hint=hint)
    expect(
        certified.shape == (n,) and X_adv.shape == X.shape,
        "one certificate and one adversarial digit per test digit",
        expected=f"shapes ({n},) and {X.shape}",
        got=f"shapes {certified.shape} and {X_adv.shape}",
        hint=hint,
    )
    expect(
        all(np.array_equal(a, b) for a, b in zip(sent, params, strict=True)),
        "the weights are not modified",
        hint="Work on copies of the weights.",
    )

    # the attack half: valid points, and "broken" means really misclassified
    expect(
        np.all(np.isfinite(X_adv)) and X_adv.min() >= 0.0 and X_adv.max() <= 1.0,
        "adversarial digits have pixels in [0, 1]",
        got=f"values in [{np.nanmin(X_adv):.3f}, {np.nanmax(X_adv):.3f}]",
        hint="Clip to [0, 1] after every attack step.",
    )
    linf = float(np.abs(X_adv - X).max())
    expect(
        linf <= EPS + 1e-6,
        f"adversarial digits stay within eps = {EPS} of the originals",
        expected=f"<= {EPS}",
        got=round(linf, 5),
        hint="Project into the eps-box after every step: X + clip(X_adv - X, -eps, eps).",
    )
    clean_ok = _logits(params, X).argmax(1) == y
    broken = _logits(params, X_adv).argmax(1) != y

    # the certificate half: sound
    bad = certified & ~clean_ok
    expect(
        not bad.any(),
        "certified digits are classified correctly in the first place",
        got=f"{int(bad.sum())} certified digits are misclassified without any attack",
        hint="Certify the TRUE class y: the lower bound of (logit y - logit j) must be "
        "positive for every j != y. Certifying the predicted class says nothing about "
        "robust ACCURACY.",
    )
    ours = _strong_attack(params, X, y, EPS)
    bad = certified & (broken | ours)
    if bad.any():
        hint = (
            "Your certificate is unsound. Propagate the box [max(0, x - eps), min(1, x + eps)] "
            "through W1 with the centre and radius (or positive and negative parts) of W1: "
            "lower = W1 c - |W1| r + b1, upper = W1 c + |W1| r + b1; then ReLU both ends; then "
            "bound each margin (W2[y] - W2[j]) . h from below, again minding the signs."
        )
        if np.array_equal(certified, _ibp_logits(params, X, y, EPS, sound=False)) or (
            certified.sum() > _ibp_logits(params, X, y, EPS).sum() + 10
        ):
            hint = (
                "W1 @ lower and W1 @ upper are not bounds when W1 has negative entries: split W "
                "into positive and negative parts (or use the centre c and radius r: "
                "W c +- |W| r). " + hint
            )
        who = "your own attack" if (certified & broken).any() else "a strong PGD"
        expect(
            False,
            "certified digits survive every attack",
            got=f"{int(bad.sum())} certified digits are broken by {who}, e.g. "
            f"#{np.flatnonzero(bad)[:3].tolist()}",
            hint=hint,
        )

    # the certificate half: sound where attacks are blind (a pocket no gradient leads to)
    for net, x, label in _pockets(params, X, y, EPS):
        got_cert, _ = robustness_sandwich(*(p.copy() for p in net), x.copy(), label.copy(), eps=EPS)
        expect(
            not np.asarray(got_cert).astype(bool).any(),
            "a digit is certified only if every point of its box keeps the class, not only the "
            "points an attack tried",
            got="certified a digit that is not robust: one extra hidden unit, off at the digit, "
            "sends the corner of its box (pixels below 1 - eps raised by eps) to another class",
            hint="A digit your attack cannot break is not certified: attacks follow gradients and "
            "miss pockets that no gradient leads to. Certify with interval bound propagation, which "
            "bounds every hidden unit over the whole box (here the extra unit can switch on), and "
            "keep the attack for the upper bound only.",
        )
    # tight enough
    lower, upper = float(certified.mean()), float(1.0 - broken.mean())
    naive = float(_ibp_logits(params, X, y, EPS).mean())
    expect(
        lower >= naive - 0.02,
        f"the certified lower bound (eps = {EPS}, {n} digits)",
        expected=f">= {naive - 0.02:.3f} (IBP on the logit intervals certifies {naive:.3f})",
        got=round(lower, 3),
        hint="Certify with interval bound propagation: bound the hidden layer over the "
        "eps-box (clipped to [0, 1]), then show that every margin logit_y - logit_j stays "
        "positive. Bounding each margin directly through W2[y] - W2[j] is tighter than "
        "comparing logit intervals.",
    )
    reference = float(1.0 - ours.mean())
    expect(
        upper <= reference + 0.03,
        f"the attack's upper bound (eps = {EPS}, {n} digits)",
        expected=f"<= {reference + 0.03:.3f} (PGD on the margin leaves {reference:.3f}; clean "
        f"{float(clean_ok.mean()):.3f})",
        got=round(upper, 3),
        hint="Your attack is too weak: PGD with many small signed steps (e.g. 50 steps of "
        "eps / 10) up the margin (best other logit - true logit), projected after every "
        "step, from the clean digit and from a random start; keep a digit's broken point "
        "if any run breaks it.",
    )
