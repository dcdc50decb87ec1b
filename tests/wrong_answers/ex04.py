"""Wrong and unusual-but-correct answers of exercise set 04 (DP-SGD)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import math

import numpy as np
import torch

from course_utils.privacy.accounting import gaussian_epsilon
"""

# the reference clipping, reused by several wrong answers that differ in one place
_CLIP = """
def _flat(grads):
    n = len(next(iter(grads.values())))
    return torch.cat([g.reshape(n, -1) for g in grads.values()], dim=1)


def _scale(grads, factor):
    return {k: g * factor.view(-1, *[1] * (g.dim() - 1)) for k, g in grads.items()}
"""

#: A correct answer to 4.2; each wrong answer written as ``edited(NOISY_MEAN, ...)`` is it with one
#: mistake.
NOISY_MEAN = """
def noisy_mean(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    std = noise_multiplier * max_grad_norm
    return {k: g.sum(0) / expected_batch_size + std * torch.randn(g.shape[1:], generator=generator)
            / expected_batch_size for k, g in clipped.items()}
"""

#: A correct answer to 4.3; each wrong answer written as ``edited(FIND_NOISE_MULTIPLIER, ...)`` is
#: it with one mistake.
FIND_NOISE_MULTIPLIER = """
def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    def eps(s):
        return gaussian_epsilon(noise_multiplier=s, steps=steps, delta=delta, sample_rate=sample_rate)

    low, high = 0.1, 1.0
    while eps(high) > epsilon:
        low, high = high, 2 * high
    while eps(high) < 0.99 * epsilon and high - low > 1e-4:
        mid = (low + high) / 2
        low, high = (low, mid) if eps(mid) <= epsilon else (mid, high)
    return high
"""

#: A correct answer to 4.1; each wrong answer written as ``edited(CLIP_GRADIENTS, ...)`` is it with
#: one mistake.
CLIP_GRADIENTS = """
def clip_gradients(grads, *, max_grad_norm):
    norms = _flat(grads).norm(dim=1)
    factor = (max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
    return _scale(grads, factor), norms
"""

