"""Checks of exercise set 06 (robustness: FGSM, the PGD projection, the smoothing certificate,
extraction agreement, backdoor success rate).

Conventions (as in notebook 06): inputs are float32 torch tensors of shape ``(N, 64)`` with values
in [0, 1]; models are ``torch.nn.Module``s returning logits.

Expected values are computed here with torch autograd, numpy and scipy, never with
:mod:`course_utils.robustness` or :mod:`course_utils.attacks.extraction`. The requirements the
tasks state are checked with their own messages (a torch tensor, detached, the input left as it
was), and the usual mistakes are recomputed on the same inputs so that the hint names the one
that was made. The test inputs are built so that the wrong definitions give different values:
6.5's model misclassifies some clean inputs and its trigger sends some examples to other classes,
so "the fraction misclassified", "the fraction whose prediction changes" or a filter on the clean
prediction all differ from the success rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from . import (
    AnswerError,
    expect,
    expect_number,
    expect_tensor,
    expect_unchanged,
    question,
    snapshot,
)
from ._ex06_cases import (
    BACKDOOR_HINTS,
    Backdoored,
    VictimAPI,
    backdoor_case,
    backdoor_definitions,
    batch,
    close,
    input_grad,
    linear_model,
    mean_loss,
    mlp,
    project_expected,
    projection_mistakes,
    radius,
    radius_mistakes,
    stamp,
)

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# 6.1  FGSM
# ---------------------------------------------------------------------------------------------
@question("6.1", points=2, reference="course_utils.robustness.fgsm")
def _check_fgsm(fgsm_attack: Any) -> None:
    """Return clip(X + eps * sign(grad_X cross-entropy), 0, 1) for a batch X."""

    def call(model, X, y, eps):
        X_in, y_in = X.clone(), y.clone()
        out = fgsm_attack(model, X_in, y_in, eps)
        expect_unchanged(
            (X, y),
            (X_in.detach(), y_in),
            "X and y are left unchanged",
            "Work on a copy: x = X.clone().requires_grad_(True); do not write into X.",
        )
        expect(
            not X_in.requires_grad,
            "X is left unchanged (it does not start requiring grad)",
            hint="Call requires_grad_ on a copy, x = X.clone().requires_grad_(True), not on X.",
        )
        expect(
            not (isinstance(out, torch.Tensor) and out.requires_grad),
            "the result is detached from the graph",
            expected="requires_grad=False",
            got="a tensor that requires grad",
            hint="Return the adversarial batch with .detach() (or build it under torch.no_grad()).",
        )
        return expect_tensor(
            out,
            "fgsm_attack returns a batch of inputs",
            shape=tuple(X.shape),
            hint="Return a torch tensor shaped like X (perturb every example).",
        )

    for seed, model_fn in ((0, linear_model), (1, mlp), (2, mlp)):
        model = model_fn(seed)
        X, y = batch(seed)
        g = input_grad(model, X, y)
        with torch.no_grad():
            y_pred = model(X).argmax(1)
        g_pred = input_grad(model, X, y_pred)
        for eps in (0.05, 0.2):
            got = call(model, X, y, eps)
            exact = (X + eps * g.sign()).clamp(0, 1)
            if not close(got, exact):
                mistakes = [
                    (
                        (X - eps * g.sign()).clamp(0, 1),
                        "the attack increases the loss",
                        "Step *up* the loss: X + eps * sign(grad), not minus (that is a training "
                        "step).",
                    ),
                    (
                        eps * g.sign(),
                        "returns the attacked inputs",
                        "You returned the perturbation eps * sign(grad): return X + eps * sign(grad), "
                        "clipped to [0, 1].",
                    ),
                    (
                        (X + eps * g_pred.sign()).clamp(0, 1),
                        "the gradient uses the true labels y",
                        "Compute the loss against the true labels y, not the model's own "
                        "predictions.",
                    ),
                ]
                for wrong, what, hint in mistakes:
                    if close(got, wrong):
                        expect(False, what, hint=hint)
            expect(
                bool(got.min() >= 0) and bool(got.max() <= 1),
                "pixels stay in [0, 1]",
                expected="values in [0, 1]",
                got=f"values in [{float(got.min()):.3f}, {float(got.max()):.3f}]",
                hint="Clip the result to the valid pixel range: .clamp(0, 1).",
            )
            sign_hint = (
                "Use grad.sign(): FGSM moves every pixel by exactly eps (the worst case of the "
                "L-infinity ball), not by a step proportional to the gradient."
            )
            linf = float((got - X).abs().max())
            expect(
                linf <= eps + 1e-5,
                f"the perturbation is at most eps = {eps} per pixel",
                expected=f"<= {eps}",
                got=round(linf, 4),
                hint=sign_hint,
            )
            interior = (g != 0) & (X + eps * g.sign() > 0) & (X + eps * g.sign() < 1)
            moved = ((got - X).abs() - eps).abs() <= 1e-5
            share = float(moved[interior].float().mean())
            expect(
                share > 0.99,
                f"each pixel moves by exactly eps = {eps} (where [0, 1] does not cut it)",
                expected="100% of those pixels",
                got=f"{share:.0%} of them",
                hint=sign_hint,
            )
            agree = (got - exact).abs() <= 1e-5
            expect(
                float(agree.float().mean()) > 0.99,
                f"matches clip(X + eps * sign(grad), 0, 1) at eps = {eps}",
                expected="the FGSM point",
                got=f"{float(agree.float().mean()):.0%} of pixels agree",
                hint="Take the gradient of the cross-entropy with respect to the INPUT X "
                "(X.requires_grad_(True) on a copy), for the true labels y.",
            )
            expect(
                mean_loss(model, got, y) > mean_loss(model, X, y),
                "the attack increases the loss",
                hint="Step up the loss, along +sign(grad).",
            )
        zero = call(model, X, y, 0.0)
        expect(close(zero, X), "eps = 0 returns X unchanged", hint="Scale the step by eps.")
    # a model in train mode is fine
    model = mlp(3)
    model.train()
    X, y = batch(3)
    call(model, X, y, 0.1)


# ---------------------------------------------------------------------------------------------
# 6.2  the PGD projection step
# ---------------------------------------------------------------------------------------------
@question("6.2", points=2, reference="course_utils.robustness.pgd")
def _check_project(project: Any) -> None:
    """Project X_adv onto the eps-ball around X (norm 'linf' or 'l2') and into [0, 1]."""
    gen = torch.Generator().manual_seed(6)

    def call(X_adv, X, eps, norm):
        out = project(X_adv.clone(), X.clone(), eps, norm)
        return expect_tensor(
            out,
            "project returns a batch of inputs",
            shape=tuple(X.shape),
            hint="Return a torch tensor shaped like X.",
        )

    def diagnose(got, X_adv, X, eps, norm, what):
        if not close(got, project_expected(X_adv, X, eps, norm)):
            for wrong, hint in projection_mistakes(X_adv, X, eps, norm):
                if close(got, wrong):
                    expect(False, what, hint=hint)

    # centred inputs so that the [0, 1] box is not active: pure ball projection
    X = torch.full((30, 64), 0.5)
    step = torch.randn(30, 64, generator=gen)
    for eps, scale in ((0.05, 0.01), (0.05, 0.2), (0.3, 0.02)):
        X_adv = X + scale * step  # some rows inside, some outside the ball
        got = call(X_adv, X, eps, "linf")
        diagnose(got, X_adv, X, eps, "linf", f"L-inf projection at eps = {eps}")
        expect(
            float((got - X).abs().max()) <= eps + 1e-6,
            f"L-inf: every pixel within eps = {eps} of X",
            got=round(float((got - X).abs().max()), 4),
            expected=f"<= {eps}",
            hint="Clip the perturbation delta = X_adv - X to [-eps, eps], then add it back to X.",
        )
        expect(
            close(got, project_expected(X_adv, X, eps, "linf")),
            f"L-inf projection at eps = {eps}",
            hint="The L-inf projection is X + clip(X_adv - X, -eps, eps); pixels already inside "
            "stay put.",
        )

    norms_inside = 0.05 * step / step.norm(dim=1, keepdim=True)  # length 0.05
    for eps in (0.1, 0.5):
        far = 2 * eps * step[10:] / step[10:].norm(dim=1, keepdim=True)  # stays inside [0, 1]
        X_adv = X + torch.cat([norms_inside[:10], far])
        got = call(X_adv, X, eps, "l2")
        diagnose(got, X_adv, X, eps, "l2", f"L2 projection at eps = {eps}")
        delta = got - X
        lengths = delta.norm(dim=1)
        expect(
            bool(torch.allclose(got[:10], X_adv[:10], atol=1e-6)),
            "L2: points already inside the ball are unchanged",
            hint="Only shrink delta when its norm exceeds eps: multiply by min(1, eps / ||delta||).",
        )
        cos = nn.functional.cosine_similarity(delta[10:], X_adv[10:] - X[10:], dim=1)
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

    # inputs at the edge of the box: the result must also lie in [0, 1]. Shrinking then clipping
    # (the task) and clipping X_adv to [0, 1] first then shrinking both land in ball and box.
    Xb, _ = batch(7)
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
        accepted = [
            project_expected(X_adv, Xb, eps, norm),
            project_expected(X_adv.clamp(0, 1), Xb, eps, norm),
        ]
        expect(
            any(close(got, a) for a in accepted),
            f"{norm} projection of inputs at the edge of [0, 1]",
            hint="Project delta onto the ball first, then clip X + delta to [0, 1].",
        )


# ---------------------------------------------------------------------------------------------
# 6.3  the certified radius of randomized smoothing
# ---------------------------------------------------------------------------------------------
@question(
    "6.3",
    points=2,
    reference=("course_utils.robustness.certified_radius", "course_utils.robustness.certify"),
)
def _check_certified_radius(certified_radius: Any) -> None:
    """Return sigma * Phi^-1(p_lower), p_lower the one-sided Clopper-Pearson bound of n_a / n (0 if
    <= 1/2)."""

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
        (1000, 1000, 0.25, 0.001),  # all votes agree: the bound is alpha ** (1 / n)
        (520, 1000, 0.25, 0.001),  # the bound is below 1/2: abstain
        (300, 1000, 0.25, 0.001),
    ]
    for n_a, n, sigma, alpha in cases:
        got = call(n_a, n, sigma, alpha)
        exp = radius(n_a, n, sigma, alpha)
        what = f"n_a={n_a}, n={n}, sigma={sigma}, alpha={alpha}: R = sigma * Phi^-1(p_lower)"
        if not np.isclose(got, exp, rtol=1e-6, atol=1e-9):
            for wrong, hint in radius_mistakes(n_a, n, sigma, alpha):
                if np.isclose(got, wrong, rtol=1e-6, atol=1e-9) and not np.isclose(wrong, exp):
                    expect(False, what, expected=round(exp, 5), got=got, hint=hint)
        expect(
            np.isfinite(got),
            f"n_a={n_a}, n={n}: the radius is a finite number",
            expected=round(exp, 5),
            got=got,
            hint="Phi^-1 of 1 is infinite: use the lower confidence bound, never n_a / n itself.",
        )
        expect(
            np.isclose(got, exp, rtol=1e-6, atol=1e-9),
            what,
            expected=round(exp, 5),
            got=round(got, 5),
            hint="p_lower = stats.beta.ppf(alpha, n_a, n - n_a + 1); R = sigma * "
            "stats.norm.ppf(p_lower), and 0.0 when p_lower <= 0.5.",
        )
    got = call(0, 1000, 0.25, 0.001)
    expect(
        got == 0.0,
        "n_a=0 of 1000: CERTIFY abstains (radius 0)",
        expected=0.0,
        got=got,
        hint="With n_a = 0, stats.beta.ppf(alpha, 0, n + 1) is nan (and nan > 0.5 is False): "
        "treat it as abstaining and return 0.0 before computing a radius."
        if np.isnan(got)
        else "Return 0.0 when p_lower <= 0.5: a negative radius certifies nothing.",
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
@question("6.4", points=1, reference="course_utils.attacks.extraction.agreement")
def _check_agreement(agreement: Any) -> None:
    """Return the fraction of inputs X on which the surrogate's top class equals the victim API's."""
    X, _ = batch(11, n=200)
    victim, other = mlp(11), mlp(12)

    api = VictimAPI  # a module-level class: picklable, so the grader can send it to a kernel

    def call(query, surrogate):
        return expect_number(
            agreement(query, surrogate, X.numpy().copy()),
            "agreement returns one number",
            "Return a float between 0 and 1.",
        )

    with torch.no_grad():
        exp = float((victim(X).argmax(1) == other(X).argmax(1)).float().mean())
    got = call(api(victim, "proba"), other)
    if not np.isclose(got, exp, atol=1e-6):
        for wrong, hint in (
            (100 * exp, "Return a fraction between 0 and 1, not a percentage."),
            (
                1 - exp,
                "You returned the DISagreement: the fraction of inputs where the top "
                "classes are equal, not where they differ.",
            ),
            (
                exp * len(X),
                "Divide the number of matching answers by the number of inputs (or use .mean()).",
            ),
        ):
            if np.isclose(got, wrong, atol=1e-6):
                expect(
                    False,
                    "probability API: fraction of equal top-1 classes",
                    expected=round(exp, 4),
                    got=got,
                    hint=hint,
                )
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
        hint="Compare classes: the argmax of the victim's probabilities with the argmax of the "
        "surrogate's logits (probability values almost never match exactly).",
    )
    got_self = call(api(victim, "proba"), victim)
    expect(
        np.isclose(got_self, 1.0),
        "a perfect copy agrees everywhere",
        expected=1.0,
        got=got_self,
        hint="Compare classes (argmax), not probability values with ==.",
    )
    labels_hint = (
        "victim_query may return labels (1-d) or probabilities (2-d): take argmax only when 2-d."
    )
    try:
        got_label = call(api(victim, "label"), other)
    except AnswerError as exc:  # argmax of a 1-d label array fails (axis 1 does not exist)
        if exc.kind != "raised":
            raise
        expect(
            False,
            "a labels-only API (victim_query returns 1-d labels)",
            got=f"{exc.exc_type}: {exc.message}",
            hint=labels_hint,
        )
    expect(
        np.isclose(got_label, exp, atol=1e-6),
        "a labels-only API gives the same agreement",
        expected=round(exp, 4),
        got=got_label,
        hint=labels_hint,
    )


# ---------------------------------------------------------------------------------------------
# 6.5  backdoor attack success rate
# ---------------------------------------------------------------------------------------------
@question("6.5", points=2, reference="course_utils.robustness.attack_success_rate")
def _check_backdoor_success_rate(backdoor_success_rate: Any) -> None:
    """Return the fraction of non-target examples classified as target once the trigger is applied."""
    model = Backdoored()
    for target, seed, kind in ((3, 0, "mixed"), (7, 1, "mixed"), (4, 2, "none"), (5, 3, "all")):
        X, y, clean, trig = backdoor_case(target, seed, kind)
        saved = snapshot((X, y))
        X_in, y_in = X.copy(), y.copy()
        got = expect_number(
            backdoor_success_rate(model, X_in, y_in, target, stamp),
            "backdoor_success_rate returns one number",
            "Return a float between 0 and 1.",
        )
        expect_unchanged(
            saved,
            (X_in, y_in),
            "X and y are left unchanged",
            "trigger(X) returns a stamped copy; do not stamp or reorder X itself.",
        )
        defs = backdoor_definitions(y, clean, trig, target)
        want = defs.pop("right")
        what = {
            "mixed": f"a backdoor to class {target} that works on some examples (the model also "
            "makes clean mistakes)",
            "none": "a model without a backdoor: success rate 0",
            "all": "a backdoor that works on every other class: success rate 1",
        }[kind]
        if abs(got - want) > 1e-6:
            for name, value in defs.items():
                if abs(got - value) <= 1e-6:
                    expect(
                        False,
                        what,
                        expected=round(want, 4),
                        got=round(got, 4),
                        hint=BACKDOOR_HINTS[name],
                    )
        expect(
            abs(got - want) <= 1e-6,
            what,
            expected=round(want, 4),
            got=round(got, 4),
            hint="Among the examples with y != target, count the triggered inputs the model "
            "classifies as target; divide by how many such examples there are.",
        )
