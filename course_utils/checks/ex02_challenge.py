"""Challenge of exercise set 02: offline LiRA from given shadow logits (2.5).

The learner gets the target model's logits on ``n`` candidate records, the logits of ``k`` shadow
models that did *not* train on any of them, and the labels, and returns one membership score per
record. The check simulates the setting with records of very different difficulty (some are
always predicted confidently, others never), so a single global threshold on the loss finds few
members at a low false-positive rate while a per-record calibration - the likelihood-ratio idea -
finds many. It measures the true-positive rate at a 1 % false-positive rate on two data sets and
names the usual mistakes: no calibration, probabilities instead of the logit scale, reversed
scores, a two-sided test, ignoring the labels, and a confidence that overflows for very confident
models.

Expected values are computed here with numpy and scipy, never with
:mod:`course_utils.attacks.membership`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

from . import expect, question
from ._values import as_floats

__all__: list[str] = []

#: TPR at 1 % FPR a calibrated attack must reach (per-record LiRA reaches 0.42-0.50 on the
#: check's data, LiRA with one global variance 0.31-0.39; the loss attack at most 0.11,
#: calibration on the probability scale at most 0.20).
MIN_TPR = 0.25
FPR = 0.01


def _logits(phi: np.ndarray, labels: np.ndarray, rng: np.random.Generator, classes: int):
    """Logits whose logit-scaled confidence of the true class, z_y - logsumexp(z_other), is phi."""
    z = rng.normal(0.0, 1.0, phi.shape + (classes,))
    idx = np.broadcast_to(labels, phi.shape)[..., None]
    others = z.copy()
    np.put_along_axis(others, idx, -np.inf, axis=-1)
    np.put_along_axis(z, idx, (phi + logsumexp(others, axis=-1))[..., None], axis=-1)
    return z


def _data(seed: int, *, n: int = 4000, shadows: int = 16, classes: int = 10, far: bool = False):
    """(target logits, shadow logits, labels, is_member): per-record difficulty mu (wide spread),
    per-record spread sd, members shifted by 2.5 sd."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(45.0, 3.0, n) if far else rng.normal(2.0, 3.0, n)
    sd = rng.uniform(0.4, 2.0, n)
    member = rng.random(n) < 0.5
    labels = rng.integers(0, classes, n)
    phi_target = rng.normal(mu + 2.5 * sd * member, sd)
    phi_shadow = rng.normal(mu, sd, (shadows, n))
    target = _logits(phi_target, labels, rng, classes)
    return target, _logits(phi_shadow, labels, rng, classes), labels, member


def _tpr_at_fpr(scores: np.ndarray, member: np.ndarray, fpr: float = FPR) -> float:
    """Best TPR over thresholds "score >= t" whose FPR is at most ``fpr``."""
    s_in, s_out = np.sort(scores[member]), np.sort(scores[~member])
    t = np.unique(scores)
    fp = (len(s_out) - np.searchsorted(s_out, t)) / len(s_out)
    tp = (len(s_in) - np.searchsorted(s_in, t)) / len(s_in)
    return float(tp[fp <= fpr].max(initial=0.0))


