"""What the server does with the clients' updates: FedAvg, robust aggregators, clipping, and the
masks of secure aggregation; plus the sign-flipping client the robust aggregators defend against.

A round's updates are stacked into an array of shape ``(n_clients, dim)``; every aggregator takes
that array and returns one vector of shape ``(dim,)``, so the server step is
``global_params + server_lr * aggregate(updates)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..validation import RNGLike, as_rng, check_int, check_matrix, check_positive, check_scalar

__all__ = [
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
    "sign_flip",
]


Aggregator = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _check_updates(updates: np.ndarray) -> np.ndarray:
    return check_matrix(updates, "updates", shape="(n_clients, dim)")


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
    trim_ratio = check_scalar(trim_ratio, "trim_ratio", min_val=0.0, max_val=0.5, include_max=False)
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
    n_byzantine = check_int(n_byzantine, "n_byzantine", min_val=0)
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
    multi = check_int(multi, "multi", min_val=1, max_val=len(updates))
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


def clip_update(update: np.ndarray, *, max_grad_norm: float) -> np.ndarray:
    """Scale ``update`` down so its L2 norm is at most ``max_grad_norm`` (rows separately if 2-d).

    Examples
    --------
    >>> clip_update(np.array([3.0, 4.0]), max_grad_norm=1.0).round(6).tolist()
    [0.6, 0.8]
    >>> clip_update(np.array([0.3, 0.4]), max_grad_norm=1.0).tolist()
    [0.3, 0.4]
    """
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    update = np.asarray(update, dtype=float)
    if update.ndim not in (1, 2):
        raise ValueError(
            f"update must be 1-d (dim,) or 2-d (n_clients, dim), got shape {update.shape}"
        )
    norms = np.linalg.norm(update, axis=-1, keepdims=True)
    return update * np.minimum(1.0, max_grad_norm / np.maximum(norms, 1e-12))


def _check_mask_args(n_clients: int, dim: int, scale: float) -> tuple[int, int, float]:
    return (
        check_int(n_clients, "n_clients", min_val=2),
        check_int(dim, "dim", min_val=1),
        check_positive(scale, "scale"),
    )


def pairwise_masks(n_clients: int, dim: int, *, rng: RNGLike, scale: float = 100.0) -> np.ndarray:
    """Antisymmetric pairwise masks ``P`` of shape ``(n_clients, n_clients, dim)``.

    ``P[i, j]`` is what client ``i`` adds for its pair with ``j``; ``P[j, i] = -P[i, j]`` (in a real
    protocol both derive it from a seed they agreed on), and ``P[i, i] = 0``.

    Examples
    --------
    >>> P = pairwise_masks(3, 2, rng=np.random.default_rng(0))
    >>> bool(np.allclose(P, -P.transpose(1, 0, 2)))
    True
    """
    n_clients, dim, scale = _check_mask_args(n_clients, dim, scale)
    upper = np.triu(np.ones((n_clients, n_clients), dtype=bool), k=1)
    P = np.zeros((n_clients, n_clients, dim))
    P[upper] = as_rng(rng).normal(0.0, scale, size=(int(upper.sum()), dim))
    return P - P.transpose(1, 0, 2)


def secure_aggregation_masks(
    n_clients: int, dim: int, *, rng: RNGLike, scale: float = 100.0
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
    n_clients, dim, scale = _check_mask_args(n_clients, dim, scale)
    rng = as_rng(rng)
    masks = np.zeros((n_clients, dim))
    for i in range(n_clients - 1):  # same draws, in the same order, as pairwise_masks
        block = rng.normal(0.0, scale, size=(n_clients - i - 1, dim))  # m_ij for j > i
        masks[i] += block.sum(axis=0)
        masks[i + 1 :] -= block
    return masks


def secure_aggregation_masks_mod(
    n_clients: int, dim: int, *, rng: RNGLike, modulus: int = 2**32
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
    n_clients, dim, _ = _check_mask_args(n_clients, dim, 1.0)
    modulus = check_int(modulus, "modulus", min_val=2, max_val=2**62)
    rng = as_rng(rng)
    masks = np.zeros((n_clients, dim), dtype=np.int64)
    for i in range(n_clients):
        for j in range(i + 1, n_clients):
            m = rng.integers(0, modulus, size=dim, dtype=np.int64)
            masks[i] = (masks[i] + m) % modulus
            masks[j] = (masks[j] - m) % modulus
    return masks


def sign_flip(update: np.ndarray, *, scale: float = 10.0) -> np.ndarray:
    """Model poisoning: send ``-scale * update`` (push the model uphill, hard).

    Examples
    --------
    >>> sign_flip(np.array([1.0, -2.0]), scale=10).tolist()
    [-10.0, 20.0]
    """
    return -check_positive(scale, "scale") * np.asarray(update, dtype=float)