WRONG = {
    "4.1": [
        Wrong(
            "clips each tensor on its own",
            "each tensor on its own",
            _CLIP
            + """
def clip_gradients(grads, *, max_grad_norm):
    out = {}
    for k, g in grads.items():
        n = g.reshape(len(g), -1).norm(dim=1)
        out[k] = g * (max_grad_norm / (n + 1e-6)).clamp(max=1.0).view(-1, *[1] * (g.dim() - 1))
    return out, _flat(grads).norm(dim=1)
""",
        ),
        Wrong(
            "stretches every gradient to length C",
            "does not stretch short ones",
            edited(_CLIP + CLIP_GRADIENTS, ".clamp(max=1.0)", ""),
        ),
        Wrong(
            "one factor for the whole batch",
            "not one factor for the whole batch",
            _CLIP
            + """
def clip_gradients(grads, *, max_grad_norm):
    flat = _flat(grads)
    factor = min(1.0, max_grad_norm / (float(flat.norm()) + 1e-6))
    return {k: g * factor for k, g in grads.items()}, flat.norm(dim=1)
""",
            regression="#28",
        ),
        Wrong(
            "clamps every entry to [-C, C]",
            "not each entry (clamp)",
            _CLIP
            + """
def clip_gradients(grads, *, max_grad_norm):
    clipped = {k: g.clamp(-max_grad_norm, max_grad_norm) for k, g in grads.items()}
    return clipped, _flat(grads).norm(dim=1)
""",
            regression="#28",
        ),
        Wrong(
            "returns the norms as a Python list",
            "expected a torch tensor, got list",
            edited(_CLIP + CLIP_GRADIENTS, "factor), norms", "factor), norms.tolist()"),
            regression="#28",
        ),
        Wrong(
            "returns numpy arrays instead of tensors",
            "expected a torch tensor, got numpy.ndarray",
            edited(
                _CLIP + CLIP_GRADIENTS,
                "_scale(grads, factor), norms",
                "{k: v.numpy() for k, v in _scale(grads, factor).items()}, norms.numpy()",
            ),
            regression="#28",
        ),
        Wrong(
            "scales the caller's gradients in place",
            "not modified in place",
            edited(
                _CLIP + CLIP_GRADIENTS,
                "return _scale(grads, factor), norms",
                "for g in grads.values():\n"
                "        g.mul_(factor.view(-1, *[1] * (g.dim() - 1)))\n"
                "    return grads, norms",
            ),
            regression="#28",
        ),
        Wrong(
            "returns the norms after clipping",
            "before clipping",
            _CLIP
            + """
def clip_gradients(grads, *, max_grad_norm):
    factor = (max_grad_norm / (_flat(grads).norm(dim=1) + 1e-6)).clamp(max=1.0)
    clipped = _scale(grads, factor)
    return clipped, _flat(clipped).norm(dim=1)
""",
        ),
        Wrong(
            "direction times clipped length: 0 / 0 = NaN for a zero gradient",
            "add 1e-6",
            edited(
                _CLIP + CLIP_GRADIENTS,
                "(max_grad_norm / (norms + 1e-6)).clamp(max=1.0)",
                "norms.clamp(max=max_grad_norm) / norms",
            ),
        ),
        Wrong(
            "hard-coded C = 1",
            "not a hard-coded 1",
            edited(_CLIP + CLIP_GRADIENTS, "(max_grad_norm / (norms", "(1.0 / (norms"),
        ),
    ],
    "4.2": [
        Wrong(
            "noise without the factor max_grad_norm",
            "left out max_grad_norm",
            edited(NOISY_MEAN, "std = noise_multiplier * max_grad_norm", "std = noise_multiplier"),
        ),
        Wrong(
            "noise on every example",
            "not one per example",
            edited(
                NOISY_MEAN,
                "g.sum(0) / expected_batch_size + std * torch.randn(g.shape[1:], generator=generator)",
                "(g + std * torch.randn(g.shape, generator=generator)).sum(0)",
            ),
        ),
        Wrong(
            "divides by the realised batch size",
            "realised batch size",
            edited(
                NOISY_MEAN,
                "g.sum(0) / expected_batch_size + std * torch.randn(g.shape[1:], generator=generator)",
                "(g.sum(0) + std * torch.randn(g.shape[1:], generator=generator)) / len(g)",
                ("/ expected_batch_size for", "for"),
            ),
        ),
        Wrong(
            "the global torch generator",
            "generator=generator",
            edited(
                NOISY_MEAN,
                "g.sum(0) / expected_batch_size + std * torch.randn(g.shape[1:], generator=generator)",
                "(g.sum(0) + std * torch.randn(g.shape[1:])) / expected_batch_size",
                ("/ expected_batch_size for", "for"),
            ),
        ),
        Wrong(
            "adds the noise after dividing",
            "divide the noise too",
            edited(NOISY_MEAN, "/ expected_batch_size for", "for"),
        ),
        Wrong(
            "(noise_multiplier * max_grad_norm)^2 used as the standard deviation",
            "not its variance",
            edited(
                NOISY_MEAN,
                "std = noise_multiplier * max_grad_norm",
                "var = (noise_multiplier * max_grad_norm) ** 2",
                (
                    "g.sum(0) / expected_batch_size + std * torch.randn(g.shape[1:], generator=generator)",
                    "(g.sum(0) + var * torch.randn(g.shape[1:], generator=generator))",
                ),
            ),
        ),
        Wrong(
            "adds the noise into the caller's tensors",
            "not modified in place",
            """
def noisy_mean(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    std = noise_multiplier * max_grad_norm
    out = {}
    for k, g in clipped.items():
        g[0] += std * torch.randn(g.shape[1:], generator=generator)
        out[k] = g.sum(0) / expected_batch_size
    return out
""",
        ),
        Wrong(
            "returns numpy arrays",
            "expected a torch tensor, got numpy.ndarray",
            edited(
                NOISY_MEAN,
                "{k: g.sum(0)",
                "{k: (g.sum(0)",
                ("/ expected_batch_size for", "/ expected_batch_size).numpy() for"),
            ),
        ),
    ],
    "4.3": [
        Wrong(
            "returns the low end of the bracket (too little noise)",
            "too little noise",
            edited(
                FIND_NOISE_MULTIPLIER,
                "eps(high) < 0.99 * epsilon and high - low > 1e-4:",
                "high - low > 1e-3:",
                ("return high", "return low"),
            ),
        ),
        Wrong(
            "stops at the first power of two (too much noise)",
            "too much noise",
            """
def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    s = 1.0
    while gaussian_epsilon(noise_multiplier=s, steps=steps, delta=delta,
                           sample_rate=sample_rate) > epsilon:
        s *= 2
    return s
""",
        ),
        Wrong(
            "ignores sample_rate (a fixed 0.1)",
            "pass sample_rate through",
            edited(FIND_NOISE_MULTIPLIER, "sample_rate=sample_rate)", "sample_rate=0.1)"),
        ),
        Wrong(
            "calibrates with the PRV accountant (the task measures with RDP)",
            "calibrated with the PRV accountant",
            edited(
                FIND_NOISE_MULTIPLIER,
                "sample_rate=sample_rate)",
                'sample_rate=sample_rate, accountant="prv")',
            ),
        ),
        Wrong(
            "ignores steps (one step)",
            "pass steps through",
            edited(FIND_NOISE_MULTIPLIER, "steps=steps,", "steps=1,"),
        ),
        Wrong(
            "a bisection that never stops (epsilon == target)",
            "ran out of time",
            """
def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    low, high = 0.1, 50.0
    while True:
        mid = (low + high) / 2
        e = gaussian_epsilon(noise_multiplier=mid, steps=steps, delta=delta,
                             sample_rate=sample_rate)
        if e == epsilon:
            return mid
        low, high = (low, mid) if e < epsilon else (mid, high)
""",
            status="timeout",
            timeout=3.0,
            regression="#28",
        ),
        Wrong(
            "an endless loop that swallows every exception (bare except)",
            "ran out of time",
            """
def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    sigma = 1.0
    while True:
        try:
            if gaussian_epsilon(noise_multiplier=sigma, steps=steps, delta=delta,
                                sample_rate=sample_rate) == epsilon:
                return sigma
        except:  # noqa: E722 - the learner's bare except
            pass
""",
            status="timeout",
            timeout=3.0,
            regression="#28",
        ),
        Wrong(
            "returns the epsilon spent instead of the noise multiplier",
            "not gaussian_epsilon(sigma)",
            edited(FIND_NOISE_MULTIPLIER, "return high", "return eps(high)"),
        ),
    ],
    "4.4": [
        Wrong(
            "divides by X.max() (a statistic of the data)",
            "statistics of everyone's data",
            """
def scale_pixels(X):
    return X / X.max()
""",
        ),
        Wrong(
            "standardises with the data's mean and std",
            "standardising",
            """
def scale_pixels(X):
    return (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
""",
        ),
        Wrong(
            "divides by 15",
            "you divided by 15",
            """
def scale_pixels(X):
    return np.asarray(X, float) / 15
""",
            regression="#28",
        ),
        Wrong(
            "divides by 255 (the 8-bit range)",
            "you divided by 255",
            """
def scale_pixels(X):
    return np.asarray(X, float) / 255
""",
        ),
        Wrong(
            "integer division X // 16",
            "integer division",
            """
def scale_pixels(X):
    return X // 16
""",
        ),
        Wrong(
            "min-max scaling with the data's range",
            "statistics of everyone's data",
            """
def scale_pixels(X):
    return (X - X.min()) / (X.max() - X.min())
""",
        ),
    ],
}