def _phi(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    idx = np.broadcast_to(labels, z.shape[:-1])[..., None]
    others = z.copy()
    np.put_along_axis(others, idx, -np.inf, axis=-1)
    return np.take_along_axis(z, idx, axis=-1)[..., 0] - logsumexp(others, axis=-1)


def _p_true(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    idx = np.broadcast_to(labels, z.shape[:-1])[..., None]
    return np.exp(
        np.take_along_axis(z - logsumexp(z, axis=-1, keepdims=True), idx, axis=-1)[..., 0]
    )


def _rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _scores(value: Any, n: int) -> np.ndarray:
    hint = (
        "Return one number per record: a numpy array of shape (n,), higher = more likely a member."
    )
    what = "lira_offline returns one score per record"
    arr = as_floats(value, what, expected=f"{n} numbers", got=type(value).__name__, hint=hint)
    expect(arr.shape == (n,), what, expected=f"shape ({n},)", got=f"shape {arr.shape}", hint=hint)
    return arr


@question("2.5", points=4, reference="course_utils.attacks.membership.lira_scores")
def _check_lira_offline(lira_offline: Any) -> None:
    # 1. very confident models: the confidence must be computed without overflow
    """Return offline-LiRA membership scores (higher = member) from the target's and the OUT shadow
    models' logits."""
    target, shadow, labels, _ = _data(7, n=300, far=True)
    got = _scores(lira_offline(target, shadow, labels), len(labels))
    expect(
        np.all(np.isfinite(got)),
        "scores stay finite when the models are very confident",
        expected="finite scores",
        got=f"{int(np.sum(~np.isfinite(got)))} of {got.size} are inf or NaN",
        hint="With logits of 40 and more, p_y rounds to 1.0 and log(1 - p_y) is -inf. Compute "
        "the logit-scaled confidence log(p_y / (1 - p_y)) from the logits, in log space: "
        "z_y - logsumexp(the other logits) (scipy.special.logsumexp).",
    )

    # 2. the labels matter
    target, shadow, labels, member = _data(11, n=2000, shadows=8)
    got = _scores(lira_offline(target, shadow, labels), len(labels))
    other = (labels + 1 + np.arange(len(labels)) % 9) % 10
    moved = _scores(lira_offline(target, shadow, other), len(labels))
    expect(
        not np.allclose(got, moved),
        "the scores depend on each record's label",
        expected="different scores when the labels change",
        got="the same scores",
        hint="Use the confidence of each record's TRUE class (labels[i]), not of the class "
        "the model predicts: a member is a record the model fits well under its own label.",
    )

    # 3. the attack works at a low false-positive rate, on two data sets
    for seed, shadows in ((21, 16), (22, 8)):
        target, shadow, labels, member = _data(seed, shadows=shadows)
        case = f"{len(labels)} records, {shadows} shadow models"
        got = _scores(lira_offline(target, shadow, labels), len(labels))
        expect(
            np.all(np.isfinite(got)),
            f"scores are finite ({case})",
            got="inf or NaN",
            hint="Compute the confidence in log space and make sure no shadow spread is 0.",
        )
        tpr = _tpr_at_fpr(got, member)
        if tpr >= MIN_TPR:
            continue
        expect(
            _tpr_at_fpr(-got, member) < MIN_TPR,
            f"higher score = more likely a member ({case})",
            expected=f"TPR >= {MIN_TPR} at 1 % FPR",
            got=f"TPR {tpr:.3f}; reversed scores would reach {_tpr_at_fpr(-got, member):.3f}",
            hint="Your scores are reversed: a member's confidence is HIGHER than its shadow "
            "models predict, so score = (phi_target - mean) / std (or its normal CDF), not the "
            "other way round.",
        )
        phi_t, phi_s = _phi(target, labels), _phi(shadow, labels)
        z_out = (phi_t - phi_s.mean(0)) / phi_s.std(0, ddof=1)
        p_t, p_s = _p_true(target, labels), _p_true(shadow, labels)
        prob_z = (p_t - p_s.mean(0)) / (p_s.std(0) + 1e-12)
        hint = (
            "Calibrate each record on its own: fit a Gaussian to the shadow models' confidence "
            "on THAT record (its mean and standard deviation over the shadow models, axis 0) and "
            "score how far above it the target's confidence lies. One threshold for all records "
            "cannot tell a member from a record that is simply easy."
        )
        if max(_rank_corr(got, prob_z), _rank_corr(got, p_t - p_s.mean(0))) > 0.98:
            hint = (
                "You calibrate on the probability scale, where confident records all sit near "
                "1.0 and differences vanish. Work with the logit-scaled confidence "
                "phi = log(p_y / (1 - p_y)), whose shadow values are close to Gaussian."
            )
        elif abs(_rank_corr(got, np.abs(z_out))) > 0.98:
            hint = (
                "Your test is two-sided (|z| or a two-sided p-value): a record the target fits "
                "WORSE than its shadow models do is not a member. Score how far ABOVE the shadow "
                "models' Gaussian the target's confidence lies: z itself, or its one-sided normal "
                "CDF."
            )
        elif _rank_corr(got, phi_t) > 0.98 or _rank_corr(got, -phi_t) > 0.98:
            hint = "Your scores ignore the shadow models. " + hint
        expect(
            False,
            f"TPR at 1 % FPR ({case})",
            expected=f">= {MIN_TPR} (the loss attack alone reaches about 0.1)",
            got=round(tpr, 3),
            hint=hint,
        )
