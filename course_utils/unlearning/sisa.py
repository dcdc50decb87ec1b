"""SISA training (Bourtoule et al., 2021): shards and slices, so that a deletion retrains only the
shard that held the row, from the last checkpoint before it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_int
from ._checks import _as_X

__all__ = ["SISAModel", "sisa_train", "sisa_remove"]


@dataclass
class SISAModel:
    """An ensemble trained with SISA: one estimator per shard, probabilities averaged.

    Build it with :func:`sisa_train`; forget rows with :func:`sisa_remove`.

    Attributes
    ----------
    estimators : list
        One fitted scikit-learn estimator per shard.
    slices : list of list of ndarray
        ``slices[s][k]``: row indices (into the original training set) of slice ``k`` of shard
        ``s``. Removed rows disappear from their slice; the boundaries never move.
    checkpoints : list of list
        ``checkpoints[s][k]`` is shard ``s``'s estimator after training on slices ``0..k``
        (kept only when there is more than one slice).
    X, y : ndarrays
        The training set (needed to retrain a shard).
    template : estimator
        The unfitted estimator cloned for every shard.
    classes_ : ndarray
        All class labels seen in training.
    removed : set of int
        Original row indices forgotten so far.
    rows_trained : int
        Cost of the last training or removal: rows passed to ``fit``, summed over every fit
        (a row in slice 0 of a 3-slice shard counts 3 times).
    """

    estimators: list
    slices: list
    checkpoints: list
    X: np.ndarray
    y: np.ndarray
    template: Any
    classes_: np.ndarray
    removed: set = field(default_factory=set)
    rows_trained: int = 0

    @property
    def n_shards(self) -> int:
        return len(self.slices)

    @property
    def n_slices(self) -> int:
        return len(self.slices[0])

    @property
    def shards(self) -> list[np.ndarray]:
        """Row indices of each shard (its slices concatenated)."""
        return [np.concatenate(sl) for sl in self.slices]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Average of the shard models' class probabilities (columns follow ``classes_``)."""
        X = _as_X(X)
        total = np.zeros((len(X), len(self.classes_)))
        for est in self.estimators:
            cols = np.searchsorted(self.classes_, est.classes_)
            total[:, cols] += est.predict_proba(X)
        return total / len(self.estimators)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest averaged probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on ``(X, y)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def _default_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, max_iter=500)


def _train_shard(
    template: Any, X: np.ndarray, y: np.ndarray, slices: list[np.ndarray], start: int, base: Any
) -> tuple[Any, list, int]:
    """Fit on cumulative slices ``start, start + 1, ...`` (warm-started from ``base`` if given).

    Returns the estimator, the checkpoints taken after each of those slices, and the rows fitted.
    """
    from sklearn.base import clone

    sliced = len(slices) > 1
    est = copy.deepcopy(base) if base is not None else clone(template)
    saved, rows = [], 0
    for k in range(start, len(slices)):
        seen = np.concatenate(slices[: k + 1])
        classes = np.unique(y[seen])
        if len(classes) < 2:
            raise ValueError(
                "a shard's first slices hold fewer than two classes; use fewer shards or slices"
            )
        if sliced:
            # Warm-start from the previous slice's solution, unless a class appears for the
            # first time (scikit-learn cannot grow a fitted coefficient matrix): then refit.
            known = getattr(est, "classes_", None)
            same = known is not None and np.array_equal(known, classes)
            if not same:
                est = clone(template)
            est.set_params(warm_start=True)
        est.fit(X[seen], y[seen])
        rows += len(seen)
        if sliced:
            saved.append(copy.deepcopy(est))
    return est, saved, rows


