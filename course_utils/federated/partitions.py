"""Who holds which examples: IID, label-skewed (Dirichlet) and sharded splits over clients.

A partition is a list of sorted int64 index arrays, one per client, that together hold every
example exactly once; :func:`client_datasets` turns it into the clients' ``(X, y)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..validation import RNGLike, as_rng, check_bool, check_int, check_positive

__all__ = [
    "iid_partition",
    "dirichlet_partition",
    "shard_partition",
    "client_datasets",
    "label_histogram",
]


def _check_n_clients(n_clients: int, n: int) -> int:
    n_clients = check_int(n_clients, "n_clients", min_val=1)
    if n_clients > n:
        raise ValueError(f"n_clients ({n_clients}) cannot exceed the number of examples ({n})")
    return n_clients


def iid_partition(n: int, n_clients: int, *, rng: RNGLike) -> list[np.ndarray]:
    """Shuffle ``range(n)`` and cut it into ``n_clients`` parts of (almost) equal size.

    Parameters
    ----------
    n : int
        Number of examples.
    n_clients : int
        Number of clients, ``1 <= n_clients <= n``.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    list of int64 arrays
        Client ``c`` holds ``parts[c]`` (sorted); every index in ``range(n)`` appears exactly once
        and sizes differ by at most one.

    Examples
    --------
    >>> parts = iid_partition(10, 3, rng=np.random.default_rng(0))
    >>> [len(p) for p in parts], sorted(np.concatenate(parts).tolist()) == list(range(10))
    ([4, 3, 3], True)
    """
    n = check_int(n, "n", min_val=1)
    n_clients = _check_n_clients(n_clients, n)
    order = as_rng(rng).permutation(n)
    return [np.sort(part).astype(np.int64) for part in np.array_split(order, n_clients)]


def dirichlet_partition(
    labels: np.ndarray,
    n_clients: int,
    *,
    alpha: float,
    rng: RNGLike,
    min_size: int = 1,
) -> list[np.ndarray]:
    """Label-skewed (non-IID) split: each class is shared among clients by Dirichlet(alpha) weights.

    For every class, a vector of client shares is drawn from ``Dirichlet(alpha, ..., alpha)`` and
    the class's examples are dealt out in those proportions (Hsu et al., 2019). Small ``alpha``
    (0.1) gives each client a few dominant classes; large ``alpha`` (100) approaches an IID split.
    Draws are repeated (up to 100 times) until every client holds at least ``min_size`` examples;
    if that still fails, the largest clients hand examples to the smallest.

    Parameters
    ----------
    labels : array-like of int, shape (n,)
    n_clients : int
    alpha : float
        Concentration, > 0.
    rng : numpy.random.Generator, int seed or None
    min_size : int, default 1
        Smallest allowed client, ``0 <= min_size`` and ``n_clients * min_size <= n``.

    Returns
    -------
    list of int64 arrays
        Sorted indices per client; together they hold every index exactly once.

    Examples
    --------
    >>> labels = np.repeat(np.arange(3), 20)
    >>> parts = dirichlet_partition(labels, 4, alpha=0.5, rng=np.random.default_rng(0))
    >>> sorted(np.concatenate(parts).tolist()) == list(range(60)), min(len(p) for p in parts) >= 1
    (True, True)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d array, got shape {labels.shape}")
    n = labels.size
    n_clients = _check_n_clients(n_clients, n)
    alpha = check_positive(alpha, "alpha")
    min_size = check_int(min_size, "min_size", min_val=0)
    if n_clients * min_size > n:
        raise ValueError(
            f"min_size must be >= 0 with n_clients * min_size <= n; got min_size={min_size}, "
            f"n_clients={n_clients}, n={n}"
        )
    rng = as_rng(rng)
    classes = np.unique(labels)
    for _ in range(100):
        buckets: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(labels == c))
            shares = rng.dirichlet(np.full(n_clients, float(alpha)))
            cuts = (np.cumsum(shares)[:-1] * idx.size).astype(int)
            for client, part in enumerate(np.split(idx, cuts)):
                buckets[client].append(part)
        parts = [np.concatenate(b) for b in buckets]
        if min(p.size for p in parts) >= min_size:
            break
    else:  # repair: move examples from the largest clients to the ones below min_size
        for client in range(n_clients):
            while parts[client].size < min_size:
                donor = int(np.argmax([p.size for p in parts]))
                parts[client] = np.append(parts[client], parts[donor][-1])
                parts[donor] = parts[donor][:-1]
    return [np.sort(p).astype(np.int64) for p in parts]


