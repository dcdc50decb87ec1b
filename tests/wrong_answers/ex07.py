"""Wrong and unusual-but-correct answers of exercise set 07 (machine unlearning)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import numpy as np


def _design(X):
    return np.column_stack([np.ones(len(X)), X])


def _penalty(d, lam):
    return lam * np.diag(np.r_[0.0, np.ones(d)])


def reconstruct_from_update(theta_before, theta_after, hessian):
    v = hessian @ (theta_after - theta_before)
    x_hat = v[1:] / v[0]
    return x_hat, float(theta_after[0] + x_hat @ theta_after[1:] - v[0])
"""

#: A correct answer to 7.2; each wrong answer written as ``edited(NEWTON_UNLEARN_LOGISTIC, ...)``
#: is it with one mistake.
NEWTON_UNLEARN_LOGISTIC = """
def newton_unlearn_logistic(theta, X, y, index, lam):
    keep = np.arange(len(X)) != index
    Xa = _design(X)[keep]
    D = _penalty(X.shape[1], 1.0)
    p = 0.5 * (1 + np.tanh(0.5 * Xa @ theta))
    grad = Xa.T @ (p - y[keep]) + lam * D @ theta
    hess = (Xa * (p * (1 - p))[:, None]).T @ Xa + lam * D
    return theta - np.linalg.solve(hess, grad)
"""

#: A correct answer to 7.3; each wrong answer written as ``edited(RECONSTRUCT_FROM_UPDATE, ...)``
#: is it with one mistake.
RECONSTRUCT_FROM_UPDATE = """
def reconstruct_from_update(theta_before, theta_after, hessian):
    v = hessian @ (theta_after - theta_before)
    x_hat = v[1:] / v[0]
    return x_hat, float(theta_after[0] + x_hat @ theta_after[1:] - v[0])
"""

#: A correct answer to 7.4; each wrong answer written as ``edited(ATTACK_COSINE_UNDER_NOISE, ...)``
#: is it with one mistake.
ATTACK_COSINE_UNDER_NOISE = """
def attack_cosine_under_noise(theta_before, theta_after, hessian, x_true, *, sigma, rng):
    b = theta_before + rng.normal(0.0, sigma, size=theta_before.shape)
    a = theta_after + rng.normal(0.0, sigma, size=theta_after.shape)
    x_hat, _ = reconstruct_from_update(b, a, hessian)
    return float(x_hat @ x_true / (np.linalg.norm(x_hat) * np.linalg.norm(x_true)))
"""

#: A correct answer to 7.1; each wrong answer written as ``edited(REMOVE_RIDGE_ROW, ...)`` is it
#: with one mistake.
REMOVE_RIDGE_ROW = """
def remove_ridge_row(theta, X, y, index, lam):
    Xa = _design(X)
    H = Xa.T @ Xa + _penalty(X.shape[1], lam)
    a = Xa[index]
    h = np.linalg.solve(H, a)
    return theta + (a @ theta - y[index]) * h / (1 - a @ h)
"""

