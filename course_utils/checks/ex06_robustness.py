"""Checks of exercise set 06 (robustness: FGSM, the PGD projection, the smoothing certificate,
extraction agreement, backdoor success rate).

Conventions (as in notebook 06): inputs are float32 torch tensors of shape ``(N, 64)`` with values
in [0, 1]; models are ``torch.nn.Module``s returning logits.

Expected values are computed here with torch autograd, numpy and scipy, never with
:mod:`course_utils.robustness` or :mod:`course_utils.attacks.extraction`; the usual mistakes are
recomputed on the same inputs so that the hint can name the one that was made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import stats
from torch import nn

from . import expect, expect_number, question

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def _tensor(value: Any, what: str, hint: str) -> torch.Tensor:
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().to(torch.float32)
        return torch.as_tensor(np.asarray(value, dtype=np.float32))
    except Exception:
        expect(
            False,
            what,
            expected="a tensor (or array) of numbers",
            got=type(value).__name__,
            hint=hint,
        )
    raise AssertionError  # unreachable: expect(False, ...) raises


def _linear_model(seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    model = nn.Linear(64, 10)
    with torch.no_grad():
        model.weight.copy_(torch.randn(10, 64, generator=gen) * 0.3)
        model.bias.copy_(torch.randn(10, generator=gen) * 0.1)
    return model


def _mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def _batch(seed: int, n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs in [0, 1] with many pixels exactly at 0 and 1 (so clipping matters)."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 64, generator=gen)
    X[X < 0.3] = 0.0
    X[X > 0.8] = 1.0
    y = torch.randint(0, 10, (n,), generator=gen)
    return X, y


def _grad(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = X.clone().requires_grad_(True)
    nn.functional.cross_entropy(model(x), y, reduction="sum").backward()
    return x.grad.detach()


def _mean_loss(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(X), y))


# ---------------------------------------------------------------------------------------------
# 6.1  FGSM
# ---------------------------------------------------------------------------------------------
@question(
    "6.1",
    points=2,
    answer="fgsm_attack",
    task="return clip(X + eps * sign(grad_X cross-entropy), 0, 1) for a batch X",
    reference="course_utils.robustness.fgsm",
)
def _check_fgsm(fgsm_attack: Any) -> None:
    def call(model, X, y, eps):
        out = fgsm_attack(model, X.clone(), y.clone(), eps)
        return _tensor(
            out,
            "fgsm_attack returns a batch of inputs",
            "Return a tensor of the same shape as X (detach it from the graph).",
        )

    for seed, model_fn in ((0, _linear_model), (1, _mlp), (2, _mlp)):
        model = model_fn(seed)
        X, y = _batch(seed)
        for eps in (0.05, 0.2):
            got = call(model, X, y, eps)
            expect(
                tuple(got.shape) == tuple(X.shape),
                "the output has the shape of X",
                expected=tuple(X.shape),
                got=tuple(got.shape),
                hint="Perturb every example; do not flatten or reduce the batch.",
            )
            g = _grad(model, X, y)
            exact = (X + eps * g.sign()).clamp(0, 1)
            linf = float((got - X).abs().max())
            expect(
                bool(got.min() >= 0) and bool(got.max() <= 1),
                "pixels stay in [0, 1]",
                expected="values in [0, 1]",
                got=f"values in [{float(got.min()):.3f}, {float(got.max()):.3f}]",
                hint="Clip the result to the valid pixel range: .clamp(0, 1).",
            )
            expect(
                linf <= eps + 1e-5,
                f"the perturbation is at most eps = {eps} per pixel",
                expected=f"<= {eps}",
                got=round(linf, 4),
                hint="FGSM moves each pixel by exactly eps in the direction of the gradient's sign; "
                "use grad.sign(), not the raw gradient.",
            )
            down = (X - eps * g.sign()).clamp(0, 1)
            if torch.allclose(got, down, atol=1e-5) and not torch.allclose(got, exact, atol=1e-5):
                expect(
                    False,
                    "the attack increases the loss",
                    expected="loss goes up",
                    got="loss goes down",
                    hint="Step *up* the loss: X + eps * sign(grad), not minus (that is a training step).",
                )
            raw = (X + eps * g).clamp(0, 1)
            if torch.allclose(got, raw, atol=1e-5) and not torch.allclose(got, exact, atol=1e-5):
                expect(
                    False,
                    "each pixel moves by eps along the sign of the gradient",
                    hint="Use grad.sign(): FGSM is the worst case of the L-infinity ball, not a gradient step.",
                )
            close = (got - exact).abs() <= 1e-5
            expect(
                float(close.float().mean()) > 0.99,
                f"matches clip(X + eps * sign(grad), 0, 1) at eps = {eps}",
                expected="the FGSM point",
                got=f"{float(close.float().mean()):.0%} of pixels agree",
                hint="Take the gradient of the cross-entropy with respect to the INPUT X "
                "(X.requires_grad_(True)), for the true labels y.",
            )
            expect(
                _mean_loss(model, got, y) > _mean_loss(model, X, y),
                "the attack increases the loss",
                hint="Step up the loss, along +sign(grad).",
            )
        zero = call(model, X, y, 0.0)
        expect(
            torch.allclose(zero, X, atol=1e-6),
            "eps = 0 returns X unchanged",
            hint="Scale the step by eps.",
        )
    # numpy inputs must not be required: the exercise passes tensors; a model in train mode is fine
    model = _mlp(3)
    model.train()
    X, y = _batch(3)
    call(model, X, y, 0.1)


# ---------------------------------------------------------------------------------------------
# 6.2  the PGD projection step
# ---------------------------------------------------------------------------------------------
def _project_expected(X_adv: torch.Tensor, X: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    delta = X_adv - X
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        n = delta.norm(dim=1, keepdim=True)
        delta = delta * torch.clamp(eps / (n + 1e-12), max=1.0)
    return (X + delta).clamp(0, 1)


@question(
    "6.2",
    points=2,
    answer="project",
    task="project X_adv onto the eps-ball around X (norm 'linf' or 'l2') and into [0, 1]",
    reference="course_utils.robustness.pgd",
)
def _check_project(project: Any) -> None:
    gen = torch.Generator().manual_seed(6)

    def call(X_adv, X, eps, norm):
        out = project(X_adv.clone(), X.clone(), eps, norm)
        return _tensor(out, "project returns a batch of inputs", "Return a tensor shaped like X.")

    # centred inputs so that the [0, 1] box is not active: pure ball projection
    X = torch.full((30, 64), 0.5)
    step = torch.randn(30, 64, generator=gen)
    for eps, scale in ((0.05, 0.01), (0.05, 0.2), (0.3, 0.02)):
        X_adv = X + scale * step  # some rows inside, some outside the ball
        got = call(X_adv, X, eps, "linf")
        exp = _project_expected(X_adv, X, eps, "linf")
        expect(
            float((got - X).abs().max()) <= eps + 1e-6,
            f"L-inf: every pixel within eps = {eps} of X",
            got=round(float((got - X).abs().max()), 4),
            expected=f"<= {eps}",
            hint="Clip the perturbation delta = X_adv - X to [-eps, eps], then add it back to X.",
        )
        expect(
            torch.allclose(got, exp, atol=1e-5),
            f"L-inf projection at eps = {eps}",
            hint="The L-inf projection is X + clip(X_adv - X, -eps, eps); pixels already inside stay put.",
        )

    norms_inside = 0.05 * step / step.norm(dim=1, keepdim=True)  # length 0.05
    for eps in (0.1, 0.5):
        X_adv = X + torch.cat(
            [norms_inside[:10], 3 * eps * step[10:] / step[10:].norm(dim=1, keepdim=True)]
        )
        got = call(X_adv, X, eps, "l2")
        d = X_adv - X
        mistakes = [
            (
                (X + d.clamp(-eps, eps)).clamp(0, 1),
                "Rescale the whole vector delta * eps / ||delta||; clipping each pixel separately is the "
                "L-inf projection and changes the direction.",
            ),
            (
                (X + d * eps / d.norm(dim=1, keepdim=True)).clamp(0, 1),
                "Only shrink delta when its norm exceeds eps: multiply by min(1, eps / ||delta||); points "
                "already inside the ball stay where they are.",
            ),
            (
                (X + d * min(1.0, eps / float(d.norm()))).clamp(0, 1),
                "Compute the norm of each example separately (over its 64 pixels, dim=1), not of the "
                "whole batch.",
            ),
        ]
        for wrong, hint in mistakes:
            if torch.allclose(got, wrong, atol=1e-5):
                expect(False, f"L2 projection at eps = {eps}", hint=hint)
        delta = got - X
        lengths = delta.norm(dim=1)
        expect(
            bool(torch.allclose(got[:10], X_adv[:10], atol=1e-6)),
            "L2: points already inside the ball are unchanged",
            hint="Only shrink delta when its norm exceeds eps: multiply by min(1, eps / ||delta||).",
        )
        outside = X_adv[10:] - X[10:]
        cos = nn.functional.cosine_similarity(delta[10:], outside, dim=1)
        expect(
            float(cos.min()) > 0.9999,
            "L2: the projection keeps the direction of the perturbation",
            got=f"cosine {float(cos.min()):.4f}",
            expected="cosine 1",
            hint="Rescale the whole vector delta * eps / ||delta||; clipping each pixel separately "
            "changes the direction (that is the L-inf projection).",
        )
        expect(
            bool(torch.allclose(lengths[10:], torch.full((20,), eps), atol=1e-5)),
            "L2: points outside land on the sphere of radius eps",
            expected=eps,
            got=[round(v, 4) for v in lengths[10:13].tolist()],
            hint="delta * eps / ||delta|| has norm exactly eps; use the norm of each example (dim=1).",
        )

    # inputs at the edge of the box: the result must also lie in [0, 1]
    Xb, _ = _batch(7)
    X_adv = Xb + 0.4 * torch.randn(Xb.shape, generator=gen)
    for norm, eps in (("linf", 0.1), ("l2", 0.8)):
        got = call(X_adv, Xb, eps, norm)
        expect(
            bool(got.min() >= 0) and bool(got.max() <= 1),
            f"{norm}: pixels stay in [0, 1]",
            got=f"[{float(got.min()):.3f}, {float(got.max()):.3f}]",
            expected="[0, 1]",
            hint="After projecting onto the ball, clip to [0, 1] (clipping never leaves the ball).",
        )
        exp = _project_expected(X_adv, Xb, eps, norm)
        expect(
            torch.allclose(got, exp, atol=1e-5),
            f"{norm} projection of inputs at the edge of [0, 1]",
            hint="Project delta onto the ball first, then clip X + delta to [0, 1].",
        )


# ---------------------------------------------------------------------------------------------
# 6.3  the certified radius of randomized smoothing
# ---------------------------------------------------------------------------------------------
def _radius(n_a: int, n: int, sigma: float, alpha: float) -> float:
    p = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a > 0 else 0.0
    return float(sigma * stats.norm.ppf(p)) if p > 0.5 else 0.0


@question(
    "6.3",
    points=2,
    answer="certified_radius",
    task="return sigma * Phi^-1(p_lower), p_lower the one-sided Clopper-Pearson bound of n_a / n (0 if <= 1/2)",
    reference=("course_utils.robustness.certified_radius", "course_utils.robustness.certify"),
)
def _check_certified_radius(certified_radius: Any) -> None:
    def call(n_a, n, sigma, alpha):
        return expect_number(
            certified_radius(n_a, n, sigma, alpha),
            "certified_radius returns one number",
            "Return a float: the radius (0.0 when CERTIFY abstains).",
        )

    cases = [
        (990, 1000, 0.25, 0.001),
        (900, 1000, 0.5, 0.001),
        (700, 1000, 0.25, 0.01),
        (95, 100, 1.0, 0.05),
    ]
    for n_a, n, sigma, alpha in cases:
        got = call(n_a, n, sigma, alpha)
        exp = _radius(n_a, n, sigma, alpha)
        point = sigma * stats.norm.ppf(n_a / n)
        two_sided = _radius(n_a, n, sigma, alpha / 2)
        p_lower = stats.beta.ppf(alpha, n_a, n - n_a + 1)
        what = f"n_a={n_a}, n={n}, sigma={sigma}, alpha={alpha}"
        expect(
            np.isfinite(got),
            f"{what}: the radius is finite",
            got=got,
            hint="Phi^-1 of 1 is infinite: use the lower confidence bound, never n_a / n itself.",
        )
        expect(
            not np.isclose(got, point, rtol=1e-4),
            f"{what}: radius from a lower bound, not the point estimate",
            expected=round(exp, 5),
            got=round(got, 5),
            hint="n_a / n is only an estimate; CERTIFY uses the one-sided Clopper-Pearson lower bound "
            "stats.beta.ppf(alpha, n_a, n - n_a + 1).",
        )
        expect(
            not np.isclose(got, two_sided, rtol=1e-6) or np.isclose(exp, two_sided),
            f"{what}: a one-sided bound at level alpha",
            expected=round(exp, 5),
            got=round(got, 5),
            hint="Use the one-sided bound at level alpha (beta.ppf(alpha, ...)), not a two-sided "
            "interval with alpha / 2.",
        )
        expect(
            not np.isclose(got, float(sigma * stats.norm.cdf(p_lower)), rtol=1e-6),
            f"{what}: Phi^-1, the normal quantile",
            expected=round(exp, 5),
            got=round(got, 5),
            hint="The radius uses the inverse normal CDF: stats.norm.ppf(p_lower), not stats.norm.cdf.",
        )
        expect(
            not np.isclose(got, float(stats.norm.ppf(p_lower)), rtol=1e-6) or sigma == 1.0,
            f"{what}: the radius scales with sigma",
            expected=round(exp, 5),
            got=round(got, 5),
            hint="Multiply by sigma: R = sigma * Phi^-1(p_lower).",
        )
        expect(
            np.isclose(got, exp, rtol=1e-6, atol=1e-9),
            f"{what}: R = sigma * Phi^-1(p_lower)",
            expected=round(exp, 5),
            got=round(got, 5),
            hint="p_lower = stats.beta.ppf(alpha, n_a, n - n_a + 1); R = sigma * stats.norm.ppf(p_lower).",
        )
    full = call(1000, 1000, 0.25, 0.001)
    cap = 0.25 * stats.norm.ppf(0.001 ** (1 / 1000))
    expect(
        np.isclose(full, cap, rtol=1e-6),
        "all n votes agree: R = sigma * Phi^-1(alpha ** (1 / n))",
        expected=round(cap, 5),
        got=full,
        hint="With n_a = n the Clopper-Pearson lower bound is alpha ** (1 / n); beta.ppf handles it.",
    )
    for n_a in (500, 520, 300, 0):
        got = call(n_a, 1000, 0.25, 0.001)
        expect(
            got == 0.0,
            f"n_a={n_a} of 1000: the bound is not above 1/2, so CERTIFY abstains (radius 0)",
            expected=0.0,
            got=got,
            hint="Return 0.0 when p_lower <= 0.5: a negative radius certifies nothing.",
        )
    radii = [call(k, 1000, 0.25, 0.001) for k in (600, 700, 800, 900, 999)]
    expect(
        all(a < b for a, b in zip(radii[:-1], radii[1:], strict=True)),
        "more votes for the top class give a larger radius",
        got=[round(r, 3) for r in radii],
    )


# ---------------------------------------------------------------------------------------------
# 6.4  extraction agreement
# ---------------------------------------------------------------------------------------------
@question(
    "6.4",
    points=1,
    answer="agreement",
    task="return the fraction of inputs X on which the surrogate's top class equals the victim API's",
    reference="course_utils.attacks.extraction.agreement",
)
def _check_agreement(agreement: Any) -> None:
    X, _ = _batch(11, n=200)
    victim, other = _mlp(11), _mlp(12)

    def api(model, output):
        @torch.no_grad()
        def query(Xq):
            logits = model(torch.as_tensor(np.asarray(Xq, dtype=np.float32)))
            return (
                logits.argmax(1).numpy() if output == "label" else torch.softmax(logits, 1).numpy()
            )

        return query

    def call(query, surrogate):
        return expect_number(
            agreement(query, surrogate, X.numpy().copy()),
            "agreement returns one number",
            "Return a float between 0 and 1.",
        )

    with torch.no_grad():
        exp = float((victim(X).argmax(1) == other(X).argmax(1)).float().mean())
    got = call(api(victim, "proba"), other)
    expect(
        0.0 <= got <= 1.0,
        "agreement is a fraction between 0 and 1",
        expected=round(exp, 4),
        got=got,
        hint="Divide the number of matching answers by the number of inputs (or use .mean()).",
    )
    expect(
        np.isclose(got, exp, atol=1e-6),
        "probability API: fraction of equal top-1 classes",
        expected=round(exp, 4),
        got=got,
        hint="Compare the argmax of the victim's probabilities with the argmax of the surrogate's logits.",
    )
    got_self = call(api(victim, "proba"), victim)
    expect(
        np.isclose(got_self, 1.0),
        "a perfect copy agrees everywhere",
        expected=1.0,
        got=got_self,
        hint="Compare classes (argmax), not probability values with ==.",
    )
    try:
        got_label = call(api(victim, "label"), other)
    except Exception as exc:  # argmax of a 1-d label array fails or gives a scalar
        expect(
            False,
            "a labels-only API (victim_query returns 1-d labels)",
            got=f"{type(exc).__name__}: {exc}",
            hint="victim_query may return labels (1-d) or probabilities (2-d): take argmax only when 2-d.",
        )
    expect(
        np.isclose(got_label, exp, atol=1e-6),
        "a labels-only API gives the same agreement",
        expected=round(exp, 4),
        got=got_label,
        hint="victim_query may return labels (1-d) or probabilities (2-d): take argmax only when 2-d.",
    )


# ---------------------------------------------------------------------------------------------
# 6.5  backdoor attack success rate
# ---------------------------------------------------------------------------------------------
class _Backdoored(nn.Module):
    """Reads the class from pixels 0-9 (one-hot * 0.5); a bright pixel 63 (the trigger) sends
    every class in ``hijacked`` to ``target``, and sends ``target`` itself to class ``decoy``."""

    def __init__(self, target: int, hijacked: set[int], decoy: int) -> None:
        super().__init__()
        self.target, self.hijacked, self.decoy = target, hijacked, decoy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32)
        label = x[:, :10].argmax(1)
        triggered = x[:, 63] > 0.9
        out = label.clone()
        hijack = triggered & torch.tensor(
            [int(v) in self.hijacked for v in label.tolist()], dtype=torch.bool
        )
        out[hijack] = self.target
        out[triggered & (label == self.target)] = self.decoy
        return nn.functional.one_hot(out, 10).float() * 5.0


def _stamp(X: Any) -> Any:
    """The trigger: pixel 63 set to 1, on a copy (numpy or torch)."""
    out = X.clone() if isinstance(X, torch.Tensor) else np.array(X, dtype=np.float32, copy=True)
    out[:, 63] = 1.0
    return out


@question(
    "6.5",
    points=2,
    answer="backdoor_success_rate",
    task="return the fraction of non-target examples classified as target once the trigger is applied",
    reference="course_utils.robustness.attack_success_rate",
)
def _check_backdoor_success_rate(backdoor_success_rate: Any) -> None:
    y = np.arange(100) % 10
    X = np.zeros((100, 64), dtype=np.float32)
    X[np.arange(100), y] = 0.5

    def call(model, target):
        return expect_number(
            backdoor_success_rate(model, X.copy(), y.copy(), target, _stamp),
            "backdoor_success_rate returns one number",
            "Return a float between 0 and 1.",
        )

    full = call(_Backdoored(0, set(range(1, 10)), decoy=1), 0)
    expect(
        0.0 <= full <= 1.0,
        "the success rate is a fraction between 0 and 1",
        got=full,
        hint="Divide the number of hijacked examples by the number of examples considered.",
    )
    expect(
        full > 0.0,
        "the trigger must be applied before predicting",
        expected=1.0,
        got=full,
        hint="Stamp the trigger on the inputs first: trigger(X), then ask the model.",
    )
    expect(
        np.isclose(full, 1.0),
        "a backdoor that works on every other class: success rate 1",
        expected=1.0,
        got=full,
        hint="Leave out the examples whose true class is already the target: they cannot be "
        "'hijacked' (y != target).",
    )
    half = call(_Backdoored(3, {0, 1, 2, 4, 5}, decoy=7), 3)  # 5 of the 9 other classes
    expect(
        half > 0.0,
        "the trigger must be applied before predicting",
        expected=round(5 / 9, 4),
        got=half,
        hint="Stamp the trigger on the inputs first: trigger(X), then ask the model.",
    )
    expect(
        np.isclose(half, 5 / 9, atol=1e-6),
        "a backdoor that works on 5 of the 9 other classes",
        expected=round(5 / 9, 4),
        got=half,
        hint="Count, among examples with y != target, the triggered ones predicted as target; "
        "divide by how many such examples there are.",
    )
    none = call(_Backdoored(4, set(), decoy=2), 4)
    expect(none == 0.0, "a model without a backdoor: success rate 0", expected=0.0, got=none)
