"""Syntactic anonymisation: k-anonymity, l-diversity, t-closeness, generalisation, linkage.

Tables are pandas DataFrames. An **equivalence class** is a set of rows that share every
quasi-identifier value (after generalisation); the three properties are all statements about
those classes:

* **k-anonymity** (Sweeney 2002): every class has at least ``k`` rows;
* **distinct l-diversity** (Machanavajjhala et al. 2007): every class holds at least ``l``
  different sensitive values;
* **t-closeness** (Li, Li & Venkatasubramanian 2007): in every class, the distribution of the
  sensitive value is within distance ``t`` of its distribution in the whole table. The distance
  is the earth mover's distance on an **ordered** scale for numeric (or ordered categorical)
  attributes, ``sum_i |cumulative difference up to value i| / (m - 1)`` over the ``m`` distinct
  values, and the **variational distance** ``0.5 * sum |p - q|`` (the EMD with all categories
  equally far apart) for unordered categorical attributes. Both lie in [0, 1].

None of them bounds what an attacker with background knowledge learns; that is what
differential privacy (notebook 03) is for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..validation import check_int

__all__ = [
    "equivalence_classes",
    "k_anonymity",
    "l_diversity",
    "t_closeness",
    "class_report",
    "generalize",
    "suppress",
    "linkage_attack",
]

Rule = int | str | None | Mapping[Any, Any] | Callable[[Any], Any]


def _check_table(table: Any, columns: Sequence[str], what: str = "quasi_identifiers") -> list[str]:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    if len(table) == 0:
        raise ValueError("table is empty")
    if isinstance(columns, str):
        columns = [columns]
    columns = list(columns)
    if not columns:
        raise ValueError(f"{what} must name at least one column")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"unknown column(s) {missing} in {what}; the table has {list(table.columns)}"
        )
    return columns


def _check_sensitive(table: pd.DataFrame, qi: list[str], sensitive: str) -> None:
    if not isinstance(sensitive, str) or sensitive not in table.columns:
        raise ValueError(
            f"unknown sensitive column {sensitive!r}; the table has {list(table.columns)}"
        )
    if sensitive in qi:
        raise ValueError(f"sensitive column {sensitive!r} must not also be a quasi-identifier")


def equivalence_classes(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """Size of every equivalence class (rows sharing all quasi-identifier values).

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2"], "sex": ["F", "F", "M"]})
    >>> equivalence_classes(t, ["zip", "sex"]).tolist()
    [2, 1]
    """
    qi = _check_table(table, quasi_identifiers)
    return table.groupby(qi, dropna=False, sort=True).size()


def k_anonymity(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The largest ``k`` for which ``table`` is k-anonymous: its smallest class size.

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2", "2", "2"], "sex": ["F"] * 5})
    >>> k_anonymity(t, ["zip", "sex"])
    2
    """
    return int(equivalence_classes(table, quasi_identifiers).min())


