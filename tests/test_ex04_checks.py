"""Exercise set 04: each check passes the reference answer and correct answers written
differently, and fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch

from course_utils.checks import REGISTRY
from course_utils.privacy.accounting import gaussian_epsilon
from tests.check_support import fails_with as _fails_with
from tests.check_support import passes, solution_namespace

# This set's feedback may quote the value the answer returned: look for hint words there too.
fails_with = partial(_fails_with, search_got=True)

SOL = solution_namespace(
    "04_dp_sgd", np=np, math=math, torch=torch, gaussian_epsilon=gaussian_epsilon
)


def test_set04_is_registered_with_points() -> None:
    qs = [REGISTRY[q] for q in ("4.1", "4.2", "4.3", "4.4")]
    assert [q.points for q in qs] == [2, 2, 2, 1]
    assert [q.answer for q in qs] == ["clip_gradients", "noisy_mean", "find_noise_multiplier", "scale_pixels"]
    assert all(q.reference for q in qs[:3])


def test_4_1_clip_gradients() -> None:
    passes("4.1", SOL["clip_gradients"])

    def squared_sum_version(grads, *, max_grad_norm):  # written differently, still right
        sq = sum((g.reshape(len(g), -1) ** 2).sum(1) for g in grads.values())
        norms = sq.sqrt()
        f = torch.minimum(torch.ones_like(norms), max_grad_norm / norms)
        return {k: g * f.reshape([-1] + [1] * (g.dim() - 1)) for k, g in grads.items()}, norms

    passes("4.1", squared_sum_version)

    def per_layer(grads, *, max_grad_norm):  # the typical mistake: one norm per tensor
        out, norms = {}, 0
        for k, g in grads.items():
            n = g.reshape(len(g), -1).norm(dim=1)
            out[k] = g * (max_grad_norm / (n + 1e-6)).clamp(max=1.0).view(-1, *[1] * (g.dim() - 1))
            norms = norms + n**2
        return out, norms.sqrt()

    fails_with("4.1", per_layer, "each tensor on its own")

    def normalise(grads, *, max_grad_norm):  # stretches short gradients to C
        clipped, norms = SOL["clip_gradients"](grads, max_grad_norm=1e9)
        f = max_grad_norm / norms
        return {k: g * f.view(-1, *[1] * (g.dim() - 1)) for k, g in clipped.items()}, norms

    fails_with("4.1", normalise, "min(1, C / norm)")


def test_4_2_noisy_mean() -> None:
    passes("4.2", SOL["noisy_mean"])

    def forgot_C(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
        return {k: (g.sum(0) + noise_multiplier * torch.randn(g.shape[1:], generator=generator)) / expected_batch_size
                for k, g in clipped.items()}

    fails_with("4.2", forgot_C, "left out max_grad_norm")

    def per_example_noise(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
        std = noise_multiplier * max_grad_norm
        return {k: (g + std * torch.randn(g.shape, generator=generator)).sum(0) / expected_batch_size
                for k, g in clipped.items()}

    fails_with("4.2", per_example_noise, "one noise draw to the sum")

    def realised_batch(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
        std = noise_multiplier * max_grad_norm
        return {k: (g.sum(0) + std * torch.randn(g.shape[1:], generator=generator)) / len(g) for k, g in clipped.items()}

    fails_with("4.2", realised_batch, "realised batch size")

    def global_rng(clipped, *, noise_multiplier, max_grad_norm, expected_batch_size, generator):
        std = noise_multiplier * max_grad_norm
        return {k: (g.sum(0) + std * torch.randn(g.shape[1:])) / expected_batch_size for k, g in clipped.items()}

    fails_with("4.2", global_rng, "generator=generator")


def test_4_3_find_noise_multiplier() -> None:
    passes("4.3", SOL["find_noise_multiplier"])

    def wrong_end(*, epsilon, delta, sample_rate, steps):  # returns the low end: too little noise
        def eps(s):
            return gaussian_epsilon(noise_multiplier=s, steps=steps, delta=delta, sample_rate=sample_rate)

        low, high = 0.1, 1.0
        while eps(high) > epsilon:
            low, high = high, 2 * high
        while high - low > 1e-3:
            mid = (low + high) / 2
            low, high = (low, mid) if eps(mid) <= epsilon else (mid, high)
        return low

    fails_with("4.3", wrong_end, "too little noise")

    def coarse(*, epsilon, delta, sample_rate, steps):  # stops at the first power of two
        s = 1.0
        while gaussian_epsilon(noise_multiplier=s, steps=steps, delta=delta, sample_rate=sample_rate) > epsilon:
            s *= 2
        return s

    fails_with("4.3", coarse, "too much noise")


def test_4_4_scale_pixels() -> None:
    passes("4.4", SOL["scale_pixels"])
    passes("4.4", lambda X: X * (1 / 16))
    fails_with("4.4", lambda X: X / X.max(), "statistics of everyone's data")
    fails_with("4.4", lambda X: (X - X.mean(0)) / (X.std(0) + 1e-8), "standardising")
