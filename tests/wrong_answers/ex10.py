"""Wrong and unusual-but-correct answers of exercise set 10 (the capstone audit).

The prelude holds what the notebook has defined by the time a question is asked: a correct
``epsilon_from_attack`` (10.1, which 10.2's answers call), and the helpers the answers share (the
RMIA log-ratio of 10.3, a numpy PGD against the linear model of 10.4).
"""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, with_challenge

PRELUDE = """
import math

import numpy as np
from scipy import optimize, stats
from scipy.special import log_softmax, logsumexp


def _cp(k, n, level):
    low = 0.0 if k == 0 else stats.beta.ppf(1 - level, k, n - k + 1)
    high = 1.0 if k == n else stats.beta.ppf(level, k + 1, n - k)
    return low, high


def _epsilon(tp, fp, n_pos, n_neg, delta, level, *, both=True, log=math.log, use_delta=True):
    d = delta if use_delta else 0.0
    tpr_low, tpr_high = _cp(tp, n_pos, level)
    fpr_low, fpr_high = _cp(fp, n_neg, level)
    values = [0.0]
    if tpr_low - d > 0:
        values.append(log((tpr_low - d) / fpr_high))
    if both and (1 - fpr_high) - d > 0:
        values.append(log(((1 - fpr_high) - d) / (1 - tpr_low)))
    return max(values)


def epsilon_from_attack(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
    return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2)


def _split_audit(scores_in, scores_out, *, delta, confidence, sides=(1.0, -1.0), bound=None):
    bound = bound or epsilon_from_attack
    a, b = np.asarray(scores_in), np.asarray(scores_out)
    pa, ca = np.array_split(a, 2)
    pb, cb = np.array_split(b, 2)
    best, test = -1.0, None
    for t in np.unique(np.quantile(np.r_[pa, pb], np.linspace(0.01, 0.99, 99))):
        for s in sides:
            tp, fp = int((s * pa > s * t).sum()), int((s * pb > s * t).sum())
            e = bound(tp, fp, len(pa), len(pb), delta=delta, confidence=confidence)
            if e > best:
                best, test = e, (t, s)
    t, s = test
    tp, fp = int((s * ca > s * t).sum()), int((s * cb > s * t).sum())
    return bound(tp, fp, len(ca), len(cb), delta=delta, confidence=confidence)


def _log_ratio(target, references, y):
    rows = np.arange(len(y))
    own = log_softmax(target, axis=-1)[rows, y]
    refs = log_softmax(references, axis=-1)[:, rows, y]
    return own - (logsumexp(refs, axis=0) - np.log(len(references)))


def _rmia_order(target_logits, reference_logits, labels, pop_target, pop_reference, pop_labels):
    x = _log_ratio(target_logits, reference_logits, labels)
    z = np.sort(_log_ratio(pop_target, pop_reference, pop_labels))
    return np.lexsort((-x, -np.searchsorted(z, x, side="right")))


def _pgd_correct(weights, bias, X, y, eps, steps=40, project=True, clip=True, l2=False):
    X_adv = X.copy()
    for _ in range(steps):
        logits = X_adv @ weights.T + bias
        runner = np.where(np.eye(10, dtype=bool)[y], -np.inf, logits).argmax(1)
        grad = weights[runner] - weights[y]
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
    return (X_adv @ weights.T + bias).argmax(1) == y


def _cp_upper(ok, confidence):
    k, n = int(np.sum(ok)), len(ok)
    return 1.0 if k == n else float(stats.beta.ppf(confidence, k + 1, n - k))
"""

_EPS_SIGNATURE = "def epsilon_from_attack(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):"
_AUDIT_SIGNATURE = "def audit_canary_runs(scores_in, scores_out, *, delta=0.0, confidence=0.95):"
_EXPOSED_SIGNATURE = (
    "def most_exposed(target_logits, reference_logits, labels, pop_target_logits,\n"
    "                 pop_reference_logits, pop_labels, k):"
)
_ROBUST_SIGNATURE = "def robust_accuracy_upper(weights, bias, X, y, *, eps, confidence=0.95):"
_ALL_10_3 = (
    "target_logits, reference_logits, labels, pop_target_logits, pop_reference_logits, pop_labels"
)