def l_diversity(table: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """Distinct l-diversity: the fewest different ``sensitive`` values found in any class.

    ``l = 1`` means some class is homogeneous: knowing someone is in it reveals their value.

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2", "2"], "dx": ["flu", "HIV", "flu", "flu"]})
    >>> l_diversity(t, ["zip"], "dx")
    1
    """
    qi = _check_table(table, quasi_identifiers)
    _check_sensitive(table, qi, sensitive)
    return int(table.groupby(qi, dropna=False)[sensitive].nunique(dropna=False).min())


def _is_ordered(col: pd.Series) -> bool:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return bool(col.dtype.ordered)
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _distances(
    table: pd.DataFrame, qi: list[str], sensitive: str, ordered: bool | None
) -> pd.Series:
    col = table[sensitive]
    if ordered is None:
        ordered = _is_ordered(col)
    if isinstance(col.dtype, pd.CategoricalDtype):
        values = list(col.cat.categories)
    else:
        values = sorted(col.unique()) if ordered else list(pd.unique(col))
    counts = (
        table.groupby(qi, dropna=False)[sensitive]
        .value_counts(dropna=False)
        .unstack(fill_value=0)
        .reindex(columns=values, fill_value=0)
    )
    p = np.array(counts.to_numpy(dtype=float))
    p /= p.sum(axis=1, keepdims=True)
    q = np.array(col.value_counts(dropna=False).reindex(values, fill_value=0).to_numpy(dtype=float))
    q /= q.sum()
    if ordered:
        m = len(values)
        dist = np.abs(np.cumsum(p - q, axis=1)).sum(axis=1) / max(m - 1, 1)
    else:
        dist = 0.5 * np.abs(p - q).sum(axis=1)
    return pd.Series(dist, index=counts.index, name="distance")


def t_closeness(
    table: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    *,
    ordered: bool | None = None,
) -> float:
    """The smallest ``t`` for which ``table`` is t-close: the largest class-to-table distance.

    Parameters
    ----------
    table : pandas.DataFrame
    quasi_identifiers : list of str
    sensitive : str
    ordered : bool, optional
        Treat the sensitive values as ordered (earth mover's distance on the sorted scale) or
        as unordered categories (variational distance). By default: ordered for numeric columns
        and ordered categoricals, unordered otherwise.

    Returns
    -------
    float in [0, 1]; 0 means every class has exactly the table's distribution.

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2", "2"], "dx": ["flu", "HIV", "flu", "flu"]})
    >>> t_closeness(t, ["zip"], "dx")  # classes have 50% and 0% HIV vs 25% overall
    0.25
    >>> s = pd.DataFrame({"zip": ["1", "1", "2", "2"], "days": [1, 2, 9, 10]})
    >>> round(t_closeness(s, ["zip"], "days"), 4)  # EMD on the ordered scale 1 < 2 < 9 < 10
    0.3333
    """
    qi = _check_table(table, quasi_identifiers)
    _check_sensitive(table, qi, sensitive)
    return float(_distances(table, qi, sensitive, ordered).max())


def class_report(
    table: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    *,
    ordered: bool | None = None,
) -> pd.DataFrame:
    """One row per equivalence class: size, distinct sensitive values, most common value and
    its share, and the t-closeness distance, sorted from the most exposed class down.

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2", "2"], "dx": ["flu", "HIV", "flu", "flu"]})
    >>> class_report(t, ["zip"], "dx")[["size", "distinct", "top", "top_share"]]
         size  distinct  top  top_share
    zip
    2       2         1  flu        1.0
    1       2         2  flu        0.5
    """
    qi = _check_table(table, quasi_identifiers)
    _check_sensitive(table, qi, sensitive)
    groups = table.groupby(qi, dropna=False)[sensitive]
    report = pd.DataFrame(
        {
            "size": groups.size(),
            "distinct": groups.nunique(dropna=False),
            "top": groups.agg(lambda s: s.value_counts().index[0]),
            "top_share": groups.agg(lambda s: s.value_counts(normalize=True).iloc[0]),
        }
    )
    report["distance"] = _distances(table, qi, sensitive, ordered).reindex(report.index).to_numpy()
    return report.sort_values(["distinct", "size", "distance"], ascending=[True, True, False])


def _apply_rule(col: pd.Series, rule: Rule, name: str) -> pd.Series:
    if rule is None or (isinstance(rule, str) and rule == "*"):
        return pd.Series("*", index=col.index, name=col.name)
    if isinstance(rule, bool):
        raise ValueError(
            f"rule for {name!r} must be an int, '*', a mapping or a callable, got {rule!r}"
        )
    if isinstance(rule, (int, np.integer)):
        width = int(rule)
        if width <= 0:
            raise ValueError(f"rule for {name!r} must be a positive int, got {width}")
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            lo = (np.floor(col.to_numpy(dtype=float) / width) * width).astype(int)
            return pd.Series([f"{a}-{a + width - 1}" for a in lo], index=col.index, name=col.name)
        text = col.astype(str)
        return text.map(lambda s: s[: max(len(s) - width, 0)] + "*" * min(width, len(s)))
    if isinstance(rule, Mapping):
        return col.map(lambda v: rule.get(v, v))
    if callable(rule):
        return col.map(rule)
    raise ValueError(
        f"rule for {name!r} must be an int, '*', a mapping or a callable, got {rule!r}"
    )


def generalize(table: pd.DataFrame, rules: Mapping[str, Rule]) -> pd.DataFrame:
    """A copy of ``table`` with quasi-identifiers coarsened column by column.

    Parameters
    ----------
    table : pandas.DataFrame
    rules : mapping column -> rule
        * positive ``int`` on a numeric column: bands of that width, labelled ``"1980-1989"``;
        * positive ``int`` on a text column: mask that many trailing characters
          (``"13024"`` with 2 -> ``"130**"``);
        * ``"*"`` (or None): suppress the column entirely (every value becomes ``"*"``);
        * a mapping: replace the values it lists (others are kept);
        * a callable: applied to every value.

    Returns
    -------
    pandas.DataFrame, same index and columns; generalised columns hold strings.

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["13024", "13031"], "birth_year": [1987, 1975], "sex": ["F", "M"]})
    >>> generalize(t, {"zip": 2, "birth_year": 10, "sex": "*"}).values.tolist()
    [['130**', '1980-1989', '*'], ['130**', '1970-1979', '*']]
    """
    if not isinstance(rules, Mapping):
        raise ValueError(f"rules must be a mapping column -> rule, got {type(rules).__name__}")
    if not rules:
        _check_table(table, list(table.columns) if isinstance(table, pd.DataFrame) else [], "table")
        return table.copy()
    _check_table(table, list(rules), "rules")
    out = table.copy()
    for name, rule in rules.items():
        out[name] = _apply_rule(table[name], rule, name)
    return out


def suppress(table: pd.DataFrame, quasi_identifiers: Sequence[str], *, k: int) -> pd.DataFrame:
    """Drop the rows of every equivalence class smaller than ``k`` (record suppression).

    Examples
    --------
    >>> t = pd.DataFrame({"zip": ["1", "1", "2"], "dx": ["a", "b", "c"]})
    >>> suppress(t, ["zip"], k=2)["dx"].tolist()
    ['a', 'b']
    """
    qi = _check_table(table, quasi_identifiers)
    k = check_int(k, "k", min_val=1)
    sizes = table.groupby(qi, dropna=False)[qi[0]].transform("size")
    return table[sizes.to_numpy() >= k]


def linkage_attack(
    released: pd.DataFrame,
    public: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    identity: str = "name",
) -> pd.DataFrame:
    """Re-identify released rows by joining them to a public table on quasi-identifiers.

    A released row is *linked* when exactly one public row shares its quasi-identifiers; the
    attacker then attaches that row's ``identity`` to it. (The link can still be wrong: the
    person in the released table may simply be missing from the public one.)

    Parameters
    ----------
    released : pandas.DataFrame
        The "anonymised" table (no identity column).
    public : pandas.DataFrame
        A table with identities and the same quasi-identifiers (e.g. a voter list).
    quasi_identifiers : list of str
    identity : str, default "name"
        Column of ``public`` holding the identity.

    Returns
    -------
    pandas.DataFrame
        The linked released rows (original index kept) with an extra ``identity`` column.

    Examples
    --------
    >>> released = pd.DataFrame({"zip": ["1", "2", "3"], "dx": ["flu", "HIV", "flu"]})
    >>> public = pd.DataFrame({"name": ["Ann", "Bob", "Cy"], "zip": ["1", "2", "2"]})
    >>> linkage_attack(released, public, ["zip"])
      zip   dx name
    0   1  flu  Ann
    """
    qi = _check_table(released, quasi_identifiers)
    _check_table(public, qi + [identity], "quasi_identifiers / identity of public")
    if identity in released.columns:
        raise ValueError(f"released already has an identity column {identity!r}; drop it first")
    pub = public[qi + [identity]]
    counts = pub.groupby(qi, dropna=False)[identity].transform("size")
    unique = pub[counts.to_numpy() == 1]
    linked = released.reset_index().merge(unique, on=qi, how="inner")
    index_name = released.index.name or "index"
    return linked.set_index(index_name).rename_axis(released.index.name).sort_index()
