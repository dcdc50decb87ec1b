"""Checks of exercise set 03 (differential privacy mechanisms, composition and budgets).

The checks are statistical: they draw many outputs from the learner's mechanism with fixed seeds
and test the *distribution* (a Kolmogorov-Smirnov test against the intended Laplace scale, a
chi-square test against the exponential mechanism's probabilities, the bias of an estimator over
many simulated surveys). Any correct implementation passes, however it draws its noise; the usual
mistakes (the inverted scale ``sensitivity * epsilon``, a forgotten factor 2, the raw mean of
randomized responses, a budget that overspends) fail with a hint aimed at them.

Expected values are computed here with numpy/scipy, never with ``course_utils.privacy``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from . import (
    AnswerError,
    expect,
    expect_array,
    expect_number,
    expect_unchanged,
    question,
)
from ._ex03_cases import (
    gaussian_delta,
    rr,
    sigma_mistakes,
    softmax,
    split_shape,
    total_variance,
)
from ._values import expect_reproducible

__all__: list[str] = []

#: A correct answer fails a single distribution test with probability P_MIN (the seeds are fixed,
#: so for one implementation the outcome is deterministic).
P_MIN = 1e-4


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _floats(value: Any, n: int, what: str, hint: str) -> np.ndarray:
    arr = expect_array(value, what, hint=hint)
    expect(arr.size == n, what, expected=f"{n} numbers", got=f"shape {arr.shape}", hint=hint)
    expect(np.all(np.isfinite(arr)), what + " (finite)", got="NaN or inf", hint=hint)
    return arr.reshape(-1)


# ---------------------------------------------------------------------------------------------
# 3.1  the Laplace mechanism
# ---------------------------------------------------------------------------------------------
@question("3.1", points=2, reference="course_utils.privacy.mechanisms.laplace_mechanism")
def _check_laplace(laplace_mechanism: Any) -> None:
    """Add Laplace noise of scale sensitivity / epsilon to value (scalar or array), drawn from rng."""

    def draw(value, sensitivity, epsilon, seed):
        return laplace_mechanism(value, sensitivity=sensitivity, epsilon=epsilon, rng=_rng(seed))

    def one(seed):
        return expect_number(
            draw(3.0, 1.0, 1.0, seed),
            "a scalar value gives one number back",
            "For a single number, return value + one noise draw.",
        )

    first = one(0)
    expect(math.isfinite(first), "a scalar value gives a finite number", got=first)
    expect(
        first != 3.0,
        "the output is noisy",
        expected="3.0 + noise",
        got=first,
        hint="Add rng.laplace(0.0, scale) to the value.",
    )
    expect_reproducible(
        one,
        "the noise comes from the rng argument (same seed, same output)",
        seeds=[7],
        other_seed=8,
        hint="Draw the noise with the `rng` you are given (rng.laplace), not np.random.laplace "
        "or a new default_rng().",
    )

    n = 4000
    value = np.zeros(n)
    out = _floats(
        draw(value, 1.0, 0.5, 1),
        n,
        "an array of 4000 values gives 4000 noisy values",
        "Draw one noise value per entry: rng.laplace(0.0, scale, size=np.shape(value)).",
    )
    expect_unchanged(
        np.zeros(n),
        value,
        "the input array is not modified",
        "Return value + noise; `value += noise` adds the noise to the caller's array.",
    )
    expect(
        np.unique(out).size > n // 2,
        "every entry gets its own noise",
        got=f"{np.unique(out).size} distinct values among {n}",
        hint="Draw one noise value per entry: rng.laplace(0.0, scale, size=np.shape(value)).",
    )

    for k, (sensitivity, epsilon) in enumerate([(1.0, 0.5), (2.0, 4.0), (0.5, 0.25), (3.0, 1.5)]):
        centre = 10.0 * k - 5.0
        out = _floats(
            draw(np.full(n, centre), sensitivity, epsilon, 100 + k),
            n,
            "an array in gives an array of the same size out",
            "Draw one noise value per entry: size=np.shape(value).",
        )
        noise = out - centre
        scale = sensitivity / epsilon
        fitted = float(np.mean(np.abs(noise)))  # maximum-likelihood Laplace scale (centre known)
        case = f"sensitivity={sensitivity:g}, epsilon={epsilon:g}"
        if abs(np.median(out)) < 0.15 * scale and abs(centre) > scale:
            expect(
                False,
                f"the output is the value plus noise ({case})",
                expected=f"values around {centre:g}",
                got=f"values around {float(np.median(out)):.3g}",
                hint="You returned the noise alone: return value + noise.",
            )
        expect(
            abs(np.median(noise)) < 0.15 * scale,
            f"the noise is centred on the value ({case})",
            expected=f"median of output - value near 0 (scale {scale:g})",
            got=round(float(np.median(noise)), 3),
            hint="Use location 0 for the noise: value + rng.laplace(0.0, scale), not "
            "rng.laplace(value, scale) added to the value again.",
        )
        # the shape first (a Laplace of the fitted scale), then the scale
        p_shape = stats.kstest(noise, stats.laplace(0.0, max(fitted, 1e-12)).cdf).pvalue
        expect(
            p_shape > P_MIN,
            f"the noise has the shape of a Laplace distribution ({case})",
            expected="Kolmogorov-Smirnov p-value above 1e-4 against a Laplace",
            got=f"p = {p_shape:.2g}",
            hint="Draw Laplace noise (rng.laplace), not Gaussian (rng.normal), uniform or "
            "exponential noise.",
        )
        wrong = {
            "sensitivity * epsilon": sensitivity * epsilon,
            "epsilon / sensitivity": epsilon / sensitivity,
            "1 / epsilon": 1.0 / epsilon,
            "sensitivity": sensitivity,
            "2 b^2 (the variance)": 2 * scale**2,
            "b^2": scale**2,
            "sqrt(2) b (the standard deviation)": math.sqrt(2) * scale,
        }
        hints = {
            "sensitivity * epsilon": "The Laplace scale is b = sensitivity / epsilon: a SMALLER "
            "epsilon (more privacy) must give MORE noise.",
            "epsilon / sensitivity": "The Laplace scale is b = sensitivity / epsilon: a SMALLER "
            "epsilon (more privacy) must give MORE noise.",
            "1 / epsilon": "Scale the noise by the sensitivity too: b = sensitivity / epsilon.",
            "sensitivity": "Divide by epsilon: b = sensitivity / epsilon.",
        }
        for formula, bad in wrong.items():
            if abs(bad - scale) > 0.2 * scale and abs(fitted / bad - 1.0) < 0.08:
                expect(
                    False,
                    f"the noise scale responds to epsilon and sensitivity ({case})",
                    expected=f"scale sensitivity / epsilon = {scale:g}",
                    got=f"scale about {fitted:.3g} (looks like {formula})",
                    hint=hints.get(
                        formula,
                        "numpy's rng.laplace(loc, scale) takes the scale b = sensitivity / "
                        "epsilon itself (mean |noise| = b), not the variance 2 b^2 or the "
                        "standard deviation.",
                    ),
                )
        expect(
            abs(fitted / scale - 1.0) < 0.08,
            f"the noise has scale sensitivity / epsilon ({case})",
            expected=f"mean |noise| = scale = {scale:g}",
            got=round(fitted, 3),
            hint="numpy's rng.laplace(loc, scale) takes the scale b (mean |noise| = b), "
            "not the variance 2 b^2 or the standard deviation.",
        )
        p = stats.kstest(noise, stats.laplace(0.0, scale).cdf).pvalue
        expect(
            p > P_MIN,
            f"the noise follows a Laplace distribution of scale sensitivity / epsilon ({case})",
            expected="Kolmogorov-Smirnov p-value above 1e-4",
            got=f"p = {p:.2g}",
            hint="Draw the noise with rng.laplace(0.0, sensitivity / epsilon, size=...).",
        )


# ---------------------------------------------------------------------------------------------
# 3.2  calibrating the Gaussian mechanism
# ---------------------------------------------------------------------------------------------


@question("3.2", points=1, reference="course_utils.privacy.mechanisms.gaussian_sigma")
def _check_gaussian_sigma(gaussian_sigma: Any) -> None:
    """Return a noise sigma that makes the Gaussian mechanism (epsilon, delta)-DP (classic
    calibration)."""
    cases = [
        (1.0, 0.5, 1e-5),
        (1.0, 0.1, 1e-6),
        (2.0, 0.9, 1e-3),
        (0.3, 0.25, 1e-8),
        (5.0, 0.7, 0.01),
    ]
    for sensitivity, epsilon, delta in cases:
        case = f"sensitivity={sensitivity:g}, epsilon={epsilon:g}, delta={delta:g}"
        sigma = expect_number(
            gaussian_sigma(sensitivity=sensitivity, epsilon=epsilon, delta=delta),
            f"returns sigma, one number ({case})",
            "Return the noise standard deviation as one float.",
        )
        classic = math.sqrt(2.0 * math.log(1.25 / delta)) * sensitivity / epsilon
        expect(
            math.isfinite(sigma) and sigma > 0, f"sigma is a positive number ({case})", got=sigma
        )
        leak = gaussian_delta(epsilon, sigma / sensitivity)
        wrong_hint = "sigma = sqrt(2 ln(1.25 / delta)) * sensitivity / epsilon."
        for value, hint in sigma_mistakes(sensitivity, epsilon, delta):
            if abs(sigma / value - 1) < 1e-3 and abs(value / classic - 1) > 1e-3:
                wrong_hint = hint + " " + wrong_hint
                break
        expect(
            leak <= delta * (1 + 1e-9),
            f"the mechanism with this sigma is (epsilon, delta)-DP ({case})",
            expected=f"sigma >= {classic:.4g} (classic) keeps delta(epsilon) <= {delta:g}",
            got=f"sigma = {sigma:.4g} leaks delta(epsilon) = {leak:.3g}",
            hint=wrong_hint,
        )
        expect(
            sigma <= classic * (1 + 1e-6),
            f"sigma is not larger than the classic calibration ({case})",
            expected=f"sigma <= {classic:.4g}",
            got=round(sigma, 4),
            hint="Too much noise wastes utility. " + wrong_hint,
        )


# ---------------------------------------------------------------------------------------------
# 3.3  the exponential mechanism
# ---------------------------------------------------------------------------------------------


@question(
    "3.3",
    points=2,
    reference=(
        "course_utils.privacy.mechanisms.exponential_mechanism",
        "course_utils.privacy.mechanisms.exponential_probabilities",
    ),
)
def _check_exponential(exponential_mechanism: Any) -> None:
    """Pick one candidate with probability proportional to exp(epsilon * utility / (2 *
    sensitivity))."""
    cands = ["flu", "cold", "covid", "allergy"]

    def pick(u, sensitivity, epsilon, rng):
        out = exponential_mechanism(
            list(cands), list(u), sensitivity=sensitivity, epsilon=epsilon, rng=rng
        )
        expect(
            isinstance(out, str) and out in cands,
            "returns one of the candidates",
            expected=f"one of {cands}",
            got=out,
            hint="Return candidates[i] for the chosen index i, not the index, an array or a "
            "probability.",
        )
        return str(out)

    # sensitivity 4 (not 1 or 2): a missing factor 2 and an ignored sensitivity differ
    cases = [([3.0, 1.0, 0.0, 2.0], 1.0, 1.0), ([30.0, 28.0, 20.0, 27.0], 4.0, 2.0)]
    n = 3000
    mistake_hints = {
        "a missing factor 2": "The exponent is epsilon * utility / (2 * sensitivity). These "
        "utilities may move in opposite directions between neighbours (one count up, another "
        "down, as when a record is replaced), and then only the factor 2 keeps the mechanism "
        "epsilon-DP; without it, it can spend 2 * epsilon.",
        "ignoring the sensitivity": "Divide the utilities by 2 * sensitivity.",
        "a uniform choice": "Weight each candidate by exp(epsilon * utility / (2 * sensitivity)).",
        "a minus sign in the exponent": "Use exp(+epsilon * utility / (2 * sensitivity)): the "
        "sign must favour high utility.",
    }
    for k, (u, sensitivity, epsilon) in enumerate(cases):
        case = f"utilities={u}, sensitivity={sensitivity:g}, epsilon={epsilon:g}"
        rng = _rng(200 + k)
        picks = [pick(u, sensitivity, epsilon, rng) for _ in range(n)]
        counts = np.array([picks.count(c) for c in cands])
        freq = counts / n
        right = softmax(u, epsilon / (2 * sensitivity))
        best = int(np.argmax(u))
        expect(
            freq[best] < 0.99,
            f"the choice is random, not always the best candidate ({case})",
            expected=np.round(right, 3).tolist(),
            got=np.round(freq, 3).tolist(),
            hint="Sample with rng.choice(len(candidates), p=probabilities); returning the argmax "
            "is not private.",
        )
        mistakes = {
            "a missing factor 2": softmax(u, epsilon / sensitivity),
            "ignoring the sensitivity": softmax(u, epsilon / 2),
            "a uniform choice": np.full(len(u), 1 / len(u)),
            "a minus sign in the exponent": softmax(u, -epsilon / (2 * sensitivity)),
        }
        p = stats.chisquare(counts, n * right).pvalue
        if p <= P_MIN:
            for name, probs in mistakes.items():
                if np.allclose(probs, right):
                    continue
                if stats.chisquare(counts, n * probs).pvalue > P_MIN:
                    expect(
                        False,
                        f"the selection probabilities ({case})",
                        expected=np.round(right, 3).tolist(),
                        got=np.round(freq, 3).tolist(),
                        hint=f"Your frequencies match {name}. {mistake_hints[name]}",
                    )
        expect(
            np.argmax(freq) == best,
            f"higher utility is more likely ({case})",
            expected=np.round(right, 3).tolist(),
            got=np.round(freq, 3).tolist(),
            hint=mistake_hints["a minus sign in the exponent"],
        )
        expect(
            p > P_MIN,
            f"the selection probabilities ({case})",
            expected=np.round(right, 3).tolist(),
            got=np.round(freq, 3).tolist(),
            hint="p_i = exp(eps u_i / (2 s)) / sum_j exp(eps u_j / (2 s)); normalise the weights.",
        )

    def sequence(seed: int) -> list[str]:
        rng = _rng(seed)  # one generator for 12 picks: the sequence is the seed's fingerprint
        return [pick([3.0, 1.0, 0.0, 2.0], 1.0, 1.0, rng) for _ in range(12)]

    expect_reproducible(
        sequence,
        "the choices come from the rng argument (same seed, same choices)",
        seeds=[5],
        other_seed=6,
        describe=lambda picks: f"{picks[:6]}...",
        hint="Sample with the `rng` you are given (rng.choice(len(candidates), p=probs)), not "
        "np.random or random.",
    )
    try:
        big = exponential_mechanism(
            ["a", "b", "c"], [1000.0, 999.0, 900.0], sensitivity=1.0, epsilon=10.0, rng=_rng(3)
        )
    except AnswerError as exc:
        if exc.kind != "raised":
            raise
        big = f"{exc.exc_type}: {exc.message}"
    expect(
        big in ("a", "b"),
        "large utilities do not overflow",
        expected="'a' (or rarely 'b')",
        got=big,
        hint="exp(5000) overflows to inf and inf / inf is NaN: subtract max(utilities) before exp "
        "(it cancels in the normalisation).",
    )


# ---------------------------------------------------------------------------------------------
# 3.4  the randomized-response estimator
# ---------------------------------------------------------------------------------------------


@question("3.4", points=2, reference="course_utils.privacy.mechanisms.rr_estimate")
def _check_rr_estimate(rr_estimate: Any) -> None:
    """Return the unbiased estimate of the true fraction of 1s from randomized responses."""

    def est(responses, epsilon: float, shown: str) -> tuple[str, float]:
        call = f"rr_estimate({shown}, epsilon={epsilon:.4g})"
        out = rr_estimate(responses, epsilon=epsilon)
        return call, expect_number(out, f"{call} returns one number", "Return one float.")

    # exact cases: the reports have exactly their expected mean
    eps = math.log(3)  # keep probability 3/4
    call, got = est(np.array([1] * 45 + [0] * 55), eps, "45 ones and 55 zeros")
    slip_hints = {
        0.45: "The raw fraction of 1s is biased towards 1/2. Solve "
        "mean = p * pi + (1 - p) * (1 - pi) for pi, with p = e^eps / (1 + e^eps).",
        0.6: "You estimated the fraction of 0s (1 - pi): p is the probability of telling the "
        "TRUTH, e^eps / (1 + e^eps), and pi = (mean - (1 - p)) / (2p - 1).",
        0.2: "Divide by (2p - 1): mean - (1 - p) = (2p - 1) * pi.",
        0.2 / 0.75: "Divide by (2p - 1), not by p: mean - (1 - p) = (2p - 1) * pi.",
        0.8: "Subtract (1 - p) before dividing: pi = (mean - (1 - p)) / (2p - 1).",
        0.9: "Subtract (1 - p) before dividing: pi = (mean - (1 - p)) / (2p - 1).",
    }
    hint = next(
        (h for value, h in slip_hints.items() if math.isclose(got, value, abs_tol=1e-6)),
        "(mean - (1 - p)) / (2p - 1) with p = e^eps / (1 + e^eps) = 3/4 here.",
    )
    expect(
        math.isclose(got, 0.4, abs_tol=1e-6),
        f"{call}: 45 % yes reports at p = 3/4 mean 40 % true yes",
        expected=0.4,
        got=round(got, 6),
        hint=hint,
    )
    call, got = est([True, True, True, False], eps, "[True, True, True, False]")
    expect(
        math.isclose(got, 1.0, abs_tol=1e-6),
        f"{call}: boolean reports work too (75 % yes at p = 3/4 means everyone said yes)",
        expected=1.0,
        got=round(got, 6),
        hint="Convert with np.asarray(responses, dtype=float).",
    )

    # unbiased over many surveys, including near 0 where clipping would bias it
    for k, (truth, n, epsilon) in enumerate([(0.3, 1000, 0.7), (0.02, 300, 0.5), (0.9, 500, 2.0)]):
        rng = _rng(400 + k)
        bits = (np.arange(n) < round(truth * n)).astype(int)
        shown = (
            f"{n} randomized reports of {round(truth * n)} ones and {n - round(truth * n)} zeros"
        )
        estimates = np.array([est(rr(bits, epsilon, rng), epsilon, shown)[1] for _ in range(400)])
        keep = math.exp(epsilon) / (1 + math.exp(epsilon))
        q = keep * truth + (1 - keep) * (1 - truth)
        se = math.sqrt(q * (1 - q) / n) / (2 * keep - 1) / math.sqrt(len(estimates))
        bias = float(estimates.mean() - bits.mean())
        hint = "Do not clip the estimate to [0, 1]: clipping pulls the average away from the truth."
        if np.all((estimates >= 0) & (estimates <= 1)) and truth < 0.1:
            hint = "Your estimates never leave [0, 1]. " + hint
        expect(
            abs(bias) < 4.5 * se,
            f"rr_estimate({shown}, epsilon={epsilon:g}) is unbiased over 400 surveys",
            expected=f"average of the 400 estimates within {4.5 * se:.3f} of {bits.mean():g}",
            got=f"average {estimates.mean():.4f} (smallest {estimates.min():.3f}, "
            f"largest {estimates.max():.3f})",
            hint=hint,
        )


# ---------------------------------------------------------------------------------------------
# 3.5  splitting a budget
# ---------------------------------------------------------------------------------------------


@question("3.5", points=2)
def _check_split_budget(split_budget: Any) -> None:
    """Split a total epsilon over Laplace queries (basic composition) to minimise the total noise
    variance."""
    cases = [
        ([1.0, 1.0, 1.0], 1.0),
        ([1.0, 8.0], 2.0),
        ([0.5, 1.0, 2.0, 4.0], 1.0),
        ([3.0], 0.7),
        ([1.0, 100.0, 10.0], 5.0),
    ]
    for sens, epsilon in cases:
        s = np.asarray(sens)
        case = f"sensitivities={sens}, epsilon={epsilon:g}"
        got = _floats(
            split_budget(s.copy(), epsilon=epsilon),
            s.size,
            f"one epsilon per query ({case})",
            "Return an array with one epsilon per query.",
        )
        expect(
            np.all(got > 0),
            f"every query gets a positive epsilon ({case})",
            got=np.round(got, 4).tolist(),
            hint="A query with epsilon 0 would need infinite noise.",
        )
        expect(
            got.sum() <= epsilon * (1 + 1e-9),
            f"the epsilons add up to at most the budget ({case})",
            expected=f"sum <= {epsilon:g}",
            got=round(float(got.sum()), 4),
            hint="Sequential (basic) composition: the per-query epsilons ADD UP, so each query "
            "cannot have the whole budget.",
        )
        optimum = s ** (2 / 3) / np.sum(s ** (2 / 3)) * epsilon
        best, yours = total_variance(s, optimum), total_variance(s, got)
        if yours <= best * 1.005:
            continue
        # a nudge first (the grader shows only this); the notebook adds the full hint after
        # repeated failures, so the answer is not given away at the first try
        hint = (
            "Minimise sum_i 2 (s_i / eps_i)^2 subject to sum_i eps_i = epsilon: with a Lagrange "
            "multiplier lambda, set the derivative of 2 s_i^2 / eps_i^2 + lambda eps_i in eps_i "
            "to zero for every query and solve for eps_i (or use scipy.optimize.minimize)."
        )
        full_hint = (
            "The derivative -4 s_i^2 / eps_i^3 + lambda = 0 gives eps_i^3 proportional to s_i^2: "
            "eps_i proportional to s_i^(2/3), scaled so that the eps_i add up to epsilon."
        )
        kind, power = split_shape(s, got, epsilon)
        prefix = {
            "equal": "An equal split ignores that noisier (higher-sensitivity) queries gain more "
            "from budget. ",
            "proportional": "Proportional to the sensitivity over-feeds the big queries. ",
            "unspent": "You leave budget unspent. ",
            "power": f"Your epsilons grow like s_i^{power:.2g}: the optimum uses another power "
            "of s_i. ",
        }.get(kind, "")
        expect(
            False,
            f"split_budget({sens}, epsilon={epsilon:g}): the total noise variance is minimal",
            expected=f"total variance {best:.4g} or less",
            got=f"total variance {yours:.4g} (epsilons {np.round(got, 4).tolist()})",
            hint=prefix + hint,
            full_hint=prefix + hint + " " + full_hint,
        )
