"""Exercise 6.6 (the BPDA gradient): its check lives in its own module, and the defences the
check attacks hide the gradient as the hints say. Its points, reference answer and unfinished
answer are tested with every question in ``tests/test_every_question.py``; the wrong and
unusual-but-correct answers are in ``tests/wrong_answers/ex06.py``."""

from __future__ import annotations

import torch

from course_utils.checks import REGISTRY
from course_utils.checks.ex06_verify import numpy_quantise, smooth_contrast, squeeze_8_levels

torch.set_num_threads(1)


def test_6_6_is_registered_from_its_own_module() -> None:
    q = REGISTRY["6.6"]
    assert q.func.__module__ == "course_utils.checks.ex06_verify"
    assert "course_utils.robustness.bpda_pgd" in q.reference


def test_the_defences_hide_the_gradient_as_the_hints_say() -> None:
    """Rounding has a zero gradient, the numpy transform has no graph at all, and the smooth
    transform is differentiable but far from the identity (so the chain rule differs from BPDA)."""
    x = torch.rand(5, 64, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    squeeze_8_levels(x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().max()) == 0.0
    assert numpy_quantise(x).grad_fn is None
    (g,) = torch.autograd.grad(smooth_contrast(x).sum(), x)
    assert float((g - 1).abs().max()) > 0.5
