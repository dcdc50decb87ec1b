"""Randomized smoothing (Cohen, Rosenfeld and Kolter 2019): the smoothed classifier's prediction
and an L2 radius within which it provably does not change.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats
from torch import nn

from ..stats import clopper_pearson
from ..validation import RNGLike, check_int, check_positive, check_probability, torch_generator
from ._inputs import Array, _check_single, _EvalMode, _tensor

__all__ = [
    "certified_radius",
    "smoothed_predict",
    "certify",
    "certify_dataset",
    "certified_accuracy",
]


def _lower_bound(k: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound on the success rate ``k / n``."""
    return clopper_pearson(k, n, confidence=1.0 - alpha, side="lower")[0]


def certified_radius(p_lower: float, *, sigma: float) -> float:
    """L2 radius ``sigma * Phi^-1(p_lower)`` certified when the top class has probability at
    least ``p_lower`` under N(0, sigma^2 I) noise; 0 when ``p_lower <= 0.5`` (no certificate).

    Examples
    --------
    >>> round(certified_radius(0.8413, sigma=0.5), 3)      # Phi^-1(0.8413) ~ 1
    0.5
    >>> certified_radius(0.4, sigma=0.5)
    0.0
    """
    p_lower = check_probability(p_lower, "p_lower", closed=True)
    sigma = check_positive(sigma, "sigma")
    if p_lower <= 0.5:
        return 0.0
    return float(sigma * stats.norm.ppf(p_lower))


@torch.no_grad()
def _noisy_counts(
    model: nn.Module,
    x: torch.Tensor,
    *,
    sigma: float,
    num: int,
    gen: torch.Generator | None,
    batch_size: int,
) -> np.ndarray:
    """Class counts of ``argmax model(x + noise)`` over ``num`` Gaussian draws."""
    counts: np.ndarray | None = None
    remaining = num
    with _EvalMode(model):
        while remaining > 0:
            b = min(batch_size, remaining)
            batch = x.unsqueeze(0).expand((b,) + tuple(x.shape))
            noisy = batch + sigma * torch.randn(batch.shape, generator=gen)
            logits = model(noisy)
            if logits.dim() != 2 or len(logits) != b:
                raise ValueError(
                    f"model must map a batch of {b} inputs to (batch, n_classes) logits, got {tuple(logits.shape)}"
                )
            pred = logits.argmax(1).numpy()
            if counts is None:
                counts = np.zeros(logits.shape[1], dtype=np.int64)
            counts += np.bincount(pred, minlength=len(counts))
            remaining -= b
    assert counts is not None
    return counts


def smoothed_predict(
    model: nn.Module,
    x: Array,
    *,
    sigma: float,
    n: int,
    alpha: float = 0.001,
    rng: RNGLike = None,
    batch_size: int = 1000,
) -> int:
    """PREDICT of the smoothed classifier ``g(x) = argmax_c P(f(x + noise) = c)``.

    Draws ``n`` noisy copies of the single example ``x`` (e.g. shape ``(64,)``), counts the
    base model's argmax, and returns the top class if a two-sided binomial test says it beats the
    runner-up at level ``alpha``; otherwise abstains with ``-1``.

    Examples
    --------
    >>> class Coin(nn.Module):            # ignores x: class 0 or 1 at random
    ...     def forward(self, x):
    ...         return torch.randn(len(x), 2)
    >>> smoothed_predict(Coin(), np.zeros(64), sigma=0.25, n=200, rng=0)
    -1
    """
    sigma = check_positive(sigma, "sigma")
    n = check_int(n, "n", min_val=1)
    alpha = check_probability(alpha, "alpha")
    x_t = _check_single(x)
    counts = _noisy_counts(
        model, x_t, sigma=sigma, num=n, gen=torch_generator(rng), batch_size=batch_size
    )
    top2 = np.argsort(counts)[::-1][:2]
    n_a, n_b = int(counts[top2[0]]), int(counts[top2[1]]) if len(top2) > 1 else 0
    if stats.binomtest(n_a, n_a + n_b, 0.5).pvalue > alpha:
        return -1
    return int(top2[0])


