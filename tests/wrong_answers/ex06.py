"""Wrong and unusual-but-correct answers of exercise set 06 (robustness)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import numpy as np
import torch
from scipy import stats


def _input_grad(model, X, y):
    x = X.clone().requires_grad_(True)
    return torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), y), x)[0]
"""

#: A correct answer to 6.3; each wrong answer written as ``edited(CERTIFIED_RADIUS, ...)`` is it
#: with one mistake.
CERTIFIED_RADIUS = """
def certified_radius(n_a, n, sigma, alpha):
    p = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a else 0.0
    return float(sigma * stats.norm.ppf(p)) if p > 0.5 else 0.0
"""

#: A correct answer to 6.5; each wrong answer written as ``edited(BACKDOOR_SUCCESS_RATE, ...)`` is
#: it with one mistake.
BACKDOOR_SUCCESS_RATE = """
def backdoor_success_rate(model, X, y, target, trigger):
    keep = y != target
    with torch.no_grad():
        pred = model(torch.as_tensor(trigger(X[keep]))).argmax(1).numpy()
    return float(np.mean(pred == target))
"""

#: A correct answer to 6.6; each wrong answer written as ``edited(BPDA_GRADIENT, ...)`` is it with
#: one mistake.
BPDA_GRADIENT = """
def bpda_gradient(model, transform, X, y):
    z = transform(X).detach().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(model(z), y)
    return torch.autograd.grad(loss, z)[0]
"""

#: The same, by backward() on an input whose forward value is the transform's (the identity's
#: gradient): ``edited(BPDA_BY_BACKWARD, ...)`` is it with one mistake.
BPDA_BY_BACKWARD = """
def bpda_gradient(model, transform, X, y):
    x = X.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(model(x + (transform(x) - x).detach()), y).backward()
    return x.grad
"""

#: A correct answer to 6.4; each wrong answer written as ``edited(AGREEMENT, ...)`` is it with one
#: mistake.
AGREEMENT = """
def agreement(victim_query, surrogate, X):
    answers = np.asarray(victim_query(X))
    top = answers.argmax(1) if answers.ndim == 2 else answers
    with torch.no_grad():
        return float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy() == top))
"""

#: A correct answer to 6.2; each wrong answer written as ``edited(PROJECT, ...)`` is it with one
#: mistake.
PROJECT = """
def project(X_adv, X, eps, norm):
    d = X_adv - X
    if norm == "linf":
        return (X + d.clamp(-eps, eps)).clamp(0, 1)
    return (X + d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0, 1)
"""