def sisa_train(
    X: Any,
    y: Any,
    *,
    n_shards: int,
    n_slices: int = 1,
    estimator: Any = None,
    rng: RNGLike = 0,
) -> SISAModel:
    """Sharded, Isolated, Sliced, Aggregated training (Bourtoule et al., 2021).

    The rows are shuffled and split into ``n_shards`` disjoint shards; each shard trains its own
    copy of ``estimator`` in isolation. With ``n_slices > 1`` a shard is trained incrementally:
    on slice 0, then (warm-started) on slices 0-1, and so on, saving a checkpoint after each, so
    a later deletion can restart from the last checkpoint that never saw the row.

    Parameters
    ----------
    X, y : arrays of shape (n, d) and (n,)
    n_shards : int
        Number of disjoint shards, 1 <= n_shards <= n.
    n_slices : int, default 1
        Slices per shard; > 1 needs an estimator with a ``warm_start`` parameter.
    estimator : scikit-learn classifier, optional
        Template cloned for each shard; default ``LogisticRegression(max_iter=500)``.
    rng : numpy.random.Generator, int seed or None, default 0
        Source of the assignment of rows to shards.

    Returns
    -------
    SISAModel

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = sisa_train(X, y, n_shards=3)
    >>> [len(s) for s in model.shards], model.rows_trained, model.score(X, y) > 0.9
    ([50, 50, 50], 150, True)
    >>> sisa_train(X, y, n_shards=2, n_slices=3).rows_trained   # 25 + 50 + 75 rows per shard
    300
    """
    X = _as_X(X)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(
            f"y must be 1-d with one label per row of X ({len(X)}), got shape {y.shape}"
        )
    n_shards = check_int(n_shards, "n_shards", min_val=1)
    n_slices = check_int(n_slices, "n_slices", min_val=1)
    if n_shards * n_slices > len(X):
        raise ValueError(f"n_shards * n_slices = {n_shards * n_slices} exceeds the {len(X)} rows")
    template = _default_estimator() if estimator is None else estimator
    if n_slices > 1 and "warm_start" not in template.get_params():
        raise ValueError(
            f"n_slices > 1 needs an estimator with a warm_start parameter, got {template!r}"
        )
    order = as_rng(rng).permutation(len(X))
    slices = [np.array_split(shard, n_slices) for shard in np.array_split(order, n_shards)]
    estimators, checkpoints, rows = [], [], 0
    for shard_slices in slices:
        est, saved, r = _train_shard(template, X, y, shard_slices, 0, None)
        estimators.append(est)
        checkpoints.append(saved)
        rows += r
    return SISAModel(estimators, slices, checkpoints, X, y, template, np.unique(y), set(), rows)


def sisa_remove(model: SISAModel, index: int | Sequence[int]) -> SISAModel:
    """Forget rows of a :class:`SISAModel` exactly: retrain only the shards that held them.

    Each affected shard restarts from its checkpoint taken *before* the earliest slice holding a
    removed row (from scratch if that is slice 0) and refits the later slices without the rows.
    No estimator that ever saw a removed row survives, so the result is a model trained as if
    the rows had never been there. ``model`` itself is left unchanged.

    Parameters
    ----------
    model : SISAModel
    index : int or sequence of int
        Row indices into the *original* training set.

    Returns
    -------
    SISAModel
        The updated copy; its ``rows_trained`` is the cost of this removal.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = sisa_train(X, y, n_shards=5)
    >>> after = sisa_remove(model, 7)          # one shard of 30 rows refits on 29
    >>> after.rows_trained, sorted(after.removed), model.removed
    (29, [7], set())
    """
    if not isinstance(model, SISAModel):
        raise ValueError(f"model must be a SISAModel from sisa_train, got {type(model).__name__}")
    raw = np.atleast_1d(np.asarray(index))
    if raw.size == 0 or raw.ndim != 1 or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"index must be an int or a non-empty sequence of ints, got {index!r}")
    idx = {int(i) for i in raw}
    bad = sorted(i for i in idx if not 0 <= i < len(model.X))
    if bad:
        raise ValueError(f"index out of range for {len(model.X)} training rows: {bad}")
    gone = idx & model.removed
    if gone:
        raise ValueError(f"rows {sorted(gone)} were already removed")
    drop = np.array(sorted(idx))
    new = copy.copy(model)
    new.estimators = list(model.estimators)
    new.checkpoints = [list(c) for c in model.checkpoints]
    new.slices = [list(sl) for sl in model.slices]
    new.removed = model.removed | idx
    rows = 0
    for s, shard_slices in enumerate(model.slices):
        hits = [k for k, sl in enumerate(shard_slices) if np.isin(sl, drop).any()]
        if not hits:
            continue
        first = hits[0]
        kept = [sl[~np.isin(sl, drop)] for sl in shard_slices]
        base = model.checkpoints[s][first - 1] if first > 0 else None
        est, saved, r = _train_shard(model.template, model.X, model.y, kept, first, base)
        new.estimators[s] = est
        new.slices[s] = kept
        if model.n_slices > 1:
            new.checkpoints[s] = model.checkpoints[s][:first] + saved
        rows += r
    new.rows_trained = rows
    return new