def shard_partition(
    labels: np.ndarray,
    n_clients: int,
    *,
    shards_per_client: int = 2,
    rng: RNGLike,
    by_class: bool = False,
) -> list[np.ndarray]:
    """The pathological non-IID split of McMahan et al. (2017): sort by label, deal out shards.

    ``by_class=False`` (McMahan et al.'s recipe): the examples, sorted by label, are cut into
    ``n_clients * shards_per_client`` equal shards and each client receives
    ``shards_per_client`` random shards. A shard can straddle the boundary between two classes
    whenever the class sizes are not multiples of the shard size, so a client may see more
    classes than it has shards (on the digits with 10 clients and 2 shards each, 57 % of
    clients saw three classes or more over 20 random deals).

    ``by_class=True``: every shard is cut from a single class (each class gets a number of shards
    proportional to its size, at least one), so no client sees more than ``shards_per_client``
    classes; it sees fewer when it draws two shards of the same class.

    Examples
    --------
    >>> labels = np.repeat(np.arange(10), 10)
    >>> parts = shard_partition(labels, 5, rng=np.random.default_rng(0))
    >>> [len(np.unique(labels[p])) <= 2 for p in parts]
    [True, True, True, True, True]
    >>> uneven = np.repeat(np.arange(4), [9, 11, 10, 10])
    >>> parts = shard_partition(uneven, 4, rng=np.random.default_rng(0), by_class=True)
    >>> max(len(np.unique(uneven[p])) for p in parts) <= 2
    True
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-d array, got shape {labels.shape}")
    n_clients = _check_n_clients(n_clients, labels.size)
    shards_per_client = check_int(shards_per_client, "shards_per_client", min_val=1)
    if n_clients * shards_per_client > labels.size:
        raise ValueError(
            f"shards_per_client must be >= 1 with n_clients * shards_per_client <= n, got {shards_per_client}"
        )
    by_class = check_bool(by_class, "by_class")
    rng = as_rng(rng)
    n_shards = n_clients * shards_per_client
    if by_class:
        shards = _class_shards(labels, n_shards)
    else:
        shards = np.array_split(np.argsort(labels, kind="stable"), n_shards)
    deal = rng.permutation(len(shards)).reshape(n_clients, shards_per_client)
    return [np.sort(np.concatenate([shards[s] for s in row])).astype(np.int64) for row in deal]


def _class_shards(labels: np.ndarray, n_shards: int) -> list[np.ndarray]:
    """``n_shards`` index arrays, each inside one class, about equal in size (largest remainder)."""
    classes, counts = np.unique(labels, return_counts=True)
    if n_shards < classes.size:
        raise ValueError(
            f"by_class needs at least one shard per class: n_clients * shards_per_client = {n_shards} "
            f"< {classes.size} classes"
        )
    share = n_shards * counts / counts.sum()
    per_class = np.maximum(1, np.floor(share).astype(int))
    while per_class.sum() < n_shards:  # hand the remaining shards to the largest remainders
        per_class[np.argmax(share - per_class)] += 1
    while per_class.sum() > n_shards:  # (the minimum of one shard per class overshot)
        per_class[np.argmax(np.where(per_class > 1, per_class - share, -np.inf))] -= 1
    if np.any(per_class > counts):
        raise ValueError("by_class: a class has fewer examples than shards; use fewer shards")
    return [
        shard
        for c, k in zip(classes, per_class, strict=True)
        for shard in np.array_split(np.flatnonzero(labels == c), k)
    ]


def client_datasets(
    X: np.ndarray, y: np.ndarray, parts: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The clients' local data sets ``(X[p], y[p])``, one per index array ``p`` of a partition.

    This is the ``clients`` argument of :func:`run_federated` and of
    ``course_utils.flower_app.run_flower``.

    Parameters
    ----------
    X : array of shape (n, d)
        Features of all examples.
    y : array of shape (n,)
        Their labels.
    parts : sequence of int arrays
        A partition of ``range(n)``, e.g. from :func:`iid_partition` or :func:`dirichlet_partition`.

    Examples
    --------
    >>> X, y = np.arange(12.0).reshape(6, 2), np.array([0, 1, 0, 1, 0, 1])
    >>> clients = client_datasets(X, y, iid_partition(6, 2, rng=np.random.default_rng(0)))
    >>> [(Xc.shape, yc.shape) for Xc, yc in clients]
    [((3, 2), (3,)), ((3, 2), (3,))]
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"X must be 2-d and y 1-d of the same length, got shapes {X.shape} and {y.shape}"
        )
    if len(parts) == 0:
        raise ValueError("parts must hold at least one client's indices, got an empty sequence")
    out = []
    for c, part in enumerate(parts):
        idx = np.asarray(part)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"parts[{c}] must be a 1-d integer index array, got {idx.dtype} {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= len(y)):
            raise ValueError(f"parts[{c}] holds indices outside range({len(y)})")
        out.append((X[idx], y[idx]))
    return out


def label_histogram(
    labels: np.ndarray, parts: Sequence[np.ndarray], *, n_classes: int | None = None
) -> np.ndarray:
    """Counts of each label per client, shape ``(n_clients, n_classes)``.

    Examples
    --------
    >>> label_histogram(np.array([0, 1, 1, 2]), [np.array([0, 1]), np.array([2, 3])]).tolist()
    [[1, 1, 0], [0, 1, 1]]
    """
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    return np.stack([np.bincount(labels[np.asarray(p, dtype=int)], minlength=k) for p in parts])
