"""Exercise set 10 (the capstone audit): each check passes the reference answer and two unusual but
correct answers, and fails at least four plausible wrong answers with a hint naming the mistake.
Also: the mystery hands out what it promises and keeps its hidden settings out of it."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import torch
from scipy import optimize, stats
from scipy.special import log_softmax, logsumexp

from course_utils.checks import get_question
from course_utils.checks.ex10_audit import CLAIM, Mystery, _members, mystery
from tests.check_support import fails_with, passes, solution_namespace

SOL = solution_namespace(
    "10_audit", np=np, stats=stats, log_softmax=log_softmax, logsumexp=logsumexp
)


# ------------------------------------------------------------------------------------ the mystery
def test_mystery_hands_out_what_it_promises() -> None:
    m = mystery()
    assert isinstance(m, Mystery) and m is mystery()  # computed once
    assert m.claim == CLAIM and m.claim["epsilon"] == 2.0 and m.claim["delta"] == 1e-5
    assert m.weights.shape == (10, 64) and m.bias.shape == (10,)
    assert m.X_audit.shape == (600, 64) and m.reference_logits.shape == (4, 600, 10)
    assert m.X_population.shape == (400, 64) and m.reference_population_logits.shape == (4, 400, 10)
    assert m.X_test.shape == (450, 64) and m.X_test.min() >= 0 and m.X_test.max() <= 1
    assert not m.weights.flags.writeable  # the learner cannot change the grader's copy
    assert m.logits(m.X_test).shape == (450, 10)
    assert "members" not in repr(m) and not any("member" in f for f in Mystery.__dataclass_fields__)
    members = _members()
    assert members.sum() == 300  # half of the audited records trained the model
    accuracy = (m.logits(m.X_test).argmax(1) == m.y_test).mean()
    assert 0.9 < accuracy < 0.98


def test_canary_runs_refute_the_claim() -> None:
    s_in, s_out = mystery().canary_runs(300, rng=0)
    assert s_in.shape == s_out.shape == (300,)
    assert (
        s_in.mean() > s_out.mean() + 5
    )  # the hidden bug: the canary moves its weight by about C per step
    with pytest.raises(ValueError, match="n_runs"):
        mystery().canary_runs(1)


def test_every_question_has_points_and_references() -> None:
    assert [get_question(q).points for q in ("10.1", "10.2", "10.3", "10.4")] == [2, 3, 2, 3]
    assert "course_utils.privacy.audit.attack_epsilon_lower_bound" in get_question("10.1").reference
    assert "course_utils.attacks.membership.rmia_scores" in get_question("10.3").reference


# ------------------------------------------------------------------------------------------ 10.1
def test_10_1_reference_passes() -> None:
    passes("10.1", SOL["epsilon_from_attack"])


def epsilon_binomtest(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
    """Unusual but correct: scipy's exact two-sided interval at `confidence` has one-sided ends
    at level 1 - (1 - confidence) / 2."""

    def ci(k, n):
        return stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")

    best = 0.0
    for k_yes, n_yes, k_no, n_no in (
        (tp, n_pos, fp, n_neg),
        (n_neg - fp, n_neg, n_pos - tp, n_pos),
    ):
        num = ci(k_yes, n_yes).low - delta
        if num > 0:
            best = max(best, math.log(num / ci(k_no, n_no).high))
    return best


def epsilon_root_finding(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
    """Unusual but correct: invert the binomial tail probabilities by root finding."""
    tail = (1 - confidence) / 2

    def low(k, n):  # the p at which P[X >= k] = tail
        return (
            0.0
            if k == 0
            else optimize.brentq(lambda p: stats.binom.sf(k - 1, n, p) - tail, 0, 1, xtol=1e-14)
        )

    def high(k, n):  # the p at which P[X <= k] = tail
        return (
            1.0
            if k == n
            else optimize.brentq(lambda p: stats.binom.cdf(k, n, p) - tail, 0, 1, xtol=1e-14)
        )

    forward = low(tp, n_pos) - delta
    backward = (1 - high(fp, n_neg)) - delta
    values = [0.0]
    if forward > 0:
        values.append(math.log(forward / high(fp, n_neg)))
    if backward > 0:
        values.append(math.log(backward / (1 - low(tp, n_pos))))
    return max(values)


def test_10_1_unusual_but_correct_answers_pass() -> None:
    passes("10.1", epsilon_binomtest)
    passes("10.1", epsilon_root_finding)


def _cp(k, n, level):
    low = 0.0 if k == 0 else stats.beta.ppf(1 - level, k, n - k + 1)
    high = 1.0 if k == n else stats.beta.ppf(level, k + 1, n - k)
    return low, high


def _epsilon(tp, fp, n_pos, n_neg, delta, level, *, both=True, log=math.log, use_delta=True):
    d = delta if use_delta else 0.0
    tpr_low, _ = _cp(tp, n_pos, level)
    _, fpr_high = _cp(fp, n_neg, level)
    values = [0.0]
    if tpr_low - d > 0:
        values.append(log((tpr_low - d) / fpr_high))
    if both and (1 - fpr_high) - d > 0:
        values.append(log(((1 - fpr_high) - d) / (1 - tpr_low)))
    return max(values)


def test_10_1_typical_mistakes_get_their_hint() -> None:
    def point(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        tpr, fpr = tp / n_pos, fp / n_neg
        values = [0.0]
        if tpr - delta > 0 and fpr > 0:
            values.append(math.log((tpr - delta) / fpr))
        if (1 - fpr) - delta > 0 and tpr < 1:
            values.append(math.log(((1 - fpr) - delta) / (1 - tpr)))
        return max(values)

    def one_way(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2, both=False)

    def no_union(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        return _epsilon(tp, fp, n_pos, n_neg, delta, confidence)

    def reversed_level(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - confidence / 2)

    def no_delta(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2, use_delta=False)

    def log10(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
        return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2, log=math.log10)

    fails_with("10.1", point, "point estimates")
    fails_with("10.1", one_way, "TNR", "both ways")
    fails_with("10.1", no_union, "union bound")
    fails_with("10.1", reversed_level, "reversed")
    fails_with("10.1", no_delta, "subtract delta")
    fails_with("10.1", log10, "natural logarithm")
    fails_with(
        "10.1", lambda tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95: (tp, fp), "one number"
    )


# ------------------------------------------------------------------------------------------ 10.2
def test_10_2_reference_passes() -> None:
    passes("10.2", SOL["audit_canary_runs"])


def audit_by_median(scores_in, scores_out, *, delta=0.0, confidence=0.95):
    """Unusual but correct: one fixed test - the side from the first halves' means, the threshold
    at their pooled median (ties count as positives) - counted on the second halves."""
    a, b = np.asarray(scores_in), np.asarray(scores_out)
    h, k = len(a) // 2, len(b) // 2
    sign = 1.0 if a[:h].mean() >= b[:k].mean() else -1.0
    t = np.median(sign * np.r_[a[:h], b[:k]])
    tp, fp = int((sign * a[h:] >= t).sum()), int((sign * b[k:] >= t).sum())
    return epsilon_binomtest(tp, fp, len(a) - h, len(b) - k, delta=delta, confidence=confidence)


def audit_odd_even(scores_in, scores_out, *, delta=0.0, confidence=0.95):
    """Unusual but correct: even-indexed runs choose among ALL their own scores as thresholds,
    odd-indexed runs count."""
    a, b = np.asarray(scores_in), np.asarray(scores_out)
    best, test = -1.0, None
    grid = np.unique(np.r_[a[::2], b[::2]])
    for sign in (1.0, -1.0):
        tp = (sign * a[::2][:, None] >= sign * grid).sum(0)
        fp = (sign * b[::2][:, None] >= sign * grid).sum(0)
        order = np.argsort(-(tp / len(a[::2]) - fp / len(b[::2])))[
            :25
        ]  # a shortlist, then the bound
        for i in order:
            e = epsilon_root_finding(
                int(tp[i]), int(fp[i]), len(a[::2]), len(b[::2]), delta=delta, confidence=confidence
            )
            if e > best:
                best, test = e, (sign, grid[i])
    sign, t = test
    tp, fp = int((sign * a[1::2] >= sign * t).sum()), int((sign * b[1::2] >= sign * t).sum())
    return epsilon_root_finding(
        tp, fp, len(a[1::2]), len(b[1::2]), delta=delta, confidence=confidence
    )


def test_10_2_unusual_but_correct_answers_pass() -> None:
    passes("10.2", audit_by_median)
    passes("10.2", audit_odd_even)


def _split_audit(scores_in, scores_out, *, delta, confidence, sides=(1.0, -1.0), bound=None):
    """The reference procedure with pluggable mistakes."""
    bound = bound or SOL["epsilon_from_attack"]
    a, b = np.asarray(scores_in), np.asarray(scores_out)
    pa, ca = np.array_split(a, 2)
    pb, cb = np.array_split(b, 2)
    best, test = -1.0, None
    for t in np.unique(np.quantile(np.r_[pa, pb], np.linspace(0.01, 0.99, 99))):
        for s in sides:
            e = bound(
                int((s * pa > s * t).sum()),
                int((s * pb > s * t).sum()),
                len(pa),
                len(pb),
                delta=delta,
                confidence=confidence,
            )
            if e > best:
                best, test = e, (t, s)
    t, s = test
    return bound(
        int((s * ca > s * t).sum()),
        int((s * cb > s * t).sum()),
        len(ca),
        len(cb),
        delta=delta,
        confidence=confidence,
    )


def test_10_2_typical_mistakes_get_their_hint() -> None:
    def point_estimate(scores_in, scores_out, *, delta=0.0, confidence=0.95):
        # the best threshold's ln(TPR / FPR) on all runs, no confidence bounds
        a, b = np.asarray(scores_in), np.asarray(scores_out)
        best = 0.0
        for t in np.quantile(np.r_[a, b], np.linspace(0.01, 0.99, 99)):
            tpr, fpr = (a > t).mean(), (b > t).mean()
            with np.errstate(divide="ignore"):
                best = max(best, np.log(tpr / fpr))
        return best

    def smoothed_point(scores_in, scores_out, *, delta=0.0, confidence=0.95):
        a, b = np.asarray(scores_in), np.asarray(scores_out)
        t = np.median(np.r_[a, b])
        return max(0.0, float(np.log(((a > t).sum() + 1) / ((b > t).sum() + 1))))

    def reversed_confidence(scores_in, scores_out, *, delta=0.0, confidence=0.95):
        return _split_audit(scores_in, scores_out, delta=delta, confidence=1 - confidence)

    def one_side(scores_in, scores_out, *, delta=0.0, confidence=0.95):
        return _split_audit(scores_in, scores_out, delta=delta, confidence=confidence, sides=(1.0,))

    def one_direction(scores_in, scores_out, *, delta=0.0, confidence=0.95):
        def forward_only(tp, fp, n_pos, n_neg, *, delta, confidence):
            return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2, both=False)

        return _split_audit(
            scores_in, scores_out, delta=delta, confidence=confidence, bound=forward_only
        )

    fails_with("10.2", point_estimate, "point estimate")
    fails_with("10.2", smoothed_point, "ignores `confidence`")
    fails_with("10.2", reversed_confidence, "reversed")
    fails_with("10.2", one_side, "push the score down", "both sides")
    fails_with("10.2", one_direction, "both directions", "TNR/FNR")


# ------------------------------------------------------------------------------------------ 10.3
def test_10_3_reference_passes() -> None:
    passes("10.3", SOL["most_exposed"])


def exposed_by_ratio(
    target_logits, reference_logits, labels, pop_target_logits, pop_reference_logits, pop_labels, k
):
    """Unusual but correct: rank by p(x | target) / p(x) itself (RMIA's order, no population)."""
    rows = np.arange(len(labels))
    p_target = np.exp(log_softmax(target_logits, axis=1))[rows, labels]
    p_refs = np.exp(log_softmax(reference_logits, axis=2))[:, rows, labels].mean(0)
    return list(np.argsort(-(p_target / p_refs))[:k])


def exposed_by_geometric_mean(
    target_logits, reference_logits, labels, pop_target_logits, pop_reference_logits, pop_labels, k
):
    """Unusual but correct: divide by the GEOMETRIC mean of the reference probabilities (the mean
    of their logs) and rank; returns int32 indices."""
    rows = np.arange(len(labels))
    own = log_softmax(target_logits, axis=1)[rows, labels]
    refs = log_softmax(reference_logits, axis=2)[:, rows, labels]
    return np.argsort(refs.mean(axis=0) - own)[:k].astype(np.int32)


def test_10_3_unusual_but_correct_answers_pass() -> None:
    passes("10.3", exposed_by_ratio)
    passes("10.3", exposed_by_geometric_mean)


def test_10_3_typical_mistakes_get_their_hint() -> None:
    rmia = SOL["most_exposed"]

    def ascending(*args):
        *data, k = args
        return rmia(*data, len(data[2]))[::-1][:k]

    def raw_confidence(
        target_logits,
        reference_logits,
        labels,
        pop_target_logits,
        pop_reference_logits,
        pop_labels,
        k,
    ):
        p = log_softmax(target_logits, axis=1)[np.arange(len(labels)), labels]
        return np.argsort(-p)[:k]

    def scores_not_indices(*args):
        *data, k = args
        return np.linspace(1, 0, len(data[2]))

    def boolean_mask(*args):
        *data, k = args
        mask = np.zeros(len(data[2]), dtype=bool)
        mask[rmia(*data, k)] = True
        return mask

    def one_based(*args):
        return rmia(*args) + 1

    fails_with("10.3", ascending, "decreasing")
    fails_with("10.3", raw_confidence, "easy", "divide by p(x)")
    fails_with("10.3", scores_not_indices, "not the scores")
    fails_with("10.3", boolean_mask, "boolean mask")
    fails_with("10.3", one_based, "0-based")


# ------------------------------------------------------------------------------------------ 10.4
def test_10_4_reference_passes() -> None:
    passes("10.4", SOL["robust_accuracy_upper"])


def _pgd_correct(weights, bias, X, y, eps, steps=40, project=True, clip=True, l2=False):
    """PGD on the logit margin of a linear model, in numpy (sign steps for L-inf)."""
    X_adv = X.copy()
    rows = np.arange(len(y))
    for _ in range(steps):
        logits = X_adv @ weights.T + bias
        runner = np.where(np.eye(10, dtype=bool)[y], -np.inf, logits).argmax(1)
        grad = weights[runner] - weights[y]  # d(margin of the runner-up)/dx
        if l2:
            X_adv = X_adv + 0.25 * eps * grad / np.linalg.norm(grad, axis=1, keepdims=True)
            d = X_adv - X
            X_adv = X + d * np.minimum(1, eps / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-12))
        else:
            X_adv = X_adv + 0.25 * eps * np.sign(grad)
            if project:
                X_adv = np.clip(X_adv, X - eps, X + eps)
        if clip:
            X_adv = np.clip(X_adv, 0, 1)
    return (X_adv @ weights.T + bias).argmax(1)[rows] == y


