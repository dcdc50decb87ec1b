"""Private synthetic data: select, measure, generate on 1- and 2-way marginals.

:func:`synthesize` follows the select-measure-generate recipe of the NIST-winning MST
synthesizer (McKenna, Miklau & Sheldon 2021), simplified to pure epsilon-DP:

1. **measure** every 1-way marginal with Laplace noise (budget ``epsilon / 5``);
2. **select** ``d - 1`` pairs of columns that form a tree, one edge at a time with the
   exponential mechanism, preferring pairs whose true 2-way table is far from what the noisy
   1-way marginals predict (budget ``epsilon / 5``);
3. **measure** the selected 2-way marginals with Laplace noise (budget ``3 epsilon / 5``);
4. **generate** rows from the tree: the root column from its noisy 1-way marginal, every
   other column from its noisy 2-way table given its parent. This step only reads the noisy
   measurements, so it is post-processing and costs nothing.

Neighbouring tables differ by adding or removing one row; the three releases add up (basic
composition) to epsilon. The domains (categories) of the columns must be public: they are read
from the columns' ``pandas.CategoricalDtype``, never from the data.

Examples
--------
>>> from course_utils.data import synthetic_patients
>>> table = discretize_patients(synthetic_patients(500, rng=0))
>>> fake = synthesize(table, epsilon=1.0, rng=0)
>>> list(fake.columns) == list(table.columns), fake["diagnosis"].dtype == table["diagnosis"].dtype
(True, True)
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from course_utils.validation import RNGLike, as_rng, check_bool, check_int, check_positive

__all__ = [
    "AGE_BANDS",
    "STAY_BANDS",
    "discretize_patients",
    "synthesize",
    "marginal_error",
    "closest_record_distance",
]

#: Public bins of the patients' ages (years) and lengths of stay (days), as (label, lower bound).
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("0-17", 0),
    ("18-34", 18),
    ("35-49", 35),
    ("50-64", 50),
    ("65-79", 65),
    ("80+", 80),
)
STAY_BANDS: tuple[tuple[str, int], ...] = (("1-2", 1), ("3-5", 3), ("6-10", 6), ("11+", 11))
#: Share of the budget spent on the 1-way marginals, the selection and the 2-way marginals.
_SPLIT = (0.2, 0.2, 0.6)


def _band(values: np.ndarray, bands: tuple[tuple[str, int], ...]) -> pd.Categorical:
    labels = [label for label, _ in bands]
    lows = np.array([low for _, low in bands])
    codes = np.searchsorted(lows, values, side="right") - 1
    return pd.Categorical.from_codes(
        np.clip(codes, 0, len(labels) - 1), categories=labels, ordered=True
    )


def discretize_patients(
    patients: pd.DataFrame, *, year: int = 2024, coarse: bool = True
) -> pd.DataFrame:
    """The patients table with public, categorical domains, ready for :func:`synthesize`.

    Drops ``name``; ``zip`` keeps its 40 codes, ``sex`` and ``diagnosis`` keep their values.
    With ``coarse=True`` the age becomes one of :data:`AGE_BANDS` and the stay one of
    :data:`STAY_BANDS`; with ``coarse=False`` the exact age in years (0-95) and stay in days
    (1-40, longer stays top-coded to 40) are kept, which makes almost every row unique. Every
    column is a ``pandas.Categorical`` whose categories are fixed in advance (never read from
    the data).

    Parameters
    ----------
    patients : pandas.DataFrame
        From :func:`course_utils.data.synthetic_patients`.
    year : int, default 2024
        Year the ages refer to.
    coarse : bool, default True
        Bin age and stay (True) or keep them exact (False).

    Returns
    -------
    pandas.DataFrame with columns zip, age, sex, diagnosis, stay

    Examples
    --------
    >>> from course_utils.data import synthetic_patients
    >>> t = discretize_patients(synthetic_patients(3, rng=0))
    >>> list(t.columns), len(t["zip"].cat.categories), list(t["stay"].cat.categories)
    (['zip', 'age', 'sex', 'diagnosis', 'stay'], 40, ['1-2', '3-5', '6-10', '11+'])
    >>> len(discretize_patients(synthetic_patients(3, rng=0), coarse=False)["age"].cat.categories)
    96
    """
    from course_utils.data import DIAGNOSES, SYNTHETIC_ZIPS

    need = {"zip", "birth_year", "sex", "diagnosis", "stay_days"}
    if not isinstance(patients, pd.DataFrame) or not need <= set(patients.columns):
        raise ValueError(f"patients must be a DataFrame with columns {sorted(need)}")
    year = check_int(year, "year", min_val=1900)
    age = np.clip(year - patients["birth_year"].to_numpy(), 0, 95)
    stay = np.clip(patients["stay_days"].to_numpy(), 1, 40)
    if check_bool(coarse, "coarse"):
        age_col, stay_col = _band(age, AGE_BANDS), _band(stay, STAY_BANDS)
    else:
        age_col = pd.Categorical(age, categories=list(range(96)), ordered=True)
        stay_col = pd.Categorical(stay, categories=list(range(1, 41)), ordered=True)
    return pd.DataFrame(
        {
            "zip": pd.Categorical(patients["zip"], categories=list(SYNTHETIC_ZIPS)),
            "age": age_col,
            "sex": pd.Categorical(patients["sex"], categories=["F", "M"]),
            "diagnosis": pd.Categorical(patients["diagnosis"], categories=list(DIAGNOSES)),
            "stay": stay_col,
        },
        index=patients.index,
    )


def _codes(df: Any) -> tuple[list[str], np.ndarray, list[int]]:
    """Column names, integer codes (n x d) and domain sizes of an all-categorical table."""
    if not isinstance(df, pd.DataFrame) or df.shape[1] == 0 or len(df) == 0:
        raise ValueError("df must be a non-empty pandas DataFrame")
    for name in df.columns:
        if not isinstance(df[name].dtype, pd.CategoricalDtype):
            raise ValueError(
                f"df column {name!r} must be categorical with public categories "
                f"(pandas.Categorical); got dtype {df[name].dtype}"
            )
    codes = np.column_stack([df[c].cat.codes.to_numpy(dtype=np.int64) for c in df.columns])
    if np.any(codes < 0):
        raise ValueError("df must not contain missing values (or values outside the categories)")
    return list(df.columns), codes, [len(df[c].cat.categories) for c in df.columns]


def _table(codes: np.ndarray, cols: tuple[int, ...], sizes: list[int]) -> np.ndarray:
    shape = tuple(sizes[c] for c in cols)
    flat = np.ravel_multi_index(tuple(codes[:, c] for c in cols), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(float)


def _probabilities(noisy: np.ndarray) -> np.ndarray:
    """Clip noisy counts at 0 and normalise (uniform if nothing is left): post-processing."""
    p = np.clip(noisy, 0.0, None)
    total = p.sum()
    return p / total if total > 0 else np.full(p.shape, 1.0 / p.size)


def _noisy_size(one_way: list[np.ndarray]) -> float:
    """The table's size from the noisy 1-way marginals, weighting each column's total by the
    inverse of its noise variance (proportional to its number of cells). Post-processing."""
    weights = np.array([1.0 / m.size for m in one_way])
    totals = np.array([m.sum() for m in one_way])
    return max(1.0, float(weights @ totals / weights.sum()))


def _select_tree(
    codes: np.ndarray,
    sizes: list[int],
    one_way: list[np.ndarray],
    epsilon: float,
    rng: np.random.Generator,
) -> list[tuple[int, int]]:
    """d - 1 edges of a spanning tree, chosen one at a time with the exponential mechanism."""
    from course_utils.privacy.mechanisms import exponential_mechanism

    d = len(sizes)
    total = _noisy_size(one_way)
    score = {}
    for i, j in combinations(range(d), 2):
        guess = np.outer(_probabilities(one_way[i]), _probabilities(one_way[j])) * total
        score[i, j] = float(np.abs(_table(codes, (i, j), sizes) - guess).sum())  # sensitivity 1
    in_tree, edges = {0}, []
    for _ in range(d - 1):  # Prim's algorithm with a private choice of the next edge
        cands = [e for e in score if (e[0] in in_tree) != (e[1] in in_tree)]
        edge = exponential_mechanism(
            cands, [score[e] for e in cands], sensitivity=1.0, epsilon=epsilon / (d - 1), rng=rng
        )
        edges.append(edge)
        in_tree |= set(edge)
    return edges


def _sample_rows(probs: np.ndarray, parents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each row, a child code drawn from ``probs[parent]`` (rows of probs sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(parents.size)
    return (u[:, None] > cum[parents]).sum(axis=1)


def synthesize(
    df: pd.DataFrame, *, epsilon: float, rng: RNGLike, n_rows: int | None = None
) -> pd.DataFrame:
    """An epsilon-DP synthetic copy of an all-categorical table (select-measure-generate).

    Parameters
    ----------
    df : pandas.DataFrame
        Every column a ``pandas.Categorical``; its categories are the public domain.
    epsilon : float
        Total budget (> 0); add/remove-one-row neighbours, pure epsilon-DP.
    rng : numpy.random.Generator, int seed or None
    n_rows : int, optional
        Rows to generate; by default the noisy size of ``df`` (itself private).

    Returns
    -------
    pandas.DataFrame
        Same columns, dtypes and categories as ``df``; every value in its column's domain.

    Examples
    --------
    >>> df = pd.DataFrame({"a": pd.Categorical(["x", "y"] * 50, categories=["x", "y", "z"]),
    ...                    "b": pd.Categorical(["u"] * 100, categories=["u", "v"])})
    >>> fake = synthesize(df, epsilon=5.0, rng=0, n_rows=20)
    >>> fake.shape, set(fake["a"]) <= {"x", "y", "z"}
    ((20, 2), True)
    """
    names, codes, sizes = _codes(df)
    epsilon = check_positive(epsilon, "epsilon")
    if n_rows is not None:
        n_rows = check_int(n_rows, "n_rows", min_val=1)
    rng = as_rng(rng)
    d = len(names)
    eps1, eps_select, eps2 = (epsilon * s for s in _SPLIT) if d > 1 else (epsilon, 0.0, 0.0)
    # 1. measure: each row adds 1 to one cell of each of the d 1-way marginals (L1 sensitivity d)
    one_way = [
        _table(codes, (c,), sizes) + rng.laplace(0.0, d / eps1, size=sizes[c]) for c in range(d)
    ]
    n_out = n_rows or max(1, int(round(_noisy_size(one_way))))
    out = np.zeros((n_out, d), dtype=np.int64)
    root = 0
    out[:, root] = rng.choice(sizes[root], size=n_out, p=_probabilities(one_way[root]))
    if d > 1:
        # 2. select, 3. measure the d - 1 chosen tables (L1 sensitivity d - 1 together)
        edges = _select_tree(codes, sizes, one_way, eps_select, rng)
        done = {root}
        for i, j in edges:
            parent, child = (i, j) if i in done else (j, i)
            noisy = _table(codes, (parent, child), sizes) + rng.laplace(
                0.0, (d - 1) / eps2, size=(sizes[parent], sizes[child])
            )
            # 4. generate the child from its noisy table given the parent
            probs = np.array(
                [
                    _probabilities(row)
                    if np.clip(row, 0, None).sum() > 0
                    else _probabilities(one_way[child])
                    for row in noisy
                ]
            )
            out[:, child] = _sample_rows(probs, out[:, parent], rng)
            done.add(child)
    return pd.DataFrame(
        {
            name: pd.Categorical.from_codes(out[:, c], dtype=df[name].dtype)
            for c, name in enumerate(names)
        }
    )


def marginal_error(
    real: pd.DataFrame, synthetic: pd.DataFrame, *, ways: tuple[int, ...] = (1, 2)
) -> float:
    """Average total-variation distance between the 1- and 2-way marginals of two tables.

    For every column (``1`` in ``ways``) and every pair of columns (``2``), compare the two
    normalised tables: ``0.5 * sum |p - q|``, 0 for identical marginals, 1 for disjoint ones.

    Examples
    --------
    >>> a = pd.DataFrame({"x": pd.Categorical(["u", "v"], categories=["u", "v"])})
    >>> marginal_error(a, a), marginal_error(a, a.iloc[[0, 0]])
    (0.0, 0.5)
    """
    names, codes, sizes = _codes(real)
    names_s, codes_s, sizes_s = _codes(synthetic)
    if names != names_s or sizes != sizes_s:
        raise ValueError("real and synthetic must have the same columns and categories")
    ways = tuple(check_int(w, "ways", min_val=1, max_val=2) for w in ways)
    if not ways:
        raise ValueError("ways must list 1 and/or 2")
    errors = []
    for w in sorted(set(ways)):
        for cols in combinations(range(len(names)), w):
            p = _table(codes, cols, sizes)
            q = _table(codes_s, cols, sizes)
            errors.append(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())
    if not errors:
        raise ValueError("ways asks for 2-way marginals of a table with one column")
    return float(np.mean(errors))


def closest_record_distance(targets: pd.DataFrame, synthetic: pd.DataFrame) -> np.ndarray:
    """For each target row, the fewest columns in which it differs from any synthetic row.

    0 means the synthetic data contains an exact copy of the target. A membership attacker
    scores ``-distance``: training rows tend to sit closer to the synthetic rows than fresh ones.

    Examples
    --------
    >>> cat = pd.CategoricalDtype(["a", "b"])
    >>> synth = pd.DataFrame({"x": pd.Series(["a", "a"], dtype=cat), "y": pd.Series(["a", "b"], dtype=cat)})
    >>> targets = pd.DataFrame({"x": pd.Series(["a", "b"], dtype=cat), "y": pd.Series(["b", "b"], dtype=cat)})
    >>> closest_record_distance(targets, synth).tolist()
    [0, 1]
    """
    names, codes_t, sizes = _codes(targets)
    names_s, codes_s, sizes_s = _codes(synthetic)
    if names != names_s or sizes != sizes_s:
        raise ValueError("targets and synthetic must have the same columns and categories")
    unique_s = np.unique(codes_s, axis=0)
    best = np.full(len(codes_t), len(names), dtype=np.int64)
    for start in range(0, len(codes_t), 512):
        block = codes_t[start : start + 512]
        dist = (block[:, None, :] != unique_s[None, :, :]).sum(axis=2)
        best[start : start + 512] = dist.min(axis=1)
    return best
