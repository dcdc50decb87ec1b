"""The synthetic patients table and voter list of notebook 02."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data import DIAGNOSES, SYNTHETIC_ZIPS, synthetic_patients, voter_list


def test_patients_shape_types_and_ranges() -> None:
    p = synthetic_patients(2000, rng=0)
    assert list(p.columns) == ["name", "zip", "birth_year", "sex", "diagnosis", "stay_days"]
    assert len(p) == 2000 and p["name"].is_unique
    assert set(p["zip"]) <= set(SYNTHETIC_ZIPS) and p["zip"].str.len().eq(5).all()
    assert p["birth_year"].between(1929, 2024).all()
    assert set(p["sex"]) == {"F", "M"}
    assert set(p["diagnosis"]) <= set(DIAGNOSES) and (p["stay_days"] >= 1).all()


def test_patients_follow_the_stated_frequencies() -> None:
    p = synthetic_patients(5000, rng=3)
    share = p["diagnosis"].value_counts(normalize=True)
    for dx, freq in DIAGNOSES.items():
        assert abs(share[dx] - freq) < 0.06, dx
    assert share["HIV"] < 0.06  # a rare value, for the skewness attack
    old = p["birth_year"] < 1960
    assert (p.loc[old, "diagnosis"] == "cancer").mean() > (
        p.loc[~old, "diagnosis"] == "cancer"
    ).mean()
    assert (
        p.groupby("diagnosis")["stay_days"].mean()["cancer"]
        > p.groupby("diagnosis")["stay_days"].mean()["flu"]
    )


def test_patients_are_seeded() -> None:
    assert synthetic_patients(50, rng=1).equals(synthetic_patients(50, rng=1))
    assert not synthetic_patients(50, rng=1).equals(synthetic_patients(50, rng=2))


def test_most_patients_are_unique_on_zip_birth_year_sex() -> None:
    p = synthetic_patients(600, rng=0)
    sizes = p.groupby(["zip", "birth_year", "sex"]).size()
    assert (sizes == 1).sum() / len(p) > 0.7


def test_voter_list_contents() -> None:
    p = synthetic_patients(500, rng=0)
    v = voter_list(p, coverage=0.8, n_others=700, rng=0)
    assert list(v.columns) == ["name", "zip", "birth_year", "sex"]
    assert len(v) == 400 + 700 and v["name"].is_unique
    on_list = p[p["name"].isin(v["name"])]
    assert len(on_list) == 400
    merged = on_list.merge(v, on="name", suffixes=("", "_v"))
    assert (merged["zip"] == merged["zip_v"]).all() and (
        merged["birth_year"] == merged["birth_year_v"]
    ).all()
    assert voter_list(p, rng=4).equals(voter_list(p, rng=4))
    assert np.array_equal(voter_list(p, coverage=0.0, n_others=0, rng=0).shape, (0, 4))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: synthetic_patients(0), "n must be"),
        (lambda: synthetic_patients(2.5), "n must be"),
        (lambda: voter_list([1, 2]), "DataFrame"),
        (lambda: voter_list(synthetic_patients(5).drop(columns="zip")), "DataFrame with columns"),
        (lambda: voter_list(synthetic_patients(5), coverage=1.5), "coverage"),
        (lambda: voter_list(synthetic_patients(5), n_others=-1), "n_others"),
    ],
)
def test_bad_input(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_diabetes_split_is_the_notebooks_split():
    from sklearn.datasets import load_diabetes

    from course_utils.data import diabetes_split

    X_private, X_public, y_private, y_public = diabetes_split(rng=0)
    X, y = load_diabetes(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))  # what notebook 07 did by hand
    X = (X - X[order[:100]].mean(0)) / X[order[:100]].std(0)  # public statistics only
    np.testing.assert_array_equal(X_public, X[order[:100]])
    np.testing.assert_array_equal(X_private, X[order[100:]])
    np.testing.assert_array_equal(y_private, y[order[100:]])
    assert y_public.shape == (100,) and np.allclose(X_public.std(0), 1.0)
    assert np.allclose(X_public.mean(0), 0.0) and not np.allclose(X_private.mean(0), 0.0)
    small = diabetes_split(n_public=10, rng=np.random.default_rng(0))
    assert small[1].shape == (10, 10) and small[0].shape == (432, 10)


@pytest.mark.parametrize(
    "kwargs, word",
    [(dict(n_public=0), "n_public"), (dict(n_public=442), "n_public"), (dict(rng=-3), "rng")],
)
def test_diabetes_split_bad_input(kwargs, word):
    from course_utils.data import diabetes_split

    with pytest.raises(ValueError, match=word):
        diabetes_split(**kwargs)
