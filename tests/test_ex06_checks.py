"""Exercise set 06: each check passes the reference answer and answers written differently, and
fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with, passes, solution_namespace

torch.set_num_threads(1)

SOL = solution_namespace("06_robustness", np=np, torch=torch, stats=stats)


def _input_grad(model, X, y, reduction="mean"):
    x = X.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(model(x), y, reduction=reduction).backward()
    return x.grad


def test_set06_is_registered_with_points_and_references() -> None:
    qs = {q: REGISTRY[q] for q in ("6.1", "6.2", "6.3", "6.4", "6.5")}
    assert [q.points for q in qs.values()] == [2, 2, 2, 1, 2]
    assert {q.answer for q in qs.values()} == {
        "fgsm_attack", "project", "certified_radius", "agreement", "backdoor_success_rate"
    }
    assert all(q.reference for q in qs.values())


def test_6_1_fgsm() -> None:
    passes("6.1", SOL["fgsm_attack"])

    def summed_loss_numpy_style(model, X, y, eps):  # sum instead of mean: same sign
        g = _input_grad(model, X, y, reduction="sum").numpy()
        return torch.tensor(np.clip(X.numpy() + eps * np.sign(g), 0.0, 1.0))

    passes("6.1", summed_loss_numpy_style)

    def no_clip(model, X, y, eps):
        return (X + eps * _input_grad(model, X, y).sign()).detach()

    fails_with("6.1", no_clip, "[0, 1]", "clamp")

    def descends(model, X, y, eps):
        return (X - eps * _input_grad(model, X, y).sign()).clamp(0, 1).detach()

    fails_with("6.1", descends, "up")

    def raw_gradient(model, X, y, eps):
        return (X + eps * _input_grad(model, X, y)).clamp(0, 1).detach()

    fails_with("6.1", raw_gradient, "sign")

    def not_implemented(model, X, y, eps):
        raise NotImplementedError("Exercise 6.1")

    assert run_check("6.1", not_implemented).status == "not implemented"


def test_6_2_project() -> None:
    passes("6.2", SOL["project"])

    def written_differently(X_adv, X, eps, norm):
        delta = X_adv - X
        if norm == "linf":
            delta = torch.maximum(torch.minimum(delta, torch.tensor(eps)), torch.tensor(-eps))
        else:
            n = torch.sqrt((delta**2).sum(1, keepdim=True))
            delta = torch.where(n > eps, delta * eps / n, delta)
        return torch.clip(X + delta, 0.0, 1.0)

    passes("6.2", written_differently)

    def coordinatewise_l2(X_adv, X, eps, norm):
        return (X + (X_adv - X).clamp(-eps, eps)).clamp(0, 1)

    fails_with("6.2", coordinatewise_l2, "direction")

    def always_rescale(X_adv, X, eps, norm):
        delta = X_adv - X
        if norm == "linf":
            return (X + delta.clamp(-eps, eps)).clamp(0, 1)
        return (X + delta * eps / delta.norm(dim=1, keepdim=True)).clamp(0, 1)

    fails_with("6.2", always_rescale, "only shrink")

    def batch_norm(X_adv, X, eps, norm):
        delta = X_adv - X
        if norm == "linf":
            return (X + delta.clamp(-eps, eps)).clamp(0, 1)
        return (X + delta * min(1.0, eps / float(delta.norm()))).clamp(0, 1)

    fails_with("6.2", batch_norm, "each example")

    def no_box(X_adv, X, eps, norm):
        delta = X_adv - X
        if norm == "linf":
            return X + delta.clamp(-eps, eps)
        return X + delta * torch.clamp(eps / delta.norm(dim=1, keepdim=True), max=1.0)

    fails_with("6.2", no_box, "[0, 1]")


def test_6_3_certified_radius() -> None:
    passes("6.3", SOL["certified_radius"])

    def via_closed_form_when_all_agree(n_a, n, sigma, alpha):
        if n_a == n:
            p = alpha ** (1 / n)
        elif n_a == 0:
            return 0.0
        else:
            p = stats.beta(n_a, n - n_a + 1).ppf(alpha)
        return max(0.0, sigma * stats.norm.ppf(p)) if p > 0.5 else 0.0

    passes("6.3", via_closed_form_when_all_agree)

    def point_estimate(n_a, n, sigma, alpha):
        p = n_a / n
        return sigma * stats.norm.ppf(p) if p > 0.5 else 0.0

    fails_with("6.3", point_estimate, "lower bound")

    def two_sided(n_a, n, sigma, alpha):
        p = stats.beta.ppf(alpha / 2, n_a, n - n_a + 1) if n_a else 0.0
        return sigma * stats.norm.ppf(p) if p > 0.5 else 0.0

    fails_with("6.3", two_sided, "one-sided")

    def no_sigma(n_a, n, sigma, alpha):
        p = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a else 0.0
        return stats.norm.ppf(p) if p > 0.5 else 0.0

    fails_with("6.3", no_sigma, "sigma")

    def negative_when_unsure(n_a, n, sigma, alpha):
        p = stats.beta.ppf(alpha, max(n_a, 1), n - n_a + 1)
        return sigma * stats.norm.ppf(p)

    fails_with("6.3", negative_when_unsure, "abstain")


def test_6_4_agreement() -> None:
    passes("6.4", SOL["agreement"])

    def with_torch_only(victim_query, surrogate, X):
        answers = torch.as_tensor(np.asarray(victim_query(X)))
        top = answers if answers.dim() == 1 else answers.argmax(dim=1)
        return (surrogate(torch.tensor(X)).argmax(dim=1) == top).double().mean().item()

    passes("6.4", with_torch_only)

    def assumes_probabilities(victim_query, surrogate, X):
        top = np.asarray(victim_query(X)).argmax(1)
        with torch.no_grad():
            return float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy() == top))

    fails_with("6.4", assumes_probabilities, "labels (1-d)")

    def count_not_fraction(victim_query, surrogate, X):
        answers = np.asarray(victim_query(X))
        top = answers.argmax(1) if answers.ndim == 2 else answers
        with torch.no_grad():
            return int(np.sum(surrogate(torch.tensor(X)).argmax(1).numpy() == top))

    fails_with("6.4", count_not_fraction, "divide")

    def compares_probabilities(victim_query, surrogate, X):
        with torch.no_grad():
            mine = torch.softmax(surrogate(torch.tensor(X)), 1).numpy()
        return float(np.mean(np.all(np.asarray(victim_query(X)) == mine, axis=1)))

    fails_with("6.4", compares_probabilities, "argmax")


def test_6_5_backdoor_success_rate() -> None:
    passes("6.5", SOL["backdoor_success_rate"])

    def loop_version(model, X, y, target, trigger):
        hits = total = 0
        for x, label in zip(X, y, strict=True):
            if label == target:
                continue
            stamped = trigger(x[None, :])
            total += 1
            hits += int(model(torch.tensor(stamped)).argmax(1).item() == target)
        return hits / total

    passes("6.5", loop_version)

    def includes_target_class(model, X, y, target, trigger):
        with torch.no_grad():
            return float((model(torch.tensor(trigger(X))).argmax(1) == target).float().mean())

    fails_with("6.5", includes_target_class, "y != target")

    def forgets_trigger(model, X, y, target, trigger):
        keep = y != target
        with torch.no_grad():
            return float((model(torch.tensor(X[keep])).argmax(1) == target).float().mean())

    fails_with("6.5", forgets_trigger, "trigger")

    def counts(model, X, y, target, trigger):
        keep = y != target
        with torch.no_grad():
            return int((model(torch.tensor(trigger(X[keep]))).argmax(1) == target).sum())

    fails_with("6.5", counts, "fraction")
