"""Canary audits of DP-SGD: thousands of cheap training runs, with and without a planted canary.

An (epsilon, delta)-DP training algorithm must keep every membership test weak - including a test
for a record the auditor designs to stand out (a *canary*). The audit (Jagielski et al. 2020;
Nasr et al. 2021, 2023) trains many models with the canary and many without, turns each model
into one score ("how much does this model look like it saw the canary?"), and converts the best
threshold test's true and false positives into a lower bound on epsilon
(:func:`course_utils.privacy.audit.attack_epsilon_lower_bound`). A lower bound above the
accountant's epsilon means the implementation does not keep its promise.

To make thousands of runs affordable, :func:`dp_sgd_runs` trains a *linear* softmax model with
DP-SGD, vectorised over runs in numpy (each run its own Poisson batches and noise): one call
trains 2,000 small models in about a second. The privacy knobs are Opacus's (``noise_multiplier``,
``max_grad_norm``, ``sample_rate``); the algorithm is the one of
:func:`course_utils.privacy.dpsgd.train_dp_sgd` (Poisson sampling, per-example clipping, Gaussian
noise of standard deviation ``noise_multiplier * max_grad_norm`` on the sum, division by the
expected batch size) with plain SGD steps. ``bug=`` switches on one of two classic mistakes, so
that an audit can be seen catching (or missing) them.

The strongest canary is a **Dirac gradient canary** (:class:`DiracCanary`): an example whose
gradient is zero except for one weight that no real example touches (e.g. the weight of a pixel
that is dark in every image). Its clipped contribution is then the only signal in that weight, and
the weight's final value is the audit's score (:meth:`TrainingRuns.scores`).

Examples
--------
>>> X = np.array([[0.0, 1.0], [0.0, -1.0]]); y = np.array([0, 1])   # feature 0 is never used
>>> canary = DiracCanary(feature=0, label=0, norm=100.0)
>>> runs = dp_sgd_runs(X, y, n_runs=400, noise_multiplier=1.0, max_grad_norm=1.0,
...                    sample_rate=0.5, steps=20, lr=0.1, canary=canary,
...                    canary_in=np.arange(400) < 200, rng=0)
>>> s = runs.scores()
>>> audit = threshold_audit(s[runs.canary_in], s[~runs.canary_in])
>>> 0 <= audit.epsilon_lower < 5
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.privacy.audit import (
    attack_epsilon_lower_bound,
    clopper_pearson,
    holdout_thresholds,
)
from course_utils.validation import (
    as_rng,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    check_scalar,
)

__all__ = [
    "BUGS",
    "DiracCanary",
    "TrainingRuns",
    "dp_sgd_runs",
    "ThresholdAudit",
    "threshold_audit",
]

#: The mistakes :func:`dp_sgd_runs` can make on purpose (``None`` = the correct algorithm).
BUGS = (None, "clip_after_average", "noise_every_other_step")


@dataclass(frozen=True)
class DiracCanary:
    """A gradient canary: ``norm`` on one weight, zero everywhere else.

    Attributes
    ----------
    feature : int
        Row of the weight matrix (an input feature; ``d``, one past the last feature, is the bias).
    label : int
        Column (class) of the weight.
    norm : float, default 100.0
        Size of the planted gradient before clipping. Clipping must cut it to ``max_grad_norm``;
        an implementation that forgets to is exposed by the huge step.
    """

    feature: int
    label: int
    norm: float = 100.0


@dataclass
class TrainingRuns:
    """Result of :func:`dp_sgd_runs`.

    Attributes
    ----------
    weights : ndarray of shape (n_runs, d + 1, c)
        Final weights of each run; row ``d`` is the bias. Logits of ``x`` are ``[x, 1] @ W``.
    canary_in : ndarray of bool, shape (n_runs,)
        Which runs trained with the canary.
    path : ndarray of shape (n_runs, steps + 1) or None
        The canary's weight before the first and after every step (None without a canary).
    canary : DiracCanary or None
    """

    weights: np.ndarray
    canary_in: np.ndarray
    path: np.ndarray | None
    canary: DiracCanary | None = None

    def logits(self, X: Any) -> np.ndarray:
        """Logits of every run on ``X``: shape (n_runs, len(X), c)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.weights.shape[1] - 1:
            raise ValueError(f"X must have shape (m, {self.weights.shape[1] - 1}), got {X.shape}")
        return np.einsum("mf,rfc->rmc", np.c_[X, np.ones(len(X))], self.weights)

    def scores(self) -> np.ndarray:
        """The audit score of each run: minus the canary's final weight (its gradient pushes the
        weight down, so higher = more likely trained with the canary)."""
        if self.path is None:
            raise ValueError("these runs had no canary: pass canary= to dp_sgd_runs")
        return -(self.path[:, -1] - self.path[:, 0])


