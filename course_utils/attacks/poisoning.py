"""Data poisoning: flipped labels and backdoors.

A poisoning attacker changes the *training* data, not the test inputs:

* **label flipping** gives some examples a wrong label (:func:`flip_labels`);
* a **backdoor** (Gu et al. 2017) stamps a small *trigger* into some examples and labels them with
  the attacker's ``target`` class, so the trained model answers ``target`` whenever the trigger is
  present and behaves normally otherwise (:func:`add_trigger`, :func:`poison_backdoor`); how often
  the trigger works is :func:`attack_success_rate`.

Images are flattened (8x8 digits: shape ``(n, 64)``); a trigger is a tuple of pixel indices that
are set to ``value``. Two triggers are defined: :data:`CORNER_TRIGGER` (notebook 06) and
:data:`TRIGGER_PIXELS` (notebook 05). The module needs torch only to score a torch model, so the
numpy-only federated notebook can use it without loading torch.

Examples
--------
>>> y_bad, flipped = flip_labels(np.arange(10), fraction=0.3, rng=0)
>>> len(flipped), bool(np.all(y_bad[flipped] != flipped))
(3, True)
>>> np.flatnonzero(add_trigger(np.zeros((1, 64)))[0]).tolist()
[54, 55, 62, 63]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_choice, check_int, check_probability, check_scalar

__all__ = [
    "CORNER_TRIGGER",
    "TRIGGER_PIXELS",
    "FLIP_RULES",
    "flip_labels",
    "add_trigger",
    "poison_backdoor",
    "attack_success_rate",
]

#: A 2x2 square in the bottom-right corner of an 8x8 digit: pixels (6, 6), (6, 7), (7, 6), (7, 7).
CORNER_TRIGGER: tuple[int, ...] = (54, 55, 62, 63)
#: A short bar down the left edge of an 8x8 digit, where scikit-learn's digits are always blank
#: (the trigger of the federated notebook).
TRIGGER_PIXELS: tuple[int, ...] = (0, 8, 16, 24)
#: How :func:`flip_labels` chooses the wrong label.
FLIP_RULES: tuple[str, ...] = ("random", "mirror")


def _labels(y: Any, n_classes: int | None) -> tuple[np.ndarray, int]:
    y = np.asarray(y)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
        raise ValueError(f"y must be a 1-d array of integer labels, got {y.dtype} {y.shape}")
    k = int(y.max()) + 1 if n_classes is None and y.size else n_classes
    k = check_int(k, "n_classes", min_val=2)
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must lie in [0, {k}), got range [{y.min()}, {y.max()}]")
    return y.astype(np.int64), k


def flip_labels(
    y: Any,
    *,
    fraction: float = 1.0,
    rng: RNGLike = None,
    n_classes: int | None = None,
    rule: str = "random",
) -> tuple[np.ndarray, np.ndarray]:
    """Label flipping: give a random ``fraction`` of the examples a wrong label.

    Parameters
    ----------
    y : array of int labels in ``[0, n_classes)``, shape (n,)
    fraction : float in [0, 1], default 1
        Share of examples to flip (``round(fraction * n)`` of them, chosen at random).
    rng : numpy.random.Generator, int seed or None
        Chooses the examples and, for ``rule="random"``, their new labels. Not used (may be
        left out) for ``rule="mirror"`` with ``fraction=1``.
    n_classes : int, optional
        Number of classes; default ``y.max() + 1``.
    rule : {"random", "mirror"}
        ``"random"``: each chosen example gets a uniformly random *wrong* label.
        ``"mirror"``: class ``c`` becomes ``n_classes - 1 - c`` (0 <-> 9, 1 <-> 8, ... for
        digits), the label-flipping client of the federated notebook.

    Returns
    -------
    y_poisoned : int64 copy of ``y``
    flipped : sorted indices of the chosen examples

    Examples
    --------
    >>> flip_labels(np.array([0, 3, 9]), rule="mirror", n_classes=10)[0].tolist()
    [9, 6, 0]
    """
    fraction = check_probability(fraction, "fraction", closed=True)
    check_choice(rule, "rule", FLIP_RULES)
    y, k = _labels(y, n_classes)
    if rule == "mirror" and fraction == 1.0:
        flipped = np.arange(len(y))
    else:
        gen = as_rng(rng)
        flipped = np.sort(gen.choice(len(y), size=int(round(fraction * len(y))), replace=False))
    y_bad = y.copy()
    if rule == "mirror":
        y_bad[flipped] = k - 1 - y[flipped]
    else:
        y_bad[flipped] = (y[flipped] + gen.integers(1, k, size=len(flipped))) % k
    return y_bad, flipped


def _pixels(pixels: Sequence[int], width: int) -> list[int]:
    idx = [check_int(p, "pixels", min_val=0, max_val=width - 1) for p in np.atleast_1d(pixels)]
    if not idx:
        raise ValueError("pixels must name at least one pixel")
    return idx


def add_trigger(X: Any, *, pixels: Sequence[int] = CORNER_TRIGGER, value: float = 1.0) -> Any:
    """A copy of ``X`` with the trigger stamped in: the given pixels of every image set to ``value``.

    Parameters
    ----------
    X : array or tensor of shape (n, ...)
        Images, flattened (``(n, 64)``) or not (``(n, 8, 8)``); ``pixels`` index the flattened
        image.
    pixels : sequence of int, default :data:`CORNER_TRIGGER`
    value : float, default 1.0

    Returns
    -------
    Same kind as ``X``: a float32 tensor for a tensor, a float array (float32 stays float32)
    for an array.

    Examples
    --------
    >>> add_trigger(np.zeros((1, 64)), pixels=TRIGGER_PIXELS).reshape(8, 8)[:5, 0].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    value = check_scalar(value, "value")
    if hasattr(X, "detach"):  # a torch tensor
        import torch

        out = X.detach().to(torch.float32).clone()
    else:
        X = np.asarray(X)
        out = np.array(X, dtype=X.dtype if np.issubdtype(X.dtype, np.floating) else float)
    if out.ndim < 2:
        raise ValueError(
            f"X must be a batch of images of shape (n, ...), got shape {tuple(out.shape)}"
        )
    flat = out.reshape(len(out), -1)
    flat[:, _pixels(pixels, flat.shape[1])] = value
    return out


