"""Exercise 6.6 (the BPDA gradient): registration, the reference answer, an unfinished answer, and
the defences the check attacks (they hide the gradient as the hints say). The wrong and
unusual-but-correct answers are in ``tests/wrong_answers/ex06.py``."""

from __future__ import annotations

import numpy as np
import torch

from course_utils.checks import REGISTRY, run_check
from course_utils.checks.ex06_verify import numpy_quantise, smooth_contrast, squeeze_8_levels
from tests.check_support import passes, solution_namespace

torch.set_num_threads(1)

SOL = solution_namespace("06_robustness", np=np, torch=torch)


def test_6_6_is_registered_after_the_other_set_06_questions() -> None:
    q = REGISTRY["6.6"]
    assert q.points == 2 and q.answer == "bpda_gradient" and q.set_number == 6
    assert q.func.__module__ == "course_utils.checks.ex06_verify"
    assert "course_utils.robustness.bpda_pgd" in q.reference


def test_6_6_reference_answer_passes() -> None:
    passes("6.6", SOL["bpda_gradient"])


def test_6_6_not_implemented_is_reported_not_failed() -> None:
    def not_implemented(model, transform, X, y):
        raise NotImplementedError("Exercise 6.6")

    assert run_check("6.6", not_implemented).status == "not implemented"


def test_the_defences_hide_the_gradient_as_the_hints_say() -> None:
    """Rounding has a zero gradient, the numpy transform has no graph at all, and the smooth
    transform is differentiable but far from the identity (so the chain rule differs from BPDA)."""
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    squeeze_8_levels(x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().max()) == 0.0
    assert numpy_quantise(x).grad_fn is None
    (g,) = torch.autograd.grad(smooth_contrast(x).sum(), x)
    assert float((g - 1).abs().max()) > 0.5
