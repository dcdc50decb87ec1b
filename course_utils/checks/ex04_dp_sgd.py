"""Checks of exercise set 04 (DP-SGD: clipping, calibrated noise, noise multiplier, a leaky pipeline).

The checks test properties: clipped per-example norms and directions, the mean and standard
deviation of the noise over many draws, the epsilon a noise multiplier actually spends (measured
here with Opacus's RDP accountant directly), and whether one record's preprocessing depends on the
other records. A correct answer written any way passes; the usual mistakes (clipping each layer on
its own, normalising every gradient to length C, noise without the factor C or on every example,
dividing by the realised batch size, a search that returns the wrong side of the budget, scaling
with the data's own maximum) fail with a hint aimed at them.

Expected values are computed here with numpy / Opacus, never with ``course_utils.privacy.dpsgd``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import expect, question

__all__: list[str] = []


def _grads(seed: int = 0) -> dict:
    """Per-example gradients for 6 examples: two layers, norms from tiny to large."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(6, 3, 4, generator=gen)
    b = torch.randn(6, 3, generator=gen)
    scale = torch.tensor([0.05, 0.2, 0.5, 2.0, 5.0, 20.0])  # overall size of each example
    flat = torch.cat([w.reshape(6, -1), b], dim=1).norm(dim=1)
    factor = scale / flat
    return {"w": w * factor.view(-1, 1, 1), "b": b * factor.view(-1, 1)}


def _flat(grads: dict, n: int) -> np.ndarray:
    return np.concatenate([np.asarray(grads[k].detach(), dtype=float).reshape(n, -1) for k in ("w", "b")], axis=1)


# ---------------------------------------------------------------------------------------------
# 4.1  per-example clipping
# ---------------------------------------------------------------------------------------------
@question(
    "4.1",
    points=2,
    answer="clip_gradients",
    task="scale each example's whole gradient (all tensors together) to L2 norm at most max_grad_norm; "
    "return (clipped, norms_before)",
    reference="course_utils.privacy.dpsgd.clip_per_sample",
)
def _check_clip(clip_gradients: Any) -> None:
    import torch

    grads = _grads(0)
    before = _flat(grads, 6)
    true_norms = np.linalg.norm(before, axis=1)
    C = 1.0
    out = clip_gradients({k: v.clone() for k, v in grads.items()}, max_grad_norm=C)
    expect(isinstance(out, tuple) and len(out) == 2, "returns a pair (clipped, norms)",
           got=type(out).__name__, hint="return clipped, norms")
    clipped, norms = out
    expect(isinstance(clipped, dict) and set(clipped) == {"w", "b"}, "clipped is a dict with the same names",
           got=type(clipped).__name__, hint="Build a new dict {name: scaled tensor} for every name in grads.")
    expect(all(tuple(clipped[k].shape) == tuple(grads[k].shape) for k in grads),
           "every clipped tensor keeps its shape (batch first)",
           got={k: tuple(v.shape) for k, v in clipped.items()},
           hint="Scale, do not reduce: the factor has one value per example, reshape it to broadcast.")
    norms = np.asarray(torch.as_tensor(norms).detach(), dtype=float).reshape(-1)
    expect(norms.shape == (6,), "one norm per example", expected="shape (6,)", got=f"shape {norms.shape}",
           hint="Flatten each tensor per example, concatenate (or add squared norms), take one norm per row.")
    expect(np.allclose(norms, true_norms, rtol=1e-4), "norms are the per-example norms over ALL tensors",
           expected=np.round(true_norms, 3).tolist(), got=np.round(norms, 3).tolist(),
           hint="One norm per example over every parameter together: sqrt(sum over tensors of the "
                "squared entries of that example), not one norm per tensor or for the whole batch.")
    after = _flat(clipped, 6)
    after_norms = np.linalg.norm(after, axis=1)
    expect(np.all(after_norms <= C * (1 + 1e-4)), "every clipped example has norm <= max_grad_norm",
           expected=f"<= {C}", got=np.round(after_norms, 3).tolist(),
           hint="Clipping each tensor on its own lets the whole gradient reach C * sqrt(number of "
                "tensors). Compute one factor per example from the norm over all tensors.")
    small = true_norms < C
    expect(np.allclose(after_norms[small], true_norms[small], rtol=1e-4),
           "gradients already shorter than max_grad_norm are left unchanged",
           expected=np.round(true_norms[small], 3).tolist(), got=np.round(after_norms[small], 3).tolist(),
           hint="The factor is min(1, C / norm): clipping shrinks long gradients only, it does not "
                "stretch short ones to length C.")
    expect(np.allclose(after_norms[~small], C, rtol=1e-4), "longer gradients end up with norm exactly max_grad_norm",
           got=np.round(after_norms[~small], 4).tolist(),
           hint="Multiply each example by C / its own norm (not by the batch's norm).")
    cos = np.sum(after * before, axis=1) / (after_norms * true_norms)
    expect(np.all(cos > 1 - 1e-5), "clipping keeps each gradient's direction", got=np.round(cos, 4).tolist(),
           hint="Multiply every tensor of an example by the same positive number.")
    out5 = clip_gradients({k: v.clone() for k, v in grads.items()}, max_grad_norm=5.0)
    n5 = np.linalg.norm(_flat(out5[0], 6), axis=1)
    expect(np.allclose(n5, np.minimum(true_norms, 5.0), rtol=1e-4), "max_grad_norm is respected (C = 5)",
           expected=np.round(np.minimum(true_norms, 5.0), 3).tolist(), got=np.round(n5, 3).tolist(),
           hint="Use the max_grad_norm argument, not a hard-coded 1.")


