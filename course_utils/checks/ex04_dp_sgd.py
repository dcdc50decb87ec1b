"""Checks of exercise set 04 (DP-SGD: clipping, calibrated noise, noise multiplier, a leaky pipeline).

The checks test properties: clipped per-example norms and directions, the mean and standard
deviation of the noise over many draws, the epsilon a noise multiplier actually spends (measured
here with Opacus's RDP accountant directly), and whether one record's preprocessing depends on the
other records. The requirements the tasks state are checked with their own messages (torch
tensors of the stated shapes, inputs left unchanged), and the usual mistakes (clipping each layer
or each entry on its own, one factor for the whole batch, normalising every gradient to length C,
noise without the factor C or on every example, dividing by the realised batch size, a search
that returns the wrong side of the budget, ignores an argument or calibrates with the PRV
accountant instead of RDP, scaling with the data's own maximum or the wrong constant) are
recomputed on the same inputs so that the hint names them.

Expected values are computed here with numpy / Opacus, never with ``course_utils.privacy.dpsgd``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from . import (
    expect,
    expect_array,
    expect_number,
    expect_tensor,
    question,
    type_name,
)
from ._values import call_unchanged, expect_reproducible

__all__: list[str] = []

_BATCH = 7


def _grads(seed: int = 0) -> dict:
    """Per-example gradients for 7 examples: two layers, norms from 0 (exactly) to large."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(_BATCH, 3, 4, generator=gen)
    b = torch.randn(_BATCH, 3, generator=gen)
    scale = torch.tensor([0.05, 0.2, 0.5, 2.0, 5.0, 20.0, 0.0])  # overall size of each example
    # example 3 is long in its bias only and example 5 in its weights only (so that clipping each
    # tensor on its own, or each entry, gives different results from clipping the example)
    w[3] *= 0.05
    b[5] *= 0.05
    flat = torch.cat([w.reshape(_BATCH, -1), b], dim=1).norm(dim=1)
    factor = scale / flat
    return {"w": w * factor.view(-1, 1, 1), "b": b * factor.view(-1, 1)}


def _flat(grads: dict, n: int) -> np.ndarray:
    return np.concatenate(
        [np.asarray(grads[k].detach(), dtype=float).reshape(n, -1) for k in ("w", "b")], axis=1
    )


def _tensor_dict(value: Any, names: set[str], what: str, hint: str) -> dict:
    expect(
        isinstance(value, dict) and set(value) == names,
        f"{what}: a dict with the same names as the input",
        expected=f"dict with keys {sorted(names)}",
        got=type_name(value) if not isinstance(value, dict) else f"keys {sorted(value)}",
        hint=hint,
    )
    return {k: expect_tensor(v, f"{what}[{k!r}]") for k, v in value.items()}


# ---------------------------------------------------------------------------------------------
# 4.1  per-example clipping
# ---------------------------------------------------------------------------------------------
def _clip_mistakes(before: np.ndarray, shapes: dict, C: float) -> list[tuple[np.ndarray, str]]:
    """Per-example clipped norms (after) of the usual mistakes, with their hints."""
    norms = np.linalg.norm(before, axis=1)
    split = np.cumsum([int(np.prod(s[1:])) for s in shapes.values()])[:-1]
    parts = np.split(before, split, axis=1)
    per_tensor = np.concatenate(
        [p * np.minimum(1, C / (np.linalg.norm(p, axis=1, keepdims=True) + 1e-6)) for p in parts],
        axis=1,
    )
    whole = np.linalg.norm(before)
    return [
        (
            per_tensor,
            "Clipping each tensor on its own lets the whole gradient reach C * sqrt(number of "
            "tensors). Compute one factor per example from the norm over all tensors.",
        ),
        (
            np.clip(before, -C, C),
            "Clip the L2 norm of each example (multiply by min(1, C / norm)), not each entry "
            "(clamp): clamping entries changes the gradient's direction.",
        ),
        (
            before * min(1.0, C / whole),
            "One factor per example from ITS OWN norm, not one factor for the whole batch: "
            "flatten per example and take .norm(dim=1).",
        ),
        (
            before * (C / np.maximum(norms, 1e-12))[:, None],
            "The factor is min(1, C / norm): clipping shrinks long gradients only, it does not "
            "stretch short ones to length C.",
        ),
        (
            before * np.minimum(1, C / np.maximum(norms, 1e-12) ** 2)[:, None],
            "Divide C by the norm, not by the squared norm.",
        ),
    ]


