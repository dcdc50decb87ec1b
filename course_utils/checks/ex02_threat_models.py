"""Checks of exercise set 02 (threat models: membership inference and k-anonymity).

Expected values are computed here with plain numpy / pandas, never with
``course_utils.attacks.membership`` or ``course_utils.privacy.anonymity.k_anonymity``, so a check
cannot pass because an answer copied the course's code. Each check tries several cases, accepts
any correct answer (a membership score only has to *rank* records correctly), and recognises the
usual mistakes to give a hint aimed at them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data import synthetic_patients
from . import expect, expect_number, question

__all__: list[str] = []

QI = ["zip", "birth_year", "sex"]


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    ranks = stats.rankdata(scores)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ref_tpr(scores: Any, labels: Any, fpr: float) -> float:
    """Best TPR over thresholds 'flag every score >= t' whose FPR is at most fpr."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    best = 0.0
    for t in np.unique(s):
        flagged = s >= t
        if flagged[~y].mean() <= fpr + 1e-12:
            best = max(best, float(flagged[y].mean()))
    return best


# ---------------------------------------------------------------------------------------------
# 2.1  the loss-threshold attack as a score
# ---------------------------------------------------------------------------------------------
@question(
    "2.1",
    points=2,
    answer="membership_scores",
    task="return one membership score per record from the model's probabilities, higher = member",
    reference="course_utils.attacks.membership.loss_threshold_scores",
)
def _check_membership_scores(membership_scores: Any) -> None:
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95]])
    labels = np.array([0, 0, 1, 1])
    before = probs.copy()
    scores = np.asarray(membership_scores(probs, labels), dtype=float)
    expect(
        scores.shape == (4,),
        "one score per record",
        expected="shape (4,)",
        got=f"shape {scores.shape}",
        hint="Pick each record's probability of its true label: probs[np.arange(len(labels)), labels].",
    )
    expect(
        np.array_equal(probs, before),
        "the probabilities are not modified in place",
        hint="Compute new arrays; do not write into probs.",
    )
    expect(not np.isnan(scores).any(), "no NaN scores", got=scores)
    p_true = probs[np.arange(4), labels]  # 0.9, 0.2, 0.4, 0.95
    order_ok = np.array_equal(np.argsort(scores), np.argsort(p_true))
    if not order_ok:
        if np.array_equal(np.argsort(-scores), np.argsort(p_true)):
            hint = (
                "Your scores are reversed: members have a LOW loss, and a higher score must mean "
                "'more likely a member'. Return minus the loss (or the log-probability itself)."
            )
        elif np.array_equal(np.argsort(scores), np.argsort(probs.max(1))):
            hint = (
                "You scored the largest probability, ignoring the label. The loss uses the "
                "probability of the TRUE label: a confident wrong prediction is a high loss."
            )
        else:
            hint = "The score must grow with the probability of the true label, e.g. log(p_true) = -loss."
        expect(
            False,
            "scores rank records by their true-label probability (low loss = member)",
            expected=f"the order of p_true = {p_true.tolist()}",
            got=np.round(scores, 3).tolist(),
            hint=hint,
        )

    # many classes, a zero probability, and a statistical test on simulated members / non-members
    rng = np.random.default_rng(2)
    n = 400
    member = np.r_[np.ones(n // 2, bool), np.zeros(n // 2, bool)]
    p_y = np.where(member, rng.beta(20, 1, n), rng.beta(4, 2, n))
    p_y[0] = 0.0  # one record gets probability 0 for its true label
    labels10 = rng.integers(0, 10, n)
    probs10 = np.zeros((n, 10))
    others = np.ones((n, 10), bool)
    others[np.arange(n), labels10] = False
    probs10[others] = (rng.dirichlet(np.ones(9), n) * (1 - p_y)[:, None]).ravel()
    probs10[np.arange(n), labels10] = p_y
    s10 = np.asarray(membership_scores(probs10, labels10), dtype=float)
    expect(
        s10.shape == (n,) and not np.isnan(s10).any(),
        "10 classes: one score per record, no NaN",
        got=f"shape {s10.shape}, {int(np.isnan(s10).sum())} NaN",
        hint="log(0) is -inf, and 0 * inf is NaN: clip the probability (np.clip(p, 1e-12, 1)) first.",
    )
    auc = _auc(s10, member)
    expect(
        auc > 0.75,
        "members of an overfit model get higher scores (AUC > 0.75)",
        got=f"AUC {auc:.3f}",
        hint="Use the probability of the true label of each row, not of a fixed column.",
    )


# ---------------------------------------------------------------------------------------------
# 2.2  TPR at a fixed FPR
# ---------------------------------------------------------------------------------------------
@question(
    "2.2",
    points=3,
    answer="tpr_at_fpr",
    task="return the largest true-positive rate of a threshold whose false-positive rate is at most fpr",
    reference="course_utils.attacks.membership.tpr_at_fpr",
)
def _check_tpr_at_fpr(tpr_at_fpr: Any) -> None:
    hint_general = (
        "Try every distinct score t as a threshold (flag scores >= t), keep those whose FPR "
        "(share of non-members flagged) is <= fpr, and return the best TPR among them."
    )
    rng = np.random.default_rng(5)
    labels = rng.random(500) < 0.4
    scores = rng.normal(size=500) + 1.2 * labels
    for fpr in (0.01, 0.05, 0.3):
        want = _ref_tpr(scores, labels, fpr)
        got = expect_number(
            tpr_at_fpr(scores, labels, fpr), f"one number for fpr={fpr}", hint_general
        )
        expect(
            abs(got - want) < 1e-9,
            f"random scores, fpr={fpr}",
            expected=round(want, 4),
            got=round(got, 4),
            hint=hint_general,
        )
    got_int = expect_number(
        tpr_at_fpr(scores, labels.astype(int), 0.05), "0/1 labels", hint_general
    )
    expect(
        abs(got_int - _ref_tpr(scores, labels, 0.05)) < 1e-9,
        "labels given as 0/1 integers work too",
        hint="Convert is_member with np.asarray(is_member).astype(bool) before using ~ or indexing.",
    )

    # exactly one false positive is allowed: FPR must be <= fpr, not < fpr
    non = np.r_[10.0, rng.uniform(0.5, 1.0, 99)]
    mem = np.r_[rng.uniform(5, 9, 30), rng.uniform(0.0, 0.5, 20)]
    s_edge = np.r_[mem, non]
    y_edge = np.r_[np.ones(50, bool), np.zeros(100, bool)]
    got = expect_number(tpr_at_fpr(s_edge, y_edge, 0.01), "one number", hint_general)
    expect(
        abs(got - 0.6) < 1e-9,
        "100 non-members and fpr=0.01: one false positive is allowed",
        expected=0.6,
        got=round(got, 4),
        hint="'At most fpr' means FPR <= fpr (1 of 100 is allowed here), not FPR < fpr.",
    )

    # ties: records with the same score are flagged together
    s_tie = np.r_[np.full(10, 1.0), np.full(10, 1.0), np.zeros(90), np.zeros(10)]
    y_tie = np.r_[np.ones(10, bool), np.zeros(10, bool), np.zeros(90, bool), np.ones(10, bool)]
    got = expect_number(tpr_at_fpr(s_tie, y_tie, 0.05), "one number", hint_general)
    expect(
        abs(got - 0.0) < 1e-9,
        "a block of tied scores is flagged as a whole",
        expected=0.0,
        got=round(got, 4),
        hint="A threshold flags every record with score >= t. When 10 members and 10 non-members share "
        "the top score, you cannot flag only the members: take thresholds at distinct scores.",
    )

    perfect = np.r_[np.ones(20), np.zeros(80)]
    y_p = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    expect(
        abs(expect_number(tpr_at_fpr(perfect, y_p, 0.01), "one number", hint_general) - 1.0) < 1e-9,
        "a perfect attack has TPR 1 at any FPR",
        expected=1.0,
        hint=hint_general,
    )
    expect(
        abs(expect_number(tpr_at_fpr(-perfect, y_p, 0.01), "one number", hint_general)) < 1e-9,
        "a reversed attack has TPR 0 at a low FPR",
        expected=0.0,
        hint="Higher score = member: flag the HIGHEST scores first.",
    )

    for bad, what in ((0.0, "fpr = 0"), (1.5, "fpr = 1.5")):
        try:
            tpr_at_fpr(scores, labels, bad)
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001 - any other exception is the wrong kind
            expect(
                False,
                f"{what} raises ValueError",
                got=type(exc).__name__,
                hint="Check the argument first: if not 0 < fpr < 1: raise ValueError(...).",
            )
        expect(
            False,
            f"{what} raises ValueError",
            got="no error",
            hint="Check the argument first: if not 0 < fpr < 1: raise ValueError(...).",
        )


# ---------------------------------------------------------------------------------------------
# 2.3  k of a table
# ---------------------------------------------------------------------------------------------
@question(
    "2.3",
    points=2,
    answer="k_anonymity",
    task="return the size of the smallest group of rows sharing all quasi-identifier values",
    reference="course_utils.privacy.anonymity.k_anonymity",
)
def _check_k_anonymity(k_anonymity: Any) -> None:
    hint_general = (
        "Group the rows by ALL quasi-identifiers together and return the smallest group's size."
    )
    t = pd.DataFrame(
        {"zip": ["a"] * 2 + ["b"] * 3 + ["c"] * 4, "sex": ["F"] * 9, "dx": list("xyzxyzxyz")}
    )
    got = expect_number(k_anonymity(t, ["zip", "sex"]), "one number", hint_general)
    if got != 2:
        hint = {
            3: "3 is the number of classes; k is the size of the SMALLEST class.",
            4: "4 is the largest class; k is the size of the smallest one (every class has >= k rows).",
        }
        expect(
            False,
            "classes of sizes 2, 3 and 4 give k = 2",
            expected=2,
            got=got,
            hint=hint.get(int(got), hint_general),
        )

    t2 = pd.DataFrame({"zip": ["a", "a", "b", "b"], "sex": ["F", "M", "F", "M"]})
    got = expect_number(k_anonymity(t2, ["zip", "sex"]), "one number", hint_general)
    expect(
        got == 1,
        "every (zip, sex) pair is unique: k = 1 although each column alone has pairs",
        expected=1,
        got=got,
        hint="Group by the columns together (df.groupby(quasi_identifiers)), not one column at a time.",
    )

    t3 = pd.DataFrame({"zip": [None, None, "x", "x", "x"], "sex": ["F"] * 5})
    got = expect_number(k_anonymity(t3, ["zip", "sex"]), "one number", hint_general)
    expect(
        got == 2,
        "rows with a missing ZIP form a class of their own (k = 2)",
        expected=2,
        got=got,
        hint="pandas' groupby drops missing keys by default; pass dropna=False so they count as a class.",
    )

    patients = synthetic_patients(300, rng=4).drop(columns="name")
    coarse = patients.assign(
        zip=patients["zip"].str[:3], birth_year=patients["birth_year"] // 20 * 20
    )
    for table, cols in ((patients, QI), (coarse, QI), (coarse, ["zip", "sex"])):
        want = int(table.groupby(cols, dropna=False).size().min())
        got = expect_number(k_anonymity(table, cols), "one number", hint_general)
        expect(
            got == want,
            f"synthetic patients grouped by {cols}",
            expected=want,
            got=got,
            hint=hint_general,
        )
    expect(
        list(coarse.columns) == ["zip", "birth_year", "sex", "diagnosis", "stay_days"]
        and len(coarse) == 300,
        "the table is not modified",
        hint="Do not add or drop columns or rows of the input table.",
    )


# ---------------------------------------------------------------------------------------------
# 2.4  a generalisation that reaches k = 5
# ---------------------------------------------------------------------------------------------
MIN_CLASSES = 12


@question(
    "2.4",
    points=2,
    answer="rules_for_k5",
    task="return generalize() rules that make the clinic 5-anonymous with at least 12 classes",
)
def _check_rules_for_k5(rules_for_k5: Any) -> None:
    from ..privacy.anonymity import generalize

    rules = rules_for_k5()
    expect(
        isinstance(rules, dict) and rules,
        "returns a non-empty dict of rules",
        got=type(rules).__name__,
        hint='For example {"zip": 2, "birth_year": 10} (see generalize in the notebook).',
    )
    extra = sorted(set(rules) - set(QI))
    expect(
        not extra,
        "rules only touch the quasi-identifiers zip, birth_year and sex",
        got=extra,
        hint="The diagnosis and length of stay are what the table is for: leave them as they are.",
    )
    released = synthetic_patients(600, rng=0).drop(columns="name")
    try:
        table = generalize(released, rules)
    except ValueError as exc:
        expect(
            False,
            "generalize accepts the rules",
            got=str(exc),
            hint="Each rule is a positive int, '*', a dict of replacements, or a function of one value.",
        )
    expect(
        len(table) == len(released),
        "no rows are dropped",
        hint="Generalise only; do not suppress rows.",
    )
    sizes = table.groupby(QI, dropna=False).size()
    k = int(sizes.min())
    if k < 5:
        smallest = sizes.idxmin()
        expect(
            False,
            "the generalised table is 5-anonymous",
            expected="k >= 5",
            got=f"k = {k}, e.g. the class {smallest} has {k} row(s)",
            hint="Look at the smallest classes: the oldest and the youngest patients are rare, so their "
            "birth-year bands need to be wider (a function can give open-ended bands like "
            "'before 1950').",
        )
    expect(
        len(sizes) >= MIN_CLASSES,
        f"at least {MIN_CLASSES} classes remain (the table still says something)",
        got=f"{len(sizes)} classes",
        hint="You generalised more than needed: keep finer bands where many patients are, or keep sex.",
    )