# ---------------------------------------------------------------------------------------------
# 4.2  calibrated noise on the sum
# ---------------------------------------------------------------------------------------------
@question(
    "4.2",
    points=2,
    answer="noisy_mean",
    task="sum the clipped gradients over the batch, add N(0, (noise_multiplier * max_grad_norm)^2) "
    "noise from generator, divide by expected_batch_size",
    reference="course_utils.privacy.dpsgd.noisy_aggregate",
)
def _check_noisy_mean(noisy_mean: Any) -> None:
    import torch

    def run(clipped, sigma, C, E, seed):
        return noisy_mean(clipped, noise_multiplier=sigma, max_grad_norm=C, expected_batch_size=E,
                          generator=torch.Generator().manual_seed(seed))

    clipped = _grads(1)
    out = run(clipped, 0.0, 1.0, 10.0, 0)
    expect(isinstance(out, dict) and set(out) == {"w", "b"}, "returns a dict with the same names",
           got=type(out).__name__)
    expect(tuple(out["w"].shape) == (3, 4) and tuple(out["b"].shape) == (3,),
           "each result has the parameter's shape (the batch dimension is summed away)",
           got={k: tuple(v.shape) for k, v in out.items()}, hint="Sum over dimension 0.")
    want = (clipped["w"].sum(0) / 10.0).numpy()
    got = np.asarray(out["w"], dtype=float)
    batch_mean = clipped["w"].mean(0).numpy()
    expect(np.allclose(got, want, atol=1e-6), "without noise: the sum divided by expected_batch_size",
           expected=np.round(want.ravel()[:3], 4).tolist(), got=np.round(got.ravel()[:3], 4).tolist(),
           hint=("You divided by the realised batch size: divide by expected_batch_size, which does not "
                 "depend on who was sampled.") if np.allclose(got, batch_mean, atol=1e-6) else
                "Sum the clipped gradients over the batch, then divide by expected_batch_size.")

    sigma, C, E, d = 1.5, 0.4, 8.0, 200_000
    zeros = {"w": torch.zeros(4, 1, d), "b": torch.zeros(4, 1)}
    noise = np.asarray(run(zeros, sigma, C, E, 1)["w"], dtype=float).ravel()
    std, want_std = float(noise.std()), sigma * C / E
    hints = {
        sigma / E: "The standard deviation must be noise_multiplier * max_grad_norm: you left out max_grad_norm.",
        sigma * C * 2 / E: "Add ONE noise draw to the sum, not one per example: the sum's sensitivity is C "
                           "however large the batch (per-example noise adds sqrt(batch) times more).",
        sigma * C: "Divide the noise too: (sum + noise) / expected_batch_size.",
        sigma * C / E**2: "Divide once by expected_batch_size, after adding the noise.",
    }
    hint = next((h for s, h in hints.items() if abs(std - s) < 0.05 * s), "The noise std must be "
                "noise_multiplier * max_grad_norm, added to the sum, then divided by expected_batch_size.")
    expect(abs(std - want_std) < 0.03 * want_std, "noise std = noise_multiplier * max_grad_norm / expected_batch_size",
           expected=round(want_std, 5), got=round(std, 5), hint=hint)
    expect(abs(float(noise.mean())) < 5 * want_std / math.sqrt(d), "the noise is centred on zero",
           got=round(float(noise.mean()), 6), hint="Use torch.randn (mean 0), scaled by the standard deviation.")
    a = np.asarray(run(zeros, sigma, C, E, 7)["w"], dtype=float)
    b = np.asarray(run(zeros, sigma, C, E, 7)["w"], dtype=float)
    c = np.asarray(run(zeros, sigma, C, E, 8)["w"], dtype=float)
    expect(np.array_equal(a, b) and not np.array_equal(a, c), "the noise comes from the generator argument",
           hint="Pass generator=generator to torch.randn so that a seeded generator reproduces the noise.")


