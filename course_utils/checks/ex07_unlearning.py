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
from scipy import stats

from . import AnswerError, expect, expect_array, expect_number, question, type_name
from ._ex07_cases import (
    _aug,
    _close,
    _closed_form,
    _deletion,
    _fmt,
    _logistic,
    _logistic_problem,
    _noisy_cosines,
    _pen,
    _reconstruction_slips,
    _ridge,
    _ridge_penalised_intercept,
    _ridge_problem,
    _sigmoid,
)
from ._values import expect_reproducible

__all__: list[str] = []


# ---------------------------------------------------------------------------------------------
# plain-numpy helpers (independent of the course's implementation)
# ---------------------------------------------------------------------------------------------
def _vector(value: Any, length: int, name: str, hint: str) -> np.ndarray:
    what = f"{name} is a finite vector of length {length}"
    arr = expect_array(value, what, hint=hint).reshape(-1)
    expect(
        arr.shape == (length,) and np.all(np.isfinite(arr)),
        what,
        expected=f"shape ({length},)",
        got=f"shape {np.shape(value)}" if arr.shape != (length,) else "NaN or inf",
        hint=hint,
    )
    return arr


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
@question("7.1", points=3, reference="course_utils.unlearning.ridge_remove")
def _check_remove_ridge_row(remove_ridge_row: Any) -> None:
    # the last case starts from a theta that is NOT the exact fit: the closed-form update of the
    # task then differs from refitting without the row (which ignores theta)
    """Return the ridge parameters after removing row `index`, in closed form (no refit)."""
    cases = [
        (0, 30, 3, 1.0, 4, 0.0),
        (1, 12, 5, 0.5, 0, 0.0),
        (2, 40, 2, 0.0, 39, 0.0),
        (3, 25, 4, 10.0, 11, 0.0),
        (4, 20, 3, 1.0, 6, 0.05),
    ]
    for seed, n, d, lam, i, nudge in cases:
        X, y = _ridge_problem(seed, n, d)
        theta = _ridge(X, y, lam) + nudge * np.random.default_rng(seed).normal(size=d + 1)
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
            hint="Work on copies (np.delete returns a new array; `theta = theta + ...` is safe, "
            "`theta += ...` is not).",
        )
        P = _pen(d + 1, lam)
        want = _closed_form(theta, X, y, i, P)
        if _close(got, want):
            continue
        A = _aug(X)
        a, r = A[i], A[i] @ theta - y[i]
        Hinv_a = np.linalg.solve(A.T @ A + P, a)
        refit = _ridge(np.delete(X, i, 0), np.delete(y, i), lam)
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
                "theta + r * H^-1 a / (1 - a^T H^-1 a) (removing a row the model under-predicts "
                "lowers the fit).",
            ),
            (
                _closed_form(theta, X, y, i, lam * np.eye(d + 1)),
                "You penalised the intercept: the penalty is lam * diag(0, 1, ..., 1), so theta[0] "
                "is free.",
            ),
            (
                _ridge_penalised_intercept(np.delete(X, i, 0), np.delete(y, i), lam),
                "You penalised the intercept: the penalty is lam * diag(0, 1, ..., 1), so theta[0] "
                "is free.",
            ),
            *[
                (
                    _closed_form(theta, X, y, j, P),
                    f"Off by one: remove row `index` ({i}), not row {j}.",
                )
                for j in (i - 1, i + 1)
                if 0 <= j < n
            ],
            (
                refit,
                "You refitted the model without the row. The task asks for the closed-form update "
                "of the given theta, theta + (H - a a^T)^-1 a r (here theta is deliberately not "
                "the exact fit, so refitting gives a different answer).",
            ),
        ]
        what = f"removal of row {i} (n={n}, d={d}, lam={lam})"
        if nudge:
            what += " from a theta that is not the exact fit"
        _fail_naming_mistake(
            got,
            want,
            mistakes,
            what,
            otherwise="Use H = Xa^T Xa + lam diag(0, 1, ..., 1) with Xa = [1, X], a = Xa[index], "
            "r = a.theta - y[index]; then theta_after = theta + (H - a a^T)^-1 a r.",
        )


# ---------------------------------------------------------------------------------------------
# 7.2  one Newton step to unlearn a row from logistic regression
# ---------------------------------------------------------------------------------------------
def _newton_step(theta, X, y, i, P, *, grad_penalty=None, rows=None) -> np.ndarray:
    A = _aug(X)
    keep = np.arange(len(X)) != i if rows is None else rows
    p = _sigmoid(A @ theta)
    gp = P if grad_penalty is None else grad_penalty
    g = A[keep].T @ (p[keep] - y[keep]) + gp @ theta
    H = (A[keep] * (p * (1 - p))[keep][:, None]).T @ A[keep] + P
    return theta - np.linalg.solve(H, g)