WRONG = {
    "7.1": [
        Wrong(
            "the Hessian of the full data (no leverage correction)",
            "hessian of the full data",
            edited(REMOVE_RIDGE_ROW, " * h / (1 - a @ h)", " * h"),
        ),
        Wrong(
            "the step in the wrong direction",
            "points the wrong way",
            edited(REMOVE_RIDGE_ROW, "return theta + (a @", "return theta - (a @"),
        ),
        Wrong(
            "the intercept penalised (lam * I)",
            "penalised the intercept",
            edited(REMOVE_RIDGE_ROW, "_penalty(X.shape[1], lam)", "lam * np.eye(Xa.shape[1])"),
        ),
        Wrong(
            "refits without the row instead of the closed form",
            "you refitted",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                Xk, yk = np.delete(X, index, 0), np.delete(y, index)
                Xa = _design(Xk)
                return np.linalg.solve(Xa.T @ Xa + _penalty(X.shape[1], lam), Xa.T @ yk)
            """,
            regression="#23",
        ),
        Wrong(
            "removes row index + 1",
            "off by one",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                j = (index + 1) % len(X)
                Xa = _design(X)
                H = Xa.T @ Xa + _penalty(X.shape[1], lam)
                a = Xa[j]
                h = np.linalg.solve(H, a)
                return theta + (a @ theta - y[j]) * h / (1 - a @ h)
            """,
        ),
        Wrong(
            "updates theta in place (theta += ...)",
            "left unchanged",
            edited(
                REMOVE_RIDGE_ROW,
                "    return theta + (a @ theta - y[index]) * h / (1 - a @ h)",
                "    theta += (a @ theta - y[index]) * h / (1 - a @ h)\n    return theta",
            ),
        ),
        Wrong(
            "returns theta unchanged",
            "theta unchanged",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                return theta.copy()
            """,
        ),
        Wrong(
            "forgets the intercept column (a = X[index])",
            "raised ValueError",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                H = X.T @ X + lam * np.eye(X.shape[1])
                a = X[index]
                h = np.linalg.solve(H, a)
                return theta + (a @ theta - y[index]) * h / (1 - a @ h)
            """,
        ),
    ],
    "7.2": [
        Wrong(
            "the gradient of all rows (zero at the fit)",
            "theta unchanged",
            edited(
                NEWTON_UNLEARN_LOGISTIC,
                "    keep = np.arange(len(X)) != index\n",
                "",
                ("_design(X)[keep]", "_design(X)"),
                ("(p - y[keep])", "(p - y)"),
            ),
        ),
        Wrong(
            "the Hessian of all rows",
            "the hessian must be that of the remaining rows",
            edited(
                NEWTON_UNLEARN_LOGISTIC,
                "_design(X)[keep]",
                "_design(X)",
                ("= Xa.T @ (p -", "= Xa[keep].T @ (p[keep] -"),
            ),
        ),
        Wrong(
            "theta + H^-1 grad",
            "sign error",
            edited(
                NEWTON_UNLEARN_LOGISTIC,
                "theta - np.linalg.solve(hess,",
                "theta + np.linalg.solve(hess,",
            ),
        ),
        Wrong(
            "the penalty left out of the gradient",
            "+ lam * d @ theta",
            edited(NEWTON_UNLEARN_LOGISTIC, "y[keep]) + lam * D @ theta", "y[keep])"),
        ),
        Wrong(
            "the intercept penalised",
            "penalised the intercept",
            edited(
                NEWTON_UNLEARN_LOGISTIC, "D = _penalty(X.shape[1], 1.0)", "D = np.eye(Xa.shape[1])"
            ),
        ),
        Wrong(
            "the gradient of lam * ||w||^2 (a factor 2 too many)",
            "not 2 * lam * w",
            edited(NEWTON_UNLEARN_LOGISTIC, "y[keep]) + lam * D", "y[keep]) + 2 * lam * D"),
        ),
        Wrong(
            "retrains to convergence instead of one step",
            "one newton step",
            """
            def newton_unlearn_logistic(theta, X, y, index, lam):
                keep = np.arange(len(X)) != index
                Xa = _design(X)[keep]
                D = _penalty(X.shape[1], 1.0)
                for _ in range(50):
                    p = 0.5 * (1 + np.tanh(0.5 * Xa @ theta))
                    grad = Xa.T @ (p - y[keep]) + lam * D @ theta
                    hess = (Xa * (p * (1 - p))[:, None]).T @ Xa + lam * D
                    theta = theta - np.linalg.solve(hess, grad)
                return theta
            """,
        ),
    ],
    "7.3": [
        Wrong(
            "solves H z = delta instead of multiplying",
            "multiply: h @ delta",
            edited(
                RECONSTRUCT_FROM_UPDATE,
                "hessian @ (theta_after",
                "np.linalg.solve(hessian, theta_after",
            ),
        ),
        Wrong(
            "does not divide by the intercept entry",
            "wrong scale",
            edited(RECONSTRUCT_FROM_UPDATE, "v[1:] / v[0]", "v[1:]"),
        ),
        Wrong(
            "keeps the intercept's entry in x_hat",
            "features only",
            edited(
                RECONSTRUCT_FROM_UPDATE,
                "x_hat = v[1:] / v[0]",
                "x_hat = v / v[0]",
                ("float(theta_after[0] + x_hat @ theta_after[1:]", "float(x_hat @ theta_after"),
            ),
        ),
        Wrong(
            "the target from theta_before",
            "use theta_after, not theta_before",
            edited(
                RECONSTRUCT_FROM_UPDATE,
                "float(theta_after[0] + x_hat @ theta_after[1:]",
                "float(theta_before[0] + x_hat @ theta_before[1:]",
            ),
        ),
        Wrong(
            "adds c instead of subtracting it",
            "sign: a . theta_after - y = c",
            edited(RECONSTRUCT_FROM_UPDATE, "theta_after[1:] - v[0])", "theta_after[1:] + v[0])"),
        ),
        Wrong(
            "reads x from the last entries (intercept assumed last)",
            "theta[0] is the intercept",
            edited(
                RECONSTRUCT_FROM_UPDATE,
                "v[1:] / v[0]",
                "v[:-1] / v[-1]",
                (
                    "float(theta_after[0] + x_hat @ theta_after[1:] - v[0])",
                    "float(theta_after[-1] + x_hat @ theta_after[:-1] - v[-1])",
                ),
            ),
        ),
        Wrong(
            "returns x_hat and y_hat in one array",
            "returns a pair",
            edited(
                RECONSTRUCT_FROM_UPDATE,
                "x_hat, float(theta_after[0] + x_hat @ theta_after[1:] - v[0])",
                "np.r_[x_hat, theta_after[0] + x_hat @ theta_after[1:] - v[0]]",
            ),
        ),
    ],
    "7.4": [
        Wrong(
            "the same noise vector on both releases",
            "own noise draw",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "    b = theta_before + rng.normal(0.0, sigma, size=theta_before.shape)\n"
                "    a = theta_after + rng.normal(0.0, sigma, size=theta_after.shape)\n",
                "    noise = rng.normal(0.0, sigma, size=theta_before.shape)\n"
                "    b, a = theta_before + noise, theta_after + noise\n",
            ),
        ),
        Wrong(
            "noise on one release only",
            "noise on only one of the releases",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "b = theta_before + rng.normal(0.0, sigma, size=theta_before.shape)",
                "b = theta_before",
            ),
        ),
        Wrong(
            "the absolute value of the cosine",
            "do not take abs()",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "float(x_hat @ x_true / (np.linalg.norm(x_hat) * np.linalg.norm(x_true)))",
                "abs(float(x_hat @ x_true / (np.linalg.norm(x_hat) * np.linalg.norm(x_true))))",
            ),
        ),
        Wrong(
            "independent noise, but sigma**2 used as the standard deviation",
            "fit noise of standard deviation sigma**2",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "rng.normal(0.0, sigma, size=theta_before.shape)",
                "rng.normal(0.0, sigma**2, size=theta_before.shape)",
                (
                    "rng.normal(0.0, sigma, size=theta_after.shape)",
                    "rng.normal(0.0, sigma**2, size=theta_after.shape)",
                ),
            ),
            regression="#23",
        ),
        Wrong(
            "a correct 7.4 on top of a wrong 7.3 (it solves H z = delta)",
            "fix 7.3 first",
            """
def reconstruct_from_update(theta_before, theta_after, hessian):
    u = np.linalg.solve(hessian, theta_after - theta_before)
    return u[1:] / u[0], float(theta_after[0] - u[0])
"""
            + ATTACK_COSINE_UNDER_NOISE,
            regression="#23",
        ),
        Wrong(
            "a correct 7.4 while 7.3 is still not implemented",
            "fix 7.3 first",
            """
def reconstruct_from_update(theta_before, theta_after, hessian):
    raise NotImplementedError("Exercise 7.3: return (x_hat, y_hat)")
"""
            + ATTACK_COSINE_UNDER_NOISE,
            regression="#23",
        ),
        Wrong(
            "the global np.random instead of rng",
            "the `rng` argument",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "theta_before + rng.normal(0.0, sigma, size=theta_before.shape)",
                "theta_before + np.random.normal(0.0, sigma, size=theta_before.shape)",
                ("rng.normal(0.0,", "np.random.normal(0.0,"),
            ),
        ),
        Wrong(
            "returns the reconstruction instead of the cosine",
            "returns one number",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "return float(x_hat @ x_true / (np.linalg.norm(x_hat) * np.linalg.norm(x_true)))",
                "return x_hat",
            ),
        ),
        Wrong(
            "the dot product, not divided by the norms",
            "divide the dot product by both vectors' norms",
            edited(
                ATTACK_COSINE_UNDER_NOISE,
                "x_true / (np.linalg.norm(x_hat) * np.linalg.norm(x_true)))",
                "x_true)",
            ),
        ),
    ],
}