# ---------------------------------------------------------------------------------------------
# 4.3  noise multiplier for a target epsilon
# ---------------------------------------------------------------------------------------------
def _rdp_epsilon(sigma: float, q: float, steps: int, delta: float) -> float:
    from opacus.accountants import RDPAccountant

    acc = RDPAccountant()
    acc.history = [(float(sigma), float(q), int(steps))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(acc.get_epsilon(delta=delta))


@question(
    "4.3",
    points=2,
    answer="find_noise_multiplier",
    task="search for the noise multiplier whose RDP epsilon (gaussian_epsilon) is at most epsilon and "
    "within 3% of it",
    reference=(
        "course_utils.privacy.dpsgd.noise_multiplier_for",
        "course_utils.privacy.accounting.gaussian_noise_multiplier",
        "opacus.accountants.utils.get_noise_multiplier",
    ),
)
def _check_noise_multiplier(find_noise_multiplier: Any) -> None:
    cases = [(1.0, 1e-5, 0.1, 100), (3.0, 1e-5, 0.05, 400), (0.5, 1e-6, 0.2, 50)]
    sigmas = []
    for epsilon, delta, q, steps in cases:
        sigma = find_noise_multiplier(epsilon=epsilon, delta=delta, sample_rate=q, steps=steps)
        expect(isinstance(sigma, (int, float, np.floating)) and math.isfinite(float(sigma)) and sigma > 0,
               f"returns a positive number (epsilon={epsilon})", got=sigma)
        spent = _rdp_epsilon(float(sigma), q, steps, delta)
        case = f"epsilon={epsilon}, delta={delta}, sample_rate={q}, steps={steps}"
        expect(spent <= epsilon * (1 + 1e-9), f"the noise keeps the budget ({case})",
               expected=f"epsilon spent <= {epsilon}", got=f"{spent:.4f} with noise multiplier {float(sigma):.4f}",
               hint="Too little noise. When the search stops, return the end of the bracket whose epsilon "
                    "is within budget (the larger noise multiplier), not the midpoint or the other end.")
        expect(spent >= 0.97 * epsilon, f"the noise is not much larger than needed ({case})",
               expected=f"epsilon spent >= {0.97 * epsilon:.3f}", got=f"{spent:.4f} with noise multiplier {float(sigma):.4f}",
               hint="Too much noise: keep halving the bracket until the epsilon of the noisier end is "
                    "within 3% of the target (and check you pass sample_rate and steps through).")
        sigmas.append(float(sigma))
    expect(sigmas[1] < sigmas[0] < sigmas[2], "a larger epsilon needs less noise",
           got=[round(s, 3) for s in sigmas])


# ---------------------------------------------------------------------------------------------
# 4.4  a preprocessing step that leaks
# ---------------------------------------------------------------------------------------------
@question(
    "4.4",
    points=1,
    answer="scale_pixels",
    task="divide raw digit pixels (0..16) by the public constant 16 - never by statistics of X",
)
def _check_scale_pixels(scale_pixels: Any) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, size=(50, 64)).astype(float)
    X[0, :2] = [0, 16]  # the full range occurs
    out = np.asarray(scale_pixels(X.copy()), dtype=float)
    expect(out.shape == X.shape, "the output has the input's shape", expected=X.shape, got=out.shape)
    expect(np.all(out >= -1e-9) and np.all(out <= 1 + 1e-9), "values lie in [0, 1]",
           got=f"min {out.min():.3f}, max {out.max():.3f}",
           hint="Standardising (x - mean) / std gives values outside [0, 1] - and uses the data's statistics.")
    expect(np.allclose(out, X / 16.0, atol=1e-6), "pixel value v becomes v / 16 (the sensor's range)",
           expected="X / 16", got=np.round(out[0, :4], 3).tolist(),
           hint="Divide by the public maximum 16; the pixel range is known before any data is seen.")
    dim = X[10:20] * 0.5  # faint images: their own maximum is below 16
    alone = np.asarray(scale_pixels(dim.copy()), dtype=float)
    expect(np.allclose(alone, dim / 16.0, atol=1e-6),
           "one record's output does not depend on the other records",
           expected="the same scaling whatever else is in X", got=np.round(alone[0, :4], 3).tolist(),
           hint="X.max(), X.mean() or X.std() are statistics of everyone's data: publishing a model "
                "that uses them releases them without noise. Use the constant 16.")
