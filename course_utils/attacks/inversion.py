"""Model inversion: reconstruct what a class "looks like" to a model from the model alone.

Two attackers, one objective: find an input ``x`` in the valid pixel range that the model
assigns to ``target_class`` with high confidence (Fredrikson, Jha & Ristenpart, CCS 2015),
optionally with a small penalty that keeps the image plausible:

    maximise  log p(target_class | x) - l2 * ||x||^2 - tv * TV(x)   subject to  lo <= x <= hi

* :func:`invert_class` is **white-box**: it back-propagates through the model to ``x``.
* :func:`invert_class_blackbox` only **queries confidences**: it estimates the same gradient
  from antithetic random perturbations (a finite-difference / NES estimate) and reports how
  many queries that cost.

Several classes can be inverted at once by passing a sequence of classes; each is optimised
independently (the objective is a sum of per-row terms and Adam works per coordinate).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..plotting import plot_images  # the shared image helper, kept here under its old name
from ..validation import RNGLike, as_rng, check_int, check_positive

__all__ = ["invert_class", "invert_class_blackbox", "correlation_matrix", "plot_images"]


def _classes(target_class: int | Sequence[int]) -> tuple[np.ndarray, bool]:
    single = np.ndim(target_class) == 0
    arr = np.atleast_1d(np.asarray(target_class))
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
        raise ValueError(
            f"target_class must be a non-negative int or a sequence of them, got {target_class!r}"
        )
    return arr.astype(np.int64), single


def _check_knobs(steps: int, lr: float, bounds: tuple[float, float]) -> None:
    check_int(steps, "steps", min_val=1)
    check_positive(lr, "lr")
    if len(bounds) != 2 or not bounds[0] < bounds[1]:
        raise ValueError(f"bounds must be (low, high) with low < high, got {bounds!r}")


def _init(init: Any, k: int, d: int) -> np.ndarray:
    arr = np.asarray(init, dtype=float)
    if arr.ndim == 0:
        return np.full((k, d), float(arr))
    if arr.shape != (d,):
        raise ValueError(
            f"init must be a number or an array of shape ({d},), got shape {arr.shape}"
        )
    return np.tile(arr, (k, 1))


def _n_features(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Linear):
            return module.in_features
    raise ValueError("could not infer the input size from the model; pass n_features")


def _tv(x: torch.Tensor, shape: tuple[int, int] | None) -> torch.Tensor:
    if shape is None:
        return torch.zeros(len(x))
    img = x.view(len(x), *shape)
    return (img[:, 1:] - img[:, :-1]).abs().sum((1, 2)) + (
        img[:, :, 1:] - img[:, :, :-1]
    ).abs().sum((1, 2))


def invert_class(
    model: nn.Module,
    target_class: int | Sequence[int],
    *,
    steps: int = 300,
    lr: float = 0.05,
    l2: float = 0.0,
    tv: float = 0.0,
    image_shape: tuple[int, int] | None = None,
    n_features: int | None = None,
    bounds: tuple[float, float] = (0.0, 1.0),
    init: float | np.ndarray = 0.0,
) -> np.ndarray:
    """White-box model inversion by projected gradient ascent on the input.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a float batch of shape (n, n_features) to logits; left unchanged (eval mode).
    target_class : int or sequence of int
        Class(es) to invert.
    steps, lr : int, float
        Adam steps and step size on the input.
    l2, tv : float, default 0
        Weights of an L2 penalty and of a total-variation penalty (smoothness; needs
        ``image_shape``). Both >= 0.
    image_shape : (int, int), optional
        Shape used by the TV penalty; by default a square (8 x 8 for the digits' 64 pixels).
        Only needed when ``tv > 0``.
    n_features : int, optional
        Input size; inferred from the model's first ``nn.Linear`` when omitted.
    bounds : (low, high), default (0, 1)
        Valid pixel range; the input is clipped to it after every step.
    init : float or array of shape (n_features,), default 0
        Starting image: one value for every pixel (0 = blank) or an image, e.g. the average
        of *all* classes, which an attacker who knows what inputs look like in general has.

    Returns
    -------
    ndarray
        Shape (n_features,) for one class, (len(target_class), n_features) for several.

    Examples
    --------
    >>> _ = torch.manual_seed(0); model = nn.Linear(4, 2)
    >>> x = invert_class(model, 1, steps=50)
    >>> x.shape, bool(model(torch.tensor(x)[None]).argmax() == 1)
    ((4,), True)
    """
    classes, single = _classes(target_class)
    _check_knobs(steps, lr, bounds)
    if l2 < 0 or tv < 0:
        raise ValueError(f"l2 and tv must be >= 0, got {l2} and {tv}")
    d = n_features if n_features is not None else _n_features(model)
    if tv > 0:
        if image_shape is None:
            side = int(round(np.sqrt(d)))
            if side * side != d:
                raise ValueError(
                    f"tv > 0 needs image_shape: {d} features do not make a square image"
                )
            image_shape = (side, side)
        if len(image_shape) != 2 or int(np.prod(image_shape)) != d:
            raise ValueError(f"image_shape {image_shape} does not match n_features {d}")
    was_training = model.training
    grad_flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            n_classes = model(torch.zeros(1, d)).shape[1]
        if classes.max() >= n_classes:
            raise ValueError(f"target_class must be in [0, {n_classes - 1}], got {target_class!r}")
        start = _init(init, len(classes), d)
        x = torch.tensor(start, dtype=torch.float32, requires_grad=True)
        target = torch.as_tensor(classes)
        opt = torch.optim.Adam([x], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            log_p = torch.log_softmax(model(x), dim=1).gather(1, target[:, None])[:, 0]
            objective = log_p - l2 * (x**2).sum(1) - tv * _tv(x, image_shape if tv else None)
            (-objective.sum()).backward()
            opt.step()
            with torch.no_grad():
                x.clamp_(*bounds)
    finally:
        for p, flag in zip(model.parameters(), grad_flags, strict=True):
            p.requires_grad_(flag)
        model.train(was_training)
    out = x.detach().numpy()  # float32, like the digits
    return out[0] if single else out


def invert_class_blackbox(
    query: Callable[[np.ndarray], np.ndarray],
    target_class: int | Sequence[int],
    *,
    n_features: int,
    steps: int = 200,
    lr: float = 0.05,
    n_directions: int = 10,
    sigma: float = 0.1,
    bounds: tuple[float, float] = (0.0, 1.0),
    init: float | np.ndarray = 0.0,
    rng: RNGLike = 0,
) -> tuple[np.ndarray, int]:
    """Black-box model inversion: only confidence scores, gradient estimated from queries.

    Each step draws ``n_directions`` Gaussian directions ``u`` and queries ``x + sigma u`` and
    ``x - sigma u``; the estimate ``mean((f(x + sigma u) - f(x - sigma u)) u) / (2 sigma)`` of
    the gradient of ``f = log p(target_class | x)`` drives an Adam ascent step, clipped to
    ``bounds``.

    Parameters
    ----------
    query : callable
        ``query(X)`` with X of shape (m, n_features) returns class probabilities (m, n_classes).
        This is all the attacker can do.
    target_class : int or sequence of int
    n_features : int
    steps, lr : int, float
    n_directions : int, default 10
        Directions per step; each costs 2 queries per class.
    sigma : float, default 0.1
        Size of the probing perturbation.
    bounds, init : as in :func:`invert_class`
    rng : numpy.random.Generator, int seed or None, default 0

    Returns
    -------
    image : ndarray, (n_features,) or (len(target_class), n_features)
    n_queries : int
        Inputs sent to ``query`` per class (``2 * n_directions * steps``).

    Examples
    --------
    >>> w = np.array([[1.0, -1.0], [-1.0, 1.0]])  # class 1 likes feature 1
    >>> def query(X):
    ...     z = X @ w; e = np.exp(z - z.max(1, keepdims=True)); return e / e.sum(1, keepdims=True)
    >>> x, n_queries = invert_class_blackbox(query, 1, n_features=2, steps=50, rng=0)
    >>> x.round(2).tolist(), n_queries
    ([0.0, 1.0], 1000)
    """
    classes, single = _classes(target_class)
    _check_knobs(steps, lr, bounds)
    n_features = check_int(n_features, "n_features", min_val=1)
    n_directions = check_int(n_directions, "n_directions", min_val=1)
    sigma = check_positive(sigma, "sigma")
    rng = as_rng(rng)
    k, m, d = len(classes), int(n_directions), int(n_features)
    x = _init(init, k, d)
    first = np.asarray(query(x[:1]))
    if first.ndim != 2 or first.shape[0] != 1:
        raise ValueError(
            f"query must return probabilities of shape (m, n_classes), got {first.shape}"
        )
    if classes.max() >= first.shape[1]:
        raise ValueError(f"target_class must be in [0, {first.shape[1] - 1}], got {target_class!r}")
    mom, var = np.zeros_like(x), np.zeros_like(x)
    b1, b2 = 0.9, 0.999
    for step in range(1, steps + 1):
        u = rng.normal(size=(k, m, d))
        probes = np.clip(
            np.concatenate([x[:, None] + sigma * u, x[:, None] - sigma * u], axis=1), *bounds
        )
        probs = np.asarray(query(probes.reshape(-1, d))).reshape(k, 2 * m, -1)
        f = np.log(
            np.take_along_axis(probs, classes[:, None, None], axis=2)[..., 0] + 1e-12
        )  # (k, 2m)
        grad = ((f[:, :m] - f[:, m:])[..., None] * u).mean(axis=1) / (2 * sigma)
        mom = b1 * mom + (1 - b1) * grad
        var = b2 * var + (1 - b2) * grad**2
        x = np.clip(
            x + lr * (mom / (1 - b1**step)) / (np.sqrt(var / (1 - b2**step)) + 1e-8), *bounds
        )
    n_queries = 2 * m * steps
    return (x[0] if single else x), n_queries


def correlation_matrix(images: Any, references: Any) -> np.ndarray:
    """Pearson correlation of every image with every reference (rows: images).

    Used to ask "which class average does this reconstruction resemble most?".

    Examples
    --------
    >>> correlation_matrix([[0, 1, 2]], [[0, 1, 2], [2, 1, 0]]).round(2).tolist()
    [[1.0, -1.0]]
    """
    a = np.atleast_2d(np.asarray(images, dtype=float))
    b = np.atleast_2d(np.asarray(references, dtype=float))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"images and references must be 2-d with the same width, got {a.shape} and {b.shape}"
        )
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    if (na == 0).any() or (nb == 0).any():
        raise ValueError("constant images have no correlation; every image needs some contrast")
    return (a @ b.T) / np.outer(na, nb)