def _check_data(X: Any, y: Any, n_classes: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    X_arr = np.asarray(X, dtype=float)
    y_arr = np.asarray(y)
    if X_arr.ndim != 2 or len(X_arr) == 0 or not np.isfinite(X_arr).all():
        raise ValueError(
            f"X must be a finite 2-d array with at least one row, got shape {X_arr.shape}"
        )
    if (
        y_arr.shape != (len(X_arr),)
        or not np.issubdtype(y_arr.dtype, np.integer)
        or y_arr.min() < 0
    ):
        raise ValueError(f"y must hold one non-negative integer label per row of X ({len(X_arr)})")
    c = int(y_arr.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", min_val=2)
    if c < 2 or y_arr.max() >= c:
        raise ValueError(f"n_classes must be >= 2 and above every label, got {c}")
    return X_arr, y_arr, c


def dp_sgd_runs(
    X: Any,
    y: Any,
    *,
    n_runs: int,
    noise_multiplier: float,
    max_grad_norm: float,
    sample_rate: float,
    steps: int,
    lr: float,
    n_classes: int | None = None,
    canary: DiracCanary | None = None,
    canary_in: Any = None,
    bug: str | None = None,
    rng: Any = None,
) -> TrainingRuns:
    """Train ``n_runs`` linear softmax models with DP-SGD at once, each with its own randomness.

    Every step of every run: each example (and the canary, in runs that have it) joins the batch
    with probability ``sample_rate``; per-example gradients of the cross-entropy are clipped to
    ``max_grad_norm`` (for this model the norm is ``||p - onehot(y)|| * ||[x, 1]||``, no autograd
    needed); Gaussian noise of standard deviation ``noise_multiplier * max_grad_norm`` is added to
    their sum; the sum is divided by the expected batch size ``sample_rate * len(X)`` and an SGD
    step ``W -= lr * g`` is taken from ``W = 0``. The accountant's epsilon for these knobs is
    :func:`course_utils.privacy.accounting.gaussian_epsilon` with ``steps`` and ``sample_rate``.

    Parameters
    ----------
    X, y : arrays of shape (n, d) and (n,)
        Training data, the same for every run.
    n_runs : int
        Number of independent runs (models).
    noise_multiplier, max_grad_norm, sample_rate : float
        The privacy knobs. ``noise_multiplier=0`` and ``max_grad_norm=inf`` give plain
        (non-private) minibatch SGD.
    steps : int
        SGD steps per run.
    lr : float
        Learning rate.
    n_classes : int, optional
        Defaults to ``max(y) + 1``.
    canary : DiracCanary, optional
    canary_in : bool array of shape (n_runs,), optional
        Runs that train with the canary; default all runs when ``canary`` is given.
    bug : {None, "clip_after_average", "noise_every_other_step"}
        ``"clip_after_average"`` averages the raw gradients, clips the *average* to
        ``max_grad_norm`` and adds noise scaled for the average (``noise_multiplier *
        max_grad_norm / batch``): one example can move the average by ``max_grad_norm``, not
        ``max_grad_norm / batch``. ``"noise_every_other_step"`` skips the noise on odd steps.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    TrainingRuns

    Examples
    --------
    Without noise, with full batches and no clipping, every run is plain gradient descent:

    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]]); y = np.array([0, 1])
    >>> runs = dp_sgd_runs(X, y, n_runs=3, noise_multiplier=0.0, max_grad_norm=np.inf,
    ...                    sample_rate=1.0, steps=1, lr=1.0, rng=0)
    >>> runs.weights[0].round(2).tolist()  # one step from 0: -(p - onehot) x / 2, with p = 1/2
    [[0.25, -0.25], [-0.25, 0.25], [0.0, 0.0]]
    """
    X, y, c = _check_data(X, y, n_classes)
    n, d = X.shape
    R = check_int(n_runs, "n_runs", min_val=1)
    sigma = check_positive(noise_multiplier, "noise_multiplier", allow_zero=True)
    if isinstance(max_grad_norm, (float, np.floating)) and max_grad_norm == np.inf:
        C = np.inf  # no clipping: plain SGD
    else:
        C = check_positive(max_grad_norm, "max_grad_norm")
    q = check_scalar(sample_rate, "sample_rate", min_val=0.0, max_val=1.0, include_min=False)
    T = check_int(steps, "steps", min_val=1)
    lr = check_positive(lr, "lr")
    bug = check_choice(bug, "bug", BUGS)
    if bug is not None and not (np.isfinite(C) and sigma > 0):
        raise ValueError(f"bug={bug!r} needs a finite max_grad_norm and noise_multiplier > 0")
    if not np.isfinite(C) and sigma > 0:
        raise ValueError(
            "noise_multiplier > 0 needs a finite max_grad_norm (the noise is sigma * C)"
        )
    if canary is not None and not isinstance(canary, DiracCanary):
        raise ValueError(f"canary must be a DiracCanary or None, got {type(canary).__name__}")
    if canary is not None and not (0 <= canary.feature <= d and 0 <= canary.label < c):
        raise ValueError(f"canary must address a weight in [0, {d}] x [0, {c - 1}], got {canary}")
    if canary is not None:
        check_positive(canary.norm, "canary.norm")
    cin = np.full(R, canary is not None) if canary_in is None else np.asarray(canary_in)
    if cin.shape != (R,) or cin.dtype != bool or (canary is None and cin.any()):
        raise ValueError(f"canary_in must be a boolean array of shape ({R},), and needs a canary")
    gen = as_rng(rng)

    # layout (class, example, run): every reduction over classes runs over the first axis,
    # which numpy vectorises across the (example, run) plane; float32 halves the memory traffic
    f32 = np.float32
    Xa = np.c_[X, np.ones(n)].astype(f32)
    Y = (np.arange(c)[:, None] == y[None, :]).astype(f32)[:, :, None]  # (c, n, 1)
    x_norm = np.linalg.norm(Xa, axis=1).astype(f32)[:, None]  # (n, 1)
    batch = q * n  # expected batch size: the same constant with or without the canary
    W = np.zeros((c, d + 1, R), dtype=f32)
    path = None if canary is None else np.zeros((R, T + 1))
    noise_std = sigma * C / batch if bug == "clip_after_average" else sigma * C
    for t in range(T):
        take = (gen.random((n, R), dtype=f32) < q).astype(f32)
        Z = np.matmul(Xa, W)  # (c, n, R) logits
        Z -= Z.max(axis=0)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=0)
        E = Z - Y  # softmax minus one-hot: the gradient of the loss w.r.t. the logits
        if bug == "clip_after_average" or not np.isfinite(C):
            E *= take
        else:
            norms = np.sqrt((E * E).sum(axis=0)) * x_norm  # per-example gradient norms (n, R)
            E *= np.minimum(f32(1.0), f32(C) / (norms + f32(1e-6))) * take
        G = np.matmul(Xa.T, E)  # (c, d + 1, R): the (clipped) gradient sums
        if canary is not None:
            joins = (gen.random(R) < q) & cin
            size = canary.norm if bug == "clip_after_average" else min(canary.norm, C)
            G[canary.label, canary.feature] += f32(size) * joins
        if bug == "clip_after_average":
            G /= f32(batch)
            total = np.sqrt((G * G).sum(axis=(0, 1)))
            G *= np.minimum(f32(1.0), f32(C) / (total + f32(1e-12)))
        add_noise = sigma > 0 and not (bug == "noise_every_other_step" and t % 2 == 1)
        if add_noise:
            G += gen.standard_normal(G.shape, dtype=f32) * f32(noise_std)
        if bug != "clip_after_average":
            G /= f32(batch)
        W -= f32(lr) * G
        if path is not None:
            path[:, t + 1] = W[canary.label, canary.feature]
    weights = W.transpose(2, 1, 0).astype(float)  # (run, feature, class)
    return TrainingRuns(weights=weights, canary_in=cin, path=path, canary=canary)


@dataclass
class ThresholdAudit:
    """What :func:`threshold_audit` found.

    Attributes
    ----------
    epsilon_lower : float
        Lower bound on epsilon, valid with probability ``confidence``.
    threshold : float
        The test, chosen on the selection half.
    side : str
        ``"above"`` (score > threshold means "trained with the canary") or ``"below"``.
    tp, fp, n_pos, n_neg : int
        The test's counts on the evaluation half.
    delta, confidence : float
    """

    epsilon_lower: float
    threshold: float
    side: str
    tp: int
    fp: int
    n_pos: int
    n_neg: int
    delta: float
    confidence: float

    @property
    def tpr(self) -> float:
        """True-positive rate on the evaluation half."""
        return self.tp / self.n_pos

    @property
    def fpr(self) -> float:
        """False-positive rate on the evaluation half."""
        return self.fp / self.n_neg

    def intervals(self) -> dict[str, tuple[float, float]]:
        """Two-sided Clopper-Pearson intervals (at ``confidence``) for the TPR and the FPR."""
        return {
            "tpr": clopper_pearson(self.tp, self.n_pos, confidence=self.confidence),
            "fpr": clopper_pearson(self.fp, self.n_neg, confidence=self.confidence),
        }


def threshold_audit(
    scores_in: Any,
    scores_out: Any,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    n_thresholds: int = 100,
) -> ThresholdAudit:
    """Lower-bound epsilon from audit scores of runs with (``scores_in``) and without the canary.

    The first half of each array *chooses* the test: a threshold among ``n_thresholds``
    quantiles of the pooled first halves and a side (above / below), the one whose bound
    (scored at the stricter confidence 0.999, which steers away from lucky far-tail thresholds)
    is largest. The second half, unseen during the choice, *evaluates* that single test with
    :func:`course_utils.privacy.audit.attack_epsilon_lower_bound`. Because the evaluation runs
    played no part in the choice, the bound holds with probability ``confidence``. The scores must
    come from independent runs (their order must not matter).

    Parameters
    ----------
    scores_in, scores_out : 1-d arrays, at least 4 values each
    delta : float, default 0.0
    confidence : float, default 0.95
    n_thresholds : int, default 100

    Returns
    -------
    ThresholdAudit

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> audit = threshold_audit(g.laplace(1, 1, 4000), g.laplace(0, 1, 4000))  # true epsilon 1
    >>> 0.5 < audit.epsilon_lower <= 1.0, audit.side
    (True, 'above')
    """
    a = np.asarray(scores_in, dtype=float)
    b = np.asarray(scores_out, dtype=float)
    for name, arr in (("scores_in", a), ("scores_out", b)):
        if arr.ndim != 1 or arr.size < 4 or not np.isfinite(arr).all():
            raise ValueError(f"{name} must be a 1-d array of at least 4 finite scores")
    check_probability(confidence, "confidence")
    check_positive(delta, "delta", allow_zero=True)
    k = check_int(n_thresholds, "n_thresholds", min_val=1)
    (sel_a, sel_b), (ev_a, ev_b), grid = holdout_thresholds(a, b, n_thresholds=k)
    best = (-1.0, 0.0, "above")
    for side, sign in (("above", 1.0), ("below", -1.0)):
        tp = (sign * sel_a[:, None] > sign * grid).sum(axis=0)
        fp = (sign * sel_b[:, None] > sign * grid).sum(axis=0)
        bound = attack_epsilon_lower_bound(
            tp, fp, sel_a.size, sel_b.size, delta=delta, confidence=max(confidence, 0.999)
        )
        i = int(np.argmax(bound))
        if bound[i] > best[0]:
            best = (float(bound[i]), float(grid[i]), side)
    _, threshold, side = best
    sign = 1.0 if side == "above" else -1.0
    tp = int((sign * ev_a > sign * threshold).sum())
    fp = int((sign * ev_b > sign * threshold).sum())
    eps = attack_epsilon_lower_bound(
        tp, fp, ev_a.size, ev_b.size, delta=delta, confidence=confidence
    )
    return ThresholdAudit(
        epsilon_lower=float(eps),
        threshold=threshold,
        side=side,
        tp=tp,
        fp=fp,
        n_pos=int(ev_a.size),
        n_neg=int(ev_b.size),
        delta=float(delta),
        confidence=float(confidence),
    )
