"""Challenge 2.5 (offline LiRA from shadow logits): the reference passes, the blank exercise scores
0, the usual shortcuts fail with the hint naming their mistake, and differently written correct
attacks pass."""

from __future__ import annotations

from tests.challenge_support import Right, Wrong, challenge_tests
from tests.wrong_answers import edited

PRELUDE = """
import numpy as np
from scipy import stats
from scipy.special import logsumexp, softmax


def true_logit_confidence(logits, labels):
    true = np.take_along_axis(logits, np.broadcast_to(labels, logits.shape[:-1])[..., None], -1)
    others = np.where(np.arange(logits.shape[-1]) == labels[:, None], -np.inf, logits)
    return true[..., 0] - logsumexp(others, axis=-1)
"""

# a correct offline LiRA score (the z-score of the target's confidence among its shadows); the
# wrong answers written as ``edited(LIRA_Z, ...)`` are it with one mistake
LIRA_Z = """
def lira_offline(target_logits, shadow_logits, labels):
    phi_t = true_logit_confidence(target_logits, labels)
    phi_s = true_logit_confidence(shadow_logits, labels)
    return (phi_t - phi_s.mean(0)) / phi_s.std(0)
"""

WRONG = [
    Wrong(
        "the loss-threshold attack: no shadow models",
        "ignore the shadow models",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            return true_logit_confidence(target_logits, labels)
        """,
    ),
    Wrong(
        "one Gaussian pooled over all records",
        "calibrate each record on its own",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            phi = true_logit_confidence(shadow_logits, labels)
            return stats.norm.logcdf(true_logit_confidence(target_logits, labels),
                                     loc=phi.mean(), scale=phi.std())
        """,
    ),
    Wrong(
        "calibrated on the probability scale",
        "probability scale",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            def p_true(logits):
                idx = np.broadcast_to(labels, logits.shape[:-1])[..., None]
                return np.take_along_axis(softmax(logits, axis=-1), idx, -1)[..., 0]
            p_t, p_s = p_true(target_logits), p_true(shadow_logits)
            return (p_t - p_s.mean(0)) / (p_s.std(0) + 1e-12)
        """,
    ),
    Wrong(
        "a two-sided test: |z| flags records fitted worse than their shadows too",
        "two-sided",
        edited(LIRA_Z, "return (phi_t - phi_s.mean(0))", "return np.abs(phi_t - phi_s.mean(0))"),
    ),
    Wrong(
        "reversed: shadow mean minus target",
        "scores are reversed",
        edited(LIRA_Z, "(phi_t - phi_s.mean(0))", "(phi_s.mean(0) - phi_t)"),
    ),
    Wrong(
        "the predicted class instead of the true label",
        "true class",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            def top_confidence(logits):
                s = np.sort(logits, axis=-1)
                return s[..., -1] - logsumexp(s[..., :-1], axis=-1)
            phi_t, phi_s = top_confidence(target_logits), top_confidence(shadow_logits)
            return (phi_t - phi_s.mean(0)) / phi_s.std(0)
        """,
    ),
    Wrong(
        "log(p / (1 - p)) from softmax probabilities overflows",
        "log space",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            def phi(logits):
                idx = np.broadcast_to(labels, logits.shape[:-1])[..., None]
                p = np.take_along_axis(softmax(logits, axis=-1), idx, -1)[..., 0]
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.log(p / (1 - p))
            phi_t, phi_s = phi(target_logits), phi(shadow_logits)
            with np.errstate(invalid="ignore"):
                return (phi_t - phi_s.mean(0)) / phi_s.std(0)
        """,
    ),
]

RIGHT = [
    Right(
        "a z-score with one pooled within-record variance (LiRA for few shadows)",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            phi_t = true_logit_confidence(target_logits, labels)
            phi_s = true_logit_confidence(shadow_logits, labels)
            pooled = np.sqrt(np.mean(phi_s.var(axis=0, ddof=1)))
            return (phi_t - phi_s.mean(axis=0)) / pooled
        """,
    ),
    Right(
        "a loop over records, np.delete for the other classes, population std",
        """
        def lira_offline(target_logits, shadow_logits, labels):
            scores = np.empty(len(labels))
            for i, y in enumerate(labels):
                phi_t = target_logits[i, y] - logsumexp(np.delete(target_logits[i], y))
                phi_s = np.array([z[i, y] - logsumexp(np.delete(z[i], y)) for z in shadow_logits])
                scores[i] = (phi_t - phi_s.mean()) / phi_s.std()
            return scores
        """,
    ),
]

globals().update(
    challenge_tests("2.5", "02_threat_models", prelude=PRELUDE, wrong=WRONG, right=RIGHT)
)