@question("4.1", points=2, reference="course_utils.privacy.dpsgd.clip_per_sample")
def _check_clip(clip_gradients: Any) -> None:
    """Scale each example's whole gradient (all tensors together) to L2 norm at most max_grad_norm;
    return (clipped, norms_before)."""
    grads = _grads(0)
    names = set(grads)
    before = _flat(grads, _BATCH)
    true_norms = np.linalg.norm(before, axis=1)
    shapes = {k: tuple(v.shape) for k, v in grads.items()}
    C = 1.0
    out = call_unchanged(
        clip_gradients,
        grads,
        max_grad_norm=C,
        what="the input gradients are not modified in place",
        hint="Build new tensors (g * factor); in-place operations such as g.mul_(...) or g *= ... "
        "change the caller's gradients.",
    )
    expect(
        isinstance(out, tuple | list) and len(out) == 2,
        "returns a pair (clipped, norms)",
        got=type_name(out),
        hint="End with `return clipped, norms`.",
    )
    clipped = _tensor_dict(
        out[0],
        names,
        "clipped",
        "Build a new dict {name: scaled tensor} for every name in grads.",
    )
    expect(
        {k: tuple(v.shape) for k, v in clipped.items()} == shapes,
        "every clipped tensor keeps its shape (batch first)",
        expected=shapes,
        got={k: tuple(v.shape) for k, v in clipped.items()},
        hint="Scale, do not reduce: the factor has one value per example, reshape it to broadcast.",
    )
    norms = expect_tensor(
        out[1],
        "norms: a tensor of shape (batch,)",
        shape=(_BATCH,),
        hint="Return the norms before clipping as a torch tensor with one entry per example, "
        "e.g. flat.norm(dim=1).",
    ).numpy()
    after = _flat(clipped, _BATCH)
    want = before * np.minimum(1.0, C / (true_norms + 1e-6))[:, None]
    nz = true_norms > 0  # the mistakes are named on the non-zero examples (0 / 0 aside)
    if not np.allclose(after[nz], want[nz], rtol=1e-4, atol=1e-6):
        for wrong, hint in _clip_mistakes(before, shapes, C):
            if np.allclose(after[nz], wrong[nz], rtol=1e-4, atol=1e-6):
                expect(
                    False, "each example is scaled by min(1, max_grad_norm / its norm)", hint=hint
                )
    expect(
        np.all(np.isfinite(after)) and np.all(np.isfinite(norms)),
        "an all-zero gradient stays zero (no NaN)",
        got=f"{int((~np.isfinite(after)).any(1).sum())} example(s) with NaN or inf",
        hint="An example whose gradient is all zeros has norm 0, and C / 0 is inf (0 * inf = "
        "NaN): add 1e-6 to the norm before dividing.",
    )
    if np.allclose(norms, np.minimum(true_norms, C), rtol=1e-4) and not np.allclose(
        norms, true_norms, rtol=1e-4
    ):
        expect(
            False,
            "norms are measured BEFORE clipping",
            hint="Return the norms of the "
            "original gradients (before clipping), not of the clipped ones.",
        )
    if np.allclose(norms, true_norms**2, rtol=1e-4):
        expect(
            False,
            "norms are L2 norms",
            hint="Take the square root: the norm is sqrt(sum of squares), not the sum of squares.",
        )
    expect(
        np.allclose(norms, true_norms, rtol=1e-4, atol=1e-7),
        "norms are the per-example norms over ALL tensors",
        expected=np.round(true_norms, 3).tolist(),
        got=np.round(norms, 3).tolist(),
        hint="One norm per example over every parameter together: sqrt(sum over tensors of the "
        "squared entries of that example), not one norm per tensor or for the whole batch.",
    )
    after_norms = np.linalg.norm(after, axis=1)
    expect(
        np.all(after_norms <= C * (1 + 1e-4)),
        "every clipped example has norm <= max_grad_norm",
        expected=f"<= {C}",
        got=np.round(after_norms, 3).tolist(),
        hint="Compute one factor per example, min(1, C / norm), from the norm over all tensors.",
    )
    small = true_norms < C
    expect(
        np.allclose(after_norms[small], true_norms[small], rtol=1e-4, atol=1e-7),
        "gradients already shorter than max_grad_norm are left unchanged",
        expected=np.round(true_norms[small], 3).tolist(),
        got=np.round(after_norms[small], 3).tolist(),
        hint="The factor is min(1, C / norm): clipping shrinks long gradients only.",
    )
    expect(
        np.allclose(after_norms[~small], C, rtol=1e-4),
        "longer gradients end up with norm exactly max_grad_norm",
        got=np.round(after_norms[~small], 4).tolist(),
        hint="Multiply each example by C / its own norm.",
    )
    nz = true_norms > 0
    cos = np.sum(after[nz] * before[nz], axis=1) / (after_norms[nz] * true_norms[nz])
    expect(
        np.all(cos > 1 - 1e-5),
        "clipping keeps each gradient's direction",
        got=np.round(cos, 4).tolist(),
        hint="Multiply every tensor of an example by the same positive number.",
    )
    out5 = clip_gradients({k: v.clone() for k, v in grads.items()}, max_grad_norm=5.0)
    expect(
        isinstance(out5, tuple | list) and len(out5) == 2,
        "returns a pair (clipped, norms) for max_grad_norm=5 too",
        got=type_name(out5),
        hint="End with `return clipped, norms`.",
    )
    n5 = np.linalg.norm(_flat(_tensor_dict(out5[0], names, "clipped", ""), _BATCH), axis=1)
    expect(
        np.allclose(n5, np.minimum(true_norms, 5.0), rtol=1e-4, atol=1e-7),
        "max_grad_norm is respected (C = 5)",
        expected=np.round(np.minimum(true_norms, 5.0), 3).tolist(),
        got=np.round(n5, 3).tolist(),
        hint="Use the max_grad_norm argument, not a hard-coded 1.",
    )


