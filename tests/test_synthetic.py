"""course_utils.privacy.synthetic: discretising the patients, DP synthesis, utility and copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_utils.data import DIAGNOSES, synthetic_patients
from course_utils.privacy.synthetic import (
    AGE_BANDS,
    STAY_BANDS,
    closest_record_distance,
    discretize_patients,
    marginal_error,
    synthesize,
)

PATIENTS = synthetic_patients(2000, rng=2)
TABLE = discretize_patients(PATIENTS)


def test_discretized_patients_have_public_domains() -> None:
    assert list(TABLE.columns) == ["zip", "age", "sex", "diagnosis", "stay"]
    assert all(isinstance(TABLE[c].dtype, pd.CategoricalDtype) for c in TABLE.columns)
    assert list(TABLE["diagnosis"].cat.categories) == list(DIAGNOSES)
    assert list(TABLE["age"].cat.categories) == [label for label, _ in AGE_BANDS]
    assert list(TABLE["stay"].cat.categories) == [label for label, _ in STAY_BANDS]
    assert not TABLE.isna().any().any()
    one = synthetic_patients(1, rng=0).assign(birth_year=[2024 - 18], stay_days=[6])
    row = discretize_patients(one).iloc[0]
    assert row["age"] == "18-34" and row["stay"] == "6-10"  # band edges belong to the upper band
    row = discretize_patients(one.assign(birth_year=[2024 - 17], stay_days=[5])).iloc[0]
    assert row["age"] == "0-17" and row["stay"] == "3-5"
    fine = discretize_patients(PATIENTS, coarse=False)
    assert len(fine["age"].cat.categories) == 96 and list(fine["stay"].cat.categories) == list(
        range(1, 41)
    )
    assert (
        fine.astype(str).value_counts() == 1
    ).mean() > 0.9  # exact values: almost every row unique


def test_synthesize_keeps_columns_categories_and_domains() -> None:
    fake = synthesize(TABLE, epsilon=1.0, rng=0)
    assert list(fake.columns) == list(TABLE.columns)
    for c in TABLE.columns:
        assert fake[c].dtype == TABLE[c].dtype  # same categories, same order flag
        assert fake[c].notna().all()
    assert abs(len(fake) - len(TABLE)) < 200  # the noisy size: sd about 57 rows at epsilon = 1
    assert len(synthesize(TABLE, epsilon=1.0, rng=0, n_rows=7)) == 7
    assert synthesize(TABLE, epsilon=1.0, rng=3).equals(synthesize(TABLE, epsilon=1.0, rng=3))


def test_synthesize_can_output_categories_absent_from_the_data() -> None:
    """The domain is public: a category nobody has still gets a (noisy) chance."""
    df = pd.DataFrame({"a": pd.Categorical(["x"] * 30, categories=["x", "y", "z"])})
    seen = set()
    for seed in range(20):
        seen |= set(synthesize(df, epsilon=0.2, rng=seed, n_rows=50)["a"])
    assert seen == {"x", "y", "z"}


def test_large_epsilon_keeps_a_strong_dependency() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, size=3000)
    df = pd.DataFrame(
        {
            "a": pd.Categorical.from_codes(a, categories=list("pqrs")),
            "b": pd.Categorical.from_codes(a, categories=list("PQRS")),  # b is a copy of a
            "c": pd.Categorical.from_codes(rng.integers(0, 3, size=3000), categories=list("uvw")),
        }
    )
    fake = synthesize(df, epsilon=1e4, rng=1)
    assert np.mean(fake["a"].cat.codes.to_numpy() == fake["b"].cat.codes.to_numpy()) > 0.99
    assert marginal_error(df, fake) < 0.03


def test_marginal_error_falls_with_epsilon() -> None:
    errors = {
        e: np.mean([marginal_error(TABLE, synthesize(TABLE, epsilon=e, rng=s)) for s in range(3)])
        for e in (0.1, 1.0, 10.0)
    }
    assert errors[0.1] > errors[1.0] > errors[10.0]
    assert errors[10.0] < 0.1


def test_marginal_error_values() -> None:
    cat = pd.CategoricalDtype(["u", "v"])
    a = pd.DataFrame({"x": pd.Series(["u", "v"], dtype=cat), "y": pd.Series(["u", "u"], dtype=cat)})
    b = pd.DataFrame({"x": pd.Series(["v", "v"], dtype=cat), "y": pd.Series(["v", "v"], dtype=cat)})
    assert marginal_error(a, a) == 0.0
    assert marginal_error(a, b, ways=(1,)) == pytest.approx((0.5 + 1.0) / 2)
    assert marginal_error(a, b, ways=(2,)) == pytest.approx(1.0)


def test_closest_record_distance_finds_copies() -> None:
    fake = TABLE.sample(200, random_state=0).reset_index(drop=True)
    d = closest_record_distance(TABLE.iloc[:500], fake)
    assert d.shape == (500,) and d.min() >= 0 and d.max() <= 5
    copied = TABLE.iloc[:500].apply(tuple, axis=1).isin(set(fake.apply(tuple, axis=1)))
    assert np.array_equal(d == 0, copied.to_numpy())


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: discretize_patients(PATIENTS.drop(columns="zip")), "patients must be a DataFrame"),
        (lambda: discretize_patients(PATIENTS, coarse="no"), "coarse must be True or False"),
        (lambda: synthesize(PATIENTS, epsilon=1.0, rng=0), "df column 'name' must be categorical"),
        (lambda: synthesize(TABLE.iloc[:0], epsilon=1.0, rng=0), "df must be a non-empty"),
        (lambda: synthesize(TABLE, epsilon=0.0, rng=0), "epsilon must be a positive"),
        (lambda: synthesize(TABLE, epsilon=1.0, rng=0, n_rows=0), "n_rows must be an integer >= 1"),
        (
            lambda: synthesize(
                TABLE.assign(sex=pd.Categorical([None] * len(TABLE), categories=["F", "M"])),
                epsilon=1.0,
                rng=0,
            ),
            "df must not contain missing values",
        ),
        (lambda: marginal_error(TABLE, TABLE.drop(columns="sex")), "same columns and categories"),
        (lambda: marginal_error(TABLE, TABLE, ways=(3,)), "ways must be an integer"),
        (lambda: closest_record_distance(TABLE, TABLE[["zip"]]), "same columns and categories"),
    ],
)
def test_bad_input_names_the_argument(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
