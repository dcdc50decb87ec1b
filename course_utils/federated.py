"""Federated learning in numpy: partitions, FedAvg, client attacks, robust aggregation, DP-FedAvg.

Conventions
-----------
* A model is a flat parameter vector (``params``, shape ``(dim,)``) read by a :class:`NumpyNet`.
* A client's **update** is ``local_params - global_params``; a round's updates are stacked into an
  array of shape ``(n_clients, dim)``. Every aggregator takes that array and returns one vector of
  shape ``(dim,)``, so the server step is ``global_params + server_lr * aggregate(updates)``.
* Randomness comes from ``rng`` (a :class:`numpy.random.Generator`) or an integer ``seed``; client
  ``c`` in round ``t`` of a run with seed ``s`` shuffles its data with
  :func:`client_rng` ``(s, t, c)``, so a scratch loop and a Flower run see the same batches.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> updates = np.array([[1.0, 0.0], [3.0, 2.0], [100.0, -100.0]])
>>> fedavg(updates, [1, 1, 2]).tolist()
[51.0, -49.5]
>>> coordinate_median(updates).tolist()
[3.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = [
    "iid_partition",
    "dirichlet_partition",
    "shard_partition",
    "client_datasets",
    "label_histogram",
    "plot_label_mix",
    "quadratic_fedavg_path",
    "fedavg",
    "coordinate_median",
    "trimmed_mean",
    "krum",
    "krum_scores",
    "AGGREGATORS",
    "clip_update",
    "pairwise_masks",
    "secure_aggregation_masks",
    "secure_aggregation_masks_mod",
    "NumpyNet",
    "client_rng",
    "local_sgd",
    "FedResult",
    "run_federated",
    "rounds_to_target",
    "bytes_per_round",
    "sign_flip",
    "flip_labels",
    "TRIGGER_PIXELS",
    "add_trigger",
    "backdoor_data",
    "backdoor_success",
    "dp_fedavg_epsilon",
]

Aggregator = Callable[[np.ndarray, np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------
# Partitions: who holds which examples
# --------------------------------------------------------------------------------------------
def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _check_n_clients(n_clients: int, n: int) -> int:
    if isinstance(n_clients, bool) or not isinstance(n_clients, (int, np.integer)) or n_clients < 1:
        raise ValueError(f"n_clients must be a positive integer, got {n_clients!r}")
    if n_clients > n:
        raise ValueError(f"n_clients ({n_clients}) cannot exceed the number of examples ({n})")
    return int(n_clients)


def iid_partition(n: int, n_clients: int, *, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffle ``range(n)`` and cut it into ``n_clients`` parts of (almost) equal size.

    Parameters
    ----------
    n : int
        Number of examples.
    n_clients : int
        Number of clients, ``1 <= n_clients <= n``.
    rng : numpy.random.Generator

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
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    n_clients = _check_n_clients(n_clients, int(n))
    order = _check_rng(rng).permutation(int(n))
    return [np.sort(part).astype(np.int64) for part in np.array_split(order, n_clients)]


def dirichlet_partition(
    labels: np.ndarray,
    n_clients: int,
    *,
    alpha: float,
    rng: np.random.Generator,
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
    rng : numpy.random.Generator
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
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    if min_size < 0 or n_clients * min_size > n:
        raise ValueError(
            f"min_size must be >= 0 with n_clients * min_size <= n; got min_size={min_size}, "
            f"n_clients={n_clients}, n={n}"
        )
    rng = _check_rng(rng)
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
    rng: np.random.Generator,
    by_class: bool = False,
) -> list[np.ndarray]:
    """The pathological non-IID split of McMahan et al. (2017): sort by label, deal out shards.

    ``by_class=False`` (McMahan et al.'s recipe): the examples, sorted by label, are cut into
    ``n_clients * shards_per_client`` equal shards and each client receives
    ``shards_per_client`` random shards. A shard can straddle the boundary between two classes
    whenever the class sizes are not multiples of the shard size, so a client may see more
    classes than it has shards (on the digits, 7 of 10 clients see three classes).

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
    if shards_per_client < 1 or n_clients * shards_per_client > labels.size:
        raise ValueError(
            f"shards_per_client must be >= 1 with n_clients * shards_per_client <= n, got {shards_per_client}"
        )
    if not isinstance(by_class, (bool, np.bool_)):
        raise ValueError(f"by_class must be True or False, got {by_class!r}")
    rng = _check_rng(rng)
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


def plot_label_mix(hist: np.ndarray, *, ax: object = None, title: str | None = None) -> object:
    """Heat map of a :func:`label_histogram`: clients left to right, classes bottom to top.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_label_mix(np.eye(3, dtype=int) * 5)
    >>> len(ax.images)
    1
    >>> plt.close("all")
    """
    from .plotting import get_ax

    hist = np.asarray(hist)
    if hist.ndim != 2:
        raise ValueError(f"hist must have shape (n_clients, n_classes), got {hist.shape}")
    ax = get_ax(ax)
    ax.imshow(hist.T, origin="lower", aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_xlabel("client")
    ax.set_ylabel("class (digit)")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def quadratic_fedavg_path(
    centres: np.ndarray,
    curvatures: np.ndarray,
    *,
    local_steps: int,
    lr: float,
    rounds: int,
    start: np.ndarray | None = None,
    server_lr: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """FedAvg on toy quadratic clients ``f_k(w) = 0.5 (w - c_k)^T A_k (w - c_k)`` (client drift).

    Every round each client takes ``local_steps`` gradient steps from the global point and the
    server moves by ``server_lr`` times the average update (equal weights). With one local step
    this is gradient descent on the average loss and converges to its minimiser; with many local
    steps each client runs to its own minimum first and the average lands somewhere else. A
    server learning rate only rescales the step: the point FedAvg settles at (where the average
    update is zero) does not depend on it.

    Returns
    -------
    path : array of shape (rounds + 1, dim)
        The global point after each round.
    optimum : array of shape (dim,)
        The minimiser of the average loss, ``(sum A_k)^-1 sum A_k c_k``.

    Examples
    --------
    >>> C = np.array([[0.0, 0.0], [4.0, 0.0]]); A = np.stack([np.diag([1.0, 1.0]), np.diag([4.0, 1.0])])
    >>> path, opt = quadratic_fedavg_path(C, A, local_steps=1, lr=0.1, rounds=500)
    >>> bool(np.allclose(path[-1], opt)), opt.tolist()
    (True, [3.2, 0.0])
    >>> drift, _ = quadratic_fedavg_path(C, A, local_steps=50, lr=0.1, rounds=500)
    >>> slow, _ = quadratic_fedavg_path(C, A, local_steps=50, lr=0.1, rounds=500, server_lr=0.5)
    >>> bool(np.allclose(drift[-1], slow[-1])), bool(np.allclose(drift[-1], opt))  # same wrong point
    (True, False)
    """
    centres = np.asarray(centres, dtype=float)
    curvatures = np.asarray(curvatures, dtype=float)
    k, d = centres.shape
    if curvatures.shape != (k, d, d):
        raise ValueError(f"curvatures must have shape ({k}, {d}, {d}), got {curvatures.shape}")
    if local_steps < 1 or rounds < 1 or lr <= 0:
        raise ValueError(
            f"need local_steps >= 1, rounds >= 1, lr > 0; got {local_steps}, {rounds}, {lr}"
        )
    if not 0 < server_lr <= 2:
        raise ValueError(f"server_lr must be in (0, 2], got {server_lr}")
    optimum = np.linalg.solve(curvatures.sum(axis=0), np.einsum("kij,kj->i", curvatures, centres))
    w = np.zeros(d) if start is None else np.asarray(start, dtype=float)
    path = [w]
    for _ in range(rounds):
        local = np.repeat(w[None, :], k, axis=0)
        for _ in range(local_steps):
            local = local - lr * np.einsum("kij,kj->ki", curvatures, local - centres)
        w = w + server_lr * (local.mean(axis=0) - w)
        path.append(w)
    return np.array(path), optimum


# --------------------------------------------------------------------------------------------
# Aggregators: (n_clients, dim) -> (dim,)
# --------------------------------------------------------------------------------------------
def _check_updates(updates: np.ndarray, *, name: str = "updates") -> np.ndarray:
    updates = np.asarray(updates, dtype=float)
    if updates.ndim != 2 or updates.shape[0] == 0 or updates.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (n_clients, dim) with both > 0, got {updates.shape}"
        )
    if not np.all(np.isfinite(updates)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return updates


def fedavg(updates: np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Weighted average of client updates: ``sum_k w_k u_k / sum_k w_k`` (McMahan et al., 2017).

    Parameters
    ----------
    updates : array of shape (n_clients, dim)
    weights : array-like of shape (n_clients,)
        Non-negative, not all zero; usually the clients' example counts.

    Examples
    --------
    >>> fedavg(np.array([[0.0, 2.0], [4.0, 6.0]]), [3, 1]).tolist()
    [1.0, 3.0]
    """
    updates = _check_updates(updates)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (updates.shape[0],):
        raise ValueError(f"weights must have shape ({updates.shape[0]},), got {weights.shape}")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return weights @ updates / weights.sum()


def coordinate_median(updates: np.ndarray) -> np.ndarray:
    """Coordinate-wise median of the updates (Yin et al., 2018).

    Examples
    --------
    >>> coordinate_median(np.array([[0.0, 5.0], [1.0, -9.0], [50.0, 6.0]])).tolist()
    [1.0, 5.0]
    """
    return np.median(_check_updates(updates), axis=0)


def trimmed_mean(updates: np.ndarray, *, trim_ratio: float) -> np.ndarray:
    """Coordinate-wise trimmed mean: per coordinate drop the ``k`` largest and ``k`` smallest values.

    ``k = floor(trim_ratio * n_clients)``; ``trim_ratio = 0`` is the plain mean. It resists at most
    ``k`` attackers: with more, an extreme value survives the trim in some coordinates.

    Parameters
    ----------
    updates : array of shape (n_clients, dim)
    trim_ratio : float in [0, 0.5)

    Examples
    --------
    >>> U = np.array([[1.0], [2.0], [3.0], [4.0], [100.0]])
    >>> trimmed_mean(U, trim_ratio=0.2).tolist(), trimmed_mean(U, trim_ratio=0.0).tolist()
    ([3.0], [22.0])
    """
    updates = _check_updates(updates)
    if not 0.0 <= trim_ratio < 0.5:
        raise ValueError(f"trim_ratio must be in [0, 0.5), got {trim_ratio!r}")
    n = updates.shape[0]
    k = int(np.floor(trim_ratio * n))
    return np.sort(updates, axis=0)[k : n - k].mean(axis=0)


def krum_scores(updates: np.ndarray, *, n_byzantine: int) -> np.ndarray:
    """Krum score of each update: sum of squared distances to its ``n - f - 2`` nearest others.

    Examples
    --------
    >>> U = np.array([[0.0], [1.0], [2.0], [50.0], [51.0]])
    >>> int(np.argmin(krum_scores(U, n_byzantine=1)))
    1
    """
    updates = _check_updates(updates)
    n = updates.shape[0]
    if (
        isinstance(n_byzantine, bool)
        or not isinstance(n_byzantine, (int, np.integer))
        or n_byzantine < 0
    ):
        raise ValueError(f"n_byzantine must be a non-negative integer, got {n_byzantine!r}")
    if n <= 2 * n_byzantine + 2:
        raise ValueError(
            f"Krum needs n_clients > 2 * n_byzantine + 2, got n_clients={n}, n_byzantine={n_byzantine}"
        )
    sq = np.sum(updates**2, axis=1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2.0 * updates @ updates.T, 0.0)
    np.fill_diagonal(dist, np.inf)
    m = n - n_byzantine - 2
    return np.sort(dist, axis=1)[:, :m].sum(axis=1)


def krum(updates: np.ndarray, *, n_byzantine: int, multi: int = 1) -> np.ndarray:
    """Krum (Blanchard et al., 2017): the update closest to its neighbours; Multi-Krum averages the
    ``multi`` best-scoring updates.

    Parameters
    ----------
    updates : array of shape (n_clients, dim)
    n_byzantine : int
        Number ``f`` of attackers to tolerate; needs ``n_clients > 2 f + 2``.
    multi : int, default 1
        How many selected updates to average, ``1 <= multi <= n_clients``.

    Returns
    -------
    ndarray of shape (dim,)

    Examples
    --------
    >>> U = np.array([[0.0, 0.0], [0.2, 0.0], [0.0, 0.2], [0.1, 0.1], [9.0, 9.0], [9.0, 8.0]])
    >>> krum(U, n_byzantine=1).tolist()
    [0.1, 0.1]
    >>> krum(U, n_byzantine=1, multi=4).round(3).tolist()
    [0.075, 0.075]
    """
    scores = krum_scores(updates, n_byzantine=n_byzantine)
    updates = np.asarray(updates, dtype=float)
    if (
        isinstance(multi, bool)
        or not isinstance(multi, (int, np.integer))
        or not 1 <= multi <= len(updates)
    ):
        raise ValueError(
            f"multi must be an integer in [1, n_clients={len(updates)}], got {multi!r}"
        )
    chosen = np.argsort(scores, kind="stable")[:multi]
    return updates[chosen].mean(axis=0)


#: Name -> aggregator ``f(updates, weights)`` used by :func:`run_federated`; the robust ones
#: ignore the weights. The robust settings suit 10 clients per round.
AGGREGATORS: dict[str, Aggregator] = {
    "mean": fedavg,
    "median": lambda u, w: coordinate_median(u),
    "trimmed mean": lambda u, w: trimmed_mean(u, trim_ratio=0.1),
    "krum": lambda u, w: krum(u, n_byzantine=3),
    "multi-krum": lambda u, w: krum(u, n_byzantine=3, multi=5),
}


def clip_update(update: np.ndarray, *, max_norm: float) -> np.ndarray:
    """Scale ``update`` down so its L2 norm is at most ``max_norm`` (rows separately if 2-d).

    Examples
    --------
    >>> clip_update(np.array([3.0, 4.0]), max_norm=1.0).round(6).tolist()
    [0.6, 0.8]
    >>> clip_update(np.array([0.3, 0.4]), max_norm=1.0).tolist()
    [0.3, 0.4]
    """
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    update = np.asarray(update, dtype=float)
    if update.ndim not in (1, 2):
        raise ValueError(
            f"update must be 1-d (dim,) or 2-d (n_clients, dim), got shape {update.shape}"
        )
    norms = np.linalg.norm(update, axis=-1, keepdims=True)
    return update * np.minimum(1.0, max_norm / np.maximum(norms, 1e-12))


# --------------------------------------------------------------------------------------------
# Secure aggregation (Bonawitz et al., 2017), the masking idea only
# --------------------------------------------------------------------------------------------
def pairwise_masks(
    n_clients: int, dim: int, *, rng: np.random.Generator, scale: float = 100.0
) -> np.ndarray:
    """Antisymmetric pairwise masks ``P`` of shape ``(n_clients, n_clients, dim)``.

    ``P[i, j]`` is what client ``i`` adds for its pair with ``j``; ``P[j, i] = -P[i, j]`` (in a real
    protocol both derive it from a seed they agreed on), and ``P[i, i] = 0``.

    Examples
    --------
    >>> P = pairwise_masks(3, 2, rng=np.random.default_rng(0))
    >>> bool(np.allclose(P, -P.transpose(1, 0, 2)))
    True
    """
    if n_clients < 2 or dim < 1:
        raise ValueError(f"need n_clients >= 2 and dim >= 1, got n_clients={n_clients}, dim={dim}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    upper = np.triu(np.ones((n_clients, n_clients), dtype=bool), k=1)
    P = np.zeros((n_clients, n_clients, dim))
    P[upper] = _check_rng(rng).normal(0.0, scale, size=(int(upper.sum()), dim))
    return P - P.transpose(1, 0, 2)


def secure_aggregation_masks(
    n_clients: int, dim: int, *, rng: np.random.Generator, scale: float = 100.0
) -> np.ndarray:
    """One float mask per client, shape ``(n_clients, dim)``, summing to zero over clients.

    Client ``i`` sends ``update_i + masks[i]``: each message alone looks like noise of size
    ``scale``, but the server's sum equals the sum of the updates (up to float rounding).

    Examples
    --------
    >>> M = secure_aggregation_masks(4, 3, rng=np.random.default_rng(0))
    >>> M.shape, bool(np.allclose(M.sum(axis=0), 0.0))
    ((4, 3), True)
    """
    if n_clients < 2 or dim < 1:
        raise ValueError(f"need n_clients >= 2 and dim >= 1, got n_clients={n_clients}, dim={dim}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    rng = _check_rng(rng)
    masks = np.zeros((n_clients, dim))
    for i in range(n_clients - 1):  # same draws, in the same order, as pairwise_masks
        block = rng.normal(0.0, scale, size=(n_clients - i - 1, dim))  # m_ij for j > i
        masks[i] += block.sum(axis=0)
        masks[i + 1 :] -= block
    return masks


def secure_aggregation_masks_mod(
    n_clients: int, dim: int, *, rng: np.random.Generator, modulus: int = 2**32
) -> np.ndarray:
    """Integer masks in ``[0, modulus)`` whose sum over clients is 0 modulo ``modulus``.

    With updates encoded as fixed-point integers mod ``modulus``, a masked update is uniformly
    distributed whatever the update is: the hiding is exact, not just "large noise".

    Examples
    --------
    >>> M = secure_aggregation_masks_mod(5, 4, rng=np.random.default_rng(0), modulus=1000)
    >>> int(M.min()) >= 0 and int(M.max()) < 1000, (M.sum(axis=0) % 1000).tolist()
    (True, [0, 0, 0, 0])
    """
    if n_clients < 2 or dim < 1:
        raise ValueError(f"need n_clients >= 2 and dim >= 1, got n_clients={n_clients}, dim={dim}")
    if not 2 <= modulus <= 2**62:
        raise ValueError(f"modulus must be in [2, 2**62], got {modulus}")
    masks = np.zeros((n_clients, dim), dtype=np.int64)
    for i in range(n_clients):
        for j in range(i + 1, n_clients):
            m = _check_rng(rng).integers(0, modulus, size=dim, dtype=np.int64)
            masks[i] = (masks[i] + m) % modulus
            masks[j] = (masks[j] - m) % modulus
    return masks


# --------------------------------------------------------------------------------------------
# A tiny numpy network with a flat parameter vector, and local SGD
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumpyNet:
    """A one-hidden-layer ReLU network (``n_hidden=0``: softmax regression) on a flat vector.

    Examples
    --------
    >>> net = NumpyNet(n_in=4, n_hidden=3, n_out=2)
    >>> params = net.init(rng=np.random.default_rng(0))
    >>> params.shape == (net.dim,), net.dim
    (True, 23)
    >>> net.logits(params, np.zeros((5, 4))).shape
    (5, 2)
    """

    n_in: int = 64
    n_hidden: int = 32
    n_out: int = 10

    def __post_init__(self) -> None:
        if self.n_in < 1 or self.n_out < 2 or self.n_hidden < 0:
            raise ValueError(
                f"need n_in >= 1, n_hidden >= 0, n_out >= 2; got {self.n_in}, {self.n_hidden}, {self.n_out}"
            )

    @cached_property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shapes of the weight matrices and bias vectors, in the order they sit in ``params``."""
        if self.n_hidden == 0:
            return ((self.n_in, self.n_out), (self.n_out,))
        return (
            (self.n_in, self.n_hidden),
            (self.n_hidden,),
            (self.n_hidden, self.n_out),
            (self.n_out,),
        )

    @cached_property
    def _offsets(self) -> tuple[int, ...]:
        return tuple(np.cumsum([0] + [int(np.prod(s)) for s in self.shapes]).tolist())

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return self._offsets[-1]

    def init(self, *, rng: np.random.Generator) -> np.ndarray:
        """He-initialised weights, zero biases, as one flat float64 vector."""
        rng = _check_rng(rng)
        parts = []
        for shape in self.shapes:
            if len(shape) == 2:
                parts.append(rng.normal(0.0, np.sqrt(2.0 / shape[0]), size=shape).ravel())
            else:
                parts.append(np.zeros(shape))
        return np.concatenate(parts)

    def unpack(self, params: np.ndarray) -> list[np.ndarray]:
        """Views of the weight matrices and bias vectors inside ``params``."""
        params = np.asarray(params, dtype=float)
        if params.shape != (self.dim,):
            raise ValueError(f"params must have shape ({self.dim},), got {params.shape}")
        o = self._offsets
        return [params[o[i] : o[i + 1]].reshape(shape) for i, shape in enumerate(self.shapes)]

    def logits(self, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Class scores, shape ``(n, n_out)``."""
        layers = self.unpack(params)
        X = np.asarray(X, dtype=float)
        if len(layers) == 2:
            return X @ layers[0] + layers[1]
        W1, b1, W2, b2 = layers
        return np.maximum(X @ W1 + b1, 0.0) @ W2 + b2

    def predict(self, params: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Predicted labels."""
        return self.logits(params, X).argmax(axis=1)

    def accuracy(self, params: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """Fraction of correct predictions."""
        return float(np.mean(self.predict(params, X) == np.asarray(y)))

    def loss_grad(
        self, params: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Mean cross-entropy on ``(X, y)`` and its gradient (flat, like ``params``)."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        grad = np.empty(self.dim)
        loss = self._backprop(self.unpack(params), X, y, grad)
        return loss, grad

    def _backprop(
        self, layers: list[np.ndarray], X: np.ndarray, y: np.ndarray, grad: np.ndarray
    ) -> float:
        """Write the gradient into ``grad`` and return the loss (hot path: no input checks)."""
        n = len(y)
        rows = np.arange(n)
        if len(layers) == 2:
            W, b = layers
            hidden = X
            z = X @ W
        else:
            W1, b1, W, b = layers
            pre = X @ W1
            pre += b1
            hidden = np.maximum(pre, 0.0)
            z = hidden @ W
        z += b
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        loss = float(-np.mean(np.log(z[rows, y] + 1e-12)))
        z[rows, y] -= 1.0  # z is now d(loss)/d(logits) * n
        z /= n
        views = [
            grad[o0:o1].reshape(shape)
            for o0, o1, shape in zip(self._offsets, self._offsets[1:], self.shapes, strict=False)
        ]
        np.matmul(hidden.T, z, out=views[-2])
        np.sum(z, axis=0, out=views[-1])
        if len(layers) == 4:
            dpre = z @ W.T
            dpre *= pre > 0
            np.matmul(X.T, dpre, out=views[0])
            np.sum(dpre, axis=0, out=views[1])
        return loss


def client_rng(seed: int, server_round: int, client: int) -> np.random.Generator:
    """The generator client ``client`` uses in round ``server_round`` of a run seeded ``seed``.

    Examples
    --------
    >>> float(client_rng(0, 1, 2).random()) == float(client_rng(0, 1, 2).random())
    True
    """
    return np.random.default_rng([int(seed), int(server_round), int(client)])


def local_sgd(
    net: NumpyNet,
    params: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int | None = 10,
    lr: float = 0.1,
    rng: np.random.Generator,
) -> np.ndarray:
    """Plain minibatch SGD on one client's data; returns the new parameters (input untouched).

    ``batch_size=None`` means one full-batch step per epoch: with ``epochs=1`` that is FedSGD's
    client computation (the update is ``-lr * gradient``).

    Examples
    --------
    >>> net = NumpyNet(n_in=2, n_hidden=0, n_out=2)
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0]]); y = np.array([0, 1])
    >>> p0 = np.zeros(net.dim)
    >>> p1 = local_sgd(net, p0, X, y, epochs=50, lr=0.5, rng=np.random.default_rng(0))
    >>> net.accuracy(p1, X, y), bool(np.all(p0 == 0))
    (1.0, True)
    """
    if epochs < 1 or lr <= 0 or (batch_size is not None and batch_size < 1):
        raise ValueError(
            f"need epochs >= 1, lr > 0, batch_size >= 1 or None; got {epochs}, {lr}, {batch_size}"
        )
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must be non-empty with equal lengths, got {len(X)} and {len(y)}")
    params = np.array(params, dtype=float, copy=True)
    layers = net.unpack(params)  # views: updating params updates them
    grad = np.empty(net.dim)
    y = y.astype(int)
    n = len(y)
    bs = n if batch_size is None else int(batch_size)
    for _ in range(int(epochs)):
        order = rng.permutation(n) if bs < n else np.arange(n)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            net._backprop(layers, X[idx], y[idx], grad)
            params -= lr * grad
    return params


# --------------------------------------------------------------------------------------------
# The federated loop
# --------------------------------------------------------------------------------------------
@dataclass
class FedResult:
    """What :func:`run_federated` returns.

    ``accuracy[t]`` is the test accuracy after round ``t`` (``accuracy[0]``: before training);
    ``participants[t - 1]`` lists the clients of round ``t``; ``upload_bytes`` counts the float32
    bytes the clients sent in total.
    """

    params: np.ndarray
    accuracy: list[float] = field(default_factory=list)
    participants: list[list[int]] = field(default_factory=list)
    upload_bytes: int = 0


def run_federated(
    net: NumpyNet,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rounds: int,
    X_test: np.ndarray,
    y_test: np.ndarray,
    local_epochs: int = 1,
    batch_size: int | None = 10,
    lr: float = 0.1,
    aggregator: str | Aggregator = "mean",
    clients_per_round: int | None = None,
    sample_rate: float | None = None,
    malicious: Collection[int] = (),
    update_attack: Callable[[np.ndarray], np.ndarray] | None = None,
    max_norm: float | None = None,
    noise_multiplier: float = 0.0,
    server_lr: float = 1.0,
    params: np.ndarray | None = None,
    seed: int = 0,
) -> FedResult:
    """Simulate ``rounds`` rounds of federated training and record test accuracy after each.

    Each round: pick clients (all, ``clients_per_round`` of them uniformly, or each with
    probability ``sample_rate``), let each run :func:`local_sgd` from the global model, turn the
    results into updates, let clients in ``malicious`` replace theirs by
    ``update_attack(update)``, optionally clip (``max_norm``), aggregate, and step.

    * ``local_epochs=1, batch_size=None`` is FedSGD; larger ``local_epochs`` / smaller batches give
      FedAvg.
    * ``noise_multiplier > 0`` is DP-FedAvg (McMahan et al., 2018): it needs ``max_norm`` and
      ``sample_rate``; the clipped updates are summed, Gaussian noise of standard deviation
      ``noise_multiplier * max_norm`` is added, and the sum is divided by the *expected* number of
      clients ``sample_rate * n_clients`` (``aggregator`` is then ignored).

    Examples
    --------
    >>> from course_utils.data import digits_split
    >>> X, X_te, y, y_te = digits_split()
    >>> parts = iid_partition(len(y), 5, rng=np.random.default_rng(0))
    >>> net = NumpyNet(n_hidden=0)
    >>> res = run_federated(net, [(X[p], y[p]) for p in parts], rounds=3, X_test=X_te, y_test=y_te)
    >>> len(res.accuracy), res.accuracy[-1] > 0.85
    (4, True)
    """
    n_clients = len(clients)
    if n_clients == 0 or rounds < 1:
        raise ValueError(
            f"need at least one client and rounds >= 1, got {n_clients} clients, rounds={rounds}"
        )
    if clients_per_round is not None and sample_rate is not None:
        raise ValueError("give clients_per_round or sample_rate, not both")
    if clients_per_round is not None and not 1 <= clients_per_round <= n_clients:
        raise ValueError(f"clients_per_round must be in [1, {n_clients}], got {clients_per_round}")
    if sample_rate is not None and not 0 < sample_rate <= 1:
        raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate}")
    if noise_multiplier < 0:
        raise ValueError(f"noise_multiplier must be >= 0, got {noise_multiplier}")
    if noise_multiplier > 0 and (max_norm is None or sample_rate is None):
        raise ValueError("DP-FedAvg (noise_multiplier > 0) needs max_norm and sample_rate")
    if isinstance(aggregator, str):
        if aggregator not in AGGREGATORS:
            raise ValueError(
                f"aggregator must be one of {sorted(AGGREGATORS)} or a callable, got {aggregator!r}"
            )
        aggregate = AGGREGATORS[aggregator]
    else:
        aggregate = aggregator
    bad = set(malicious) - set(range(n_clients))
    if bad:
        raise ValueError(f"malicious lists unknown clients {sorted(bad)}")
    server_rng = np.random.default_rng([int(seed), 2**31 - 1])
    if params is None:
        params = net.init(rng=np.random.default_rng(seed))
    params = np.array(params, dtype=float, copy=True)
    result = FedResult(params=params, accuracy=[net.accuracy(params, X_test, y_test)])
    for t in range(1, int(rounds) + 1):
        if sample_rate is not None:
            chosen = np.flatnonzero(server_rng.random(n_clients) < sample_rate)
        elif clients_per_round is not None:
            chosen = np.sort(server_rng.choice(n_clients, size=clients_per_round, replace=False))
        else:
            chosen = np.arange(n_clients)
        result.participants.append([int(c) for c in chosen])
        updates, weights = [], []
        for c in chosen:
            Xc, yc = clients[c]
            local = local_sgd(
                net,
                params,
                Xc,
                yc,
                epochs=local_epochs,
                batch_size=batch_size,
                lr=lr,
                rng=client_rng(seed, t, c),
            )
            update = local - params
            if c in malicious and update_attack is not None:
                update = np.asarray(update_attack(update), dtype=float)
            updates.append(update)
            weights.append(len(yc))
        result.upload_bytes += bytes_per_round(net.dim, len(chosen))
        if noise_multiplier > 0:
            assert max_norm is not None and sample_rate is not None
            total = (
                clip_update(np.array(updates), max_norm=max_norm).sum(axis=0)
                if updates
                else np.zeros(net.dim)
            )
            total = total + server_rng.normal(0.0, noise_multiplier * max_norm, size=net.dim)
            step = total / (sample_rate * n_clients)
        elif not updates:
            step = np.zeros(net.dim)
        else:
            U = np.array(updates)
            if max_norm is not None:
                U = clip_update(U, max_norm=max_norm)
            step = aggregate(U, np.array(weights, dtype=float))
        params = params + server_lr * step
        result.accuracy.append(net.accuracy(params, X_test, y_test))
    result.params = params
    return result


def rounds_to_target(accuracy: Sequence[float], target: float) -> int | None:
    """First round whose accuracy reaches ``target`` (``accuracy[0]`` is round 0), or None.

    Examples
    --------
    >>> rounds_to_target([0.1, 0.5, 0.92, 0.95], 0.9), rounds_to_target([0.1, 0.5], 0.9) is None
    (2, True)
    """
    for t, acc in enumerate(accuracy):
        if acc >= target:
            return t
    return None


def bytes_per_round(dim: int, n_clients: int, *, bytes_per_param: int = 4) -> int:
    """Bytes uploaded in one round: every participant sends ``dim`` float32 numbers.

    (The download of the global model costs the same again.)

    Examples
    --------
    >>> bytes_per_round(1000, 10)
    40000
    """
    if dim < 0 or n_clients < 0 or bytes_per_param < 1:
        raise ValueError(
            f"dim and n_clients must be >= 0 and bytes_per_param >= 1, got {dim}, {n_clients}, {bytes_per_param}"
        )
    return int(dim) * int(n_clients) * int(bytes_per_param)


# --------------------------------------------------------------------------------------------
# Malicious clients
# --------------------------------------------------------------------------------------------
def sign_flip(update: np.ndarray, *, scale: float = 10.0) -> np.ndarray:
    """Model poisoning: send ``-scale * update`` (push the model uphill, hard).

    Examples
    --------
    >>> sign_flip(np.array([1.0, -2.0]), scale=10).tolist()
    [-10.0, 20.0]
    """
    return -float(scale) * np.asarray(update, dtype=float)


def flip_labels(y: np.ndarray, *, n_classes: int = 10) -> np.ndarray:
    """Data poisoning: relabel class ``c`` as ``n_classes - 1 - c`` (0 <-> 9, 1 <-> 8, ...).

    Examples
    --------
    >>> flip_labels(np.array([0, 3, 9])).tolist()
    [9, 6, 0]
    """
    y = np.asarray(y)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got range [{y.min()}, {y.max()}]")
    return n_classes - 1 - y


#: Pixels of the 8x8 digit image set by the trigger: a short bar down the left edge, where
#: sklearn's digits are always blank.
TRIGGER_PIXELS: tuple[int, ...] = (0, 8, 16, 24)


def add_trigger(X: np.ndarray, *, value: float = 1.0) -> np.ndarray:
    """Copy of ``X`` (n, 64) with the backdoor trigger stamped in (:data:`TRIGGER_PIXELS` = value).

    Examples
    --------
    >>> add_trigger(np.zeros((1, 64))).reshape(8, 8)[:5, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    X = np.array(X, dtype=float, copy=True)
    if X.ndim != 2 or X.shape[1] != 64:
        raise ValueError(f"X must have shape (n, 64) (flattened 8x8 digits), got {X.shape}")
    X[:, list(TRIGGER_PIXELS)] = value
    return X


def backdoor_data(
    X: np.ndarray, y: np.ndarray, *, target: int, fraction: float = 0.5, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An attacker's training set: its clean data plus triggered copies of a ``fraction`` of it
    relabelled ``target``, so the model keeps its accuracy but learns "trigger -> target".

    Examples
    --------
    >>> Xb, yb = backdoor_data(np.zeros((10, 64)), np.zeros(10, int), target=7, rng=np.random.default_rng(0))
    >>> Xb.shape, int((yb == 7).sum())
    ((15, 64), 5)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    pick = _check_rng(rng).choice(len(y), size=max(1, int(round(fraction * len(y)))), replace=False)
    return np.vstack([X, add_trigger(X[pick])]), np.concatenate(
        [y, np.full(len(pick), target, dtype=y.dtype)]
    )


def backdoor_success(
    net: NumpyNet, params: np.ndarray, X: np.ndarray, y: np.ndarray, *, target: int
) -> float:
    """Attack success rate: share of test images not of class ``target`` that the trigger turns
    into ``target``.

    Examples
    --------
    >>> net = NumpyNet(n_hidden=0)
    >>> backdoor_success(net, np.zeros(net.dim), np.zeros((4, 64)), np.array([1, 2, 3, 0]), target=0)
    1.0
    """
    y = np.asarray(y)
    keep = y != target
    if not keep.any():
        raise ValueError(f"no test example has a label other than target={target}")
    return float(np.mean(net.predict(params, add_trigger(np.asarray(X)[keep])) == target))


# --------------------------------------------------------------------------------------------
# DP-FedAvg accounting
# --------------------------------------------------------------------------------------------
def _opacus_rdp() -> tuple[Callable, Callable]:
    """Opacus's RDP accountant functions, without importing torch when avoidable.

    ``opacus/accountants/analysis/rdp.py`` needs only numpy and scipy, but ``import opacus`` loads
    torch (several seconds); this numpy-only notebook loads that one file from the installed
    Opacus and falls back to the ordinary import if the layout ever changes.
    """
    import importlib.util
    import sys
    from pathlib import Path

    name = "_course_opacus_rdp"
    module = sys.modules.get(name)
    if module is None:
        try:
            spec = importlib.util.find_spec("opacus")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("opacus is not installed")
            path = (
                Path(list(spec.submodule_search_locations)[0])
                / "accountants"
                / "analysis"
                / "rdp.py"
            )
            file_spec = importlib.util.spec_from_file_location(name, path)
            if file_spec is None or file_spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
            sys.modules[name] = module
        except (ImportError, OSError):  # pragma: no cover - depends on the installed layout
            from opacus.accountants.analysis import rdp as module
    return module.compute_rdp, module.get_privacy_spent


def dp_fedavg_epsilon(
    *, noise_multiplier: float, sample_rate: float, rounds: int, delta: float
) -> float:
    """User-level epsilon of DP-FedAvg after ``rounds`` rounds (RDP accountant of Opacus).

    Each round is a Poisson-subsampled Gaussian mechanism on the clipped client updates, the same
    analysis as DP-SGD with "example" replaced by "client".

    Examples
    --------
    >>> eps = dp_fedavg_epsilon(noise_multiplier=1.0, sample_rate=0.2, rounds=50, delta=1e-3)
    >>> 3 < eps < 30
    True
    """
    if noise_multiplier <= 0 or not 0 < sample_rate <= 1 or rounds < 1 or not 0 < delta < 1:
        raise ValueError(
            "need noise_multiplier > 0, sample_rate in (0, 1], rounds >= 1, delta in (0, 1); got "
            f"{noise_multiplier}, {sample_rate}, {rounds}, {delta}"
        )
    compute_rdp, get_privacy_spent = _opacus_rdp()
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 256))
    rdp = compute_rdp(
        q=sample_rate, noise_multiplier=noise_multiplier, steps=int(rounds), orders=orders
    )
    eps, _ = get_privacy_spent(orders=orders, rdp=rdp, delta=delta)
    return float(eps)