RIGHT = {
    "7.1": [
        Right(
            "solves with the downdated Hessian directly",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                Xa = np.hstack([np.ones((len(X), 1)), X])
                H = Xa.T @ Xa + lam * np.diag([0.0] + [1.0] * X.shape[1])
                a = Xa[index]
                return theta + np.linalg.solve(H - np.outer(a, a), a) * (a @ theta - y[index])
            """,
        ),
        Right(
            "Sherman-Morrison with an explicit inverse",
            """
            def remove_ridge_row(theta, X, y, index, lam):
                Xa = _design(X)
                Hinv = np.linalg.inv(Xa.T @ Xa + _penalty(X.shape[1], lam))
                a = Xa[index]
                leverage = a @ Hinv @ a
                return theta + Hinv @ a * (a @ theta - y[index]) / (1.0 - leverage)
            """,
        ),
    ],
    "7.2": [
        Right(
            "scipy's expit and np.delete",
            """
            from scipy.special import expit

            def newton_unlearn_logistic(theta, X, y, index, lam):
                Xa = np.delete(_design(X), index, axis=0)
                yk = np.delete(y, index)
                D = _penalty(X.shape[1], lam)
                p = expit(Xa @ theta)
                grad = Xa.T @ (p - yk) + D @ theta
                hess = np.einsum("ni,n,nj->ij", Xa, p * (1 - p), Xa) + D
                return theta - np.linalg.solve(hess, grad)
            """,
        ),
        Right(
            "the full-data terms minus the removed row's",
            """
            def newton_unlearn_logistic(theta, X, y, index, lam):
                Xa = _design(X)
                D = _penalty(X.shape[1], lam)
                p = 1 / (1 + np.exp(-(Xa @ theta)))
                w = p * (1 - p)
                a = Xa[index]
                grad = Xa.T @ (p - y) + D @ theta - a * (p[index] - y[index])
                hess = Xa.T @ (Xa * w[:, None]) + D - w[index] * np.outer(a, a)
                return theta - np.linalg.lstsq(hess, grad, rcond=None)[0]
            """,
        ),
    ],
    "7.3": [
        Right(
            "lstsq instead of a product, target from theta_before and the leverage",
            """
            def reconstruct_from_update(theta_before, theta_after, hessian):
                delta = theta_after - theta_before
                v = hessian @ delta
                c = v[0]
                a = v / c
                u = np.linalg.lstsq(hessian, a, rcond=None)[0]  # H^-1 a
                leverage = a @ u
                y_hat = a @ theta_before - c * (1 - leverage)
                return a[1:], y_hat
            """,
        ),
        Right(
            "a list and a numpy scalar",
            """
            def reconstruct_from_update(theta_before, theta_after, hessian):
                v = np.dot(hessian, np.subtract(theta_after, theta_before))
                x = [vi / v[0] for vi in v[1:]]
                y_hat = np.float64(theta_after[0] + np.dot(x, theta_after[1:]) - v[0])
                return x, y_hat
            """,
        ),
    ],
    "7.4": [
        Right(
            "both noise vectors in one draw",
            """
            def attack_cosine_under_noise(theta_before, theta_after, hessian, x_true, *, sigma, rng):
                noise = rng.normal(0.0, sigma, size=(2, len(theta_before)))
                x_hat, _ = reconstruct_from_update(theta_before + noise[0], theta_after + noise[1],
                                                   hessian)
                return x_hat @ x_true / np.sqrt((x_hat @ x_hat) * (x_true @ x_true))
            """,
        ),
        Right(
            "standard normals scaled by sigma, scipy's cosine distance",
            """
            from scipy.spatial.distance import cosine

            def attack_cosine_under_noise(theta_before, theta_after, hessian, x_true, *, sigma, rng):
                b = theta_before + sigma * rng.standard_normal(theta_before.shape)
                a = theta_after + sigma * rng.standard_normal(theta_after.shape)
                v = hessian @ (a - b)
                return 1.0 - cosine(v[1:] / v[0], x_true)
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(7, PRELUDE, WRONG, RIGHT),
    "7.5",
    importlib.import_module("tests.test_challenge_07"),  # the challenge's answers live there
)