RIGHT = {
    "4.1": [
        Right(
            "squared norms summed tensor by tensor",
            """
def clip_gradients(grads, *, max_grad_norm):
    sq = sum((g.reshape(len(g), -1) ** 2).sum(1) for g in grads.values())
    norms = sq.sqrt()
    f = torch.minimum(torch.ones_like(norms), max_grad_norm / (norms + 1e-6))
    return {k: g * f.reshape([-1] + [1] * (g.dim() - 1)) for k, g in grads.items()}, norms
""",
        ),
        Right(
            "a loop over examples with torch.linalg.vector_norm",
            """
def clip_gradients(grads, *, max_grad_norm):
    n = len(next(iter(grads.values())))
    norms = torch.stack([
        torch.linalg.vector_norm(torch.cat([g[i].flatten() for g in grads.values()]))
        for i in range(n)
    ])
    clipped = {k: g.clone() for k, g in grads.items()}
    for i in range(n):
        factor = min(1.0, max_grad_norm / (float(norms[i]) + 1e-6))
        for k in clipped:
            clipped[k][i] = clipped[k][i] * factor
    return clipped, norms
""",
        ),
    ],
    "4.2": [
        Right(
            "torch.normal with an explicit std tensor",
            """
def noisy_mean(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    out = {}
    for name, g in clipped.items():
        total = torch.sum(g, dim=0)
        std = torch.full_like(total, noise_multiplier * max_grad_norm)
        out[name] = (total + torch.normal(0.0, std, generator=generator)) / expected_batch_size
    return out
""",
        ),
        Right(
            "one flat noise vector split back into the tensors",
            """
def noisy_mean(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
    sums = {k: g.sum(0) for k, g in clipped.items()}
    sizes = [s.numel() for s in sums.values()]
    noise = torch.randn(sum(sizes), generator=generator) * noise_multiplier * max_grad_norm
    pieces = torch.split(noise, sizes)
    return {k: (s + p.reshape(s.shape)) / expected_batch_size
            for (k, s), p in zip(sums.items(), pieces)}
""",
        ),
    ],
    "4.3": [
        Right(
            "scipy's brentq on a target just under epsilon",
            """
from scipy.optimize import brentq

def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    def gap(s):
        return gaussian_epsilon(noise_multiplier=s, steps=steps, delta=delta,
                                sample_rate=sample_rate) - 0.99 * epsilon

    high = 1.0
    while gap(high) > 0:
        high *= 2
    return brentq(gap, 0.05, high, xtol=1e-6)
""",
        ),
        Right(
            "bisection on log(sigma) with a fixed number of halvings",
            """
def find_noise_multiplier(*, epsilon, delta, sample_rate, steps):
    def eps(log_s):
        return gaussian_epsilon(noise_multiplier=math.exp(log_s), steps=steps, delta=delta,
                                sample_rate=sample_rate)

    lo, hi = math.log(0.05), math.log(200.0)
    for _ in range(18):
        mid = (lo + hi) / 2
        if eps(mid) <= epsilon:
            hi = mid
        else:
            lo = mid
    return math.exp(hi)
""",
        ),
    ],
    "4.4": [
        Right(
            "multiplies by 1/16",
            """
def scale_pixels(X):
    return X * (1 / 16)
""",
        ),
        Right(
            "float32 with np.divide",
            """
def scale_pixels(X):
    return np.divide(np.asarray(X, dtype=np.float32), np.float32(16))
""",
        ),
    ],
}

SET = with_challenge(
    AnswerSet(4, PRELUDE, WRONG, RIGHT),
    "4.5",
    importlib.import_module("tests.test_challenge_04"),  # the challenge's answers live there
)
