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
from . import (
    AnswerError,
    as_answer,
    expect,
    expect_array,
    expect_integer,
    expect_number,
    expect_raises,
    question,
    type_name,
)
from ._values import call_unchanged

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


def _tpr_variants(scores: Any, labels: Any, fpr: float) -> dict[str, float]:
    """The right TPR at ``fpr`` and the values of the usual mistakes, on one case."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    out = {"right": 0.0, "strict": 0.0, "reversed": 0.0, "fpr": 0.0, "over all": 0.0}
    out["fpr of all"] = 0.0
    for t in np.unique(s):
        up, down = s >= t, s <= t
        tpr = float(up[y].mean())
        if up[~y].mean() <= fpr + 1e-12:
            if tpr >= out["right"]:
                out["right"] = tpr
                out["fpr"] = float(up[~y].mean())
            out["over all"] = max(out["over all"], float(up[y].sum() / len(s)))
        if up[~y].mean() < fpr - 1e-12:
            out["strict"] = max(out["strict"], tpr)
        if down[~y].mean() <= fpr + 1e-12:
            out["reversed"] = max(out["reversed"], float(down[y].mean()))
        if up.mean() <= fpr + 1e-12:
            out["fpr of all"] = max(out["fpr of all"], tpr)
    # one record at a time down the sorted list (ties split)
    order = np.argsort(-s, kind="stable")
    tp, fp = np.cumsum(y[order]) / y.sum(), np.cumsum(~y[order]) / (~y).sum()
    ok = fp <= fpr + 1e-12
    out["ties split"] = float(max(tp[ok].max() if ok.any() else 0.0, 0.0))
    return out


_GENERAL_TPR_HINT = (
    "Try every distinct score t as a threshold (flag scores >= t), keep those whose FPR "
    "(share of non-members flagged) is <= fpr, and return the best TPR among them."
)
_TPR_HINTS = {
    "strict": "'At most fpr' means FPR <= fpr, not FPR < fpr: a threshold whose FPR equals fpr "
    "is allowed.",
    "reversed": "Higher score = member: flag the records whose score is >= t (the HIGHEST "
    "scores), not <= t.",
    "fpr": "You returned the false-positive rate of the best threshold: return its TRUE-positive "
    "rate (share of members flagged).",
    "over all": "The TPR is the share of MEMBERS flagged: divide by the number of members, not by "
    "the number of records.",
    "fpr of all": "The FPR is the share of NON-MEMBERS flagged (flagged[~is_member].mean()), not "
    "the share of all records flagged.",
    "ties split": "A threshold flags every record with score >= t. Records with equal scores are "
    "flagged together: use thresholds at the distinct scores (np.unique), do not walk the sorted "
    "list one record at a time.",
}
_ORDER_HINT = (
    "The labels come first: tpr_at_fpr(is_member, scores, *, fpr), the (y_true, y_score) order of "
    "scikit-learn's metrics and of the course's library. Called by name your function gives the "
    "right answer, so only the order of its parameters is wrong."
)


def _by_name(tpr_at_fpr: Any, scores: np.ndarray, labels: np.ndarray, fpr: float) -> float | None:
    """The answer called with its arguments by name (None when that fails): it is right when
    only the order of the parameters was wrong."""
    try:
        out = tpr_at_fpr(is_member=labels.copy(), scores=scores.copy(), fpr=fpr)
    except AnswerError as exc:
        if exc.kind == "timeout":
            raise
        return None
    try:
        return expect_number(out, "returns one number")
    except AssertionError:
        return None


# ---------------------------------------------------------------------------------------------
# 2.1  the loss-threshold attack as a score
# ---------------------------------------------------------------------------------------------
def _same_order(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` orders the records exactly as ``b`` does (ties included)."""
    return bool(np.array_equal(np.sign(a[:, None] - a[None, :]), np.sign(b[:, None] - b[None, :])))


def _ranking_case() -> tuple[np.ndarray, np.ndarray]:
    """40 records, 3 classes: the true-label probability orders them unlike any other column."""
    rng = np.random.default_rng(21)
    probs = rng.dirichlet(np.full(3, 0.8), size=40) * 0.96 + 0.01
    probs /= probs.sum(1, keepdims=True)
    labels = rng.integers(0, 3, size=40)
    return probs, labels