def poison_backdoor(
    X: Any,
    y: Any,
    *,
    fraction: float,
    target: int,
    rng: RNGLike,
    pixels: Sequence[int] = CORNER_TRIGGER,
    value: float = 1.0,
    append: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backdoor poisoning (Gu et al. 2017): triggered examples labelled ``target``.

    ``append=False`` (notebook 06): a random ``fraction`` of the examples *not* of class
    ``target`` get the trigger and the label ``target`` in place; the data set keeps its size.
    ``append=True`` (a malicious federated client, notebook 05): the attacker keeps its clean data
    and appends triggered copies of a random ``fraction`` (at least one) of its examples, of any
    class, labelled ``target``.

    Returns
    -------
    X_poisoned, y_poisoned : copies (float32 in place, float64 appended)
    poisoned : sorted indices, into the returned arrays, of the poisoned rows

    Examples
    --------
    >>> X = np.zeros((20, 64)); y = np.arange(20) % 4
    >>> Xp, yp, idx = poison_backdoor(X, y, fraction=0.2, target=0, rng=0)
    >>> len(idx), set(yp[idx].tolist()), bool(np.all(y[idx] != 0))
    (4, {0}, True)
    >>> Xa, ya, new = poison_backdoor(X, y, fraction=0.5, target=7, rng=0, append=True)
    >>> Xa.shape, new.tolist() == list(range(20, 30)), set(ya[new].tolist())
    ((30, 64), True, {7})
    """
    y = np.asarray(y)
    if append:
        fraction = check_probability(fraction, "fraction", closed=True)
        if fraction == 0:
            raise ValueError("fraction must be > 0 with append=True (at least one copy is added)")
        X = np.asarray(X, dtype=float)
        pick = as_rng(rng).choice(len(y), size=max(1, int(round(fraction * len(y)))), replace=False)
        X_p = np.vstack([X, add_trigger(X[pick], pixels=pixels, value=value)])
        y_p = np.concatenate([y, np.full(len(pick), target, dtype=y.dtype)])
        return X_p, y_p, np.arange(len(y), len(y_p))
    fraction = check_probability(fraction, "fraction", closed=True)
    X = np.asarray(X, dtype=np.float32)
    y = y.astype(np.int64)
    candidates = np.flatnonzero(y != target)
    k = int(round(fraction * len(y)))
    if k > len(candidates):
        raise ValueError(
            f"fraction {fraction} asks for {k} poisoned examples, only {len(candidates)} are not "
            f"of class {target}"
        )
    poisoned = np.sort(as_rng(rng).choice(candidates, size=k, replace=False))
    X_p, y_p = X.copy(), y.copy()
    X_p[poisoned] = add_trigger(X[poisoned], pixels=pixels, value=value)
    y_p[poisoned] = target
    return X_p, y_p, poisoned


def attack_success_rate(
    model: Any,
    X: Any,
    y: Any,
    *,
    target: int,
    pixels: Sequence[int] = CORNER_TRIGGER,
    value: float = 1.0,
) -> float:
    """Share of the examples not of class ``target`` that the model calls ``target`` once the
    trigger is stamped on them.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A torch model (its logits' argmax is the prediction, in eval mode), or any function of a
        numpy batch returning labels (or scores, whose argmax is taken), e.g.
        ``functools.partial(net.predict, params)`` for a federated :class:`NumpyNet`.
    X, y : test images and their labels
    target : int
    pixels, value : the trigger, as in :func:`add_trigger`

    Examples
    --------
    >>> always_zero = lambda X: np.zeros(len(X), dtype=int)
    >>> attack_success_rate(always_zero, np.zeros((4, 64)), np.array([1, 2, 3, 0]), target=0)
    1.0
    """
    if hasattr(X, "detach"):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}")
    keep = y != target
    if not keep.any():
        raise ValueError(f"every example is of class {target}; attack success is undefined")
    stamped = add_trigger(X[keep], pixels=pixels, value=value)
    torch = sys.modules.get("torch")  # a torch model means torch is loaded already
    if torch is not None and isinstance(model, torch.nn.Module):
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                said = model(torch.as_tensor(stamped)).argmax(1)
        finally:
            model.train(was_training)
        return float((said == target).float().mean())
    if not callable(model):
        raise ValueError(f"model must be a torch module or a callable, got {type(model).__name__}")
    said = np.asarray(model(stamped))
    if said.ndim == 2:
        said = said.argmax(1)
    return float(np.mean(said == target))