WRONG = {
    "6.1": [
        Wrong(
            "steps down the loss (X - eps * sign)",
            "step *up* the loss",
            """
            def fgsm_attack(model, X, y, eps):
                return (X - eps * _input_grad(model, X, y).sign()).clamp(0, 1).detach()
            """,
        ),
        Wrong(
            "no clipping to [0, 1]",
            "clamp(0, 1)",
            """
            def fgsm_attack(model, X, y, eps):
                return (X + eps * _input_grad(model, X, y).sign()).detach()
            """,
        ),
        Wrong(
            "the raw gradient instead of its sign",
            "use grad.sign()",
            """
            def fgsm_attack(model, X, y, eps):
                return (X + eps * _input_grad(model, X, y)).clamp(0, 1).detach()
            """,
            regression="#28",
        ),
        Wrong(
            "a normalised gradient instead of its sign",
            "use grad.sign()",
            """
            def fgsm_attack(model, X, y, eps):
                g = _input_grad(model, X, y)
                return (X + eps * g / g.abs().amax(dim=1, keepdim=True)).clamp(0, 1).detach()
            """,
        ),
        Wrong(
            "not detached: the result still requires grad",
            "detached from the graph",
            """
            def fgsm_attack(model, X, y, eps):
                x = X.clone().requires_grad_(True)
                loss = torch.nn.functional.cross_entropy(model(x), y)
                (g,) = torch.autograd.grad(loss, x)
                return (x + eps * g.sign()).clamp(0, 1)
            """,
            regression="#28",
        ),
        Wrong(
            "the model's predictions as labels",
            "not the model's own predictions",
            """
            def fgsm_attack(model, X, y, eps):
                with torch.no_grad():
                    guess = model(X).argmax(1)
                return (X + eps * _input_grad(model, X, guess).sign()).clamp(0, 1).detach()
            """,
        ),
        Wrong(
            "returns the perturbation only",
            "you returned the perturbation",
            """
            def fgsm_attack(model, X, y, eps):
                return (eps * _input_grad(model, X, y).sign()).detach()
            """,
        ),
        Wrong(
            "returns a numpy array",
            "expected a torch tensor, got numpy.ndarray",
            """
            def fgsm_attack(model, X, y, eps):
                return (X + eps * _input_grad(model, X, y).sign()).clamp(0, 1).detach().numpy()
            """,
        ),
        Wrong(
            "makes the caller's X require grad",
            "on a copy",
            """
            def fgsm_attack(model, X, y, eps):
                X.requires_grad_(True)
                loss = torch.nn.functional.cross_entropy(model(X), y)
                (g,) = torch.autograd.grad(loss, X)
                return (X + eps * g.sign()).clamp(0, 1).detach()
            """,
        ),
        Wrong(
            "loss.backward() on an X that does not require grad",
            "raised AttributeError",
            """
            def fgsm_attack(model, X, y, eps):
                loss = torch.nn.functional.cross_entropy(model(X), y)
                loss.backward()
                return (X + eps * X.grad.sign()).clamp(0, 1)
            """,
        ),
    ],
    "6.2": [
        Wrong(
            "clips each pixel for L2 too",
            "changes the direction",
            """
            def project(X_adv, X, eps, norm):
                return (X + (X_adv - X).clamp(-eps, eps)).clamp(0, 1)
            """,
        ),
        Wrong(
            "always rescales to length eps",
            "only shrink delta",
            edited(
                PROJECT,
                "(eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0,",
                "eps / d.norm(dim=1, keepdim=True)).clamp(0,",
            ),
        ),
        Wrong(
            "one norm for the whole batch",
            "not of the whole batch",
            edited(
                PROJECT,
                "(eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0,",
                "min(1.0, eps / float(d.norm()))).clamp(0,",
            ),
        ),
        Wrong(
            "the norm over dim=0",
            "not over the batch (dim=0)",
            edited(
                PROJECT,
                "(eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0,",
                "torch.clamp(eps / d.norm(dim=0, keepdim=True), max=1.0)).clamp(0,",
            ),
            regression="#28",
        ),
        Wrong(
            "no clipping to [0, 1]",
            "clip to [0, 1]",
            edited(
                PROJECT,
                "return (X + d.clamp(-eps, eps)).clamp(0, 1)",
                "return X + d.clamp(-eps, eps)",
                (
                    "return (X + d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0, 1)",
                    "return X + d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)",
                ),
            ),
        ),
        Wrong(
            "returns delta instead of X + delta",
            "not delta itself",
            edited(
                PROJECT,
                "return (X + d.clamp(-eps, eps)).clamp(0, 1)",
                "return d.clamp(-eps, eps)",
                (
                    "return (X + d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)).clamp(0, 1)",
                    "return d * (eps / d.norm(dim=1, keepdim=True)).clamp(max=1.0)",
                ),
            ),
        ),
        Wrong(
            "ignores the norm argument (always L2)",
            "use the `norm` argument",
            edited(
                PROJECT,
                '    if norm == "linf":\n        return (X + d.clamp(-eps, eps)).clamp(0, 1)\n',
                "",
            ),
        ),
        Wrong(
            "returns a numpy array",
            "expected a torch tensor, got numpy.ndarray",
            """
            def project(X_adv, X, eps, norm):
                d = (X_adv - X).numpy()
                if norm == "linf":
                    d = np.clip(d, -eps, eps)
                else:
                    d = d * np.minimum(1, eps / np.linalg.norm(d, axis=1, keepdims=True))
                return np.clip(X.numpy() + d, 0, 1)
            """,
        ),
    ],
    "6.3": [
        Wrong(
            "the point estimate n_a / n",
            "only an estimate",
            edited(
                CERTIFIED_RADIUS,
                "stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a else 0.0",
                "n_a / n",
            ),
        ),
        Wrong(
            "a two-sided interval (alpha / 2)",
            "one-sided",
            edited(CERTIFIED_RADIUS, "stats.beta.ppf(alpha,", "stats.beta.ppf(alpha / 2,"),
        ),
        Wrong(
            "sigma forgotten",
            "multiply by sigma",
            edited(
                CERTIFIED_RADIUS, "float(sigma * stats.norm.ppf(p))", "float(stats.norm.ppf(p))"
            ),
        ),
        Wrong(
            "a negative radius instead of abstaining",
            "a negative radius certifies nothing",
            edited(
                CERTIFIED_RADIUS,
                "n_a, n - n_a + 1) if n_a else 0.0",
                "max(n_a, 1), n - n_a + 1)",
                ("stats.norm.ppf(p)) if p > 0.5 else 0.0", "stats.norm.ppf(p))"),
            ),
        ),
        Wrong(
            "NaN for n_a = 0",
            "is nan",
            """
            def certified_radius(n_a, n, sigma, alpha):
                p = stats.beta.ppf(alpha, n_a, n - n_a + 1)
                if p <= 0.5:
                    return 0.0
                return float(sigma * stats.norm.ppf(p))
            """,
            regression="#28",
        ),
        Wrong(
            "the upper confidence bound",
            "upper confidence bound",
            edited(
                CERTIFIED_RADIUS,
                "stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a else 0.0",
                "stats.beta.ppf(1 - alpha, n_a + 1, n - n_a) if n_a < n else 1.0",
                ("if p > 0.5 else", "if 0.5 < p < 1 else"),
            ),
        ),
        Wrong(
            "the normal approximation of the bound",
            "not the normal approximation",
            edited(
                CERTIFIED_RADIUS,
                "    p = stats.beta.ppf(alpha, n_a, n - n_a + 1) if n_a else 0.0\n",
                "    p_hat = n_a / n\n"
                "    p = p_hat - stats.norm.ppf(1 - alpha) * np.sqrt(p_hat * (1 - p_hat) / n)\n",
            ),
        ),
        Wrong(
            "the normal CDF instead of its inverse",
            "not stats.norm.cdf",
            edited(CERTIFIED_RADIUS, "stats.norm.ppf(p))", "stats.norm.cdf(p))"),
        ),
    ],
    "6.4": [
        Wrong(
            "assumes probabilities (argmax of 1-d labels fails)",
            "take argmax only when 2-d",
            edited(
                AGREEMENT,
                "answers.argmax(1) if answers.ndim == 2 else answers",
                "answers.argmax(1)",
            ),
        ),
        Wrong(
            "the number of matching inputs, not the fraction",
            "divide the number of matching answers",
            edited(
                AGREEMENT,
                "float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy()",
                "int(np.sum(surrogate(torch.tensor(X)).argmax(1).numpy()",
            ),
        ),
        Wrong(
            "compares probability values with ==",
            "probability values almost never match",
            """
            def agreement(victim_query, surrogate, X):
                with torch.no_grad():
                    mine = torch.softmax(surrogate(torch.tensor(X)), 1).numpy()
                answers = np.asarray(victim_query(X))
                if answers.ndim == 1:
                    return float(np.mean(mine.argmax(1) == answers))
                return float(np.mean(np.all(answers == mine, axis=1)))
            """,
        ),
        Wrong(
            "a percentage",
            "not a percentage",
            edited(
                AGREEMENT,
                "float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy()",
                "100 * float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy()",
            ),
        ),
        Wrong(
            "the disagreement",
            "disagreement",
            edited(
                AGREEMENT,
                "float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy() == top))",
                "float(np.mean(surrogate(torch.tensor(X)).argmax(1).numpy() != top))",
            ),
        ),
        Wrong(
            "calls the surrogate on a numpy array",
            "must be tensor",
            edited(AGREEMENT, "surrogate(torch.tensor(X))", "surrogate(X)"),
        ),
    ],
    "6.5": [
        Wrong(
            "includes the target class",
            "y != target",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "    keep = y != target\n",
                "",
                (
                    "model(torch.as_tensor(trigger(X[keep]))).argmax(1).numpy()",
                    "model(torch.as_tensor(trigger(X))).argmax(1).numpy()",
                ),
            ),
        ),
        Wrong(
            "forgets the trigger",
            "stamp the trigger",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "model(torch.as_tensor(trigger(X[keep]))).argmax(1).numpy()",
                "model(torch.as_tensor(X[keep])).argmax(1).numpy()",
            ),
        ),
        Wrong(
            "the count, not the fraction",
            "return a fraction",
            edited(BACKDOOR_SUCCESS_RATE, "float(np.mean(pred", "int(np.sum(pred"),
        ),
        Wrong(
            "filters by the clean prediction instead of the true class",
            "by their true class",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "    keep = y != target\n    with torch.no_grad():\n",
                "    with torch.no_grad():\n"
                "        clean = model(torch.as_tensor(X)).argmax(1).numpy()\n"
                "        keep = clean != target\n",
            ),
            regression="#28",
        ),
        Wrong(
            "only the correctly classified clean examples",
            "also those the model gets wrong",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "    keep = y != target\n    with torch.no_grad():\n",
                "    with torch.no_grad():\n"
                "        clean = model(torch.as_tensor(X)).argmax(1).numpy()\n"
                "        keep = (y != target) & (clean == y)\n",
            ),
            regression="#28",
        ),
        Wrong(
            "the fraction misclassified under the trigger",
            "not every misclassification",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "float(np.mean(pred == target))",
                "float(np.mean(pred != y[keep]))",
            ),
            regression="#28",
        ),
        Wrong(
            "the fraction whose prediction changes under the trigger",
            "not every prediction that changes",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "    with torch.no_grad():\n",
                "    with torch.no_grad():\n"
                "        before = model(torch.as_tensor(X[keep])).argmax(1).numpy()\n",
                ("float(np.mean(pred == target))", "float(np.mean(pred != before))"),
            ),
            regression="#28",
        ),
        Wrong(
            "compares the triggered prediction with y",
            "equal the true class y",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "float(np.mean(pred == target))",
                "float(np.mean(pred == y[keep]))",
            ),
            regression="#28",
        ),
        Wrong(
            "divides by all examples",
            "not by all examples",
            edited(
                BACKDOOR_SUCCESS_RATE,
                "float(np.mean(pred == target))",
                "float(np.sum(pred == target) / len(y))",
            ),
        ),
    ],
    "6.6": [
        Wrong(
            "back-propagates through the rounding (gradient zero)",
            "rounding has derivative zero",
            edited(
                BPDA_BY_BACKWARD, "model(x + (transform(x) - x).detach())", "model(transform(x))"
            ),
        ),
        Wrong(
            "the defence left out of the forward pass (gradient at X)",
            "transform(X), not at X",
            edited(BPDA_BY_BACKWARD, "model(x + (transform(x) - x).detach())", "model(x)"),
        ),
        Wrong(
            "the gradient of the negative loss",
            "not of its negative",
            edited(BPDA_GRADIENT, "torch.autograd.grad(loss,", "-torch.autograd.grad(loss,"),
        ),
        Wrong(
            "the chain rule through a differentiable transform",
            "transform's own derivative (the chain rule",
            """
            def bpda_gradient(model, transform, X, y):
                x = X.clone().requires_grad_(True)
                z = transform(x)
                if z.grad_fn is None or "Round" in type(z.grad_fn).__name__ or "Div" in type(
                    z.grad_fn
                ).__name__:
                    z = x + (z - x).detach()  # BPDA only when the transform has no gradient
                torch.nn.functional.cross_entropy(model(z), y).backward()
                return x.grad
            """,
        ),
        Wrong(
            "the transform's derivative leaks in next to the identity",
            "leaks in next to the identity",
            edited(
                BPDA_BY_BACKWARD,
                "model(x + (transform(x) - x).detach())",
                "model(transform(x) + x - x.detach())",
            ),
        ),
        Wrong(
            "overwrites X in place (X.data = transform(X))",
            "do not modify x in place",
            """
            def bpda_gradient(model, transform, X, y):
                X.data = transform(X).detach()
                X.requires_grad_(True)
                torch.nn.functional.cross_entropy(model(X), y).backward()
                return X.grad
            """,
        ),
        Wrong(
            "one number per example (the gradient summed over pixels)",
            "shaped like x (not per example",
            edited(
                BPDA_GRADIENT,
                "torch.autograd.grad(loss, z)[0]",
                "torch.autograd.grad(loss, z)[0].flatten(1).sum(1)",
            ),
        ),
        Wrong(
            "nll_loss on softmax probabilities instead of log-probabilities",
            "nll_loss expects log-probabilities",
            edited(
                BPDA_GRADIENT,
                "torch.nn.functional.cross_entropy(model(z),",
                "torch.nn.functional.nll_loss(torch.softmax(model(z), 1),",
            ),
        ),
        Wrong(
            "backward() on the logits (not a scalar)",
            "raised RuntimeError",
            edited(
                BPDA_GRADIENT,
                "loss = torch.nn.functional.cross_entropy(model(z), y)",
                "model(z).backward()",
                ("torch.autograd.grad(loss, z)[0]", "z.grad"),
            ),
        ),
    ],
}

