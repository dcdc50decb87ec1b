"""Exercise 6.6 (the BPDA gradient): the check passes the reference answer and correct answers
written differently, and fails the typical mistakes with a hint aimed at each."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with, passes, solution_namespace

torch.set_num_threads(1)

SOL = solution_namespace("06_robustness", np=np, torch=torch)
CE = nn.functional.cross_entropy


def test_6_6_is_registered_after_the_other_set_06_questions() -> None:
    q = REGISTRY["6.6"]
    assert q.points == 2 and q.answer == "bpda_gradient" and q.set_number == 6
    assert q.func.__module__ == "course_utils.checks.ex06_verify"
    assert "course_utils.robustness.bpda_pgd" in q.reference


def test_6_6_reference_answer_passes() -> None:
    passes("6.6", SOL["bpda_gradient"])


# ------------------------------------------------------------------------------------------
# unusual but correct
# ------------------------------------------------------------------------------------------
def test_6_6_straight_through_trick_with_summed_loss_and_numpy_result() -> None:
    def straight_through(model, transform, X, y):
        x = X.clone().requires_grad_(True)
        CE(model(x + (transform(x) - x).detach()), y, reduction="sum").backward()
        return x.grad.numpy()

    passes("6.6", straight_through)


def test_6_6_custom_autograd_function() -> None:
    class Identity(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, transform):
            return transform(x.detach())

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    def with_function(model, transform, X, y):
        x = X.detach().clone().requires_grad_(True)
        loss = CE(model(Identity.apply(x, transform)), y)
        return torch.autograd.grad(loss, x)[0] * 1000.0  # any positive scale is fine

    passes("6.6", with_function)


def test_6_6_one_example_at_a_time() -> None:
    def per_example(model, transform, X, y):
        rows = []
        for i in range(len(X)):
            z = transform(X[i : i + 1]).detach().requires_grad_(True)
            CE(model(z), y[i : i + 1], reduction="sum").backward()
            rows.append(z.grad)
        return torch.cat(rows)

    passes("6.6", per_example)


# ------------------------------------------------------------------------------------------
# typical mistakes, each with its own hint
# ------------------------------------------------------------------------------------------
def test_6_6_differentiating_through_the_rounding_gets_zero() -> None:
    def through_transform(model, transform, X, y):
        x = X.clone().requires_grad_(True)
        CE(model(transform(x)), y).backward()
        return x.grad

    r = fails_with("6.6", through_transform, "not zero", "identity", "rounding")
    assert "feature squeezing" in r.message


def test_6_6_ignoring_the_defence_in_the_forward_pass() -> None:
    def gradient_at_x(model, transform, X, y):
        x = X.clone().requires_grad_(True)
        CE(model(x), y).backward()
        return x.grad

    fails_with("6.6", gradient_at_x, "forward pass", "transform(X), not at X")


def test_6_6_wrong_sign() -> None:
    def descent_direction(model, transform, X, y):
        return -SOL["bpda_gradient"](model, transform, X, y)

    fails_with("6.6", descent_direction, "negative")


def test_6_6_chain_rule_through_a_differentiable_transform() -> None:
    def chain_rule_when_possible(model, transform, X, y):
        x = X.clone().requires_grad_(True)
        z = transform(x)
        if (
            z.grad_fn is None
            or "Round" in type(z.grad_fn).__name__
            or "Div" in type(z.grad_fn).__name__
        ):
            z = x + (z - x).detach()  # fall back to BPDA only when the transform has no gradient
        CE(model(z), y).backward()
        return x.grad

    r = fails_with("6.6", chain_rule_when_possible, "own derivative", "identity")
    assert "differentiable transform" in r.message


def test_6_6_transform_gradient_leaks_next_to_the_identity() -> None:
    def leaky(model, transform, X, y):
        x = X.clone().requires_grad_(True)
        CE(model(transform(x) + x - x.detach()), y).backward()
        return x.grad

    fails_with("6.6", leaky, "leaks", "detach")


def test_6_6_modifying_x_in_place() -> None:
    def in_place(model, transform, X, y):
        X.data = transform(X).detach()
        X.requires_grad_(True)
        CE(model(X), y).backward()
        return X.grad

    fails_with("6.6", in_place, "in place")


def test_6_6_one_number_per_example() -> None:
    def per_example_sum(model, transform, X, y):
        return SOL["bpda_gradient"](model, transform, X, y).flatten(1).sum(1)

    fails_with("6.6", per_example_sum, "shape of X")


def test_6_6_loss_on_probabilities() -> None:
    def softmax_then_nll(model, transform, X, y):
        z = transform(X).detach().requires_grad_(True)
        loss = nn.functional.nll_loss(torch.softmax(model(z), 1), y)
        return torch.autograd.grad(loss, z)[0]

    fails_with("6.6", softmax_then_nll, "BPDA gradient", "cross-entropy")


def test_6_6_not_implemented_and_crashing_answers() -> None:
    def not_implemented(model, transform, X, y):
        raise NotImplementedError("Exercise 6.6")

    assert run_check("6.6", not_implemented).status == "not implemented"

    def crashes(model, transform, X, y):
        return model(X).backward()  # backward of a non-scalar

    r = run_check("6.6", crashes)
    assert r.status == "failed" and r.points == 0