WRONG = {
    "10.1": [
        Wrong(
            "point estimates tp / n_pos and fp / n_neg",
            "you used the point estimates",
            f"""
            {_EPS_SIGNATURE}
                tpr, fpr = tp / n_pos, fp / n_neg
                values = [0.0]
                if tpr - delta > 0 and fpr > 0:
                    values.append(math.log((tpr - delta) / fpr))
                if (1 - fpr) - delta > 0 and tpr < 1:
                    values.append(math.log(((1 - fpr) - delta) / (1 - tpr)))
                return max(values)
            """,
        ),
        Wrong(
            "only ln(TPR / FPR), not the TNR / FNR direction",
            "dp bounds the test both ways",
            f"""
            {_EPS_SIGNATURE}
                return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - (1 - confidence) / 2, both=False)
            """,
        ),
        Wrong(
            "each one-sided bound at `confidence` (no union bound)",
            "a union bound",
            f"""
            {_EPS_SIGNATURE}
                return _epsilon(tp, fp, n_pos, n_neg, delta, confidence)
            """,
        ),
        Wrong(
            "the one-sided level 1 - confidence / 2 (reversed)",
            "the confidence level is reversed",
            f"""
            {_EPS_SIGNATURE}
                return _epsilon(tp, fp, n_pos, n_neg, delta, 1 - confidence / 2)
            """,
        ),
        Wrong(
            "delta not subtracted",
            "subtract delta",
            f"""
            {_EPS_SIGNATURE}
                level = 1 - (1 - confidence) / 2
                return _epsilon(tp, fp, n_pos, n_neg, delta, level, use_delta=False)
            """,
        ),
        Wrong(
            "log10 instead of the natural logarithm",
            "natural logarithm",
            f"""
            {_EPS_SIGNATURE}
                level = 1 - (1 - confidence) / 2
                return _epsilon(tp, fp, n_pos, n_neg, delta, level, log=math.log10)
            """,
        ),
        Wrong(
            "returns the counts instead of a bound",
            "one number",
            f"""
            {_EPS_SIGNATURE}
                return tp, fp
            """,
        ),
    ],
    "10.2": [
        Wrong(
            "the best threshold's ln(TPR / FPR) on all runs, no confidence bounds",
            "point estimate",
            f"""
            {_AUDIT_SIGNATURE}
                a, b = np.asarray(scores_in), np.asarray(scores_out)
                best = 0.0
                for t in np.quantile(np.r_[a, b], np.linspace(0.01, 0.99, 99)):
                    tpr, fpr = (a > t).mean(), (b > t).mean()
                    with np.errstate(divide="ignore"):
                        best = max(best, np.log(tpr / fpr))
                return best
            """,
        ),
        Wrong(
            "a smoothed point estimate at the median",
            "your bound ignores `confidence`",
            f"""
            {_AUDIT_SIGNATURE}
                a, b = np.asarray(scores_in), np.asarray(scores_out)
                t = np.median(np.r_[a, b])
                return max(0.0, float(np.log(((a > t).sum() + 1) / ((b > t).sum() + 1))))
            """,
        ),
        Wrong(
            "1 - confidence passed on as the confidence",
            "the confidence level is reversed",
            f"""
            {_AUDIT_SIGNATURE}
                return _split_audit(scores_in, scores_out, delta=delta, confidence=1 - confidence)
            """,
        ),
        Wrong(
            "only 'a high score means member'",
            "try both sides",
            f"""
            {_AUDIT_SIGNATURE}
                return _split_audit(
                    scores_in, scores_out, delta=delta, confidence=confidence, sides=(1.0,)
                )
            """,
        ),
        Wrong(
            "an epsilon bound in one direction only (TPR / FPR)",
            "use both directions of the dp bound",
            f"""
            {_AUDIT_SIGNATURE}
                def forward_only(tp, fp, n_pos, n_neg, *, delta, confidence):
                    level = 1 - (1 - confidence) / 2
                    return _epsilon(tp, fp, n_pos, n_neg, delta, level, both=False)

                return _split_audit(
                    scores_in, scores_out, delta=delta, confidence=confidence, bound=forward_only
                )
            """,
        ),
        Wrong(
            "threshold chosen and counted on the same runs",
            "does not change when the runs are shuffled",
            f"""
            {_AUDIT_SIGNATURE}
                a, b = np.asarray(scores_in), np.asarray(scores_out)
                best = 0.0
                for t in np.unique(np.quantile(np.r_[a, b], np.linspace(0.01, 0.99, 99))):
                    for s in (1.0, -1.0):
                        tp, fp = int((s * a > s * t).sum()), int((s * b > s * t).sum())
                        e = epsilon_from_attack(
                            tp, fp, len(a), len(b), delta=delta, confidence=confidence
                        )
                        best = max(best, e)
                return best
            """,
        ),
        Wrong(
            "a correct 10.2 while 10.1 is still not implemented",
            "do 10.1 first",
            f"""
            def epsilon_from_attack(tp, fp, n_pos, n_neg, *, delta=0.0, confidence=0.95):
                raise NotImplementedError("Exercise 10.1: return the epsilon lower bound")


            {_AUDIT_SIGNATURE}
                return _split_audit(scores_in, scores_out, delta=delta, confidence=confidence)
            """,
        ),
    ],
    "10.3": [
        Wrong(
            "sorted in increasing order (the least exposed first)",
            "sort the scores in decreasing order",
            f"""
            {_EXPOSED_SIGNATURE}
                order = _rmia_order({_ALL_10_3})
                return order[::-1][:k]
            """,
        ),
        Wrong(
            "the target model's confidence alone",
            "divide by p(x)",
            f"""
            {_EXPOSED_SIGNATURE}
                p = log_softmax(target_logits, axis=1)[np.arange(len(labels)), labels]
                return np.argsort(-p)[:k]
            """,
        ),
        Wrong(
            "returns the scores instead of the indices",
            "not the scores or a boolean mask",
            f"""
            {_EXPOSED_SIGNATURE}
                return _log_ratio(target_logits, reference_logits, labels)
            """,
        ),
        Wrong(
            "returns a boolean mask of the top k",
            "not the scores or a boolean mask",
            f"""
            {_EXPOSED_SIGNATURE}
                mask = np.zeros(len(labels), dtype=bool)
                mask[_rmia_order({_ALL_10_3})[:k]] = True
                return mask
            """,
        ),
        Wrong(
            "1-based indices",
            "python indices are 0-based",
            f"""
            {_EXPOSED_SIGNATURE}
                return _rmia_order({_ALL_10_3})[:k] + 1
            """,
        ),
    ],
    "10.4": [
        Wrong(
            "bounds the clean accuracy (no attack)",
            "you bounded the clean accuracy",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper((X @ weights.T + bias).argmax(1) == y, confidence)
            """,
        ),
        Wrong(
            "the robust fraction of the sample (a point estimate)",
            "you returned a point estimate",
            f"""
            {_ROBUST_SIGNATURE}
                return float(_pgd_correct(weights, bias, X, y, eps).mean())
            """,
        ),
        Wrong(
            "PGD without the projection onto the eps-ball",
            "project back",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper(_pgd_correct(weights, bias, X, y, eps, project=False), confidence)
            """,
        ),
        Wrong(
            "pixels not clipped to [0, 1]",
            "pixels outside [0, 1]",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper(_pgd_correct(weights, bias, X, y, eps, clip=False), confidence)
            """,
        ),
        Wrong(
            "an L2 ball of radius eps instead of L-infinity",
            "an l2 ball of radius eps is far smaller",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper(_pgd_correct(weights, bias, X, y, eps, l2=True), confidence)
            """,
        ),
        Wrong(
            "the level 1 - confidence (reversed)",
            "the confidence level is reversed",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper(_pgd_correct(weights, bias, X, y, eps), 1 - confidence)
            """,
        ),
        Wrong(
            "a percentage instead of a fraction",
            "a fraction of images, not a percentage",
            f"""
            {_ROBUST_SIGNATURE}
                return 100 * _cp_upper(_pgd_correct(weights, bias, X, y, eps), confidence)
            """,
        ),
    ],
}

RIGHT = {
    "10.1": [
        Right(
            "scipy's binomtest exact interval at `confidence` (one-sided ends at the split level)",
            f"""
            {_EPS_SIGNATURE}
                def ci(k, n):
                    return stats.binomtest(k, n).proportion_ci(
                        confidence_level=confidence, method="exact"
                    )

                best = 0.0
                for k_yes, n_yes, k_no, n_no in ((tp, n_pos, fp, n_neg),
                                                 (n_neg - fp, n_neg, n_pos - tp, n_pos)):
                    num = ci(k_yes, n_yes).low - delta
                    if num > 0:
                        best = max(best, math.log(num / ci(k_no, n_no).high))
                return best
            """,
        ),
        Right(
            "the binomial tails inverted by root finding",
            f"""
            {_EPS_SIGNATURE}
                tail = (1 - confidence) / 2

                def low(k, n):
                    if k == 0:
                        return 0.0
                    return optimize.brentq(
                        lambda p: stats.binom.sf(k - 1, n, p) - tail, 0, 1, xtol=1e-14
                    )

                def high(k, n):
                    if k == n:
                        return 1.0
                    return optimize.brentq(
                        lambda p: stats.binom.cdf(k, n, p) - tail, 0, 1, xtol=1e-14
                    )

                values = [0.0]
                if low(tp, n_pos) - delta > 0:
                    values.append(math.log((low(tp, n_pos) - delta) / high(fp, n_neg)))
                if (1 - high(fp, n_neg)) - delta > 0:
                    values.append(
                        math.log(((1 - high(fp, n_neg)) - delta) / (1 - low(tp, n_pos)))
                    )
                return max(values)
            """,
        ),
    ],
    "10.2": [
        Right(
            "one fixed test: the side from the first halves' means, the pooled median",
            f"""
            {_AUDIT_SIGNATURE}
                a, b = np.asarray(scores_in), np.asarray(scores_out)
                h, k = len(a) // 2, len(b) // 2
                sign = 1.0 if a[:h].mean() >= b[:k].mean() else -1.0
                t = np.median(sign * np.r_[a[:h], b[:k]])
                tp, fp = int((sign * a[h:] >= t).sum()), int((sign * b[k:] >= t).sum())
                return epsilon_from_attack(
                    tp, fp, len(a) - h, len(b) - k, delta=delta, confidence=confidence
                )
            """,
        ),
        Right(
            "even-indexed runs choose among all their scores, odd-indexed runs count",
            f"""
            {_AUDIT_SIGNATURE}
                a, b = np.asarray(scores_in), np.asarray(scores_out)
                pick_a, pick_b = a[::2], b[::2]
                grid = np.unique(np.r_[pick_a, pick_b])
                best, test = -1.0, None
                for sign in (1.0, -1.0):
                    tp = (sign * pick_a[:, None] >= sign * grid).sum(0)
                    fp = (sign * pick_b[:, None] >= sign * grid).sum(0)
                    shortlist = np.argsort(-(tp / len(pick_a) - fp / len(pick_b)))[:25]
                    for i in shortlist:
                        e = epsilon_from_attack(int(tp[i]), int(fp[i]), len(pick_a), len(pick_b),
                                                delta=delta, confidence=confidence)
                        if e > best:
                            best, test = e, (sign, grid[i])
                sign, t = test
                tp, fp = int((sign * a[1::2] >= sign * t).sum()), int((sign * b[1::2] >= sign * t).sum())
                return epsilon_from_attack(tp, fp, len(a[1::2]), len(b[1::2]),
                                           delta=delta, confidence=confidence)
            """,
        ),
    ],
    "10.3": [
        Right(
            "ranks by p(x | target) / p(x) itself (RMIA's order, no population)",
            f"""
            {_EXPOSED_SIGNATURE}
                rows = np.arange(len(labels))
                p_target = np.exp(log_softmax(target_logits, axis=1))[rows, labels]
                p_refs = np.exp(log_softmax(reference_logits, axis=2))[:, rows, labels].mean(0)
                return list(np.argsort(-(p_target / p_refs))[:k])
            """,
        ),
        Right(
            "divides by the geometric mean of the reference probabilities; int32 indices",
            f"""
            {_EXPOSED_SIGNATURE}
                rows = np.arange(len(labels))
                own = log_softmax(target_logits, axis=1)[rows, labels]
                refs = log_softmax(reference_logits, axis=2)[:, rows, labels]
                return np.argsort(refs.mean(axis=0) - own)[:k].astype(np.int32)
            """,
        ),
    ],
    "10.4": [
        Right(
            "an attack (numpy PGD, sign steps) instead of the exact worst case",
            f"""
            {_ROBUST_SIGNATURE}
                return _cp_upper(_pgd_correct(weights, bias, X, y, eps), confidence)
            """,
        ),
        Right(
            "the course's PGD with a margin loss, binomtest's one-sided interval",
            f"""
            import torch
            from course_utils.robustness import pgd, robust_accuracy


            {_ROBUST_SIGNATURE}
                layer = torch.nn.Linear(64, 10)
                with torch.no_grad():
                    layer.weight.copy_(torch.as_tensor(weights, dtype=torch.float32))
                    layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))

                def attack(model, X, y):
                    return pgd(model, X, y, eps=eps, step_size=eps / 4, steps=30, loss="margin",
                               rng=0)

                k = round(robust_accuracy(layer, X.astype(np.float32), y, attack) * len(y))
                ci = stats.binomtest(k, len(y), alternative="less").proportion_ci(
                    confidence_level=confidence, method="exact"
                )
                return ci.high
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(10, PRELUDE, WRONG, RIGHT),
    "10.5",
    importlib.import_module("tests.test_challenge_10"),  # the challenge's answers live there
)
