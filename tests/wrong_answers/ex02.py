"""Wrong and unusual-but-correct answers of exercise set 02 (threat models)."""

import importlib

from tests.wrong_answers import AnswerSet, Right, Wrong, edited, with_challenge

PRELUDE = """
import numpy as np
import pandas as pd

from course_utils.privacy.anonymity import generalize
"""

#: A correct answer to 2.1; each wrong answer written as ``edited(MEMBERSHIP_SCORES, ...)`` is it
#: with one mistake.
MEMBERSHIP_SCORES = """
def membership_scores(probs, labels):
    return np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1))
"""

#: A correct answer to 2.2; each wrong answer written as ``edited(TPR_AT_FPR, ...)`` is it with one
#: mistake.
TPR_AT_FPR = """
def tpr_at_fpr(is_member, scores, *, fpr=0.01):
    if not 0 < fpr < 1:
        raise ValueError("fpr")
    s, y = np.asarray(scores, float), np.asarray(is_member).astype(bool)
    best = 0.0
    for t in np.unique(s):
        if (s >= t)[~y].mean() <= fpr:
            best = max(best, (s >= t)[y].mean())
    return float(best)
"""

WRONG = {
    "2.1": [
        Wrong(
            "returns the loss itself (higher = non-member)",
            "reversed",
            edited(MEMBERSHIP_SCORES, "return np.log(", "return -np.log("),
        ),
        Wrong(
            "the largest probability, ignoring the label",
            "without the label",
            """
            def membership_scores(probs, labels):
                return probs.max(axis=1)
            """,
        ),
        Wrong(
            "a fixed column of probs (the wrong label column)",
            "fixed column",
            edited(MEMBERSHIP_SCORES, "probs[np.arange(len(labels)), labels]", "probs[:, 1]"),
            regression="#28",
        ),
        Wrong(
            "the probability of another label (labels shifted by one)",
            "another label",
            edited(
                MEMBERSHIP_SCORES,
                "probs[np.arange(len(labels)), labels]",
                "probs[np.arange(len(labels)), (labels + 1) % probs.shape[1]]",
            ),
        ),
        Wrong(
            "log of an unclipped probability (-inf for p = 0)",
            "clip the probability",
            """
            def membership_scores(probs, labels):
                with np.errstate(divide="ignore"):
                    return np.log(probs[np.arange(len(labels)), labels])
            """,
        ),
        Wrong(
            "probs[:, labels]: a matrix instead of one score per record",
            "one score per record",
            edited(MEMBERSHIP_SCORES, "probs[np.arange(len(labels)), labels]", "probs[:, labels]"),
        ),
        Wrong(
            "clips probs in place",
            "modified in place",
            """
            def membership_scores(probs, labels):
                np.clip(probs, 1e-12, 1, out=probs)
                return np.log(probs[np.arange(len(labels)), labels])
            """,
        ),
        Wrong(
            "negative entropy of the prediction (label ignored)",
            "without the label",
            """
            def membership_scores(probs, labels):
                p = np.clip(probs, 1e-12, 1)
                return (p * np.log(p)).sum(axis=1)
            """,
        ),
    ],
    "2.2": [
        Wrong(
            "the old (scores, is_member) order of the parameters",
            "the labels come first",
            edited(TPR_AT_FPR, "tpr_at_fpr(is_member, scores,", "tpr_at_fpr(scores, is_member,"),
        ),
        Wrong(
            "the old order with scikit-learn's roc_curve (which then raises)",
            "the labels come first",
            """
            from sklearn.metrics import roc_curve

            def tpr_at_fpr(scores, is_member, *, fpr=0.01):
                if not 0 < fpr < 1:
                    raise ValueError("fpr")
                f, t, _ = roc_curve(np.asarray(is_member).astype(int), scores)
                return float(t[f <= fpr].max())
            """,
        ),
        Wrong(
            "FPR < fpr instead of <=",
            "not fpr < fpr",
            edited(TPR_AT_FPR, "t)[~y].mean() <= fpr:", "t)[~y].mean() < fpr:"),
        ),
        Wrong(
            "walks the sorted list one record at a time (splits ties)",
            "flagged together",
            """
            def tpr_at_fpr(is_member, scores, *, fpr=0.01):
                if not 0 < fpr < 1:
                    raise ValueError("fpr")
                order = np.argsort(-np.asarray(scores, float), kind="stable")
                y = np.asarray(is_member).astype(bool)[order]
                tpr, fp = np.cumsum(y) / y.sum(), np.cumsum(~y) / (~y).sum()
                ok = fp <= fpr
                return float(tpr[ok].max()) if ok.any() else 0.0
            """,
        ),
        Wrong(
            "flags the lowest scores (score <= t)",
            "the highest scores",
            edited(
                TPR_AT_FPR,
                "(s >= t)[~y].mean()",
                "(s <= t)[~y].mean()",
                ("(s >= t)[y].mean())", "(s <= t)[y].mean())"),
            ),
        ),
        Wrong(
            "returns the FPR of the best threshold",
            "returned the false-positive rate",
            """
            def tpr_at_fpr(is_member, scores, *, fpr=0.01):
                if not 0 < fpr < 1:
                    raise ValueError("fpr")
                s, y = np.asarray(scores, float), np.asarray(is_member).astype(bool)
                best, best_fpr = -1.0, 0.0
                for t in np.unique(s):
                    f = (s >= t)[~y].mean()
                    if f <= fpr and (s >= t)[y].mean() >= best:
                        best, best_fpr = (s >= t)[y].mean(), f
                return float(best_fpr)
            """,
        ),
        Wrong(
            "TPR divided by all records instead of the members",
            "divide by the number of members",
            edited(TPR_AT_FPR, "t)[y].mean())", "t)[y].sum() / len(s))"),
        ),
        Wrong(
            "~ on 0/1 integer labels",
            "astype(bool)",
            edited(TPR_AT_FPR, "np.asarray(is_member).astype(bool)", "np.asarray(is_member)"),
        ),
        Wrong(
            "no ValueError for fpr outside (0, 1)",
            "raises valueerror",
            edited(TPR_AT_FPR, '    if not 0 < fpr < 1:\n        raise ValueError("fpr")\n', ""),
        ),
        Wrong(
            "assert instead of raising ValueError",
            "got AssertionError",
            edited(
                TPR_AT_FPR,
                '    if not 0 < fpr < 1:\n        raise ValueError("fpr")\n',
                '    assert 0 < fpr < 1, "fpr must be in (0, 1)"\n',
            ),
        ),
    ],
    "2.3": [
        Wrong(
            "the number of classes",
            "number of classes",
            """
            def k_anonymity(table, quasi_identifiers):
                return table.groupby(quasi_identifiers, dropna=False).ngroups
            """,
        ),
        Wrong(
            "the largest class",
            "largest class",
            """
            def k_anonymity(table, quasi_identifiers):
                return int(table.groupby(quasi_identifiers, dropna=False).size().max())
            """,
        ),
        Wrong(
            "the average class size",
            "average class size",
            """
            def k_anonymity(table, quasi_identifiers):
                return table.groupby(quasi_identifiers, dropna=False).size().mean()
            """,
            regression="#28",
        ),
        Wrong(
            "one column at a time",
            "not one column at a time",
            """
            def k_anonymity(table, quasi_identifiers):
                return min(int(table[c].value_counts().min()) for c in quasi_identifiers)
            """,
        ),
        Wrong(
            "groupby drops rows with a missing value",
            "dropna=false",
            """
            def k_anonymity(table, quasi_identifiers):
                return int(table.groupby(quasi_identifiers).size().min())
            """,
        ),
        Wrong(
            "value_counts drops rows with a missing value",
            "value_counts alike",
            """
            def k_anonymity(table, quasi_identifiers):
                return int(table[list(quasi_identifiers)].value_counts().min())
            """,
        ),
        Wrong(
            "returns the Series of class sizes",
            "one whole number",
            """
            def k_anonymity(table, quasi_identifiers):
                return table.groupby(quasi_identifiers, dropna=False).size()
            """,
        ),
        Wrong(
            "fills missing values in the caller's table",
            "not modified",
            """
            def k_anonymity(table, quasi_identifiers):
                table.fillna("?", inplace=True)
                return int(table.groupby(quasi_identifiers).size().min())
            """,
        ),
    ],
    "2.4": [
        Wrong(
            "bands too narrow: k < 5",
            "5-anonymous",
            """
            def rules_for_k5():
                return {"zip": 1, "birth_year": 10}
            """,
        ),
        Wrong(
            "suppresses everything: too few classes",
            "generalised more than needed",
            """
            def rules_for_k5():
                return {"zip": "*", "birth_year": "*", "sex": "*"}
            """,
        ),
        Wrong(
            "suppresses the diagnosis",
            "leave them as they are",
            """
            def rules_for_k5():
                return {"zip": 2, "birth_year": 50, "diagnosis": "*"}
            """,
        ),
        Wrong(
            "a rule generalize does not accept (a float width)",
            "generalize accepts the rules",
            """
            def rules_for_k5():
                return {"zip": 2.5, "birth_year": 10}
            """,
        ),
        Wrong(
            "returns the generalised table instead of the rules",
            "not the generalised table",
            """
            def rules_for_k5():
                released = pd.DataFrame({"zip": ["13024"], "birth_year": [1980], "sex": ["F"]})
                return generalize(released, {"zip": 2, "birth_year": 10})
            """,
        ),
        Wrong(
            "a list of (column, rule) pairs instead of a dict",
            "dict of rules",
            """
            def rules_for_k5():
                return [("zip", 2), ("birth_year", 20)]
            """,
        ),
        Wrong(
            "a band function that fails on some years",
            "raised KeyError",
            """
            def rules_for_k5():
                names = {1950: "50s", 1960: "60s", 1970: "70s", 1980: "80s", 1990: "90s"}
                return {"zip": 2, "birth_year": lambda year: names[year // 10 * 10]}
            """,
        ),
    ],
}

