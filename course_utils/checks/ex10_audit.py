"""Checks of exercise set 10 (the capstone audit).

The learner audits a vendor's digit classifier and DP-SGD code (:func:`mystery`, defined with its
hidden settings in :mod:`course_utils.checks._ex10_mystery`; the exercise notebook never states
them). The checks judge *claims*: an epsilon lower bound must never exceed the truth (tested on
mechanisms whose epsilon is known exactly, and against the accountant for correct DP-SGD) and must
be tight enough to refute a false claim; "these records are members" must be mostly true; an
upper confidence bound on robust accuracy must cover the exact value and stay close to it.
Expected values are computed here with numpy and scipy, never with the course's implementations
of the asked functions (``course_utils.privacy.audit``, ``canaries.threshold_audit``,
``membership.rmia_scores``); the usual mistakes are recomputed so the hint can name the one made.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import expect, expect_number, question
from ._ex10_cases import _bound, _close, _cp_high, _exact_robust, _log_p_true
from ._ex10_mystery import (
    _HIDDEN,
    CLAIM,
    ROBUST_EPS,
    Mystery,
    _code_scores,
    _members,
    mystery,
)
from ._values import _plain

__all__ = ["Mystery", "mystery"]


# ---------------------------------------------------------------------------------------------
# 10.1  epsilon from an attack's counts
# ---------------------------------------------------------------------------------------------
_HINTS_10_1 = {
    "point": "You used the point estimates tp / n_pos and fp / n_neg. They are noisy, so the bound "
    "often lands above the true epsilon: bound the TPR from below and the FPR from above with "
    "Clopper-Pearson (scipy.stats.beta.ppf).",
    "one_direction": "You used only ln(TPR / FPR). DP bounds the test both ways: also compute "
    "ln((TNR - delta) / FNR) with TNR = 1 - FPR, FNR = 1 - TPR (their bounds are the complements) "
    "and return the larger.",
    "no_split": "Each one-sided bound must hold at level 1 - (1 - confidence) / 2, so that both "
    "hold together with probability `confidence` (a union bound); you used `confidence` for each.",
    "reversed": "The confidence level is reversed: the tails have probability (1 - confidence) / 2, "
    "so the one-sided level is 1 - (1 - confidence) / 2, not 1 - confidence / 2.",
    "no_delta": "Subtract delta: DP allows TPR <= e^epsilon * FPR + delta, so the bound is "
    "ln((TPR_low - delta) / FPR_high).",
    "log10": "Epsilon uses the natural logarithm (np.log), not log10.",
    "log2": "Epsilon uses the natural logarithm (np.log), not log2.",
}
_CASES_10_1 = [
    (120, 7, 400, 600, 1e-3, 0.95),  # the first direction wins
    (1000, 900, 1000, 1000, 0.0, 0.95),  # the second direction wins
    (480, 449, 500, 500, 1e-5, 0.95),  # the second direction, with delta
    (37, 4, 200, 300, 0.0, 0.9),
    (50, 0, 50, 50, 1e-5, 0.95),  # a perfect attack
    (60, 6, 300, 300, 0.02, 0.99),  # a large delta
    (25, 25, 50, 50, 0.0, 0.95),  # no evidence at all
]


@question(
    "10.1",
    points=2,
    reference=(
        "course_utils.privacy.audit.attack_epsilon_lower_bound",
        "course_utils.privacy.audit.epsilon_lower_bound",
    ),
)
def _check_epsilon_from_attack(epsilon_from_attack: Any) -> None:
    """Return the epsilon lower bound implied by tp of n_pos and fp of n_neg, both directions, with
    Clopper-Pearson bounds."""

    def call(tp: int, fp: int, P: int, N: int, delta: float, confidence: float) -> float:
        out = epsilon_from_attack(tp, fp, P, N, delta=delta, confidence=confidence)
        return expect_number(
            out, "returns one number (a lower bound on epsilon)", "Return a float."
        )

    for tp, fp, P, N, delta, conf in _CASES_10_1:
        got = call(tp, fp, P, N, delta, conf)
        want = _bound(tp, fp, P, N, delta, conf)
        if _close(got, want):
            continue
        expect(
            got >= 0 or want > 0,
            "the bound is never negative",
            expected=0.0,
            got=round(got, 4),
            hint="When the counts rule nothing out, return 0 (epsilon is never negative).",
        )
        made = [m for m in _HINTS_10_1 if _close(got, _bound(tp, fp, P, N, delta, conf, m))]
        made = [m for m in made if not _close(want, _bound(tp, fp, P, N, delta, conf, m))]
        expect(
            False,
            f"epsilon_from_attack({tp}, {fp}, {P}, {N}, delta={delta}, confidence={conf})",
            expected=round(want, 6),
            got=round(got, 6),
            hint=_HINTS_10_1[made[0]]
            if made
            else "Compute TPR_low and FPR_high with one-sided Clopper-Pearson bounds at level "
            "1 - (1 - confidence) / 2; return max(0, ln((TPR_low - delta) / FPR_high), "
            "ln((TNR_low - delta) / FNR_high)).",
        )
    # validity: randomized response with epsilon = 1 exactly, 200 audits of 300 + 300 runs
    g = np.random.default_rng(101)
    p = math.e / (1 + math.e)
    over = sum(
        call(int(g.binomial(300, p)), int(g.binomial(300, 1 - p)), 300, 300, 0.0, 0.95) > 1.0
        for _ in range(200)
    )
    expect(
        over <= 15,
        "valid: on a mechanism with epsilon exactly 1, the bound exceeds 1 in at most 5 % of audits",
        expected="at most 15 of 200 (7.5 %)",
        got=f"{over} of 200",
        hint=_HINTS_10_1["point"],
    )


# ---------------------------------------------------------------------------------------------
# 10.2  audit the vendor's code from canary runs
# ---------------------------------------------------------------------------------------------
_HINT_SPLIT = (
    "Choose the threshold (and side) on the first half of each array, then count TP and FP on the "
    "second half only and pass those counts to your epsilon_from_attack."
)


@question(
    "10.2",
    points=3,
    reference=(
        "course_utils.privacy.canaries.threshold_audit",
        "course_utils.privacy.audit.audit_samples",
        "course_utils.privacy.audit.empirical_epsilon",
    ),
)
def _check_audit_canary_runs(audit_canary_runs: Any) -> None:
    """Return a valid epsilon lower bound from canary-run scores: pick a threshold on half the runs,
    count on the other half."""

    def call(
        a: np.ndarray, b: np.ndarray, *, delta: float = 0.0, confidence: float = 0.95
    ) -> float:
        out = audit_canary_runs(a.copy(), b.copy(), delta=delta, confidence=confidence)
        value = expect_number(
            out, "returns one number (a lower bound on epsilon)", "Return a float, not the counts."
        )
        expect(
            value >= 0,
            "returns an epsilon >= 0",
            got=value,
            hint="Clip at 0: epsilon is never negative.",
        )
        return value

    g = np.random.default_rng(102)
    # 1. clusters that never overlap: every sensible test catches all runs, so only the
    #    confidence level decides the bound - and a higher confidence must give a lower bound
    a, b = g.normal(10.0, 1.0, 1000), g.normal(0.0, 1.0, 1000)
    try:
        loose, strict = call(a, b, confidence=0.5), call(a, b, confidence=0.99)
    except Exception as exc:  # in this process, or reported by the grader's kernel
        if "ZeroDivisionError" not in (type(exc).__name__, getattr(exc, "exc_type", "")):
            raise
        loose = strict = math.inf
    expect(
        math.isfinite(loose) and math.isfinite(strict),
        "perfectly separated runs give a finite bound",
        got="a division by zero" if math.isinf(loose) else None,
        hint="With no false positives the point estimate FPR = 0 makes ln(TPR / FPR) infinite: "
        "bound the FPR from above with Clopper-Pearson (your epsilon_from_attack) instead.",
    )
    expect(
        abs(loose - strict) > 1e-9,
        "a higher confidence gives a lower (more careful) bound",
        expected="bound(confidence=0.99) < bound(confidence=0.5)",
        got=f"both {loose:.4f}",
        hint="Your bound ignores `confidence`: point estimates of TPR and FPR are not a valid bound. "
        "Use Clopper-Pearson bounds at the given confidence (your epsilon_from_attack).",
    )
    expect(
        strict < loose,
        "a higher confidence gives a lower (more careful) bound",
        expected="bound(confidence=0.99) < bound(confidence=0.5)",
        got=f"{strict:.4f} > {loose:.4f}",
        hint="The confidence level is reversed somewhere (1 - confidence passed as the confidence?): "
        "each one-sided bound holds with probability 1 - (1 - confidence) / 2.",
    )
    # 1b. the split: choosing on some runs and counting on the others makes the bound depend on
    #     which runs land in which half, so shuffling the runs changes it; a bound computed on
    #     all runs at once (threshold chosen on the runs it counts) is the same for every order
    h = np.random.default_rng(105)
    a, b = h.laplace(1.0, 1.0, 400), h.laplace(0.0, 1.0, 400)
    first = call(a, b)
    same = all(call(h.permutation(a), h.permutation(b)) == first for _ in range(3))
    expect(
        not same,
        "the threshold is chosen on some runs and the counts come from the others",
        expected="a bound that depends on which runs pick the threshold",
        got=f"{first:.4f} for every order of the runs",
        hint="Your bound does not change when the runs are shuffled: it chooses the threshold on "
        "the same runs it counts, and the best of many thresholds is luckier than the truth. "
        + _HINT_SPLIT,
    )
    # 2. validity where epsilon is known exactly: Laplace(1, 1) vs Laplace(0, 1) is 1-DP
    bounds = [call(g.laplace(1.0, 1.0, 2000), g.laplace(0.0, 1.0, 2000)) for _ in range(20)]
    over = sum(v > 1.0 for v in bounds)
    expect(
        over <= 3,
        "valid: on a mechanism with epsilon exactly 1 the bound exceeds 1 in at most 5 % of audits",
        expected="at most 3 of 20",
        got=f"{over} of 20 (largest {max(bounds):.2f})",
        hint="Counting TP and FP on the same runs that picked the threshold, or without confidence "
        "bounds, lets luck inflate the bound. " + _HINT_SPLIT,
    )
    expect(
        np.mean(bounds) >= 0.5,
        "tight enough: on the epsilon = 1 mechanism the bound averages at least 0.5",
        got=round(float(np.mean(bounds)), 3),
        hint="Pick the threshold that gives the largest bound on the first half (try many quantiles "
        "of the scores); a poor threshold wastes the runs. " + _HINT_SPLIT,
    )
    # 3. a canary that pushes the score DOWN
    down = [call(g.laplace(-1.0, 1.0, 2000), g.laplace(0.0, 1.0, 2000)) for _ in range(5)]
    expect(
        np.mean(down) >= 0.5,
        "finds a canary that lowers the score (epsilon = 1, scores shifted down)",
        got=round(float(np.mean(down)), 3),
        hint="The canary may push the score down: try both sides, 'score > t means member' and "
        "'score < t means member', on the first half.",
    )
    # 4. scores 0/1 where only TNR / FNR is informative: epsilon = ln(0.2 / 0.02)
    true_eps = math.log(0.2 / 0.02)
    binary = [
        call((g.random(2000) < 0.98).astype(float), (g.random(2000) < 0.8).astype(float))
        for _ in range(5)
    ]
    expect(
        max(binary) <= true_eps,
        "valid on 0/1 scores (epsilon exactly ln 10 = 2.30)",
        got=round(max(binary), 3),
        hint=_HINT_SPLIT,
    )
    expect(
        np.mean(binary) >= 1.2,
        "tight on 0/1 scores: the evidence is in the runs the test calls non-members (TNR / FNR)",
        expected="mean bound >= 1.2 (true epsilon 2.30)",
        got=round(float(np.mean(binary)), 3),
        hint="Use both directions of the DP bound (TPR/FPR and TNR/FNR) - your epsilon_from_attack "
        "does; also allow a threshold equal to a score (ties).",
    )
    # 5. the vendor's code: the claim (epsilon = 2) must be refuted; correct DP-SGD must pass
    for draw in range(2):
        s_in, s_out = _code_scores(600, np.random.default_rng(200 + draw), _HIDDEN["bug"])
        got = call(s_in, s_out, delta=CLAIM["delta"])
        expect(
            got > CLAIM["epsilon"],
            "refutes the vendor's claim epsilon = 2 from 600 + 600 runs of their code",
            expected="> 2",
            got=round(got, 3),
            hint="The two score distributions barely overlap; a threshold between them on the first "
            "half gives TP near 300 and FP near 0 on the second. " + _HINT_SPLIT,
        )
    s_in, s_out = _code_scores(600, np.random.default_rng(210), None)
    got = call(s_in, s_out, delta=CLAIM["delta"])
    expect(
        got <= CLAIM["epsilon"],
        "valid on correct DP-SGD: the bound stays below the accountant's epsilon = 2",
        got=round(got, 3),
        hint=_HINT_SPLIT,
    )


# ---------------------------------------------------------------------------------------------
# 10.3  the most exposed records
# ---------------------------------------------------------------------------------------------
@question("10.3", points=2, reference="course_utils.attacks.membership.rmia_scores")
def _check_most_exposed(most_exposed: Any) -> None:
    """Return the indices of the k audited records most likely to be members (e.g. by RMIA)."""
    m = mystery()
    members = _members()
    n = len(m.y_audit)
    args = (
        m.logits(m.X_audit),
        np.array(m.reference_logits),
        np.array(m.y_audit),
        m.logits(m.X_population),
        np.array(m.reference_population_logits),
        np.array(m.y_population),
    )

    def call(k: int) -> np.ndarray:
        out = most_exposed(*(a.copy() for a in args), k)
        try:
            arr = np.asarray(_plain(out))  # a torch tensor of indices is read as its values
        except Exception:  # noqa: BLE001 - a ragged list or an odd object
            arr = np.asarray(None)
        expect(
            arr.dtype != bool and arr.ndim == 1 and len(arr) == k,
            f"returns k = {k} record indices",
            expected=f"{k} indices",
            got=f"an array of shape {arr.shape} ({arr.dtype})",
            hint="Return the indices of the k highest scores, np.argsort(-scores)[:k], not the "
            "scores or a boolean mask.",
        )
        expect(
            np.issubdtype(arr.dtype, np.integer)
            and arr.min() >= 0
            and arr.max() < n
            and len(set(arr.tolist())) == k,
            "returns k distinct row indices of the audited records",
            got=arr[:10].tolist(),
            hint=f"Indices are 0-based rows of X_audit (0 to {n - 1}), each at most once.",
        )
        return arr

    call(5)
    for k, need in ((10, 8), (20, 15)):
        idx = call(k)
        hits = int(members[idx].sum())
        if hits >= need:
            continue
        raw_top = set(np.argsort(-_log_p_true(args[0], args[2]))[:k].tolist())
        ratio = _log_p_true(args[0], args[2]) - (
            np.log(np.exp(_log_p_true(args[1], args[2])).mean(axis=0))
        )
        ratio_top = set(np.argsort(-ratio)[:k].tolist())
        if idx.min() >= 1 and len(ratio_top & set((idx - 1).tolist())) >= 0.7 * k:
            hint = "Your indices are shifted by one: Python indices are 0-based (row 0 is the first record)."
        elif hits <= k // 5:
            hint = "Most of your records are non-members: sort the scores in DEcreasing order (highest = most likely a member)."
        elif len(raw_top & set(idx.tolist())) >= 0.7 * k:
            hint = (
                "A high target confidence alone picks the EASY records, which every model gets right. "
                "Divide by p(x), the reference models' mean probability of the true label, and compare "
                "with the population records (RMIA)."
            )
        else:
            hint = (
                "Score each record by (p(x|target) / p(x)) relative to the population records' ratios "
                "(RMIA), with p(x) the mean over the four reference models, and take the top k."
            )
        expect(
            False,
            f"the top {k} are mostly members (a valid claim: at least {need} of {k})",
            expected=f">= {need} members",
            got=f"{hits} members",
            hint=hint,
        )


# ---------------------------------------------------------------------------------------------
# 10.4  an upper confidence bound on robust accuracy
# ---------------------------------------------------------------------------------------------
@question("10.4", points=3)
def _check_robust_accuracy_upper(robust_accuracy_upper: Any) -> None:
    """Return an upper confidence bound on the robust accuracy (L-inf ball of radius eps in [0, 1])
    from a sample of test images."""
    m = mystery()
    W, b = np.array(m.weights), np.array(m.bias)
    X_all, y_all = np.array(m.X_test), np.array(m.y_test)
    truth = float(_exact_robust(W, b, X_all, y_all, ROBUST_EPS).mean())

    def call(X: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> float:
        out = robust_accuracy_upper(
            W.copy(), b.copy(), X.copy(), y.copy(), eps=ROBUST_EPS, confidence=confidence
        )
        value = expect_number(
            out,
            "returns one number (an upper bound on robust accuracy)",
            "Return a float in [0, 1].",
        )
        expect(
            0 <= value <= 1,
            "the bound is a fraction in [0, 1]",
            got=value,
            hint="Robust accuracy is a fraction of images, not a percentage or a count.",
        )
        return value

    g = np.random.default_rng(104)
    samples = [g.choice(len(y_all), size=150, replace=False) for _ in range(20)]
    # 1. the confidence level must matter, in the right direction
    loose, strict = (
        call(X_all[samples[0]], y_all[samples[0]], 0.5),
        call(X_all[samples[0]], y_all[samples[0]], 0.99),
    )
    expect(
        not abs(loose - strict) < 1e-12,
        "a higher confidence gives a higher (more careful) upper bound",
        got=f"{loose:.4f} at confidence 0.5 and 0.99",
        hint="You returned a point estimate: the fraction robust on 150 images misses the population "
        "value about half the time. Return a one-sided Clopper-Pearson upper bound at `confidence`.",
    )
    expect(
        strict > loose,
        "a higher confidence gives a higher (more careful) upper bound",
        got=f"{strict:.4f} (0.99) vs {loose:.4f} (0.5)",
        hint="The confidence level is reversed: the upper bound is the `confidence` quantile, "
        "scipy.stats.beta.ppf(confidence, k + 1, n - k).",
    )
    # 2. no attack may beat the exact worst case; pixels inside the ball first (no box effect)
    s = samples[0]
    X_mid = ROBUST_EPS + (1 - 2 * ROBUST_EPS) * X_all[s]  # the box [0, 1] never binds
    exact_mid = float(_exact_robust(W, b, X_mid, y_all[s], ROBUST_EPS).mean())
    got = call(X_mid, y_all[s])
    expect(
        got >= exact_mid - 1e-9,
        "valid: never below the exact robust accuracy of the sample (pixels away from 0 and 1)",
        expected=f">= {exact_mid:.3f}",
        got=round(got, 4),
        hint=f"Your attack changed some pixel by more than eps = {ROBUST_EPS}: after every step project "
        "back, clip(x_adv, x - eps, x + eps) (and eps is in pixel units of [0, 1], not grey levels).",
    )
    uppers = []
    for s in samples:
        exact_s = float(_exact_robust(W, b, X_all[s], y_all[s], ROBUST_EPS).mean())
        got = call(X_all[s], y_all[s])
        expect(
            got >= exact_s - 1e-9,
            "valid: never below the exact robust accuracy of the sample",
            expected=f">= {exact_s:.3f}",
            got=round(got, 4),
            hint="Your attack produced pixels outside [0, 1], which the threat model forbids: clip the "
            "adversarial images to [0, 1] after every step.",
        )
        uppers.append(got)
    # 3. coverage of the exact robust accuracy of all 450 test images, and tightness
    covered = sum(u >= truth for u in uppers)
    expect(
        covered >= 16,
        f"covers the robust accuracy of the whole test set ({truth:.3f}) in at least 16 of 20 samples",
        got=f"{covered} of 20",
        hint="Bound the population value, not the sample: a one-sided Clopper-Pearson upper bound on "
        "k robust images of n at level `confidence`.",
    )
    excess = float(np.mean(uppers) - truth)
    if excess > 0.12:
        s0 = samples[0]
        k_clean = int(((X_all[s0] @ W.T + b).argmax(1) == y_all[s0]).sum())
        clean_upper = _cp_high(k_clean, 150, 0.95)
        hint = (
            "You bounded the CLEAN accuracy: attack every image first (PGD with sign steps inside the "
            "L-infinity ball, or the exact worst case of a linear model)."
            if abs(uppers[0] - clean_upper) < 0.01 or abs(uppers[0] - k_clean / 150) < 0.01
            else "Your attack is too weak for an L-infinity threat model: use steps along the gradient's "
            "SIGN, enough of them, a margin loss, or compute the worst corner of the box exactly "
            "(an L2 ball of radius eps is far smaller)."
        )
        expect(
            False,
            "tight enough: the bounds average at most 0.12 above the exact robust accuracy",
            expected=f"<= {truth + 0.12:.3f}",
            got=round(float(np.mean(uppers)), 3),
            hint=hint,
        )
