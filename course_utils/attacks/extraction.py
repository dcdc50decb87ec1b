"""Model extraction: copy a black-box model from its answers to queries (Tramer et al. 2016).

The victim is seen only through ``victim_query(X) -> answers``: either integer labels of shape
``(N,)`` (a "top-1 only" API) or class probabilities of shape ``(N, n_classes)``. Models are
``torch.nn.Module``s on float batches of shape ``(N, 64)`` (flattened 8x8 digits).

Examples
--------
>>> from course_utils.training import mlp, train
>>> rng = np.random.default_rng(0)
>>> X = rng.random((200, 64)).astype(np.float32); y = (X[:, 0] > 0.5).astype(int)
>>> victim = mlp(rng=0); _ = train(victim, X, y, epochs=10)
>>> surrogate = extract(query_api(victim, output="label"), X, mlp(rng=1), epochs=10)
>>> agreement(victim, surrogate, X) > 0.8
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ..robustness.defences import distill
from ..training import train
from ..validation import RNGLike, as_rng, check_choice, check_int

__all__ = ["query_api", "extract", "agreement", "mixup_queries"]

Query = Callable[[np.ndarray], np.ndarray]


def query_api(model: nn.Module, *, output: str = "proba", decimals: int | None = None) -> Query:
    """Wrap ``model`` as a black-box prediction API.

    Parameters
    ----------
    model : torch.nn.Module
    output : {"proba", "label"}
        Return the softmax probabilities, or only the top-1 label (a defence: less information
        per query).
    decimals : int, optional
        Round the probabilities to this many decimals (a defence), renormalised so each row
        still sums to 1 (an all-zero row becomes one-hot on the argmax).

    Returns
    -------
    callable ``query(X: ndarray) -> ndarray``; it counts its calls in ``query.n_queries``.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> api = query_api(mlp(rng=0), output="proba", decimals=1)
    >>> P = api(np.zeros((3, 64), dtype=np.float32))
    >>> P.shape, bool(np.allclose(P.sum(1), 1)), api.n_queries
    ((3, 10), True, 3)
    """
    check_choice(output, "output", ("proba", "label"))
    if decimals is not None:
        decimals = check_int(decimals, "decimals", min_val=0)

    @torch.no_grad()
    def query(X: np.ndarray) -> np.ndarray:
        X_t = torch.as_tensor(np.asarray(X, dtype=np.float32))
        was_training = model.training
        model.eval()
        try:
            logits = model(X_t)
        finally:
            model.train(was_training)
        query.n_queries += len(X_t)  # type: ignore[attr-defined]
        if output == "label":
            return logits.argmax(1).numpy()
        P = torch.softmax(logits, dim=1).numpy().astype(np.float64)
        if decimals is not None:
            rounded = np.round(P, decimals)
            empty = rounded.sum(1) == 0
            rounded[empty, P[empty].argmax(1)] = 1.0
            P = rounded / rounded.sum(1, keepdims=True)
        return P

    query.n_queries = 0  # type: ignore[attr-defined]
    return query


def extract(
    victim_query: Query,
    X_queries: np.ndarray,
    surrogate: nn.Module,
    *,
    epochs: int = 30,
    lr: float = 1e-2,
    batch_size: int = 64,
    rng: RNGLike = 0,
) -> nn.Module:
    """Query the victim on ``X_queries`` and train ``surrogate`` (in place) on its answers.

    Label answers (1-d integers) train with cross-entropy on the labels
    (:func:`course_utils.training.train`); probability answers (2-d) train on the soft labels
    (:func:`course_utils.robustness.distill`), which carry more information per query.

    Parameters
    ----------
    victim_query : callable
        ``victim_query(X) -> labels (N,) or probabilities (N, n_classes)``, e.g. :func:`query_api`.
    X_queries : array of shape (N, 64)
        What the attacker sends; natural images, synthetic ones (:func:`mixup_queries`)...
    surrogate : torch.nn.Module
        The attacker's model, trained in place.
    epochs, lr, batch_size, rng : training knobs, as in :func:`course_utils.training.train`

    Returns
    -------
    The trained ``surrogate``.
    """
    X_q = np.asarray(X_queries, dtype=np.float32)
    if X_q.ndim < 2 or len(X_q) == 0:
        raise ValueError(f"X_queries must be a non-empty batch of shape (N, ...), got {X_q.shape}")
    answers = np.asarray(victim_query(X_q))
    if len(answers) != len(X_q):
        raise ValueError(f"victim_query returned {len(answers)} answers for {len(X_q)} queries")
    if answers.ndim not in (1, 2):
        raise ValueError(
            f"victim_query must return labels (N,) or probabilities (N, C), got shape {answers.shape}"
        )
    # labels: cross-entropy on them; probabilities: match them (distillation)
    fit, targets = (
        (train, answers.astype(np.int64))
        if answers.ndim == 1
        else (distill, answers.astype(np.float32))
    )
    fit(surrogate, X_q, targets, epochs=epochs, lr=lr, batch_size=batch_size, rng=rng)
    surrogate.eval()
    return surrogate


@torch.no_grad()
def agreement(model_a: nn.Module, model_b: nn.Module, X: np.ndarray | torch.Tensor) -> float:
    """Fraction of inputs on which the two models predict the same class (fidelity).

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> m = mlp(rng=0)
    >>> agreement(m, m, np.random.default_rng(0).random((10, 64)))
    1.0
    """
    X_t = (
        torch.as_tensor(np.asarray(X, dtype=np.float32))
        if not isinstance(X, torch.Tensor)
        else X.float()
    )
    if len(X_t) == 0:
        raise ValueError("X must hold at least one input")
    modes = model_a.training, model_b.training
    model_a.eval()
    model_b.eval()
    try:
        same = model_a(X_t).argmax(1) == model_b(X_t).argmax(1)
    finally:
        model_a.train(modes[0])
        model_b.train(modes[1])
    return float(same.float().mean())


def mixup_queries(X_pool: np.ndarray, n: int, *, rng: RNGLike) -> np.ndarray:
    """``n`` synthetic queries: convex mixes ``lam * a + (1 - lam) * b`` of random pool pairs,
    ``lam ~ U(0, 1)``. Mixes sit between classes, near the decision boundaries an attacker wants
    to learn, and cost the attacker no extra data.

    Examples
    --------
    >>> Q = mixup_queries(np.eye(3, dtype=np.float32), 5, rng=np.random.default_rng(0))
    >>> Q.shape, bool(np.allclose(Q.sum(1), 1))
    ((5, 3), True)
    """
    X_pool = np.asarray(X_pool, dtype=np.float32)
    if X_pool.ndim < 2 or len(X_pool) < 2:
        raise ValueError(f"X_pool must hold at least two examples, got shape {X_pool.shape}")
    n = check_int(n, "n", min_val=0)
    rng = as_rng(rng)
    a = rng.integers(0, len(X_pool), size=n)
    b = rng.integers(0, len(X_pool), size=n)
    lam = rng.random(n).astype(np.float32).reshape((-1,) + (1,) * (X_pool.ndim - 1))
    return lam * X_pool[a] + (1 - lam) * X_pool[b]
