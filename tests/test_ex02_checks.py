"""Exercise set 02: each check passes the reference answer and correct answers written
differently, and fails the typical mistake with a hint aimed at it (one test per question)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

from course_utils.checks import REGISTRY, run_check
from tests.check_support import fails_with as _fails_with
from tests.check_support import passes, solution_namespace

# This set's feedback may quote the value the answer returned: look for hint words there too.
fails_with = partial(_fails_with, search_got=True)

SOL = solution_namespace("02_threat_models", np=np, pd=pd)


def test_set02_is_registered_with_points() -> None:
    qs = [REGISTRY[q] for q in ("2.1", "2.2", "2.3", "2.4")]
    assert [q.points for q in qs] == [2, 3, 2, 2]
    assert [q.answer for q in qs] == ["membership_scores", "tpr_at_fpr", "k_anonymity", "rules_for_k5"]
    assert all(q.reference for q in qs[:3])


def test_2_1_membership_scores() -> None:
    passes("2.1", SOL["membership_scores"])
    # written differently: the raw probability ranks the same way
    passes("2.1", lambda probs, labels: np.asarray(probs)[np.arange(len(labels)), labels])
    # the course's own helper on minus the loss passes too
    from course_utils.attacks.membership import loss_threshold_scores

    passes("2.1", lambda p, y: loss_threshold_scores(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1))))
    # typical mistakes
    fails_with("2.1", lambda p, y: -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, 1)), "reversed", "minus the loss")
    fails_with("2.1", lambda p, y: p.max(axis=1), "true label")
    def unclipped(p, y):  # log(0) * 0 = NaN for the record with probability 0
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(p[np.arange(len(y)), y]) * (p[np.arange(len(y)), y] > 0)

    fails_with("2.1", unclipped, "nan", "clip")
    fails_with("2.1", lambda p, y: p[:, 0], "true label")


def test_2_2_tpr_at_fpr() -> None:
    ref = SOL["tpr_at_fpr"]
    passes("2.2", ref)
    from course_utils.attacks.membership import tpr_at_fpr as lib_tpr

    # the exercise keeps its (scores, is_member, fpr) signature; the library follows scikit-learn
    passes("2.2", lambda scores, is_member, fpr: lib_tpr(is_member, scores, fpr=fpr))

    def strict(scores, is_member, fpr):  # FPR < fpr instead of <=
        if not 0 < fpr < 1:
            raise ValueError("fpr")
        s, y = np.asarray(scores, float), np.asarray(is_member).astype(bool)
        return max([0.0] + [(s >= t)[y].mean() for t in np.unique(s) if (s >= t)[~y].mean() < fpr])

    fails_with("2.2", strict, "<= fpr")

    def ignores_ties(scores, is_member, fpr):  # walks the sorted list one record at a time
        if not 0 < fpr < 1:
            raise ValueError("fpr")
        y = np.asarray(is_member).astype(bool)[np.argsort(-np.asarray(scores, float), kind="stable")]
        tpr, fp = np.cumsum(y) / y.sum(), np.cumsum(~y) / (~y).sum()
        ok = fp <= fpr
        return float(tpr[ok].max()) if ok.any() else 0.0

    fails_with("2.2", ignores_ties, "tied")

    def no_validation(scores, is_member, fpr):
        return ref(scores, is_member, min(max(fpr, 1e-9), 1 - 1e-9))

    fails_with("2.2", no_validation, "valueerror")
    fails_with("2.2", lambda s, y, f: ref(-np.asarray(s), y, f), "random scores")


def test_2_3_k_anonymity() -> None:
    passes("2.3", SOL["k_anonymity"])
    passes("2.3", lambda t, q: min(len(g) for _, g in t.fillna("<missing>").groupby(list(q))))
    fails_with("2.3", lambda t, q: t.groupby(q, dropna=False).ngroups, "number of classes")
    fails_with("2.3", lambda t, q: t.groupby(q, dropna=False).size().max(), "smallest")
    fails_with("2.3", lambda t, q: min(t[c].value_counts().min() for c in q), "together")
    fails_with("2.3", lambda t, q: int(t.groupby(q).size().min()), "dropna=false")


def test_2_4_rules_for_k5() -> None:
    passes("2.4", SOL["rules_for_k5"])
    passes("2.4", lambda: {"zip": 1, "birth_year": lambda y: "<1950" if y < 1950 else (">=2000" if y >= 2000 else str(y // 10)), "sex": "*"})
    r = fails_with("2.4", lambda: {"zip": 1, "birth_year": 10}, "5-anonymous", "wider")
    assert "row(s)" in r.got
    fails_with("2.4", lambda: {"zip": "*", "birth_year": "*", "sex": "*"}, "12 classes")
    fails_with("2.4", lambda: {"zip": 2, "birth_year": 40}, "12 classes")
    fails_with("2.4", lambda: {"zip": 2, "diagnosis": "*", "birth_year": 50}, "diagnosis")
    fails_with("2.4", lambda: {"zip": 2.5}, "generalize accepts")
    fails_with("2.4", lambda: [("zip", 2)], "dict")


@pytest.mark.parametrize("qid", ["2.1", "2.2", "2.3", "2.4"])
def test_unfinished_answers_are_not_implemented(qid) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}")

    assert run_check(qid, unfinished).status == "not implemented"
