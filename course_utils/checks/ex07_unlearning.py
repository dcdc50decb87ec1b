"""Checks of exercise set 07 (machine unlearning and the reconstruction attack on deleted data).

Conventions (as in notebook 07): ``theta[0]`` is the intercept, ``Xa = [1, X]``; ridge minimises
the sum of squared errors plus ``lam * ||w||^2`` and logistic regression the sum of log-losses plus
``lam / 2 * ||w||^2`` (intercept unpenalised), so both Hessians end in ``+ lam * diag(0, 1, ..., 1)``.

Expected values are computed here with plain numpy (never with :mod:`course_utils.unlearning` or
:mod:`course_utils.attacks.reconstruction`), on several random problems, and the usual mistakes are
recomputed on the same problem so the hint can name the one that was made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import expect, question

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# plain-numpy helpers (independent of the course's implementation)
# ---------------------------------------------------------------------------------------------
def _aug(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def _pen(dim: int, lam: float) -> np.ndarray:
    return lam * np.diag(np.r_[0.0, np.ones(dim - 1)])


def _ridge(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    A = _aug(X)
    return np.linalg.solve(A.T @ A + _pen(A.shape[1], lam), A.T @ y)


def _ridge_problem(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = 2.0 + X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    return X, y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logistic(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    A = _aug(X)
    P = _pen(A.shape[1], lam)
    theta = np.zeros(A.shape[1])
    for _ in range(50):
        p = _sigmoid(A @ theta)
        g = A.T @ (p - y) + P @ theta
        H = (A * (p * (1 - p))[:, None]).T @ A + P
        theta = theta - np.linalg.solve(H, g)
        if np.abs(g).max() < 1e-12:
            break
    return theta


def _logistic_problem(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + rng.normal(size=n) > 0).astype(float)
    return X, y


def _vector(value: Any, length: int, name: str, hint: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float).reshape(-1)
    except Exception:
        arr = None
    expect(
        arr is not None and arr.shape == (length,) and np.all(np.isfinite(arr)),
        f"{name} is a finite vector of length {length}",
        expected=f"shape ({length},)",
        got=None if arr is None else f"shape {np.shape(value)}",
        hint=hint,
    )
    return arr  # type: ignore[return-value]


def _close(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    return bool(np.max(np.abs(a - b)) <= tol * max(1.0, float(np.max(np.abs(b)))))


def _fmt(v: np.ndarray) -> str:
    return np.array2string(np.asarray(v), precision=4, suppress_small=True, max_line_width=200)


def _fail_naming_mistake(
    got: np.ndarray,
    want: np.ndarray,
    mistakes: list[tuple[np.ndarray, str]],
    what: str,
    *,
    otherwise: str,
) -> None:
    """Fail the check ``what`` for ``got`` (which is not ``want``), naming the mistake made.

    The hint is that of the first ``(wrong, hint)`` pair of ``mistakes`` whose ``wrong`` value
    ``got`` matches (skipping a mistake that gives the right answer on this case), else
    ``otherwise``.
    """
    hint = next(
        (h for wrong, h in mistakes if _close(got, wrong, 1e-5) and not _close(wrong, want, 1e-5)),
        otherwise,
    )
    expect(False, what, expected=_fmt(want), got=_fmt(got), hint=hint)


# ---------------------------------------------------------------------------------------------
# 7.1  closed-form removal of one row from ridge regression
# ---------------------------------------------------------------------------------------------
@question(
    "7.1",
    points=3,
    answer="remove_ridge_row",
    task="return the ridge parameters after removing row `index`, in closed form (no refit)",
    reference="course_utils.unlearning.ridge_remove",
)
def _check_remove_ridge_row(remove_ridge_row: Any) -> None:
    cases = [(0, 30, 3, 1.0, 4), (1, 12, 5, 0.5, 0), (2, 40, 2, 0.0, 39), (3, 25, 4, 10.0, 11)]
    for seed, n, d, lam, i in cases:
        X, y = _ridge_problem(seed, n, d)
        theta = _ridge(X, y, lam)
        X_in, y_in, theta_in = X.copy(), y.copy(), theta.copy()
        got = _vector(
            remove_ridge_row(theta_in, X_in, y_in, i, lam),
            d + 1,
            "remove_ridge_row(...)",
            "Return the whole parameter vector, intercept first: theta has d + 1 entries.",
        )
        expect(
            np.array_equal(X_in, X) and np.array_equal(y_in, y) and np.array_equal(theta_in, theta),
            "the inputs X, y and theta are left unchanged",
            hint="Work on copies (np.delete returns a new array; `theta = theta + ...` is safe, `theta += ...` is not).",
        )
        want = _ridge(np.delete(X, i, 0), np.delete(y, i), lam)
        if _close(got, want):
            continue
        A = _aug(X)
        H = A.T @ A + _pen(d + 1, lam)
        a, r = A[i], A[i] @ theta - y[i]
        Hinv_a = np.linalg.solve(H, a)
        mistakes = [
            (theta, "You returned theta unchanged: the row's influence must be subtracted."),
            (
                theta + r * Hinv_a,
                "Close, but you used the Hessian of the full data. After the removal the Hessian is "
                "H - a a^T: with Sherman-Morrison divide by (1 - a^T H^-1 a), the row's leverage.",
            ),
            (
                theta - r * Hinv_a / (1 - a @ Hinv_a),
                "The step points the wrong way: with r = a.theta - y_i, the update is "
                "theta + r * H^-1 a / (1 - a^T H^-1 a) (removing a row the model under-predicts lowers the fit).",
            ),
            (
                _ridge_penalised_intercept(np.delete(X, i, 0), np.delete(y, i), lam),
                "You penalised the intercept: the penalty is lam * diag(0, 1, ..., 1), so theta[0] is free.",
            ),
        ]
        _fail_naming_mistake(
            got,
            want,
            mistakes,
            f"removal equals refitting without row {i} (n={n}, d={d}, lam={lam})",
            otherwise="Use H = Xa^T Xa + lam diag(0, 1, ..., 1) with Xa = [1, X], a = Xa[index], "
            "r = a.theta - y[index]; then theta_after = theta + (H - a a^T)^-1 a r.",
        )


def _ridge_penalised_intercept(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    A = _aug(X)
    return np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y)


# ---------------------------------------------------------------------------------------------
# 7.2  one Newton step to unlearn a row from logistic regression
# ---------------------------------------------------------------------------------------------
@question(
    "7.2",
    points=2,
    answer="newton_unlearn_logistic",
    task="return theta after one Newton step on the logistic objective without row `index`",
    reference="course_utils.unlearning.newton_remove_logistic",
)
def _check_newton_unlearn_logistic(newton_unlearn_logistic: Any) -> None:
    cases = [(0, 120, 3, 1.0, 5), (1, 60, 4, 0.3, 0), (2, 200, 2, 3.0, 199)]
    for seed, n, d, lam, i in cases:
        X, y = _logistic_problem(seed, n, d)
        theta = _logistic(X, y, lam)
        got = _vector(
            newton_unlearn_logistic(theta.copy(), X.copy(), y.copy(), i, lam),
            d + 1,
            "newton_unlearn_logistic(...)",
            "Return the whole parameter vector, intercept first: theta has d + 1 entries.",
        )
        A, P = _aug(X), _pen(d + 1, lam)
        keep = np.arange(n) != i
        p = _sigmoid(A @ theta)
        g_rest = A[keep].T @ (p[keep] - y[keep]) + P @ theta
        H_rest = (A[keep] * (p * (1 - p))[keep][:, None]).T @ A[keep] + P
        H_all = (A * (p * (1 - p))[:, None]).T @ A + P
        want = theta - np.linalg.solve(H_rest, g_rest)
        if _close(got, want):
            retrain = _logistic(X[keep], y[keep], lam)
            expect(
                np.linalg.norm(got - retrain) < np.linalg.norm(theta - retrain),
                "the step moves theta towards the retrained parameters",
                hint="The step should land closer to retraining than no update does.",
            )
            continue
        mistakes = [
            (
                theta,
                "You returned (almost) theta unchanged. If you took a Newton step: the gradient "
                "of all rows is ~0 at the trained theta; use the gradient of the objective WITHOUT "
                "the row (= minus the removed row's gradient).",
            ),
            (
                theta - np.linalg.solve(H_all, g_rest),
                "Close: the Hessian must be that of the remaining rows (leave row `index` out of "
                "Xa^T diag(p(1-p)) Xa too).",
            ),
            (
                theta + np.linalg.solve(H_rest, g_rest),
                "Sign error: a Newton step is theta - H^-1 grad.",
            ),
        ]
        _fail_naming_mistake(
            got,
            want,
            mistakes,
            f"one Newton step without row {i} (n={n}, d={d}, lam={lam})",
            otherwise="On the remaining rows: grad = Xa^T (p - y) + lam D theta and "
            "H = Xa^T diag(p(1-p)) Xa + lam D with D = diag(0, 1, ..., 1); return theta - H^-1 grad.",
        )


# ---------------------------------------------------------------------------------------------
# 7.3  reconstruct the deleted row from the parameter change
# ---------------------------------------------------------------------------------------------
def _deletion(seed: int, n: int, d: int, lam: float, i: int):
    X, y = _ridge_problem(seed, n, d)
    before = _ridge(X, y, lam)
    after = _ridge(np.delete(X, i, 0), np.delete(y, i), lam)
    A = _aug(X)
    H = A.T @ A + _pen(d + 1, lam)
    return X, y, before, after, H


@question(
    "7.3",
    points=3,
    answer="reconstruct_from_update",
    task="return (x_hat, y_hat), the deleted row recovered from theta_before, theta_after and H",
    reference="course_utils.attacks.reconstruction.reconstruct_deleted",
)
def _check_reconstruct_from_update(reconstruct_from_update: Any) -> None:
    for seed, n, d, lam, i in [(0, 40, 3, 1.0, 7), (1, 25, 6, 0.1, 0), (2, 80, 2, 5.0, 79)]:
        X, y, before, after, H = _deletion(seed, n, d, lam, i)
        out = reconstruct_from_update(before.copy(), after.copy(), H.copy())
        expect(
            isinstance(out, (tuple, list)) and len(out) == 2,
            "returns a pair (x_hat, y_hat)",
            got=type(out).__name__,
            hint="End with `return x_hat, y_hat`.",
        )
        x_raw, y_raw = out
        x_arr = np.asarray(x_raw, dtype=float).reshape(-1)
        expect(
            x_arr.shape != (d + 1,),
            "x_hat holds the features only (no intercept column)",
            expected=f"length {d}",
            got=f"length {x_arr.size}",
            hint="H @ delta = c * [1, x]: drop entry 0 (the intercept's 1) after dividing by it.",
        )
        x_hat = _vector(x_raw, d, "x_hat", "x_hat must have one entry per feature.")
        try:
            y_hat = float(np.asarray(y_raw, dtype=float).reshape(()))
        except Exception:
            expect(False, "y_hat is one number", got=y_raw, hint="Return the target as a float.")
        delta = after - before
        v = H @ delta
        cos = float(x_hat @ X[i] / (np.linalg.norm(x_hat) * np.linalg.norm(X[i]) + 1e-300))
        u = np.linalg.solve(H, delta)
        if not _close(x_hat, X[i], 1e-6):
            if _close(x_hat, u[1:] / u[0], 1e-5):
                hint = "You solved H z = delta (that is H^-1 delta). The change is c H^-1 a, so multiply: H @ delta."
            elif abs(abs(cos) - 1) < 1e-6:
                hint = (
                    "Right direction, wrong scale: H @ delta = c * [1, x]; divide by its entry 0 "
                    "(the intercept's 1) to remove c."
                )
            elif _close(x_hat, v[:-1] / v[-1], 1e-5) or _close(x_hat, v[:-1] / v[0], 1e-5):
                hint = "theta[0] is the intercept: x is in entries 1..d of H @ delta."
            else:
                hint = "Compute v = H @ (theta_after - theta_before); then x_hat = v[1:] / v[0]."
            expect(
                False,
                f"x_hat equals the deleted row {i} (n={n}, d={d})",
                expected=_fmt(X[i]),
                got=_fmt(x_hat),
                hint=hint,
            )
        if abs(y_hat - y[i]) > 1e-6 * max(1.0, abs(y[i])):
            a = np.r_[1.0, X[i]]
            if abs(y_hat - (a @ before - v[0])) < 1e-6 * max(1.0, abs(y[i])):
                hint = (
                    "Use theta_after, not theta_before: the leave-one-out residual "
                    "a . theta_after - y equals c = v[0]."
                )
            elif abs(y_hat - (a @ after + v[0])) < 1e-6 * max(1.0, abs(y[i])):
                hint = "Sign: a . theta_after - y = c, so y = a . theta_after - c."
            else:
                hint = "With a = [1, x_hat] and c = v[0]: y_hat = a . theta_after - c."
            expect(
                False,
                f"y_hat equals the deleted target (row {i})",
                expected=round(float(y[i]), 6),
                got=round(y_hat, 6),
                hint=hint,
            )


# ---------------------------------------------------------------------------------------------
# 7.4  output perturbation against the attack
# ---------------------------------------------------------------------------------------------
@question(
    "7.4",
    points=2,
    answer="attack_cosine_under_noise",
    task="add independent N(0, sigma^2) noise to both releases, reconstruct, return the cosine with x_true",
    reference=(
        "course_utils.attacks.reconstruction.noisy_release",
        "course_utils.attacks.reconstruction.attack_every_deletion",
    ),
)
def _check_attack_cosine_under_noise(attack_cosine_under_noise: Any) -> None:
    X, y, before, after, H = _deletion(5, 60, 4, 1.0, 3)
    x_true = X[3]
    size = float(np.linalg.norm(after - before))

    def run(sigma: float, seed: int) -> float:
        out = attack_cosine_under_noise(
            before.copy(),
            after.copy(),
            H.copy(),
            x_true.copy(),
            sigma=sigma,
            rng=np.random.default_rng(seed),
        )
        try:
            val = float(np.asarray(out, dtype=float).reshape(()))
        except Exception:
            expect(
                False,
                "returns one number (a cosine)",
                got=out,
                hint="Return float(x_hat @ x_true / (norm(x_hat) * norm(x_true))).",
            )
        expect(
            np.isfinite(val) and -1 - 1e-9 <= val <= 1 + 1e-9,
            "the cosine lies in [-1, 1]",
            got=val,
            hint="Divide the dot product by both vectors' norms.",
        )
        return val

    clean = run(0.0, 0)
    expect(
        clean > 1 - 1e-6,
        "without noise the attack is exact (cosine 1)",
        expected=1.0,
        got=round(clean, 6),
        hint="With sigma = 0 reconstruct exactly as in exercise 7.3.",
    )
    expect(
        run(0.3 * size, 7) == run(0.3 * size, 7),
        "the same seed gives the same result",
        hint="Draw the noise only from the `rng` argument (rng.normal), not from np.random.",
    )
    small = np.median([run(0.003 * size, s) for s in range(15)])
    expect(
        small > 0.9,
        "tiny noise (0.3 % of the update) barely hurts the attack",
        expected="> 0.9",
        got=round(float(small), 3),
        hint="sigma is the standard deviation of the noise added to each parameter.",
    )
    big = [run(1.0 * size, s) for s in range(30)]
    if np.median(big) > 0.99:
        expect(
            False,
            "noise as large as the update breaks the attack",
            expected="median < 0.5",
            got=round(float(np.median(big)), 3),
            hint="Both releases need their OWN noise draw: the same noise vector on both "
            "cancels in theta_after - theta_before.",
        )
    expect(
        np.median(big) < 0.5,
        "noise as large as the update breaks the attack",
        expected="median cosine < 0.5",
        got=round(float(np.median(big)), 3),
        hint="Add rng.normal(0, sigma, size=theta.shape) to theta_before and, independently, to theta_after.",
    )
