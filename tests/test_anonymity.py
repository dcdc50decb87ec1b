"""k-anonymity, l-diversity, t-closeness, generalisation, suppression and linkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.data import synthetic_patients, voter_list
from course_utils.privacy.anonymity import (
    class_report,
    equivalence_classes,
    generalize,
    k_anonymity,
    l_diversity,
    linkage_attack,
    suppress,
    t_closeness,
)

QI = ["zip", "birth_year", "sex"]


@pytest.fixture(scope="module")
def patients() -> pd.DataFrame:
    return synthetic_patients(300, rng=1)


def _brute_force(table, qi, sensitive):
    """k, l and the variational t by explicit loops over the classes."""
    keys = [tuple(row) for row in table[qi].itertuples(index=False)]
    overall = table[sensitive].value_counts(normalize=True)
    k, div, t = len(table), len(table), 0.0
    for key in set(keys):
        rows = table[[kk == key for kk in keys]]
        k = min(k, len(rows))
        div = min(div, rows[sensitive].nunique())
        p = rows[sensitive].value_counts(normalize=True).reindex(overall.index, fill_value=0)
        t = max(t, 0.5 * float((p - overall).abs().sum()))
    return k, div, t


@pytest.mark.parametrize(
    "rules", [{}, {"zip": 1, "birth_year": 10}, {"zip": 2, "birth_year": 20, "sex": "*"}]
)
def test_k_l_t_match_brute_force(patients, rules) -> None:
    table = generalize(patients, rules)
    k, div, t = _brute_force(table, QI, "diagnosis")
    assert k_anonymity(table, QI) == k
    assert l_diversity(table, QI, "diagnosis") == div
    assert t_closeness(table, QI, "diagnosis") == pytest.approx(t)


def test_hand_computed_values() -> None:
    t = pd.DataFrame({"zip": ["a", "a", "a", "b", "b"], "dx": ["x", "x", "y", "x", "x"]})
    assert k_anonymity(t, ["zip"]) == 2
    assert l_diversity(t, ["zip"], "dx") == 1
    # overall x: 0.8; class a: 2/3, class b: 1.0 -> max variational distance 0.2
    assert t_closeness(t, ["zip"], "dx") == pytest.approx(0.2)
    assert equivalence_classes(t, "zip").to_dict() == {"a": 3, "b": 2}


def test_ordered_emd_follows_li_et_al() -> None:
    # Li et al.'s salary example: values 3k..11k, overall uniform; class {3k, 4k, 5k}
    salaries = np.arange(3, 12)
    t = pd.DataFrame({"g": ["low"] * 3 + ["rest"] * 6, "salary": salaries})
    q = np.full(9, 1 / 9)
    p = np.r_[np.full(3, 1 / 3), np.zeros(6)]
    emd_low = np.abs(np.cumsum(p - q)).sum() / 8
    assert emd_low == pytest.approx(0.375)  # the 0.375 of the paper
    assert (
        t_closeness(t[t.g == "low"].assign(g="low"), ["g"], "salary") == 0.0
    )  # one class = overall
    assert t_closeness(t, ["g"], "salary") == pytest.approx(emd_low)
    # the same values treated as unordered categories give the variational distance
    assert t_closeness(t, ["g"], "salary", ordered=False) == pytest.approx(
        0.5 * np.abs(p - q).sum()
    )


def test_ordered_categorical_uses_category_order() -> None:
    levels = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    t = pd.DataFrame(
        {"g": ["a", "a", "b", "b"], "v": pd.Series(["low", "low", "high", "high"], dtype=levels)}
    )
    # class a = all low vs overall 50/0/50: cumulative diffs 0.5, 0.5 -> EMD 1.0/2
    assert t_closeness(t, ["g"], "v") == pytest.approx(0.5)
    assert t_closeness(t, ["g"], "v", ordered=False) == pytest.approx(0.5)


def test_generalisation_never_lowers_k_and_suppression_reaches_k(patients) -> None:
    ks = [
        k_anonymity(generalize(patients, r), QI)
        for r in (
            {},
            {"zip": 1},
            {"zip": 2, "birth_year": 10},
            {"zip": "*", "birth_year": "*", "sex": "*"},
        )
    ]
    assert ks == sorted(ks) and ks[-1] == len(patients)
    table = suppress(generalize(patients, {"zip": 1, "birth_year": 10}), QI, k=5)
    assert k_anonymity(table, QI) >= 5 and 0 < len(table) < len(patients)


def test_generalize_rules() -> None:
    t = pd.DataFrame(
        {"zip": ["13024", "13031"], "birth_year": [1987, 1975], "sex": ["F", "M"], "dx": ["a", "b"]}
    )
    g = generalize(t, {"zip": 2, "birth_year": 10, "sex": "*"})
    assert g["zip"].tolist() == ["130**", "130**"]
    assert g["birth_year"].tolist() == ["1980-1989", "1970-1979"]
    assert g["sex"].tolist() == ["*", "*"]
    assert g["dx"].tolist() == ["a", "b"] and t["zip"].tolist() == ["13024", "13031"]  # copy
    assert generalize(t, {"sex": {"F": "person"}})["sex"].tolist() == ["person", "M"]
    assert generalize(t, {"birth_year": lambda y: y // 100})["birth_year"].tolist() == [19, 19]
    assert generalize(t, {"zip": 9})["zip"].tolist() == ["*****", "*****"]
    assert generalize(t, {}).equals(t)


def test_class_report_columns(patients) -> None:
    report = class_report(generalize(patients, {"zip": 2, "birth_year": 20}), QI, "diagnosis")
    assert list(report.columns) == ["size", "distinct", "top", "top_share", "distance"]
    assert report["size"].sum() == len(patients)
    assert report["distinct"].iloc[0] == report["distinct"].min()
    assert ((report["top_share"] > 0) & (report["top_share"] <= 1)).all()


def test_linkage_attack_on_the_synthetic_town() -> None:
    patients = synthetic_patients(400, rng=0)
    voters = voter_list(patients, coverage=0.8, n_others=900, rng=0)
    released = patients.drop(columns="name")
    linked = linkage_attack(released, voters, QI)
    correct = (linked["name"] == patients.loc[linked.index, "name"]).mean()
    assert len(linked) > 0.4 * len(patients) and correct > 0.8
    # everyone on the list and in a class of their own is found
    full = voter_list(patients, coverage=1.0, n_others=0, rng=0)
    linked_all = linkage_attack(released, full, QI)
    assert (linked_all["name"] == patients.loc[linked_all.index, "name"]).all()
    assert len(linked_all) == (equivalence_classes(released, QI) == 1).sum()
    # after coarse generalisation of both tables nobody is uniquely linked
    rules = {"zip": 2, "birth_year": 20, "sex": "*"}
    assert len(linkage_attack(generalize(released, rules), generalize(voters, rules), QI)) == 0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda t: k_anonymity(t.iloc[:0], QI), "empty"),
        (lambda t: k_anonymity(t, ["zip", "postcode"]), "unknown column"),
        (lambda t: k_anonymity(t, []), "at least one column"),
        (lambda t: k_anonymity(t.to_numpy(), QI), "DataFrame"),
        (lambda t: l_diversity(t, QI, "illness"), "unknown sensitive"),
        (lambda t: l_diversity(t, QI, "zip"), "must not also be"),
        (lambda t: t_closeness(t, QI, "illness"), "unknown sensitive"),
        (lambda t: generalize(t, {"postcode": 2}), "unknown column"),
        (lambda t: generalize(t, {"zip": 0}), "positive int"),
        (lambda t: generalize(t, {"zip": 2.5}), "rule for 'zip'"),
        (lambda t: generalize(t, [("zip", 2)]), "mapping"),
        (lambda t: suppress(t, QI, k=0), "k must be"),
        (lambda t: linkage_attack(t, t.drop(columns="name"), QI), "identity"),
        (lambda t: linkage_attack(t, t, QI), "already has an identity"),
    ],
)
def test_bad_input_raises_clear_value_errors(patients, call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call(patients)