RIGHT = {
    "2.1": [
        Right(
            "the true-label probability itself (same order as log p)",
            """
            def membership_scores(probs, labels):
                return np.asarray(probs)[np.arange(len(labels)), labels]
            """,
        ),
        Right(
            "take_along_axis and a small epsilon in the log",
            """
            def membership_scores(probs, labels):
                p = np.take_along_axis(probs, np.asarray(labels)[:, None], axis=1)[:, 0]
                return -(-np.log(p + 1e-12))
            """,
        ),
    ],
    "2.2": [
        Right(
            "scikit-learn's roc_curve",
            """
            from sklearn.metrics import roc_curve

            def tpr_at_fpr(is_member, scores, *, fpr=0.01):
                if not 0 < fpr < 1:
                    raise ValueError(f"fpr must be in (0, 1), got {fpr}")
                f, t, _ = roc_curve(np.asarray(is_member).astype(int), scores)
                return float(t[f <= fpr].max())
            """,
        ),
        Right(
            "sorted distinct thresholds with cumulative counts",
            """
            def tpr_at_fpr(is_member, scores, *, fpr=0.01):
                if fpr <= 0 or fpr >= 1:
                    raise ValueError("fpr must lie strictly between 0 and 1")
                s = np.asarray(scores, float)
                y = np.asarray(is_member).astype(bool)
                thresholds = np.unique(s)[::-1]
                tp = np.array([(s[y] >= t).sum() for t in thresholds]) / y.sum()
                fp = np.array([(s[~y] >= t).sum() for t in thresholds]) / (~y).sum()
                ok = fp <= fpr
                return float(tp[ok].max()) if ok.any() else 0.0
            """,
        ),
    ],
    "2.3": [
        Right(
            "fillna then groupby",
            """
            def k_anonymity(table, quasi_identifiers):
                return min(len(g) for _, g in table.fillna("<missing>").groupby(list(quasi_identifiers)))
            """,
        ),
        Right(
            "counting tuples with collections.Counter",
            """
            from collections import Counter

            def k_anonymity(table, quasi_identifiers):
                rows = table[list(quasi_identifiers)].astype(object).where(table.notna(), None)
                return min(Counter(map(tuple, rows.itertuples(index=False))).values())
            """,
        ),
    ],
    "2.4": [
        Right(
            "coarse zip, open-ended decades, sex suppressed",
            """
            def rules_for_k5():
                def band(y):
                    if y < 1950:
                        return "<1950"
                    return ">=2000" if y >= 2000 else str(y // 10)

                return {"zip": 1, "birth_year": band, "sex": "*"}
            """,
        ),
        Right(
            "zip suppressed, 15-year bands given as a dict of replacements, sex kept",
            """
            def rules_for_k5():
                bands = {}
                for y in range(1900, 2030):
                    if y < 1945:
                        bands[y] = "before 1945"
                    elif y >= 1995:
                        bands[y] = "1995 or later"
                    else:
                        start = 1945 + (y - 1945) // 15 * 15
                        bands[y] = f"{start}-{start + 14}"
                return {"zip": "*", "birth_year": bands}
            """,
        ),
    ],
}

SET = with_challenge(
    AnswerSet(2, PRELUDE, WRONG, RIGHT),
    "2.5",
    importlib.import_module("tests.test_challenge_02"),  # the challenge's answers live there
)
