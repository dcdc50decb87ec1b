"""A federated run in numpy: a tiny network on a flat parameter vector, local SGD, the round loop
(FedAvg, FedSGD, malicious clients, robust aggregation, DP-FedAvg), and the toy quadratic that
shows client drift.

* A model is a flat parameter vector (``params``, shape ``(dim,)``) read by a :class:`NumpyNet`.
* A client's **update** is ``local_params - global_params``.
* Client ``c`` in round ``t`` of a run with seed ``s`` shuffles its data with
  :func:`client_rng` ``(s, t, c)``, so a scratch loop and a Flower run see the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..results import Result
from ..validation import (
    RNGLike,
    as_rng,
    as_seed,
    check_int,
    check_non_negative,
    check_positive,
    check_scalar,
)
from .aggregation import AGGREGATORS, Aggregator, clip_update

__all__ = [
    "NumpyNet",
    "client_rng",
    "local_sgd",
    "FedResult",
    "run_federated",
    "rounds_to_target",
    "bytes_per_round",
    "quadratic_fedavg_path",
]


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
        check_int(self.n_in, "n_in", min_val=1)
        check_int(self.n_hidden, "n_hidden", min_val=0)
        check_int(self.n_out, "n_out", min_val=2)

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

    def init(self, *, rng: RNGLike) -> np.ndarray:
        """He-initialised weights, zero biases, as one flat float64 vector."""
        rng = as_rng(rng)
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
    rng: RNGLike,
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
    epochs = check_int(epochs, "epochs", min_val=1)
    lr = check_positive(lr, "lr")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", min_val=1)
    rng = as_rng(rng)
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


@dataclass(frozen=True)
class FedResult(Result):
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
    max_grad_norm: float | None = None,
    noise_multiplier: float = 0.0,
    server_lr: float = 1.0,
    params: np.ndarray | None = None,
    rng: RNGLike = 0,
) -> FedResult:
    """Simulate ``rounds`` rounds of federated training and record test accuracy after each.

    Each round: pick clients (all, ``clients_per_round`` of them uniformly, or each with
    probability ``sample_rate``), let each run :func:`local_sgd` from the global model, turn the
    results into updates, let clients in ``malicious`` replace theirs by
    ``update_attack(update)``, optionally clip (``max_grad_norm``), aggregate, and step.

    * ``local_epochs=1, batch_size=None`` is FedSGD; larger ``local_epochs`` / smaller batches give
      FedAvg.
    * ``noise_multiplier > 0`` is DP-FedAvg (McMahan et al., 2018): it needs ``max_grad_norm`` and
      ``sample_rate``; the clipped updates are summed, Gaussian noise of standard deviation
      ``noise_multiplier * max_grad_norm`` is added, and the sum is divided by the *expected* number of
      clients ``sample_rate * n_clients`` (``aggregator`` is then ignored).

    ``rng`` gives the run's seed ``s`` (:func:`course_utils.validation.as_seed`; ``rng=0`` is
    seed 0): the initial model comes from ``default_rng(s)``, client ``c`` in round ``t`` shuffles
    with :func:`client_rng` ``(s, t, c)``, and the server samples clients and DP noise from its
    own stream, so every part of the run is reproducible.

    Examples
    --------
    >>> from course_utils.data import digits_split
    >>> from course_utils.federated import iid_partition
    >>> X, X_te, y, y_te = digits_split()
    >>> parts = iid_partition(len(y), 5, rng=np.random.default_rng(0))
    >>> net = NumpyNet(n_hidden=0)
    >>> res = run_federated(net, [(X[p], y[p]) for p in parts], rounds=3, X_test=X_te, y_test=y_te)
    >>> len(res.accuracy), res.accuracy[-1] > 0.85
    (4, True)
    """
    n_clients = len(clients)
    if n_clients == 0:
        raise ValueError("clients must hold at least one client's (X, y)")
    rounds = check_int(rounds, "rounds", min_val=1)
    if clients_per_round is not None and sample_rate is not None:
        raise ValueError("give clients_per_round or sample_rate, not both")
    if clients_per_round is not None:
        clients_per_round = check_int(
            clients_per_round, "clients_per_round", min_val=1, max_val=n_clients
        )
    if sample_rate is not None:
        sample_rate = check_scalar(
            sample_rate, "sample_rate", min_val=0.0, max_val=1.0, include_min=False
        )
    noise_multiplier = check_non_negative(noise_multiplier, "noise_multiplier")
    if noise_multiplier > 0 and (max_grad_norm is None or sample_rate is None):
        raise ValueError("DP-FedAvg (noise_multiplier > 0) needs max_grad_norm and sample_rate")
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
    seed = as_seed(rng)
    server_rng = np.random.default_rng([seed, 2**31 - 1])
    if params is None:
        params = net.init(rng=np.random.default_rng(seed))
    params = np.array(params, dtype=float, copy=True)
    accuracy = [net.accuracy(params, X_test, y_test)]
    participants: list[list[int]] = []
    upload_bytes = 0
    for t in range(1, int(rounds) + 1):
        if sample_rate is not None:
            chosen = np.flatnonzero(server_rng.random(n_clients) < sample_rate)
        elif clients_per_round is not None:
            chosen = np.sort(server_rng.choice(n_clients, size=clients_per_round, replace=False))
        else:
            chosen = np.arange(n_clients)
        participants.append([int(c) for c in chosen])
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
        upload_bytes += bytes_per_round(net.dim, len(chosen))
        if noise_multiplier > 0:
            assert max_grad_norm is not None and sample_rate is not None
            total = (
                clip_update(np.array(updates), max_grad_norm=max_grad_norm).sum(axis=0)
                if updates
                else np.zeros(net.dim)
            )
            total = total + server_rng.normal(0.0, noise_multiplier * max_grad_norm, size=net.dim)
            step = total / (sample_rate * n_clients)
        elif not updates:
            step = np.zeros(net.dim)
        else:
            U = np.array(updates)
            if max_grad_norm is not None:
                U = clip_update(U, max_grad_norm=max_grad_norm)
            step = aggregate(U, np.array(weights, dtype=float))
        params = params + server_lr * step
        accuracy.append(net.accuracy(params, X_test, y_test))
    return FedResult(
        params=params, accuracy=accuracy, participants=participants, upload_bytes=upload_bytes
    )


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
    dim = check_int(dim, "dim", min_val=0)
    n_clients = check_int(n_clients, "n_clients", min_val=0)
    bytes_per_param = check_int(bytes_per_param, "bytes_per_param", min_val=1)
    return dim * n_clients * bytes_per_param


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
    local_steps = check_int(local_steps, "local_steps", min_val=1)
    rounds = check_int(rounds, "rounds", min_val=1)
    lr = check_positive(lr, "lr")
    server_lr = check_scalar(server_lr, "server_lr", min_val=0, max_val=2, include_min=False)
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
