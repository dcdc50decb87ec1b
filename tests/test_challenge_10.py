"""Challenge 10.5 (sandwich a ReLU network's robust accuracy: IBP below, PGD above): the
reference passes, the blank exercise scores 0, unsound certificates and weak or invalid attacks
fail with the hint naming them, and differently built sandwiches pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import numpy as np
import torch


def margin_certificate(W1, b1, W2, b2, y, lo, hi, label=None):
    c, r = (lo + hi) / 2, (hi - lo) / 2
    h_lo = np.maximum(c @ W1.T + b1 - r @ np.abs(W1).T, 0)
    h_hi = np.maximum(c @ W1.T + b1 + r @ np.abs(W1).T, 0)
    A = W2[y][:, None, :] - W2[None, :, :]
    worst = np.minimum(A * h_lo[:, None], A * h_hi[:, None]).sum(-1) + (b2[y][:, None] - b2)
    worst[np.arange(len(y)), y] = np.inf
    return worst.min(1) > 0


def pgd(W1, b1, W2, b2, X, y, eps, steps=50, project=True, clip=True):
    W1, b1, W2, b2 = (torch.tensor(a) for a in (W1, b1, W2, b2))
    Xt, yt = torch.tensor(X), torch.tensor(y)
    X_adv = Xt.clone()
    for _ in range(steps):
        z = X_adv.clone().requires_grad_(True)
        logits = torch.relu(z @ W1.T + b1) @ W2.T + b2
        true = logits.gather(1, yt[:, None])[:, 0]
        other = logits.masked_fill(torch.nn.functional.one_hot(yt, 10).bool(), -torch.inf).amax(1)
        (g,) = torch.autograd.grad((other - true).sum(), z)
        X_adv = X_adv + eps / 10 * g.sign()
        if project:
            X_adv = Xt + (X_adv - Xt).clamp(-eps, eps)
        if clip:
            X_adv = X_adv.clamp(0, 1)
        X_adv = X_adv.detach()
    return X_adv.numpy()
"""

# a correct sandwich; the wrong answers written as ``edited(SANDWICH, ...)`` are it with one mistake
SANDWICH = """
def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
    lo, hi = np.clip(X - eps, 0, 1), np.clip(X + eps, 0, 1)
    return margin_certificate(W1, b1, W2, b2, y, lo, hi), pgd(W1, b1, W2, b2, X, y, eps)
"""

WRONG = [
    Wrong(
        "interval bounds W @ lower and W @ upper, ignoring negative weights",
        "split w into positive and negative parts",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            lo, hi = np.clip(X - eps, 0, 1), np.clip(X + eps, 0, 1)
            h_lo, h_hi = np.maximum(lo @ W1.T + b1, 0), np.maximum(hi @ W1.T + b1, 0)
            low, high = h_lo @ W2.T + b2, h_hi @ W2.T + b2
            rows = np.arange(len(y))
            others = high.copy()
            others[rows, y] = -np.inf
            return low[rows, y] > others.max(1), pgd(W1, b1, W2, b2, X, y, eps)
        """,
    ),
    Wrong(
        "a global Lipschitz bound instead of interval propagation",
        "interval bound propagation",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            logits = np.maximum(X @ W1.T + b1, 0) @ W2.T + b2
            rows = np.arange(len(y))
            margins = logits[rows, y][:, None] - logits
            A = np.abs(W2[y][:, None, :] - W2[None, :, :])
            slack = eps * (A * np.abs(W1).sum(1)).sum(-1)  # how far each margin can move
            safe = margins > slack
            safe[rows, y] = True
            return safe.all(1), pgd(W1, b1, W2, b2, X, y, eps)
        """,
    ),
    Wrong(
        "no attack: the clean digits as the adversarial ones",
        "attack is too weak",
        edited(SANDWICH, "pgd(W1, b1, W2, b2, X, y, eps)", "X.copy()"),
    ),
    Wrong(
        "PGD steps never projected into the eps-box",
        "project into the eps-box",
        edited(SANDWICH, "X, y, eps)", "X, y, eps, project=False)"),
    ),
    Wrong(
        "PGD steps never clipped to [0, 1]",
        "clip to [0, 1]",
        edited(SANDWICH, "X, y, eps)", "X, y, eps, clip=False)"),
    ),
    Wrong(
        "the digits the attack did not break reported as certified",
        "is not certified",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            X_adv = pgd(W1, b1, W2, b2, X, y, eps)
            survived = (np.maximum(X_adv @ W1.T + b1, 0) @ W2.T + b2).argmax(1) == y
            return survived, X_adv
        """,
    ),
    Wrong(
        "certifies nothing",
        "certified lower bound",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            return np.zeros(len(y), dtype=bool), pgd(W1, b1, W2, b2, X, y, eps)
        """,
    ),
]

RIGHT = [
    Right(
        "IBP on logit intervals with positive and negative weight parts; PGD from two starts",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            lo, hi = np.clip(X - eps, 0, 1), np.clip(X + eps, 0, 1)
            P1, N1 = np.maximum(W1, 0), np.minimum(W1, 0)
            h_lo = np.maximum(lo @ P1.T + hi @ N1.T + b1, 0)
            h_hi = np.maximum(hi @ P1.T + lo @ N1.T + b1, 0)
            P2, N2 = np.maximum(W2, 0), np.minimum(W2, 0)
            z_lo, z_hi = h_lo @ P2.T + h_hi @ N2.T + b2, h_hi @ P2.T + h_lo @ N2.T + b2
            rows = np.arange(len(y))
            rival = z_hi.copy()
            rival[rows, y] = -np.inf
            certified = z_lo[rows, y] > rival.max(1)
            best = pgd(W1, b1, W2, b2, X, y, eps)
            start = np.clip(X + eps * np.sign(np.sin(np.arange(X.size))).reshape(X.shape), 0, 1)
            other = pgd(W1, b1, W2, b2, start, y, eps)
            other = X + np.clip(other - X, -eps, eps)
            still_right = (np.maximum(best @ W1.T + b1, 0) @ W2.T + b2).argmax(1) == y
            best[still_right] = np.clip(other[still_right], 0, 1)
            return certified, best
        """,
    ),
    Right(
        "margin IBP on the unclipped box, PGD written in numpy with a hand-made gradient",
        """
        def robustness_sandwich(W1, b1, W2, b2, X, y, *, eps):
            certified = margin_certificate(W1, b1, W2, b2, y, X - eps, X + eps)
            X_adv = X.copy()
            rows = np.arange(len(y))
            for _ in range(60):
                pre = X_adv @ W1.T + b1
                logits = np.maximum(pre, 0) @ W2.T + b2
                rival_logits = logits.copy()
                rival_logits[rows, y] = -np.inf
                j = rival_logits.argmax(1)
                d_h = W2[j] - W2[y]
                grad = (d_h * (pre > 0)) @ W1
                X_adv = np.clip(X + np.clip(X_adv + eps / 12 * np.sign(grad) - X, -eps, eps), 0, 1)
            return certified, X_adv
        """,
    ),
]

globals().update(challenge_tests("10.5", "10_audit", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
