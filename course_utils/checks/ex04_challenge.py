"""Challenge of exercise set 04: DP-SGD from scratch for logistic regression (4.5).

The learner writes the whole training loop - Poisson sampling, per-example gradients, per-example
clipping, Gaussian noise on the sum, division by the expected batch size, the step - for a
logistic regression without intercept (``p = sigmoid(X @ w)``, ``w`` starting at 0). Each piece
is tested where it shows:

* with ``noise_multiplier = 0`` and ``sample_rate = 1`` the loop is deterministic full-batch
  clipped gradient descent, compared with the check's own computation (and with the usual
  mistakes - no clipping, clipping the sum, clipping each coordinate, a step up the loss - so the
  hint names the one made);
* on identical examples the size of one update reveals the size of the batch: it must follow the
  Binomial(n, sample_rate) law of Poisson sampling (a fixed batch size, or dividing by the batch
  actually drawn, makes it constant);
* on all-zero inputs every gradient is 0 and the weights are pure noise: their spread must be
  ``lr * noise_multiplier * max_grad_norm * sqrt(steps) / (sample_rate * n)``, and the usual
  slips (no ``max_grad_norm``, noise per example, ``noise_multiplier**2``, noise not divided by
  the batch size) each give their own factor.

Expected values are computed here with numpy, never with :mod:`course_utils.privacy.dpsgd`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect, question
from ._values import as_floats, expect_reproducible

__all__: list[str] = []


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _full_batch(X, y, *, max_grad_norm, steps, lr, variant="right") -> np.ndarray:
    """Deterministic clipped gradient descent (noise 0, every example in every batch)."""
    n = len(y)
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        g = (_sigmoid(X @ w) - y)[:, None] * X
        if variant in ("right", "ascent"):
            norms = np.linalg.norm(g, axis=1, keepdims=True)
            total = (g * np.minimum(1.0, max_grad_norm / np.maximum(norms, 1e-12))).sum(0)
        elif variant == "no clipping":
            total = g.sum(0)
        elif variant == "clipping the sum":
            s = g.sum(0)
            total = s * min(1.0, max_grad_norm / max(np.linalg.norm(s), 1e-12))
        elif variant == "clipping the mean":
            m = g.mean(0)
            total = n * m * min(1.0, max_grad_norm / max(np.linalg.norm(m), 1e-12))
        elif variant == "clipping each coordinate":
            total = np.clip(g, -max_grad_norm, max_grad_norm).sum(0)
        else:
            raise ValueError(variant)
        w = w + lr * total / n if variant == "ascent" else w - lr * total / n
    return w


_FULL_BATCH_HINTS = {
    "no clipping": "Clip every example's gradient to norm max_grad_norm before summing: "
    "g_i * min(1, C / ||g_i||). Without it one example can move the sum without bound.",
    "clipping the sum": "Clip each example's gradient on its own, then sum; clipping the sum "
    "(or the mean) bounds the batch, not one person's influence.",
    "clipping the mean": "Clip each example's gradient on its own, then sum; clipping the sum "
    "(or the mean) bounds the batch, not one person's influence.",
    "clipping each coordinate": "Clip the gradient's L2 norm (multiply the whole vector by "
    "min(1, C / ||g_i||)); clamping each coordinate to [-C, C] lets the norm reach C sqrt(d) "
    "and turns the direction.",
}


def _weights(value: Any, d: int, what: str) -> np.ndarray:
    hint = (
        "Return the final weights: a numpy array of shape (d,), one per column of X (X holds "
        "every feature; there is no separate intercept)."
    )
    w = as_floats(value, what, expected=f"{d} weights", got=type(value).__name__, hint=hint)
    expect(w.shape == (d,), what, expected=f"shape ({d},)", got=f"shape {w.shape}", hint=hint)
    expect(np.all(np.isfinite(w)), what + " (finite)", got="NaN or inf", hint=hint)
    return w


@question("4.5", points=5, reference="course_utils.privacy.dpsgd.train_dp_sgd")
def _check_dp_sgd_logistic(dp_sgd_logistic: Any) -> None:
    """Train logistic regression (no intercept, w = 0 at the start) with DP-SGD: Poisson sampling,
    per-example clipping, Gaussian noise on the sum, expected batch size; return w."""

    def train(X, y, seed, **knobs):
        out = dp_sgd_logistic(X.copy(), y.copy(), rng=np.random.default_rng(seed), **knobs)
        return _weights(out, X.shape[1], f"dp_sgd_logistic returns {X.shape[1]} weights")

    # 1. no noise, every example in every batch: deterministic clipped gradient descent
    gen = np.random.default_rng(4)
    X = gen.normal(0.0, 1.5, (40, 5))
    X[:5] *= 6.0  # a few examples with large gradients: clipping matters
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + gen.normal(0.0, 1.0, 40) > 0).astype(float)
    knobs = dict(noise_multiplier=0.0, max_grad_norm=1.0, sample_rate=1.0, steps=25, lr=0.3)
    got = train(X, y, 0, **knobs)
    want = _full_batch(X, y, max_grad_norm=1.0, steps=25, lr=0.3)
    if not np.allclose(got, want, rtol=1e-4, atol=1e-6):
        case = "noise_multiplier = 0, sample_rate = 1 (every example in every batch)"

        def fail(what: str, hint: str) -> None:
            expect(
                False,
                f"{what} ({case})",
                expected=np.round(want, 4),
                got=np.round(got, 4),
                hint=hint,
            )

        ascent = _full_batch(X, y, max_grad_norm=1.0, steps=25, lr=0.3, variant="ascent")
        flipped = _full_batch(X, 1.0 - y, max_grad_norm=1.0, steps=25, lr=0.3)
        if np.allclose(got, ascent, rtol=1e-4, atol=1e-6) or np.allclose(
            got, flipped, rtol=1e-4, atol=1e-6
        ):
            fail(
                "a descent step on the log-loss",
                "The gradient of the log-loss of one example is (p_i - y_i) * x_i with "
                "p_i = sigmoid(x_i . w), and the step goes DOWN it: w = w - lr * (...).",
            )
        for variant, hint in _FULL_BATCH_HINTS.items():
            other = _full_batch(X, y, max_grad_norm=1.0, steps=25, lr=0.3, variant=variant)
            if np.allclose(got, other, rtol=1e-4, atol=1e-6):
                fail("per-example clipping", hint)
        fail(
            "the weights after 25 steps of clipped gradient descent",
            "Start from w = 0; each step: p = sigmoid(X_batch @ w), per-example "
            "gradients (p - y)[:, None] * X_batch, clip each to norm max_grad_norm, sum, add "
            "the noise, divide by sample_rate * n, and step w -= lr * that.",
        )

    # 2. Poisson sampling: identical examples, one step; the update's size counts the batch
    n, q, lr = 200, 0.1, 1.0
    X = np.zeros((n, 3))
    X[:, 0] = 4.0  # gradient 0.5 * 4 = 2 at w = 0, clipped to 1
    y = np.zeros(n)
    knobs = dict(noise_multiplier=0.0, max_grad_norm=1.0, sample_rate=q, steps=1, lr=lr)
    sizes = np.array([-train(X, y, 100 + s, **knobs)[0] * q * n / lr for s in range(300)])
    mean, var = float(sizes.mean()), float(sizes.var(ddof=1))
    expect(
        abs(mean - q * n) < 0.15 * q * n,
        "on average a batch holds sample_rate * n examples (n = 200, sample_rate = 0.1)",
        expected=f"a mean batch of {q * n:g}",
        got=f"updates as if batches held {mean:.1f}",
        hint="Draw each step's batch by Poisson sampling: example i joins with probability "
        "sample_rate (rng.random(n) < sample_rate), and divide the noisy sum by the EXPECTED "
        "batch size sample_rate * n.",
    )
    expect(
        0.5 * n * q * (1 - q) < var < 2.0 * n * q * (1 - q),
        "the batch size varies like Poisson sampling's Binomial(n, sample_rate)",
        expected=f"variance of the batch size about {n * q * (1 - q):.0f}",
        got=f"{var:.2f} over 300 single-step runs",
        hint="DP-SGD's accountant assumes Poisson sampling: each example joins each batch "
        "independently with probability sample_rate, so the batch size varies. A fixed "
        "batch size (shuffle and split), or dividing by the size of the batch you drew "
        "instead of the expected size sample_rate * n, makes it constant.",
    )

    # 3. the noise: all-zero inputs have zero gradients, so the weights are pure noise
    n, d, q, sigma, C, steps, lr = 100, 20, 0.2, 3.0, 1.5, 10, 0.5
    X, y = np.zeros((n, d)), np.ones(n)
    knobs = dict(noise_multiplier=sigma, max_grad_norm=C, sample_rate=q, steps=steps, lr=lr)
    expect_reproducible(
        lambda seed: train(X, y, seed, **knobs),
        "the randomness comes from the rng argument (same seed, same weights)",
        seeds=[7],
        other_seed=8,
        hint="Draw the batches and the noise with the `rng` you are given (rng.random, "
        "rng.normal), not np.random or torch's global generator.",
    )
    draws = np.concatenate([train(X, y, 1000 + s, **knobs) for s in range(50)])
    right = lr * sigma * C * np.sqrt(steps) / (q * n)
    ratio = float(draws.std() / right)
    if abs(ratio - 1.0) > 0.1:
        slips = {
            1.0 / C: "The noise's standard deviation is noise_multiplier * max_grad_norm: the "
            "clipping bound sets the sensitivity of the sum.",
            np.sqrt(q * n): "Add the noise ONCE, to the sum of the clipped gradients - not to "
            "every example's gradient (that multiplies it by the square root of the batch size).",
            sigma: "noise_multiplier is the standard deviation's factor, not the variance's: "
            "rng.normal(0, noise_multiplier * max_grad_norm, size=d).",
            q * n: "Divide the NOISY sum by the expected batch size: the noise is scaled down "
            "with the gradients.",
            1.0 / lr: "The noise is part of the gradient estimate: it is multiplied by lr in the "
            "step like the gradients.",
        }
        hint = "The noise on the sum is N(0, (noise_multiplier * max_grad_norm)^2) per weight, "
        hint += "then the sum is divided by sample_rate * n and multiplied by lr."
        for factor, slip in slips.items():
            if abs(ratio / factor - 1.0) < 0.1:
                hint = slip
        expect(
            False,
            "the weights' noise (all-zero inputs, so every gradient is 0)",
            expected=f"standard deviation lr * {sigma:g} * {C:g} * sqrt({steps}) / "
            f"({q:g} * {n}) = {right:.4f}",
            got=f"{draws.std():.4f} ({ratio:.2f} times that) over 50 runs x {d} weights",
            hint=hint,
        )