@question("7.2", points=2, reference="course_utils.unlearning.newton_remove_logistic")
def _check_newton_unlearn_logistic(newton_unlearn_logistic: Any) -> None:
    """Return theta after one Newton step on the logistic objective without row `index`."""
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
        want = _newton_step(theta, X, y, i, P)
        retrain = _logistic(X[keep], y[keep], lam)
        if _close(got, want):
            expect(
                np.linalg.norm(got - retrain) < np.linalg.norm(theta - retrain),
                "the step moves theta towards the retrained parameters",
                hint="The step should land closer to retraining than no update does.",
            )
            continue
        p = _sigmoid(A @ theta)
        g_rest = A[keep].T @ (p[keep] - y[keep]) + P @ theta
        H_all = (A * (p * (1 - p))[:, None]).T @ A + P
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
            (2 * theta - want, "Sign error: a Newton step is theta - H^-1 grad."),
            (
                _newton_step(theta, X, y, i, lam * np.eye(d + 1)),
                "You penalised the intercept: use lam * D with D = diag(0, 1, ..., 1).",
            ),
            (
                _newton_step(theta, X, y, i, P, grad_penalty=np.zeros_like(P)),
                "The gradient needs the penalty's term too: + lam * D @ theta.",
            ),
            (
                _newton_step(theta, X, y, i, P, grad_penalty=2 * P),
                "The gradient of lam / 2 * ||w||^2 is lam * w, not 2 * lam * w.",
            ),
            (
                retrain,
                "You retrained to convergence. The task asks for ONE Newton step from theta "
                "(cheap, approximate unlearning), not a full refit.",
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
@question("7.3", points=3, reference="course_utils.attacks.reconstruction.reconstruct_deleted")
def _check_reconstruct_from_update(reconstruct_from_update: Any) -> None:
    """Return (x_hat, y_hat), the deleted row recovered from theta_before, theta_after and H."""
    for seed, n, d, lam, i in [(0, 40, 3, 1.0, 7), (1, 25, 6, 0.1, 0), (2, 80, 2, 5.0, 79)]:
        X, y, before, after, H = _deletion(seed, n, d, lam, i)
        out = reconstruct_from_update(before.copy(), after.copy(), H.copy())
        expect(
            isinstance(out, tuple | list) and len(out) == 2,
            "returns a pair (x_hat, y_hat)",
            got=type_name(out) if not isinstance(out, tuple | list) else f"{len(out)} values",
            hint="End with `return x_hat, y_hat`.",
        )
        x_raw, y_raw = out
        x_arr = expect_array(x_raw, "x_hat is an array of numbers").reshape(-1)
        expect(
            x_arr.shape != (d + 1,),
            "x_hat holds the features only (no intercept column)",
            expected=f"length {d}",
            got=f"length {x_arr.size}",
            hint="H @ delta = c * [1, x]: drop entry 0 (the intercept's 1) after dividing by it.",
        )
        x_hat = _vector(x_raw, d, "x_hat", "x_hat must have one entry per feature.")
        y_hat = expect_number(y_raw, "y_hat is one number", "Return the target as a float.")
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
    reference=(
        "course_utils.attacks.reconstruction.noisy_release",
        "course_utils.attacks.reconstruction.attack_every_deletion",
    ),
)
def _check_attack_cosine_under_noise(attack_cosine_under_noise: Any) -> None:
    """Add independent N(0, sigma^2) noise to both releases, reconstruct with your
    reconstruct_from_update of exercise 7.3, return the cosine with x_true."""
    X, y, before, after, H = _deletion(5, 60, 4, 1.0, 3)
    x_true = X[3]
    size = float(np.linalg.norm(after - before))
    first_hint = (
        "attack_cosine_under_noise calls your reconstruct_from_update of exercise 7.3 (as the "
        "task says): fix 7.3 first - run its check until it passes, then run this one again."
    )

    def run(sigma: float, seed: int) -> float:
        val = expect_number(
            attack_cosine_under_noise(
                before.copy(),
                after.copy(),
                H.copy(),
                x_true.copy(),
                sigma=sigma,
                rng=np.random.default_rng(seed),
            ),
            "returns one number (a cosine)",
            "Return float(x_hat @ x_true / (norm(x_hat) * norm(x_true))).",
        )
        expect(
            np.isfinite(val) and -1 - 1e-9 <= val <= 1 + 1e-9,
            "the cosine lies in [-1, 1]",
            got=val,
            hint="Divide the dot product by both vectors' norms.",
        )
        return val

    # without noise the attack is exact - unless exercise 7.3, which it builds on, is wrong
    try:
        clean = run(0.0, 0)
    except AnswerError as exc:
        where = (exc.line or "").split(":", 1)[0]  # "line 4 in reconstruct_from_update"
        in_7_3 = where.endswith(" in reconstruct_from_update") or (
            exc.exc_type == "NotImplementedError" and "Exercise 7.3" in exc.message
        )
        if exc.kind != "raised" or not in_7_3:
            raise
        expect(
            False,
            "with sigma = 0: your reconstruct_from_update (exercise 7.3) raised "
            f"{exc.exc_type}: {exc.message}",
            got=exc.line or exc.exc_type,
            hint=first_hint,
        )
    if clean < 1 - 1e-6:
        slips = _reconstruction_slips(before, after, H)
        slip_hints = {
            "solve": "Your reconstruction looks like H^-1 (theta_after - theta_before): "
            "exercise 7.3 multiplies, v = H @ (theta_after - theta_before).",
            "last entry": "Your reconstruction divides by the last entry of v: the "
            "intercept's entry is v[0].",
            "first entry": "Your reconstruction keeps v[:-1]: the features are v[1:].",
        }
        hint = next(
            (
                f"{slip_hints[k]} {first_hint}"
                for k, x in slips.items()
                if abs(abs(clean) - abs(x @ x_true) / np.linalg.norm(x) / np.linalg.norm(x_true))
                < 1e-6
            ),
            "With sigma = 0 the releases are exact, so the cosine must be 1. If exercise 7.3's "
            f"check does not pass yet, that is why: {first_hint} Otherwise compute the cosine of "
            "x_hat (not of [1, x_hat]) with x_true.",
        )
        expect(
            False,
            "with sigma = 0 (no noise) the attack is exact: cosine 1",
            expected=1.0,
            got=round(clean, 6),
            hint=hint,
        )
    expect_reproducible(
        lambda seed: run(0.3 * size, seed),
        "the same seed gives the same result",
        seeds=[7],
        hint="Draw the noise only from the `rng` argument (rng.normal), not from np.random.",
    )
    # the distribution of the cosine over 200 seeds, against our own simulation (two-sample KS),
    # and, when it does not fit, against the usual mistakes' simulations
    for level, seed in ((1.0, 20_000), (0.1, 30_000)):
        sigma = level * size
        got = np.array([run(sigma, s) for s in range(200)])
        ref = _noisy_cosines(before, after, H, x_true, sigma, 4000, seed)
        what = f"noise of {level:g} x the size of the update: the cosines' distribution"
        if np.all(got > 1 - 1e-9):
            expect(
                False,
                what,
                expected=f"median cosine {np.median(ref):.3f}",
                got="always 1: the noise has no effect",
                hint="Both releases need their OWN noise draw: the same noise vector on both "
                "cancels in theta_after - theta_before (and no noise at all changes nothing).",
            )
        negative = np.mean(ref < 0) > 0.1
        if negative and np.all(got >= 0) and stats.ks_2samp(got, np.abs(ref)).pvalue > 1e-4:
            expect(
                False,
                what,
                expected=f"{np.mean(ref < 0):.0%} negative cosines",
                got="no negative cosine",
                hint="Keep the sign of the cosine: do not take abs() (a reconstruction pointing "
                "the wrong way has a negative cosine).",
            )
        p = stats.ks_2samp(got, ref).pvalue
        if p > 1e-4:
            continue
        mistakes = [
            (
                (sigma**2, sigma**2),
                "Your cosines fit noise of standard deviation sigma**2: rng.normal(0, sigma, ...) "
                "takes the standard deviation sigma as its scale, not the variance sigma^2.",
            ),
            (
                (sigma, 0.0),
                "Your cosines fit noise on only one of the releases: add an independent "
                "N(0, sigma^2) draw to BOTH theta_before and theta_after.",
            ),
            (
                (np.sqrt(sigma), np.sqrt(sigma)),
                "Your cosines fit noise of standard deviation sqrt(sigma): sigma is already the "
                "standard deviation, rng.normal(0, sigma, ...).",
            ),
        ]
        hint = (
            "Add rng.normal(0, sigma, size=theta.shape) to theta_before and, independently, to "
            "theta_after (sigma is the standard deviation, not the variance), then reconstruct."
        )
        for (sd_after, sd_before), fit_hint in mistakes:
            sim = _noisy_cosines(
                before, after, H, x_true, sd_after, 2000, seed + 1, sd_before=sd_before
            )
            if stats.ks_2samp(got, sim).pvalue > 1e-4:
                hint = fit_hint
                break
        expect(
            False,
            what,
            expected=f"median cosine {np.median(ref):.3f} (as in 4000 simulated draws)",
            got=f"median {np.median(got):.3f} (two-sample KS p = {p:.2g})",
            hint=hint,
        )