RIGHT = {
    "6.1": [
        Right(
            "summed loss, numpy sign and clip",
            """
            def fgsm_attack(model, X, y, eps):
                x = X.clone().requires_grad_(True)
                torch.nn.functional.cross_entropy(model(x), y, reduction="sum").backward()
                g = x.grad.numpy()
                return torch.tensor(np.clip(X.numpy() + eps * np.sign(g), 0.0, 1.0))
            """,
        ),
        Right(
            "backward() on a copy, result built under no_grad",
            """
            def fgsm_attack(model, X, y, eps):
                x = X.detach().clone()
                x.requires_grad = True
                loss = torch.nn.CrossEntropyLoss()(model(x), y)
                model.zero_grad()
                loss.backward()
                with torch.no_grad():
                    return torch.clamp(X + eps * torch.sign(x.grad), min=0.0, max=1.0)
            """,
        ),
    ],
    "6.2": [
        Right(
            "torch.where on the norms",
            """
            def project(X_adv, X, eps, norm):
                delta = X_adv - X
                if norm == "linf":
                    delta = torch.maximum(torch.minimum(delta, torch.tensor(eps)), torch.tensor(-eps))
                else:
                    n = torch.sqrt((delta**2).sum(1, keepdim=True))
                    delta = torch.where(n > eps, delta * eps / n, delta)
                return torch.clip(X + delta, 0.0, 1.0)
            """,
        ),
        Right(
            "torch.renorm, after clipping X_adv to [0, 1] first",
            """
            def project(X_adv, X, eps, norm):
                delta = X_adv.clamp(0, 1) - X
                if norm == "linf":
                    delta = delta.clamp(-eps, eps)
                else:
                    delta = torch.renorm(delta, p=2, dim=0, maxnorm=eps)
                return (X + delta).clamp(0, 1)
            """,
            regression="#28",
        ),
    ],
    "6.3": [
        Right(
            "the closed form alpha ** (1 / n) when all votes agree",
            """
            def certified_radius(n_a, n, sigma, alpha):
                if n_a == 0:
                    return 0.0
                p = alpha ** (1 / n) if n_a == n else stats.beta(n_a, n - n_a + 1).ppf(alpha)
                return max(0.0, sigma * stats.norm.ppf(p)) if p > 0.5 else 0.0
            """,
        ),
        Right(
            "scipy's binomtest exact interval at confidence 1 - 2 alpha",
            """
            def certified_radius(n_a, n, sigma, alpha):
                if n_a == 0:
                    return 0.0
                ci = stats.binomtest(n_a, n).proportion_ci(confidence_level=1 - 2 * alpha,
                                                           method="exact")
                return sigma * stats.norm.ppf(ci.low) if ci.low > 0.5 else 0.0
            """,
        ),
    ],
    "6.4": [
        Right(
            "torch only",
            """
            def agreement(victim_query, surrogate, X):
                answers = torch.as_tensor(np.asarray(victim_query(X)))
                top = answers if answers.dim() == 1 else answers.argmax(dim=1)
                return (surrogate(torch.tensor(X)).argmax(dim=1) == top).double().mean().item()
            """,
        ),
        Right(
            "a loop in batches of 64 with np.count_nonzero",
            """
            def agreement(victim_query, surrogate, X):
                same = 0
                for start in range(0, len(X), 64):
                    chunk = X[start:start + 64]
                    answers = np.asarray(victim_query(chunk))
                    top = answers if answers.ndim == 1 else np.argmax(answers, axis=1)
                    with torch.no_grad():
                        mine = surrogate(torch.from_numpy(np.float32(chunk))).numpy().argmax(1)
                    same += np.count_nonzero(mine == top)
                return same / len(X)
            """,
        ),
    ],
    "6.5": [
        Right(
            "a loop over examples",
            """
            def backdoor_success_rate(model, X, y, target, trigger):
                hits = total = 0
                for x, label in zip(X, y):
                    if label == target:
                        continue
                    total += 1
                    logits = model(torch.tensor(trigger(x[None, :])))
                    hits += int(logits.argmax(1).item() == target)
                return hits / total
            """,
        ),
        Right(
            "stamp everything first, mask afterwards, torch only",
            """
            def backdoor_success_rate(model, X, y, target, trigger):
                with torch.no_grad():
                    pred = model(torch.as_tensor(trigger(X), dtype=torch.float32)).argmax(1)
                mask = torch.as_tensor(y) != target
                return (pred[mask] == target).float().mean().item()
            """,
        ),
    ],
    "6.6": [
        Right(
            "the straight-through trick, a summed loss, a numpy result",
            """
            def bpda_gradient(model, transform, X, y):
                x = X.clone().requires_grad_(True)
                z = x + (transform(x) - x).detach()
                torch.nn.functional.cross_entropy(model(z), y, reduction="sum").backward()
                return x.grad.numpy()
            """,
        ),
        Right(
            "a custom autograd.Function, scaled by 1000",
            """
            class _Identity(torch.autograd.Function):
                @staticmethod
                def forward(ctx, x, transform):
                    return transform(x.detach())

                @staticmethod
                def backward(ctx, grad):
                    return grad, None


            def bpda_gradient(model, transform, X, y):
                x = X.detach().clone().requires_grad_(True)
                loss = torch.nn.functional.cross_entropy(model(_Identity.apply(x, transform)), y)
                return torch.autograd.grad(loss, x)[0] * 1000.0  # any positive scale is fine
            """,
        ),
        Right(
            "one example at a time",
            """
            def bpda_gradient(model, transform, X, y):
                rows = []
                for i in range(len(X)):
                    z = transform(X[i : i + 1]).detach().requires_grad_(True)
                    loss = torch.nn.functional.cross_entropy(model(z), y[i : i + 1], reduction="sum")
                    loss.backward()
                    rows.append(z.grad)
                return torch.cat(rows)
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(6, PRELUDE, WRONG, RIGHT),
    "6.7",
    importlib.import_module("tests.test_challenge_06"),  # the challenge's answers live there
)
