"""Offline datasets: nothing here touches the network.

* Thin, seeded wrappers around datasets that ship with scikit-learn.
* A synthetic hospital and voter list for the anonymisation section (notebook 02).

The PAIR player layouts and their salary reading live next to the toys that use them
(:mod:`course_utils.toys.players`) and are re-exported here under their old names.
"""

from __future__ import annotations

import numpy as np

from .toys import players
from .toys.players import *  # noqa: F403 - the PAIR layouts, kept importable from here
from .validation import (
    RNGLike,
    as_rng,
    as_seed,
    check_bool,
    check_int,
    check_probability,
    old_keyword,
)

__all__ = [
    *players.__all__,
    "digits_split",
    "diabetes_split",
    "SYNTHETIC_ZIPS",
    "DIAGNOSES",
    "synthetic_patients",
    "voter_list",
]


def digits_split(
    *, test_size: float = 0.25, scale: bool = True, rng: RNGLike = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (1,797 images, ships with the library), split in train and test.

    Parameters
    ----------
    test_size : float, default 0.25
        Fraction of examples in the test split, in (0, 1).
    scale : bool, default True
        Divide pixels by 16 so features lie in [0, 1]. The scale is fixed by the sensor, not
        estimated from the data, so it leaks nothing about any individual.
    rng : numpy.random.Generator, int seed or None, default 0
        Source of the stratified shuffle (its seed is scikit-learn's ``random_state``).

    Returns
    -------
    X_train, X_test : float32 arrays of shape (n, 64)
    y_train, y_test : int64 arrays of shape (n,)

    Examples
    --------
    >>> X_train, X_test, y_train, y_test = digits_split()
    >>> X_train.shape, X_test.shape, float(X_train.max())
    ((1347, 64), (450, 64), 1.0)
    """
    test_size = check_probability(test_size, "test_size")
    scale = check_bool(scale, "scale")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32) / (16.0 if scale else 1.0)
    y = y.astype(np.int64)
    return tuple(  # type: ignore[return-value]
        train_test_split(X, y, test_size=test_size, stratify=y, random_state=as_seed(rng) % 2**32)
    )


def diabetes_split(
    *, n_public: int = 100, rng: RNGLike = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's diabetes data (442 patients, 10 features) split into a private training set
    and a public sample of the same population (the unlearning notebook's attacker's data).

    The rows are shuffled with ``rng``: the first ``n_public`` become public. Features are
    standardised with the mean and standard deviation of the public rows only (statistics of the
    private rows would themselves be a release about them); targets are the disease progression
    scores.

    Parameters
    ----------
    n_public : int, default 100
        Size of the public sample, 1 to 441.
    rng : numpy.random.Generator, int seed or None, default 0

    Returns
    -------
    X_private, X_public : float arrays of shape (442 - n_public, 10) and (n_public, 10)
    y_private, y_public : float arrays of the matching lengths

    Examples
    --------
    >>> X_private, X_public, y_private, y_public = diabetes_split()
    >>> X_private.shape, X_public.shape, y_private.shape
    ((342, 10), (100, 10), (342,))
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    n_public = check_int(n_public, "n_public", min_val=1, max_val=len(X) - 1)
    order = as_rng(rng).permutation(len(X))
    public, private = order[:n_public], order[n_public:]
    X = (X - X[public].mean(0)) / X[public].std(0)
    return X[private], X[public], y[private], y[public]


# --- Synthetic tabular data for the anonymisation section (notebook 02) -------------------------

#: Five-digit ZIP codes of the synthetic town: four districts ``1301*`` ... ``1304*`` of ten codes.
SYNTHETIC_ZIPS: tuple[str, ...] = tuple(f"130{d}{u}" for d in range(1, 5) for u in range(10))
#: Diagnoses of the synthetic patients and their overall frequencies (a made-up clinic).
DIAGNOSES: dict[str, float] = {
    "flu": 0.30,
    "hypertension": 0.22,
    "asthma": 0.15,
    "diabetes": 0.13,
    "depression": 0.10,
    "cancer": 0.07,
    "HIV": 0.03,
}
_FIRST = (
    "Ada Alan Alma Ana Ben Bea Carl Cleo Dan Dora Eli Emma Finn Gia Hugo Ida Ivan Jon June Kai "
    "Lea Leo Lou Max Mia Nia Noah Omar Otto Pia Raj Rosa Sam Sara Tom Una Vera Wes Yara Zoe"
).split()
_LAST = (
    "Abe Baker Cho Diaz Eng Fox Gray Hale Ito Jones Khan Lund Mora Nash Ortiz Park Quinn Ross Sato "
    "Tran Uribe Vance Wong Xu Young Zhou Berg Costa Dahl Ekko Ford Gomez Holm Iqbal Kato Lee Moss"
).split()


def _people(n: int, rng: np.random.Generator):
    """Unique names and (zip, birth_year, sex) drawn from the synthetic town's distribution."""
    import pandas as pd

    n_names = len(_FIRST) * len(_LAST) * 26
    if n > n_names:
        raise ValueError(f"at most {n_names} synthetic people, asked for {n}")
    code = rng.choice(n_names, size=n, replace=False)
    first, rest = np.divmod(code, len(_LAST) * 26)
    last, middle = np.divmod(rest, 26)
    names = [
        f"{_FIRST[f]} {chr(65 + m)}. {_LAST[la]}"
        for f, m, la in zip(first, middle, last, strict=True)
    ]
    zip_weights = rng.dirichlet(np.full(len(SYNTHETIC_ZIPS), 4.0))  # some codes are busier
    ages = np.clip(rng.gamma(shape=4.0, scale=11.0, size=n), 0, 95).round().astype(int)
    return pd.DataFrame(
        {
            "name": names,
            "zip": rng.choice(np.array(SYNTHETIC_ZIPS), size=n, p=zip_weights),
            "birth_year": 2024 - ages,
            "sex": rng.choice(np.array(["F", "M"]), size=n),
        }
    )


def synthetic_patients(n: int = 600, *, rng: RNGLike = 0, seed: RNGLike | None = None):
    """A seeded, fully synthetic hospital table for the anonymisation exercises.

    Each row is one patient: ``name`` (the hospital knows it; drop it before "release"),
    the quasi-identifiers ``zip`` (5-digit string), ``birth_year`` (int) and ``sex`` ("F"/"M"),
    and the sensitive attributes ``diagnosis`` (one of :data:`DIAGNOSES`, with roughly those
    frequencies; cancer and hypertension are more likely with age) and ``stay_days`` (length of
    stay, a positive integer, longer for serious diagnoses).

    Parameters
    ----------
    n : int, default 600
        Number of patients, 1 to 10,000.
    rng : numpy.random.Generator, int seed or None, default 0
    seed : deprecated
        The old name of ``rng``, accepted for one release with a DeprecationWarning.

    Returns
    -------
    pandas.DataFrame with columns name, zip, birth_year, sex, diagnosis, stay_days

    Examples
    --------
    >>> patients = synthetic_patients(5, rng=0)
    >>> list(patients.columns)
    ['name', 'zip', 'birth_year', 'sex', 'diagnosis', 'stay_days']
    >>> bool(patients.equals(synthetic_patients(5, rng=0)))
    True
    """
    n = check_int(n, "n", min_val=1, max_val=10_000)
    rng = as_rng(old_keyword(rng, seed, old_name="seed"))
    table = _people(n, rng)
    age = 2024 - table["birth_year"].to_numpy()
    labels = list(DIAGNOSES)
    base = np.log(np.array(list(DIAGNOSES.values())))
    old = (age[:, None] - 45.0) / 20.0
    tilt = np.zeros((len(table), len(labels)))
    tilt[:, labels.index("cancer")] = 0.8 * old[:, 0]
    tilt[:, labels.index("hypertension")] = 0.8 * old[:, 0]
    tilt[:, labels.index("asthma")] = -0.4 * old[:, 0]
    logits = base + tilt
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    draws = (probs.cumsum(1) > rng.random((len(table), 1))).argmax(1)
    table["diagnosis"] = np.array(labels)[draws]
    mean_stay = {
        "flu": 2,
        "hypertension": 3,
        "asthma": 2,
        "diabetes": 4,
        "depression": 6,
        "cancer": 12,
        "HIV": 8,
    }
    lam = table["diagnosis"].map(mean_stay).to_numpy(dtype=float)
    table["stay_days"] = 1 + rng.poisson(lam - 1)
    return table


def voter_list(patients, *, coverage: float = 0.8, n_others: int = 1400, rng: RNGLike = 0):
    """A public, synthetic "voter list" of the same town: name, zip, birth_year, sex.

    It lists a random ``round(coverage * len(patients))`` of the patients (with the same quasi-identifiers as in
    ``patients``) plus ``n_others`` townspeople who never visited the hospital, shuffled.
    The ``name`` column is what a linkage attack tries to attach to the hospital's rows.

    Parameters
    ----------
    patients : pandas.DataFrame
        From :func:`synthetic_patients` (needs name, zip, birth_year, sex).
    coverage : float, default 0.8
        Share of patients registered to vote, in [0, 1].
    n_others : int, default 1400
        Non-patients on the list, >= 0.
    rng : numpy.random.Generator, int seed or None, default 0

    Returns
    -------
    pandas.DataFrame with columns name, zip, birth_year, sex

    Examples
    --------
    >>> voters = voter_list(synthetic_patients(100, rng=0), coverage=0.5, n_others=10, rng=0)
    >>> len(voters), list(voters.columns)
    (60, ['name', 'zip', 'birth_year', 'sex'])
    """
    import pandas as pd

    cols = ["name", "zip", "birth_year", "sex"]
    if not isinstance(patients, pd.DataFrame) or not set(cols) <= set(patients.columns):
        raise ValueError(f"patients must be a DataFrame with columns {cols}")
    coverage = check_probability(coverage, "coverage", closed=True)
    n_others = check_int(n_others, "n_others", min_val=0)
    rng = as_rng(rng)
    n_registered = int(round(coverage * len(patients)))
    registered = patients.iloc[np.sort(rng.choice(len(patients), n_registered, replace=False))][
        cols
    ]
    others = _people(n_others + len(patients), rng)
    others = others[~others["name"].isin(patients["name"])].head(int(n_others))
    voters = pd.concat([registered, others], ignore_index=True)
    return voters.iloc[rng.permutation(len(voters))].reset_index(drop=True)