def robust_by_pgd_numpy(weights, bias, X, y, *, eps, confidence=0.95):
    """Unusual but correct: an attack (not the exact worst case) and a Clopper-Pearson bound."""
    k, n = int(_pgd_correct(weights, bias, X, y, eps).sum()), len(y)
    return 1.0 if k == n else stats.beta.ppf(confidence, k + 1, n - k)


def robust_by_course_pgd(weights, bias, X, y, *, eps, confidence=0.95):
    """Unusual but correct: the course's PGD (margin loss) on a torch layer, and binomtest's
    one-sided exact interval."""
    from course_utils.robustness import pgd, robust_accuracy

    layer = torch.nn.Linear(64, 10)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weights, dtype=torch.float32))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    attack = partial(pgd, eps=eps, step_size=eps / 4, steps=30, loss="margin", rng=0)
    k = round(robust_accuracy(layer, X.astype(np.float32), y, attack) * len(y))
    ci = stats.binomtest(k, len(y), alternative="less").proportion_ci(
        confidence_level=confidence, method="exact"
    )
    return ci.high


def test_10_4_unusual_but_correct_answers_pass() -> None:
    passes("10.4", robust_by_pgd_numpy)
    passes("10.4", robust_by_course_pgd)


def test_10_4_typical_mistakes_get_their_hint() -> None:
    def cp_upper(ok, confidence):
        k, n = int(np.sum(ok)), len(ok)
        return 1.0 if k == n else stats.beta.ppf(confidence, k + 1, n - k)

    def clean(weights, bias, X, y, *, eps, confidence=0.95):
        return cp_upper((X @ weights.T + bias).argmax(1) == y, confidence)

    def point_estimate(weights, bias, X, y, *, eps, confidence=0.95):
        return float(_pgd_correct(weights, bias, X, y, eps).mean())

    def no_projection(weights, bias, X, y, *, eps, confidence=0.95):
        return cp_upper(_pgd_correct(weights, bias, X, y, eps, project=False), confidence)

    def no_clipping(weights, bias, X, y, *, eps, confidence=0.95):
        return cp_upper(_pgd_correct(weights, bias, X, y, eps, clip=False), confidence)

    def l2_ball(weights, bias, X, y, *, eps, confidence=0.95):
        return cp_upper(_pgd_correct(weights, bias, X, y, eps, l2=True), confidence)

    def reversed_level(weights, bias, X, y, *, eps, confidence=0.95):
        return cp_upper(_pgd_correct(weights, bias, X, y, eps), 1 - confidence)

    fails_with("10.4", clean, "clean accuracy")
    fails_with("10.4", point_estimate, "point estimate")
    fails_with("10.4", no_projection, "more than eps", "project")
    fails_with("10.4", no_clipping, "outside [0, 1]")
    fails_with("10.4", l2_ball, "too weak", "L2")
    fails_with("10.4", reversed_level, "reversed")