# ---------------------------------------------------------------------------------------------
# 4.2  calibrated noise on the sum
# ---------------------------------------------------------------------------------------------
@question("4.2", points=2, reference="course_utils.privacy.dpsgd.noisy_aggregate")
def _check_noisy_mean(noisy_mean: Any) -> None:
    """Sum the clipped gradients over the batch, add N(0, (noise_multiplier * max_grad_norm)^2)
    noise from generator, divide by expected_batch_size."""
    import torch

    def run(clipped, sigma, C, E, seed):
        out = call_unchanged(
            noisy_mean,
            clipped,
            noise_multiplier=sigma,
            max_grad_norm=C,
            expected_batch_size=E,
            generator=torch.Generator().manual_seed(seed),
            what="the clipped gradients are not modified in place",
            hint="Compute g.sum(0) into a new tensor and add the noise to that; g += noise or "
            "g.add_(...) changes the caller's gradients.",
        )
        return _tensor_dict(
            out, set(clipped), "the result", "Return {name: tensor} for every name."
        )

    clipped = _grads(1)
    out = run(clipped, 0.0, 1.0, 10.0, 0)
    expect(
        tuple(out["w"].shape) == (3, 4) and tuple(out["b"].shape) == (3,),
        "each result has the parameter's shape (the batch dimension is summed away)",
        got={k: tuple(v.shape) for k, v in out.items()},
        hint="Sum over dimension 0.",
    )
    want = (clipped["w"].sum(0) / 10.0).numpy()
    got = out["w"].numpy().astype(float)
    batch_mean = clipped["w"].mean(0).numpy()
    expect(
        np.allclose(got, want, atol=1e-6),
        "without noise: the sum divided by expected_batch_size",
        expected=np.round(want.ravel()[:3], 4).tolist(),
        got=np.round(got.ravel()[:3], 4).tolist(),
        hint=(
            "You divided by the realised batch size: divide by expected_batch_size, which does not "
            "depend on who was sampled."
        )
        if np.allclose(got, batch_mean, atol=1e-6)
        else "Sum the clipped gradients over the batch, then divide by expected_batch_size.",
    )

    sigma, C, E, d = 1.5, 0.4, 8.0, 200_000
    zeros = {"w": torch.zeros(4, 1, d), "b": torch.zeros(4, 1)}
    noise = run(zeros, sigma, C, E, 1)["w"].numpy().astype(float).ravel()
    std, want_std = float(noise.std()), sigma * C / E
    hints = {
        sigma / E: "The standard deviation must be noise_multiplier * max_grad_norm: you left out "
        "max_grad_norm.",
        sigma * C * 2 / E: "Add ONE noise draw to the sum, not one per example: the sum's "
        "sensitivity is C however large the batch (per-example noise adds sqrt(batch) times more).",
        sigma * C: "Divide the noise too: (sum + noise) / expected_batch_size.",
        sigma * C / E**2: "Divide once by expected_batch_size, after adding the noise.",
        (sigma * C) ** 2 / E: "noise_multiplier * max_grad_norm is the standard deviation of the "
        "noise (torch.randn * std), not its variance.",
    }
    hint = next(
        (h for s, h in hints.items() if abs(std - s) < 0.05 * s),
        "The noise std must be noise_multiplier * max_grad_norm, added to the sum, then divided "
        "by expected_batch_size.",
    )
    expect(
        abs(std - want_std) < 0.03 * want_std,
        "noise std = noise_multiplier * max_grad_norm / expected_batch_size",
        expected=round(want_std, 5),
        got=round(std, 5),
        hint=hint,
    )
    expect(
        abs(float(noise.mean())) < 5 * want_std / math.sqrt(d),
        "the noise is centred on zero",
        got=round(float(noise.mean()), 6),
        hint="Use torch.randn (mean 0), scaled by the standard deviation.",
    )
    expect_reproducible(
        lambda seed: run(zeros, sigma, C, E, seed)["w"].numpy(),
        "the noise comes from the generator argument",
        seeds=[7],
        other_seed=8,
        hint="Pass generator=generator to torch.randn so that a seeded generator reproduces the "
        "noise.",
    )