def certify(
    model: nn.Module,
    x: Array,
    *,
    sigma: float,
    n0: int = 100,
    n: int = 1000,
    alpha: float = 0.001,
    rng: RNGLike = None,
    batch_size: int = 1000,
) -> tuple[int, float]:
    """CERTIFY (Cohen et al. 2019): a class and an L2 radius within which the smoothed
    classifier's prediction provably stays that class (with probability >= 1 - alpha over the
    sampling).

    1. ``n0`` noisy copies of ``x`` select the candidate class ``c_A`` (the most frequent argmax).
    2. ``n`` fresh copies count how often the base model says ``c_A``: ``n_A``.
    3. ``p_A_lower`` = one-sided Clopper-Pearson lower bound of ``n_A / n`` at level ``alpha``.
    4. If ``p_A_lower > 0.5`` return ``(c_A, sigma * Phi^-1(p_A_lower))``, else abstain:
       ``(-1, 0.0)``.

    ``x`` is ONE unbatched example (e.g. shape ``(64,)``); the model is called on batches of at
    most ``batch_size`` noisy copies and its argmax taken.

    Examples
    --------
    >>> class Always3(nn.Module):           # p_A = 1 whatever the noise
    ...     def forward(self, x):
    ...         return nn.functional.one_hot(torch.full((len(x),), 3), 10).float()
    >>> label, radius = certify(Always3(), np.zeros(64), sigma=0.5, n0=10, n=100, alpha=0.001, rng=0)
    >>> label, round(radius, 3), round(0.5 * float(stats.norm.ppf(0.001 ** (1 / 100))), 3)
    (3, 0.75, 0.75)
    """
    sigma, n0, n, alpha = _check_certify_args(sigma, n0, n, alpha)
    return _certify(model, _check_single(x), sigma, n0, n, alpha, torch_generator(rng), batch_size)


def _check_certify_args(
    sigma: float, n0: int, n: int, alpha: float
) -> tuple[float, int, int, float]:
    return (
        check_positive(sigma, "sigma"),
        check_int(n0, "n0", min_val=1),
        check_int(n, "n", min_val=1),
        check_probability(alpha, "alpha"),
    )


def _certify(
    model: nn.Module,
    x_t: torch.Tensor,
    sigma: float,
    n0: int,
    n: int,
    alpha: float,
    gen: torch.Generator,
    batch_size: int,
) -> tuple[int, float]:
    selection = _noisy_counts(model, x_t, sigma=sigma, num=n0, gen=gen, batch_size=batch_size)
    c_a = int(selection.argmax())
    estimation = _noisy_counts(model, x_t, sigma=sigma, num=n, gen=gen, batch_size=batch_size)
    p_lower = _lower_bound(int(estimation[c_a]), n, alpha)
    if p_lower <= 0.5:
        return -1, 0.0
    return c_a, certified_radius(p_lower, sigma=sigma)


def certify_dataset(
    model: nn.Module,
    X: Array,
    *,
    sigma: float,
    n0: int = 100,
    n: int = 1000,
    alpha: float = 0.001,
    rng: RNGLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`certify` on every row of ``X``: arrays of labels (-1 = abstain) and radii.

    Examples
    --------
    >>> from course_utils.training import mlp
    >>> labels, radii = certify_dataset(mlp(rng=0), np.zeros((3, 64)), sigma=0.25, n0=10, n=50, rng=0)
    >>> labels.shape, radii.shape
    ((3,), (3,))
    """
    sigma, n0, n, alpha = _check_certify_args(sigma, n0, n, alpha)
    X_t, _ = _tensor(X)
    gen = torch_generator(rng)  # one torch stream through the whole data set
    results = [_certify(model, _check_single(x), sigma, n0, n, alpha, gen, 1000) for x in X_t]
    labels = np.array([r[0] for r in results], dtype=np.int64)
    radii = np.array([r[1] for r in results], dtype=float)
    return labels, radii


def certified_accuracy(
    labels: Array, radii: Array, y: Array, radius: float | Array
) -> float | np.ndarray:
    """Fraction of examples certified correct with radius at least ``radius``.

    ``radius`` may be a number (returns a float) or an array (returns an array: the curve).

    Examples
    --------
    >>> certified_accuracy([1, 2, -1], [0.3, 0.6, 0.0], [1, 2, 0], 0.5)
    0.3333333333333333
    >>> certified_accuracy([1, 2, -1], [0.3, 0.6, 0.0], [1, 2, 0], [0.0, 0.5]).tolist()
    [0.6666666666666666, 0.3333333333333333]
    """
    labels, radii, y = np.asarray(labels), np.asarray(radii, dtype=float), np.asarray(y)
    if not labels.shape == radii.shape == y.shape:
        raise ValueError(
            f"labels, radii and y must have the same shape, got {labels.shape}, {radii.shape}, {y.shape}"
        )
    r = np.asarray(radius, dtype=float)
    ok = (labels == y)[None, :] & (radii[None, :] >= r.reshape(-1, 1))
    curve = ok.mean(axis=1)
    return float(curve[0]) if r.ndim == 0 else curve