def _score_mistakes(probs: np.ndarray, labels: np.ndarray) -> list[tuple[np.ndarray, str]]:
    n = len(labels)
    p_true = probs[np.arange(n), labels]
    label_free = (
        "You scored without the label. The loss uses the probability of each record's TRUE "
        "label: a confident wrong prediction is a high loss."
    )
    column = (
        "You used a fixed column of probs. Pick each record's own true-label probability: "
        "probs[np.arange(len(labels)), labels]."
    )
    return [
        (
            -p_true,
            "Your scores are reversed: members have a LOW loss, and a higher score must mean "
            "'more likely a member'. Return minus the loss (or the log-probability itself).",
        ),
        (probs.max(1), label_free),
        ((probs * np.log(probs)).sum(1), label_free),
        *[(probs[:, c], column) for c in range(probs.shape[1])],
        (
            probs[np.arange(n), (labels + 1) % probs.shape[1]],
            "You used the probability of another label: index each row with its own label, "
            "probs[np.arange(len(labels)), labels].",
        ),
    ]


@question("2.1", points=2, reference="course_utils.attacks.membership.loss_threshold_scores")
def _check_membership_scores(membership_scores: Any) -> None:
    """Return one membership score per record from the model's probabilities, higher = member."""
    shape_hint = (
        "Return one score per record: pick each record's probability of its true label with "
        "probs[np.arange(len(labels)), labels]."
    )

    def call(probs, labels, what):
        out = call_unchanged(
            membership_scores,
            probs,
            labels,
            what="the probabilities and labels are not modified in place",
            hint="Compute new arrays (np.clip(p, 1e-12, 1) returns a copy); do not write into "
            "probs.",
        )
        scores = expect_array(out, what, shape=(len(labels),), hint=shape_hint)
        expect(
            np.all(np.isfinite(scores)),
            f"{what}: every score is a finite number",
            got=f"{int(np.isnan(scores).sum())} NaN, {int(np.isinf(scores).sum())} infinite",
            hint="log(0) is -inf (and 0 * -inf is NaN): clip the probability away from 0 first, "
            "np.clip(p, 1e-12, 1).",
        )
        return scores

    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95]])
    call(probs, np.array([0, 0, 1, 1]), "four records: one score per record")

    probs, labels = _ranking_case()
    scores = call(probs.copy(), labels.copy(), "40 records, 3 classes: one score per record")
    p_true = probs[np.arange(len(labels)), labels]
    if not _same_order(scores, p_true):
        hint = next(
            (h for wrong, h in _score_mistakes(probs, labels) if _same_order(scores, wrong)),
            "The score must grow with the probability of the true label, e.g. log(p_true) = -loss.",
        )
        expect(
            False,
            "scores rank records by their true-label probability (low loss = member)",
            expected=f"the order of p_true = {np.round(p_true[:5], 3).tolist()}...",
            got=f"{np.round(scores[:5], 3).tolist()}...",
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
    s10 = call(probs10, labels10, "10 classes, one true-label probability of 0: one score each")
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
def _tpr_cases() -> list[tuple[np.ndarray, np.ndarray, float, str, str]]:
    """(scores, is_member, fpr, what, hint when only this case fails)."""
    general = _GENERAL_TPR_HINT
    rng = np.random.default_rng(5)
    labels = rng.random(500) < 0.4
    scores = np.round(rng.normal(size=500) + 1.2 * labels, 1)  # rounded: ties occur
    cases = [(scores, labels, f, f"random scores, fpr={f}", general) for f in (0.01, 0.05, 0.3)]
    cases.append(
        (
            scores,
            labels.astype(int),
            0.05,
            "labels given as 0/1 integers",
            "Convert is_member with np.asarray(is_member).astype(bool) before using ~ or indexing.",
        )
    )
    # exactly one false positive is allowed: FPR must be <= fpr, not < fpr
    non = np.r_[10.0, rng.uniform(0.5, 1.0, 99)]
    mem = np.r_[rng.uniform(5, 9, 30), rng.uniform(0.0, 0.5, 20)]
    cases.append(
        (
            np.r_[mem, non],
            np.r_[np.ones(50, bool), np.zeros(100, bool)],
            0.01,
            "100 non-members and fpr=0.01: one false positive is allowed",
            _TPR_HINTS["strict"],
        )
    )
    # ties: records with the same score are flagged together
    s_tie = np.r_[np.full(10, 1.0), np.full(10, 1.0), np.zeros(90), np.zeros(10)]
    y_tie = np.r_[np.ones(10, bool), np.zeros(10, bool), np.zeros(90, bool), np.ones(10, bool)]
    cases.append(
        (
            s_tie,
            y_tie,
            0.05,
            "a block of tied scores is flagged as a whole",
            _TPR_HINTS["ties split"],
        )
    )
    perfect = np.r_[np.ones(20), np.zeros(80)]
    y_p = np.r_[np.ones(20, bool), np.zeros(80, bool)]
    cases.append((perfect, y_p, 0.01, "a perfect attack has TPR 1 at any FPR", general))
    cases.append(
        (-perfect, y_p, 0.01, "a reversed attack has TPR 0 at a low FPR", _TPR_HINTS["reversed"])
    )
    return cases


@question("2.2", points=3, reference="course_utils.attacks.membership.tpr_at_fpr")
def _check_tpr_at_fpr(tpr_at_fpr: Any) -> None:
    """Return the largest true-positive rate of a threshold whose false-positive rate is at most
    fpr."""
    cases = _tpr_cases()
    variants = [_tpr_variants(s, y, f) for s, y, f, _, _ in cases]
    got = []
    for scores, labels, fpr, what, _ in cases:
        try:
            out = tpr_at_fpr(labels.copy(), scores.copy(), fpr=fpr)
        except AnswerError as exc:  # an old (scores, is_member) order may fail inside the answer
            if exc.kind == "raised" and _by_name(tpr_at_fpr, scores, labels, fpr) is not None:
                expect(False, f"{what}: tpr_at_fpr(is_member, scores, fpr=...)", hint=_ORDER_HINT)
            raise
        got.append(expect_number(out, f"{what}: returns one number", "Return the best TPR."))
    wrong = [k for k in range(len(cases)) if abs(got[k] - variants[k]["right"]) > 1e-9]
    if wrong:
        k = wrong[0]
        scores, labels, fpr, what, hint = cases[k]
        by_name = _by_name(tpr_at_fpr, scores, labels, fpr)
        if by_name is not None and abs(by_name - variants[k]["right"]) < 1e-9:
            expect(False, f"{what}: tpr_at_fpr(is_member, scores, fpr=...)", hint=_ORDER_HINT)

        def explains(name: str, ks: list[int]) -> bool:
            return all(abs(got[n] - variants[n][name]) < 1e-9 for n in ks)

        # the hint: a mistake that explains every case, else this case's own hint, else a
        # mistake that explains this case
        everywhere = [name for name in _TPR_HINTS if explains(name, list(range(len(cases))))]
        here = [name for name in _TPR_HINTS if explains(name, [k])]
        if everywhere:
            hint = _TPR_HINTS[everywhere[0]]
        elif hint is _GENERAL_TPR_HINT and here:
            hint = _TPR_HINTS[here[0]]
        expect(
            False, what, expected=round(variants[k]["right"], 4), got=round(got[k], 4), hint=hint
        )
    scores, labels = cases[0][0], cases[0][1]
    for bad, what in ((0.0, "fpr = 0"), (1.5, "fpr = 1.5")):
        expect_raises(
            "ValueError",
            tpr_at_fpr,
            labels,
            scores,
            fpr=bad,
            what=f"{what} raises ValueError",
            hint="Check the argument first: if not 0 < fpr < 1: raise ValueError(...).",
        )


# ---------------------------------------------------------------------------------------------
# 2.3  k of a table
# ---------------------------------------------------------------------------------------------
@question("2.3", points=2, reference="course_utils.privacy.anonymity.k_anonymity")
def _check_k_anonymity(k_anonymity: Any) -> None:
    """Return the size of the smallest group of rows sharing all quasi-identifier values."""
    hint_general = (
        "Group the rows by ALL quasi-identifiers together and return the smallest group's size."
    )

    def call(table, cols, what):
        out = call_unchanged(
            k_anonymity,
            table,
            cols,
            what="the table and the column list are not modified",
            hint="Do not add, drop or fill columns or rows of the input (dropna/fillna with "
            "inplace=True, new columns...): work on what groupby returns.",
        )
        return expect_integer(
            out,
            f"{what}: returns k, one whole number",
            "Return one integer: the size of the smallest class, e.g. int(sizes.min()).",
        )

    # classes of sizes 2, 4 and 9: their number (3), mean (5), median (4) and maximum all differ
    t = pd.DataFrame(
        {"zip": ["a"] * 2 + ["b"] * 4 + ["c"] * 9, "sex": ["F"] * 15, "dx": list("xyz") * 5}
    )
    got = call(t, ["zip", "sex"], "classes of sizes 2, 4 and 9")
    if got != 2:
        hint = {
            3: "3 is the number of classes; k is the size of the SMALLEST class.",
            9: "9 is the largest class; k is the size of the smallest one (every class has >= k "
            "rows).",
            5: "5 is the average class size; k is the size of the SMALLEST class.",
            4: "4 is the median class size; k is the size of the SMALLEST class.",
            1: "k counts rows: the smallest class has 2 rows, so k = 2 (not k - 1).",
        }
        expect(
            False,
            "classes of sizes 2, 4 and 9 give k = 2",
            expected=2,
            got=got,
            hint=hint.get(got, hint_general),
        )

    t2 = pd.DataFrame({"zip": ["a", "a", "b", "b"], "sex": ["F", "M", "F", "M"]})
    got = call(t2, ["zip", "sex"], "every (zip, sex) pair is unique")
    expect(
        got == 1,
        "every (zip, sex) pair is unique: k = 1 although each column alone has pairs",
        expected=1,
        got=got,
        hint="Group by the columns together (df.groupby(quasi_identifiers)), not one column at a time.",
    )

    t3 = pd.DataFrame({"zip": [None, None, "x", "x", "x"], "sex": ["F"] * 5})
    got = call(t3, ["zip", "sex"], "rows with a missing ZIP")
    expect(
        got == 2,
        "rows with a missing ZIP form a class of their own (k = 2)",
        expected=2,
        got=got,
        hint="pandas drops missing keys by default (groupby and value_counts alike); pass "
        "dropna=False so they count as a class.",
    )

    patients = synthetic_patients(300, rng=4).drop(columns="name")
    coarse = patients.assign(
        zip=patients["zip"].str[:3], birth_year=patients["birth_year"] // 20 * 20
    )
    for table, cols in ((patients, QI), (coarse, QI), (coarse, ["zip", "sex"])):
        want = int(table.groupby(cols, dropna=False).size().min())
        got = call(table, list(cols), f"synthetic patients grouped by {cols}")
        expect(
            got == want,
            f"synthetic patients grouped by {cols}",
            expected=want,
            got=got,
            hint=hint_general,
        )


# ---------------------------------------------------------------------------------------------
# 2.4  a generalisation that reaches k = 5
# ---------------------------------------------------------------------------------------------
MIN_CLASSES = 12


@question("2.4", points=2)
def _check_rules_for_k5(rules_for_k5: Any) -> None:
    """Return generalize() rules that make the clinic 5-anonymous with at least 12 classes."""
    from ..privacy.anonymity import generalize

    rules = rules_for_k5()
    expect(
        not isinstance(rules, pd.DataFrame),
        "returns the rules, not the generalised table",
        expected="a dict such as {'zip': 2, ...}",
        got="a DataFrame",
        hint="Return the dict of rules itself; the check calls generalize(released, rules).",
    )
    expect(
        isinstance(rules, dict) and rules,
        "returns a non-empty dict of rules",
        got=type_name(rules),
        hint='For example {"zip": 2, "birth_year": 10} (see generalize in the notebook).',
    )
    # a rule that is a function is the learner's code too: its errors are reported as theirs
    rules = {k: as_answer(v, f"rule for {k!r}") if callable(v) else v for k, v in rules.items()}
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
    except AnswerError:
        raise  # one of the learner's rule functions failed: reported as their error
    except Exception as exc:  # noqa: BLE001 - a rule generalize cannot apply
        expect(
            False,
            "generalize accepts the rules",
            got=f"{type(exc).__name__}: {exc}",
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
