"""Challenge 4.5 (DP-SGD from scratch for logistic regression): the reference passes, the blank
exercise scores 0, the usual mistakes fail with the hint naming them, and differently written
correct loops pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import numpy as np
import torch


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def per_example(w, X, y):
    return (sigmoid(X @ w) - y)[:, None] * X


def clip(g, C):
    return g * np.minimum(1.0, C / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12))
"""


# a correct DP-SGD loop; the wrong answers written as ``edited(DP_SGD, ...)`` are it with one mistake
DP_SGD = """
def dp_sgd_logistic(X, y, *, noise_multiplier, max_grad_norm, sample_rate, steps, lr, rng):
    n, d = X.shape
    w = np.zeros(d)
    for _ in range(steps):
        batch = rng.random(n) < sample_rate
        g = per_example(w, X[batch], y[batch])
        grads = clip(g, max_grad_norm)
        noise = rng.normal(0.0, noise_multiplier * max_grad_norm, d)
        total = grads.sum(0) + noise
        divisor = sample_rate * n
        w = w - lr * total / divisor
    return w
"""


WRONG = [
    Wrong("no clipping", "clip every example", edited(DP_SGD, "clip(g, max_grad_norm)", "g")),
    Wrong(
        "clipping the summed gradient",
        "clipping the sum",
        edited(
            DP_SGD, "= clip(g, max_grad_norm)", "= clip(g.sum(0, keepdims=True), max_grad_norm)"
        ),
    ),
    Wrong(
        "clamping each coordinate to [-C, C]",
        "clamping each coordinate",
        edited(DP_SGD, "= clip(g, max_grad_norm)", "= np.clip(g, -max_grad_norm, max_grad_norm)"),
    ),
    Wrong(
        "a fixed batch size (shuffle and take sample_rate * n)",
        "poisson",
        edited(
            DP_SGD,
            "rng.random(n) < sample_rate",
            "rng.permutation(n)[: int(round(sample_rate * n))]",
        ),
    ),
    Wrong(
        "dividing by the batch actually drawn",
        "expected size",
        edited(DP_SGD, "sample_rate * n", "max(int(batch.sum()), 1)"),
    ),
    Wrong(
        "noise of standard deviation noise_multiplier (no max_grad_norm)",
        "noise_multiplier * max_grad_norm",
        edited(DP_SGD, "noise_multiplier * max_grad_norm,", "noise_multiplier,"),
    ),
    Wrong(
        "noise added to every example's gradient",
        "once",
        edited(DP_SGD, "max_grad_norm, d)", "max_grad_norm, grads.shape).sum(0)"),
    ),
    Wrong("a step up the loss", "down", edited(DP_SGD, "w = w - lr * total", "w = w + lr * total")),
    Wrong(
        "the global np.random",
        "the `rng` you are given",
        edited(
            DP_SGD,
            "rng.random(n)",
            "np.random.random(n)",
            ("rng.normal(0.0,", "np.random.normal(0.0,"),
        ),
    ),
]

RIGHT = [
    Right(
        "torch autograd per example, a torch generator seeded from rng",
        """
        def dp_sgd_logistic(X, y, *, noise_multiplier, max_grad_norm, sample_rate, steps, lr, rng):
            gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
            Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
            n, d = Xt.shape
            w = torch.zeros(d, dtype=torch.float64)
            for _ in range(steps):
                idx = torch.nonzero(torch.rand(n, generator=gen, dtype=torch.float64) < sample_rate)
                total = torch.zeros(d, dtype=torch.float64)
                for i in idx.flatten().tolist():
                    wi = w.clone().requires_grad_(True)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt[i] @ wi, yt[i])
                    (g,) = torch.autograd.grad(loss, wi)
                    total += g / max(1.0, float(g.norm()) / max_grad_norm)
                noise = torch.randn(d, generator=gen, dtype=torch.float64)
                total += noise_multiplier * max_grad_norm * noise
                w = w - lr * total / (sample_rate * n)
            return w.numpy()
        """,
    ),
    Right(
        "plain Python loops, rng.binomial for the batch and standard normals for the noise",
        """
        def dp_sgd_logistic(X, y, *, noise_multiplier, max_grad_norm, sample_rate, steps, lr, rng):
            n, d = len(X), len(X[0])
            w = [0.0] * d
            for _ in range(steps):
                keep = rng.binomial(1, sample_rate, size=n)
                total = [0.0] * d
                for i in range(n):
                    if not keep[i]:
                        continue
                    z = sum(w[j] * X[i][j] for j in range(d))
                    err = 1.0 / (1.0 + np.exp(-z)) - y[i]
                    g = [err * X[i][j] for j in range(d)]
                    norm = sum(v * v for v in g) ** 0.5
                    scale = 1.0 if norm <= max_grad_norm else max_grad_norm / norm
                    total = [t + scale * v for t, v in zip(total, g)]
                z = rng.standard_normal(d)
                expected = sample_rate * n
                w = [w[j] - lr * (total[j] + noise_multiplier * max_grad_norm * z[j]) / expected
                     for j in range(d)]
            return np.array(w)
        """,
    ),
]

globals().update(challenge_tests("4.5", "04_dp_sgd", prelude=PRELUDE, wrong=WRONG, right=RIGHT))