# ---------------------------------------------------------------------------------------------
# 4.3  noise multiplier for a target epsilon
# ---------------------------------------------------------------------------------------------
def _opacus_epsilon(
    sigma: float, q: float, steps: int, delta: float, mechanism: str = "rdp"
) -> float:
    from opacus.accountants import create_accountant

    acc = create_accountant(mechanism=mechanism)
    acc.history = [(float(sigma), float(q), int(steps))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(acc.get_epsilon(delta=delta))


@question(
    "4.3",
    points=2,
    reference=(
        "course_utils.privacy.dpsgd.noise_multiplier_for",
        "course_utils.privacy.accounting.gaussian_noise_multiplier",
        "opacus.accountants.utils.get_noise_multiplier",
    ),
)
def _check_noise_multiplier(find_noise_multiplier: Any) -> None:
    """Search for the noise multiplier whose RDP epsilon (gaussian_epsilon) is at most epsilon and
    within 3% of it."""

    def call(epsilon, delta, q, steps):
        sigma = expect_number(
            find_noise_multiplier(epsilon=epsilon, delta=delta, sample_rate=q, steps=steps),
            f"returns the noise multiplier, one number (epsilon={epsilon})",
            "Return the noise multiplier sigma as one float.",
        )
        expect(
            math.isfinite(sigma) and sigma > 0,
            f"returns a positive number (epsilon={epsilon})",
            got=sigma,
        )
        return sigma

    def ignored_argument(epsilon, delta, q, steps, sigma):
        """The argument whose change leaves the answer unchanged (only asked after a failure)."""
        # each change moves the right noise multiplier by a factor 2 or more
        for name, args in (
            ("sample_rate", (epsilon, delta, q / 8, steps)),
            ("steps", (epsilon, delta, q, steps * 64)),
            ("delta", (epsilon, 0.1, q, steps)),
        ):
            if math.isclose(call(*args), sigma, rel_tol=1e-9):
                return name
        return ""

    cases = [(1.0, 1e-5, 0.1, 100), (3.0, 1e-5, 0.05, 400), (0.5, 1e-6, 0.2, 50)]
    sigmas = []
    for epsilon, delta, q, steps in cases:
        sigma = call(epsilon, delta, q, steps)
        spent = _opacus_epsilon(sigma, q, steps, delta)
        case = f"epsilon={epsilon}, delta={delta}, sample_rate={q}, steps={steps}"
        if not 0.97 * epsilon <= spent <= epsilon * (1 + 1e-9):
            expect(
                not 0.97 * epsilon <= sigma <= epsilon,
                f"returns the noise multiplier, not an epsilon ({case})",
                got=f"{sigma:.4f}, which is within 3% of the target epsilon {epsilon}",
                hint="Return the noise multiplier sigma you found, not gaussian_epsilon(sigma).",
            )
            name = ignored_argument(epsilon, delta, q, steps, sigma)
            expect(
                not name,
                f"the answer depends on {name} ({case})",
                got=f"the same noise multiplier {sigma:.4f} for a different {name}",
                hint=f"Pass {name} through to gaussian_epsilon: the epsilon spent depends on it.",
            )
        if spent > epsilon * (1 + 1e-9):
            prv = _opacus_epsilon(sigma, q, steps, delta, mechanism="prv")
            expect(
                not 0.97 * epsilon <= prv <= epsilon * (1 + 1e-6),
                f"the noise keeps the budget by the RDP accountant ({case})",
                expected=f"epsilon spent <= {epsilon} (RDP)",
                got=f"{spent:.4f} (RDP) with noise multiplier {sigma:.4f}, whose PRV epsilon is "
                f"{prv:.4f}",
                hint="You calibrated with the PRV accountant (accountant='prv'): it is tighter "
                "than RDP, so its noise multiplier spends more than epsilon by RDP's count. The "
                "task measures with gaussian_epsilon's default, Opacus's RDP accountant; "
                "calibrate with that one.",
            )
        expect(
            spent <= epsilon * (1 + 1e-9),
            f"the noise keeps the budget ({case})",
            expected=f"epsilon spent <= {epsilon}",
            got=f"{spent:.4f} with noise multiplier {sigma:.4f}",
            hint="Too little noise. When the search stops, return the end of the bracket whose "
            "epsilon is within budget (the larger noise multiplier), not the midpoint or the other "
            "end.",
        )
        expect(
            spent >= 0.97 * epsilon,
            f"the noise is not much larger than needed ({case})",
            expected=f"epsilon spent >= {0.97 * epsilon:.3f}",
            got=f"{spent:.4f} with noise multiplier {sigma:.4f}",
            hint="Too much noise: keep halving the bracket until the epsilon of the noisier end is "
            "within 3% of the target.",
        )
        sigmas.append(sigma)
    expect(
        sigmas[1] < sigmas[0] < sigmas[2],
        "a larger epsilon needs less noise",
        got=[round(s, 3) for s in sigmas],
    )


# ---------------------------------------------------------------------------------------------
# 4.4  a preprocessing step that leaks
# ---------------------------------------------------------------------------------------------
@question("4.4", points=1)
def _check_scale_pixels(scale_pixels: Any) -> None:
    """Divide raw digit pixels (0..16) by the public constant 16 - never by statistics of X."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 17, size=(50, 64)).astype(float)
    X[0, :2] = [0, 16]  # the full range occurs
    out = expect_array(
        scale_pixels(X.copy()),
        "returns the scaled pixels",
        shape=X.shape,
        hint="Return an array shaped like X.",
    )
    if not np.allclose(out, X / 16.0, atol=1e-6):
        ratio = X[X > 0] / np.where(out[X > 0] == 0, np.nan, out[X > 0])
        c = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
        if np.array_equal(out, X // 16):
            expect(
                False,
                "pixel value v becomes v / 16 (the sensor's range)",
                expected="X / 16",
                got=np.round(out[0, :4], 3).tolist(),
                hint="X // 16 is integer division (every pixel below 16 becomes 0): use X / 16.",
            )
        if np.isfinite(c) and abs(c - 16) > 1e-3 and np.allclose(out, X / c, atol=1e-6):
            expect(
                False,
                "pixel value v becomes v / 16 (the sensor's range)",
                expected="X / 16",
                got=f"X / {c:g}",
                hint=f"You divided by {c:g}: the digits' pixels go from 0 to 16, so divide by "
                "16 (a public constant, known before any data is seen).",
            )
    expect(
        np.all(out >= -1e-9) and np.all(out <= 1 + 1e-9),
        "values lie in [0, 1]",
        got=f"min {out.min():.3f}, max {out.max():.3f}",
        hint="Standardising (x - mean) / std gives values outside [0, 1] - and uses the data's "
        "statistics.",
    )
    expect(
        np.allclose(out, X / 16.0, atol=1e-6),
        "pixel value v becomes v / 16 (the sensor's range)",
        expected="X / 16",
        got=np.round(out[0, :4], 3).tolist(),
        hint="Divide by the public maximum 16; the pixel range is known before any data is seen.",
    )
    dim = X[10:20] * 0.5  # faint images: their own maximum is below 16
    alone = expect_array(scale_pixels(dim.copy()), "returns the scaled pixels", shape=dim.shape)
    expect(
        np.allclose(alone, dim / 16.0, atol=1e-6),
        "one record's output does not depend on the other records",
        expected="the same scaling whatever else is in X",
        got=np.round(alone[0, :4], 3).tolist(),
        hint="X.max(), X.mean() or X.std() are statistics of everyone's data: publishing a model "
        "that uses them releases them without noise. Use the constant 16.",
    )
