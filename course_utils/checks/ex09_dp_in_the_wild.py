"""Checks of exercise set 09 (DP in the wild: reconstruction, interactive mechanisms, local DP).

* 9.1 ``reconstruct``: the attack must recover > 95 % of the bits on several fresh instances with
  small noise, including one where only 15 % of the bits are 1 (so a median threshold fails).
* 9.2 ``report_noisy_max``: property checks any correct mechanism passes (Laplace, Gumbel or
  exponential noise of scale ``2 * sensitivity / epsilon``): it returns an index, is random,
  picks a clear winner, treats equal scores alike, and - the privacy test - on neighbouring score
  vectors (all scores moved by ``sensitivity``, one up and nine down) the favoured candidate's
  probability stays below ``e^epsilon / k`` with a wide statistical margin.
* 9.3 ``grr_estimate``: exact answers on hand-made report sets, then unbiasedness over 200
  simulated collections.
* 9.4 ``above_threshold``: the first index above, ``None`` when nothing is, and a chi-square test
  of the whole output distribution against the exact one; the usual mistakes (no noise on the
  answers - a published broken variant -, no threshold noise, wrong scales) are recognised by
  which of their distributions fits instead.

Expected values are computed here with numpy/scipy, never with the course's own implementation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from . import expect, expect_integer, question
from ._ex09_support import _above_threshold_law, _grr, _instance, _rng
from ._values import _plain, as_floats, call_unchanged, expect_reproducible

__all__: list[str] = []

#: A correct answer fails one distribution test with probability P_MIN (seeds are fixed, so for a
#: given implementation the outcome is deterministic).
P_MIN = 1e-4


# ---------------------------------------------------------------------------------------------
# 9.1  reconstruction from noisy subset sums
# ---------------------------------------------------------------------------------------------
def _diagnose_reconstruction(guess: np.ndarray, Q: np.ndarray, answers: np.ndarray) -> str:
    """A hint naming the mistake whose output matches ``guess`` best, or a general one."""
    x = np.linalg.lstsq(Q, answers, rcond=None)[0]
    correlation = (
        "Q.T @ answers only correlates each person with the answers; it does not solve "
        "the system. Use least squares: x = np.linalg.lstsq(Q, answers, rcond=None)[0]."
    )
    middle = (
        "Threshold at 1/2, not at the median or mean of x: the share of 1s is unknown (here "
        "it may be only 15 %)."
    )
    truncate = "astype(int) truncates 0.97 to 0: compare with 1/2 instead, (x > 0.5).astype(int)."
    mistakes = [(truncate, np.clip(np.floor(x), 0, 1) > 0)]
    for centre in (np.median, np.mean):
        mistakes.append((middle, x > centre(x)))
        for c in (Q.T @ answers, Q.T @ (answers - answers.mean())):
            mistakes.append((correlation, c > centre(c)))
    for hint, wrong in mistakes:
        if np.mean(guess == wrong.astype(int)) > 0.97:
            return hint
    if np.all(guess == guess[0]):
        return (
            "Every guess is the same: solve Q x ~= answers by least squares and round each "
            "entry with x > 0.5."
        )
    return (
        "Solve Q x ~= answers by least squares (np.linalg.lstsq(Q, answers, rcond=None)[0]) "
        "and round each entry: 1 if x > 0.5 else 0."
    )


@question("9.1", points=2, reference="course_utils.attacks.aggregates.reconstruct_bits")
def _check_reconstruct(reconstruct: Any) -> None:
    """Guess every secret bit from the query matrix Q and the noisy answers (least squares, then
    round at 1/2)."""
    cases = [
        (100, 400, 1.0, 0, 0.5),
        (100, 400, 1.0, 1, 0.5),
        (120, 480, 1.0, 2, 0.15),
        (60, 600, 2.0, 3, 0.5),
    ]
    for n, m, noise, seed, share in cases:
        bits, Q, answers = _instance(n, m, noise, seed, share)
        case = f"n={n} people, m={m} queries, noise up to {noise:g}, {share:.0%} ones"
        out = call_unchanged(
            reconstruct,
            Q,
            answers,
            what=f"Q and answers are not modified ({case})",
            hint="Work on copies; do not change the inputs in place.",
        )
        guess = as_floats(
            out,
            f"returns one number per person ({case})",
            expected=f"{n} bits",
            got=out,
            hint="Return a numpy array of 0/1 guesses, one per column of Q.",
        ).reshape(-1)
        if guess.size == m and m != n:
            expect(
                False,
                f"returns one guess per person ({case})",
                expected=f"{n} bits",
                got=f"{guess.size} values (one per query)",
                hint="The unknowns are the columns of Q (people), not its rows (queries): "
                "solve Q x ~= answers for x.",
            )
        expect(
            guess.size == n,
            f"returns one guess per person ({case})",
            expected=f"{n} bits",
            got=f"{guess.size} values",
            hint="Return one 0/1 value per column of Q.",
        )
        if not np.all((guess == 0) | (guess == 1)):
            hint = "Round each entry: (x > 0.5).astype(int)."
            if np.all(guess == np.round(guess)):
                hint = (
                    "np.round of values outside [0, 1] gives -1 or 2: compare with 1/2 "
                    "instead, (x > 0.5).astype(int)."
                )
            expect(
                False,
                f"returns only 0s and 1s ({case})",
                expected="0/1 values",
                got=np.unique(np.round(guess, 3))[:8].tolist(),
                hint=hint,
            )
        rate = float(np.mean(guess == bits))
        expect(
            rate > 0.95,
            f"recovers more than 95 % of the bits ({case})",
            expected="> 95 % correct",
            got=f"{rate:.1%} correct",
            hint=_diagnose_reconstruction(guess.astype(int), Q, answers),
        )


# ---------------------------------------------------------------------------------------------
# 9.2  report noisy max
# ---------------------------------------------------------------------------------------------
_RNM_INDEX = "Return the index of the largest noisy score (np.argmax), not the noisy score itself."


def _index(value: Any, k: int, what: str, hint: str = _RNM_INDEX) -> int:
    """``value`` as an index in ``range(k)``, or a failed case ``what`` with ``hint``."""
    f = math.nan
    if not isinstance(value, (bool, np.bool_)):
        try:
            f = float(value)
        except Exception:
            pass
    expect(
        math.isfinite(f) and f == int(f) and 0 <= f < k,
        what,
        expected=f"an index in range({k})",
        got=value,
        hint=hint,
    )
    return int(f)


@question("9.2", points=2, reference="course_utils.privacy.mechanisms.report_noisy_max")
def _check_report_noisy_max(report_noisy_max: Any) -> None:
    """Return the index of the largest score after adding Laplace noise of scale 2 * sensitivity /
    epsilon to every score."""

    def pick(scores, epsilon, sensitivity, rng, what="returns the index of one candidate"):
        out = report_noisy_max(
            np.asarray(scores, dtype=float), epsilon=epsilon, sensitivity=sensitivity, rng=rng
        )
        return _index(out, len(scores), what)

    pick([1.0, 5.0, 2.0], 1.0, 1.0, _rng(0))
    ten = np.zeros(10)
    expect_reproducible(
        lambda seed: pick(ten, 1.0, 1.0, _rng(seed)),
        "the noise comes from the rng argument (same seed, same pick)",
        seeds=range(5, 10),
        hint="Draw the noise with the `rng` you are given, not np.random or a new default_rng().",
    )

    rng = _rng(1)
    runs = [pick([1.0, 0.0], 1.0, 1.0, rng) for _ in range(400)]
    expect(
        runs.count(1) >= 40,
        "a close race is sometimes won by the runner-up (scores 1 and 0, epsilon 1)",
        expected="the runner-up picked in roughly a third of 400 runs",
        got=f"{runs.count(1)} of 400",
        hint="Always returning the largest score is not private: add fresh noise to EVERY score "
        "(size=len(scores)) before taking the argmax.",
    )

    for sensitivity in (1.0, 3.0):
        rng = _rng(2)
        scores = [0.0, 0.0, 0.0, 0.0, 12.0 * sensitivity]
        runs = [pick(scores, 1.0, sensitivity, rng) for _ in range(400)]
        expect(
            runs.count(4) >= 360,
            f"a clear winner is found (gap 12 x sensitivity, sensitivity={sensitivity:g})",
            expected="the winner in at least 90 % of 400 runs",
            got=f"{runs.count(4)} of 400",
            hint="Too much noise, or the argmax is taken before adding the noise: the scale is "
            "2 * sensitivity / epsilon.",
        )

    k = 10
    for epsilon, sensitivity, seed in ((1.0, 1.0, 3), (0.5, 2.0, 4)):
        case = f"epsilon={epsilon:g}, sensitivity={sensitivity:g}, {k} candidates"
        rng = _rng(seed)
        equal = [pick(np.zeros(k), epsilon, sensitivity, rng) for _ in range(2000)]
        share = equal.count(0) / 2000
        expect(
            abs(share - 1 / k) < 0.04,
            f"equal scores are equally likely ({case})",
            expected=f"candidate 0 picked about {1 / k:.0%} of the time",
            got=f"{share:.1%}",
            hint="Add independent noise to every score; do not break ties by position.",
        )
        moved = np.r_[sensitivity, -sensitivity * np.ones(k - 1)]  # a neighbour of the zero vector
        runs = [pick(moved, epsilon, sensitivity, rng) for _ in range(3000)]
        ratio = runs.count(0) / 3000 * k / math.exp(epsilon)
        hint = "The noise scale must be 2 * sensitivity / epsilon."
        if 1.35 <= ratio < 2.7:
            hint = (
                "Your noise looks like scale sensitivity / epsilon. That is enough only when all "
                "scores move in the same direction; here a neighbour can raise one score and lower "
                "the others, so use 2 * sensitivity / epsilon."
            )
        elif ratio >= 2.7:
            hint = (
                "Far too little noise: a smaller epsilon (or a larger sensitivity) must give MORE "
                "noise, scale 2 * sensitivity / epsilon."
            )
        expect(
            ratio < 1.35,
            f"privacy: one neighbour cannot make a candidate much likelier ({case})",
            expected=f"P[pick 0] at most about e^epsilon / {k} = {math.exp(epsilon) / k:.3f} when every "
            "score moved by the sensitivity in its favour",
            got=f"{runs.count(0) / 3000:.3f} in 3000 runs",
            hint=hint,
        )


# ---------------------------------------------------------------------------------------------
# 9.3  de-biasing generalized randomized response
# ---------------------------------------------------------------------------------------------
@question("9.3", points=2, reference="course_utils.privacy.local.grr_estimate")
def _check_grr_estimate(grr_estimate: Any) -> None:
    """Return unbiased estimates of how many users hold each of the k values, from generalized
    randomized response reports."""

    def estimate(reports, k, epsilon, what):
        out = call_unchanged(
            grr_estimate,
            np.asarray(reports, dtype=np.int64),
            k,
            epsilon=epsilon,
            what="the reports are not modified",
            hint="Do not change the input in place.",
        )
        try:
            arr = np.asarray(out, dtype=float).reshape(-1)
        except Exception:
            expect(
                False, what, expected=f"{k} numbers", got=out, hint="Return one estimate per value."
            )
        if arr.size != k:
            expect(
                False,
                what,
                expected=f"{k} estimates (one per value 0..{k - 1})",
                got=f"{arr.size} values",
                hint="Count with np.bincount(reports, minlength=k): values nobody reported "
                "still need an estimate.",
            )
        return arr

    # epsilon = ln 2, k = 3: p = 1/2, q = 1/4; 40 users all holding value 0 send these in expectation
    reports = np.r_[np.zeros(20), np.ones(10), np.full(10, 2)].astype(int)
    got = estimate(reports, 3, math.log(2), "one estimate per value")
    right = np.array([40.0, 0.0, 0.0])
    mistakes = {
        "Raw report counts are biased towards uniform: subtract n * q and divide by (p - q).": np.array(
            [20.0, 10.0, 10.0]
        ),
        "Return counts (numbers of users), not fractions.": right / 40,
        "With k values the truth is kept with probability p = e^eps / (e^eps + k - 1), not "
        "e^eps / (1 + e^eps) as for two values.": np.array([20.0, -10.0, -10.0]),
        "Each OTHER value is reported with probability q = (1 - p) / (k - 1) = 1 / (e^eps + k - 1), "
        "not (1 - p) / k.": np.array([40.0, 10.0, 10.0]),
    }
    if not np.allclose(got, right, atol=1e-6):
        hint = "Solve E[count_v] = n_v p + (n - n_v) q for n_v: n_v = (count_v - n q) / (p - q)."
        for text, wrong in mistakes.items():
            if np.allclose(got, wrong, atol=1e-6):
                hint = text
        if np.all(got == np.round(got)) and np.all(np.abs(got - right) <= 1.0):
            hint = (
                "Your estimates look rounded (whole numbers within 1 of the right ones): return "
                "(count_v - n q) / (p - q) as it is - rounding or ceil() biases the estimate."
            )
        expect(
            False,
            "40 users all holding value 0 (reports with exactly their expected counts, "
            "k=3, epsilon=ln 2)",
            expected=right.tolist(),
            got=np.round(got, 3).tolist(),
            hint=hint,
        )

    # epsilon = ln 3, k = 4: p = 1/2, q = 1/6; nobody reported value 3
    reports = np.r_[np.zeros(10), np.ones(30), np.full(10, 2)].astype(int)
    got = estimate(
        reports, 4, math.log(3), "one estimate per value, also for values nobody reported"
    )
    right = np.array([5.0, 65.0, 5.0, -25.0])
    hint = "n_v = (count_v - n q) / (p - q) with q = 1 / (e^eps + k - 1)."
    if np.allclose(got, np.clip(right, 0, None), atol=1e-6):
        hint = (
            "Do not clip negative estimates to 0: an unbiased estimate can be negative, and "
            "clipping biases every rare value upwards."
        )
    expect(
        np.allclose(got, right, atol=1e-6),
        "reports 0 x10, 1 x30, 2 x10 (k=4, epsilon=ln 3)",
        expected=right.tolist(),
        got=np.round(got, 3).tolist(),
        hint=hint,
    )

    # unbiasedness over simulated collections
    k, epsilon, n = 5, 1.0, 3000
    truth = np.repeat(np.arange(k), [1500, 900, 450, 150, 0])
    counts = np.bincount(truth, minlength=k)
    rng = _rng(9)
    ests = np.array(
        [
            estimate(_grr(truth, k, epsilon, rng), k, epsilon, "one estimate per value")
            for _ in range(200)
        ]
    )
    e = math.exp(epsilon)
    p, q = e / (e + k - 1), 1 / (e + k - 1)
    var = n * q * (1 - q) / (p - q) ** 2 + counts * (1 - p - q) / (p - q)
    z = (ests.mean(axis=0) - counts) / np.sqrt(var / len(ests))
    hint = "Use the unbiased estimator (count_v - n q) / (p - q), without clipping or rounding."
    if np.all(ests >= 0):
        hint = "Your estimates are never negative - are they clipped? " + hint
    expect(
        np.all(np.abs(z) < 4.5),
        f"unbiased over 200 simulated collections (n={n}, k={k}, epsilon=1)",
        expected=f"average estimates near {counts.tolist()}",
        got=np.round(ests.mean(axis=0), 1).tolist(),
        hint=hint,
    )


# ---------------------------------------------------------------------------------------------
# 9.4  AboveThreshold (the sparse vector technique with one "above")
# ---------------------------------------------------------------------------------------------
_SHARED_THRESHOLD = (
    "comparisons that do not share one noisy threshold (no threshold noise, or a new one for every "
    "answer) - draw the threshold noise once, before the loop, scale 2 / epsilon, and compare every "
    "noisy answer with that same noisy threshold"
)


@question("9.4", points=3, reference=("course_utils.privacy.mechanisms.sparse_vector",))
def _check_above_threshold(above_threshold: Any) -> None:
    """Return the index of the first answer whose noisy value reaches the noisy threshold (Laplace
    2/epsilon on the threshold, 4/epsilon on each answer), or None."""

    def run(answers, threshold, epsilon, rng):
        out = above_threshold(
            np.asarray(answers, dtype=float), float(threshold), epsilon=epsilon, rng=rng
        )
        if out is None:
            return None
        try:  # several values (a list, an array or a tensor of flags)?
            several = not isinstance(out, (str, bytes, dict)) and np.size(_plain(out)) != 1
        except Exception:  # noqa: BLE001 - a ragged list or an odd object
            several = True
        if several:
            expect(
                False,
                "returns one index or None",
                expected="an index or None",
                got=out,
                hint="Return the index of the first answer above the noisy threshold (and stop "
                "there), not a list of flags.",
            )
        hint = (
            "Return the index of an answer (0 to len(answers) - 1), or return None "
            "when no answer is above - not -1 or len(answers)."
        )
        value = expect_integer(out, "returns the index of an answer, or None", hint)
        return _index(value, len(answers), "returns the index of an answer, or None", hint=hint)

    rng = _rng(0)
    runs = [run([0, 0, 100, 0, 200], 50, 1.0, rng) for _ in range(300)]
    hint = "Go through the answers in order and stop at the FIRST one whose noisy value reaches the noisy threshold."
    if runs.count(4) > 150:
        hint = "Return the first answer above the threshold, not the largest. " + hint
    expect(
        runs.count(2) >= 285,
        "answers (0, 0, 100, 0, 200), threshold 50: the first above is index 2",
        expected="2 in at least 95 % of 300 runs",
        got={i: runs.count(i) for i in set(runs)},
        hint=hint,
    )
    runs = [run([0, 0, 0], 100, 1.0, rng) for _ in range(300)]
    expect(
        runs.count(None) >= 285,
        "answers (0, 0, 0), threshold 100: nothing is above, return None",
        expected="None in at least 95 % of 300 runs",
        got={str(i): runs.count(i) for i in set(runs)},
        hint="Return None when no noisy answer reaches the noisy threshold (not -1 or len(answers)).",
    )
    zeros = [0.0] * 8
    expect_reproducible(
        lambda seed: run(zeros, 0.5, 1.0, _rng(seed)),
        "the noise comes from the rng argument (same seed, same output)",
        seeds=range(5, 15),
        hint="Draw every noise value with the `rng` you are given.",
    )

    epsilon = 1.0
    mistakes = {
        "no noise on the answers (a published broken variant: it is not private at all) - add fresh "
        "Laplace noise of scale 4 / epsilon to every answer": dict(
            threshold_scale=2.0, answer_scale=0.0
        ),
        _SHARED_THRESHOLD: dict(threshold_scale=0.0, answer_scale=4.0),
        _SHARED_THRESHOLD + " ": dict(threshold_scale=2.0, answer_scale=4.0, redraw=True),
        "answer noise of scale 2 / epsilon - it must be 4 / epsilon (2 x sensitivity / (epsilon / 2)), "
        "because the answers may move in opposite directions": dict(
            threshold_scale=2.0, answer_scale=2.0
        ),
        "answer noise of scale 1 / epsilon - it must be 4 / epsilon": dict(
            threshold_scale=2.0, answer_scale=1.0
        ),
        "the two scales swapped - threshold 2 / epsilon, answers 4 / epsilon": dict(
            threshold_scale=4.0, answer_scale=2.0
        ),
    }
    for answers, seed in (([0.0, 0.0, 0.0, 1.0], 7), ([1.0, 1.0, 1.0, 0.0], 8)):
        a = np.asarray(answers)
        case = f"answers {tuple(answers)}, threshold 0, epsilon 1"
        rng = _rng(seed)
        outs = [run(a, 0.0, epsilon, rng) for _ in range(3000)]
        counts = np.array([outs.count(i) for i in range(a.size)] + [outs.count(None)], dtype=float)
        right = _above_threshold_law(a, 2.0 / epsilon, 4.0 / epsilon)
        p = stats.chisquare(counts, 3000 * right).pvalue
        if p > P_MIN:
            continue
        hint = (
            "Draw the threshold noise once (Laplace, scale 2 / epsilon), then for each answer in "
            "order fresh Laplace noise of scale 4 / epsilon; return the first index with "
            "answer + noise >= threshold + threshold noise."
        )
        for text, kwargs in mistakes.items():
            law = _above_threshold_law(a, **kwargs)
            with np.errstate(divide="ignore", invalid="ignore"):
                fits = (
                    np.all((law > 0) | (counts == 0))
                    and stats.chisquare(
                        counts[law > 0], counts.sum() * law[law > 0] / law[law > 0].sum()
                    ).pvalue
                    > P_MIN
                )
            if fits:
                hint = f"Your outputs fit {text.strip()}."
                break
        labels = [str(i) for i in range(a.size)] + ["None"]
        expect(
            False,
            f"the distribution of the output ({case})",
            expected=dict(zip(labels, np.round(right, 3).tolist(), strict=True)),
            got=dict(zip(labels, np.round(counts / 3000, 3).tolist(), strict=True)),
            hint=hint,
        )
