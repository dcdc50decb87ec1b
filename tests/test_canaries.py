"""course_utils.privacy.canaries: the vectorised DP-SGD against hand-computed steps, its two bugs,
its randomness, and the threshold audit's validity, with bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.privacy.audit import attack_epsilon_lower_bound
from course_utils.privacy.canaries import (
    BUGS,
    DiracCanary,
    ThresholdAudit,
    TrainingRuns,
    dp_sgd_runs,
    threshold_audit,
)

# two examples whose only non-zero feature is 1; feature 0 is never used (the canary's weight)
X = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
y = np.array([0, 1])
CANARY = DiracCanary(feature=0, label=0, norm=100.0)


def _plain_gd(X, y, steps, lr, c):
    """Full-batch gradient descent on the summed cross-entropy / n, written out in numpy."""
    Xa = np.c_[X, np.ones(len(X))]
    W = np.zeros((Xa.shape[1], c))
    for _ in range(steps):
        Z = Xa @ W
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        W -= lr * Xa.T @ (P - np.eye(c)[y]) / len(X)
    return W


def _runs(Xr: np.ndarray = X, yr: np.ndarray = y, **kwargs) -> TrainingRuns:
    """dp_sgd_runs on (Xr, yr), by default the two examples above: one run of one noiseless
    full-batch step at lr 0.1 clipped to 1, seed 0, unless the test says otherwise."""
    settings = dict(
        n_runs=1, noise_multiplier=0.0, max_grad_norm=1.0, sample_rate=1.0, steps=1, lr=0.1, rng=0
    )
    return dp_sgd_runs(Xr, yr, **{**settings, **kwargs})


def test_no_noise_no_clipping_full_batch_is_gradient_descent() -> None:
    g = np.random.default_rng(0)
    Xr, yr = g.normal(size=(30, 4)), g.integers(0, 3, 30)
    runs = _runs(Xr, yr, n_runs=2, max_grad_norm=np.inf, steps=25, lr=0.3)
    want = _plain_gd(Xr, yr, 25, 0.3, 3)
    np.testing.assert_allclose(runs.weights[0], want, atol=1e-5)  # float32 inside
    np.testing.assert_allclose(runs.weights[1], want, atol=1e-5)
    assert runs.path is None and not runs.canary_in.any()


def test_per_example_clipping_by_hand() -> None:
    # one example x = (3, 4), label 0 of 2; at W = 0: p - onehot = (-1/2, 1/2), so the
    # gradient is (p - onehot) outer [3, 4, 1]: norm sqrt(1/2) * sqrt(26) = 3.606 > C = 1
    runs = _runs(np.array([[3.0, 4.0]]), np.array([0]), lr=1.0, n_classes=2)
    grad = np.outer([3.0, 4.0, 1.0], [-0.5, 0.5])
    want = -grad / np.linalg.norm(grad)  # clipped to norm 1, divided by the batch of 1
    np.testing.assert_allclose(runs.weights[0], want, atol=1e-6)


def test_canary_moves_its_weight_by_the_clipped_gradient() -> None:
    # sample rate 1, no noise: every step the canary adds min(norm, C) = 0.5 to the sum of a
    # batch of expected size 2, so its weight moves by -lr * 0.5 / 2 per step, exactly
    runs = _runs(n_runs=3, max_grad_norm=0.5, steps=4, lr=0.2, canary=CANARY)
    np.testing.assert_allclose(np.diff(runs.path, axis=1), -0.2 * 0.5 / 2, rtol=1e-6)
    np.testing.assert_allclose(runs.scores(), 4 * 0.2 * 0.5 / 2, rtol=1e-6)
    assert runs.canary_in.all()


def test_clip_after_average_lets_one_record_move_the_model_by_C() -> None:
    # at W = 0 the two real examples give gradient entries of +-1/2 on four weights; averaged over
    # the expected batch of 2 they are +-1/4, while the canary's raw 100 becomes 50. Clipping the
    # AVERAGE to C = 1 leaves the canary almost all of it: a step of lr * 50 / |average|
    good = _runs(noise_multiplier=1e-9, canary=CANARY)
    bad = _runs(noise_multiplier=1e-9, canary=CANARY, bug="clip_after_average")
    assert good.path[0, 1] == pytest.approx(-0.1 * 1.0 / 2, rel=1e-6)  # clipped to C, over 2
    assert bad.path[0, 1] == pytest.approx(-0.1 * 50 / np.sqrt(50**2 + 4 * 0.25**2), rel=1e-6)


def test_noise_every_other_step_leaves_odd_steps_noiseless() -> None:
    runs = _runs(
        n_runs=50,
        noise_multiplier=1.0,
        steps=6,
        lr=1.0,
        canary=CANARY,
        canary_in=np.zeros(50, bool),
        bug="noise_every_other_step",
    )
    moves = np.diff(runs.path, axis=1)  # nothing but noise ever touches the canary's weight
    assert (moves[:, 1::2] == 0).all() and (moves[:, 0::2] != 0).all()


def test_noise_has_the_right_scale() -> None:
    sigma, C, lr, n = 2.0, 0.5, 1.0, 2
    runs = _runs(
        n_runs=20_000,
        noise_multiplier=sigma,
        max_grad_norm=C,
        sample_rate=0.5,
        lr=lr,
        canary=CANARY,
        canary_in=np.zeros(20_000, bool),
        rng=1,
    )
    std = np.diff(runs.path, axis=1).std()
    assert std == pytest.approx(lr * sigma * C / (0.5 * n), rel=0.03)  # divided by q * n = 1


def test_canary_joins_with_the_sample_rate() -> None:
    runs = _runs(n_runs=500, sample_rate=0.3, steps=20, lr=1.0, canary=CANARY, rng=2)
    joined = np.isclose(np.diff(runs.path, axis=1), -1.0 / (0.3 * 2))
    assert 0.28 < joined.mean() < 0.32  # 10,000 Bernoulli(0.3) draws: sd 0.005


def test_seeds() -> None:
    kwargs = dict(n_runs=5, noise_multiplier=1.0, sample_rate=0.5, steps=3)
    a, b = _runs(rng=3, **kwargs), _runs(rng=3, **kwargs)
    c = _runs(rng=4, **kwargs)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.allclose(a.weights, c.weights)
    assert not np.allclose(a.weights[0], a.weights[1])  # runs do not share randomness


def test_logits_and_scores() -> None:
    runs = _runs(n_runs=4, steps=2, lr=0.5)
    assert isinstance(runs, TrainingRuns) and runs.weights.shape == (4, 4, 2)
    assert runs.logits(X).shape == (4, 2, 2)
    assert (runs.logits(X)[0].argmax(1) == y).all()
    with pytest.raises(ValueError, match="canary"):
        runs.scores()
    with pytest.raises(ValueError, match="X must have shape"):
        runs.logits(np.zeros((2, 5)))


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_runs": 0}, "n_runs"),
        ({"noise_multiplier": -1.0}, "noise_multiplier"),
        ({"max_grad_norm": 0.0}, "max_grad_norm"),
        ({"sample_rate": 0.0}, "sample_rate"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"steps": 0}, "steps"),
        ({"lr": -0.1}, "lr"),
        ({"bug": "forgot the noise"}, "bug"),
        ({"bug": "clip_after_average", "noise_multiplier": 0.0}, "bug"),
        ({"max_grad_norm": np.inf}, "max_grad_norm"),
        ({"canary": (0, 0)}, "canary"),
        ({"canary": DiracCanary(feature=9, label=0)}, "canary"),
        ({"canary": DiracCanary(feature=0, label=0, norm=-1.0)}, "canary.norm"),
        ({"canary_in": np.ones(3, bool)}, "canary_in"),
        ({"canary": CANARY, "canary_in": np.ones(2, bool)}, "canary_in"),
        ({"n_classes": 1}, "n_classes"),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_bad_input(kwargs, word) -> None:
    args = dict(n_runs=3, noise_multiplier=1.0, sample_rate=0.5, steps=2)
    with pytest.raises(ValueError, match=word):
        _runs(**{**args, **kwargs})


@pytest.mark.parametrize(
    "Xb, yb, word", [(np.zeros(3), y, "X"), (X, np.array([0.5, 1.0]), "y"), (X, np.array([0]), "y")]
)
def test_bad_data(Xb, yb, word) -> None:
    with pytest.raises(ValueError, match=word):
        _runs(Xb, yb)


def test_bugs_listed() -> None:
    assert BUGS == (None, "clip_after_average", "noise_every_other_step")


# ------------------------------------------------------------------------------ threshold_audit
def test_threshold_audit_is_valid_for_laplace() -> None:
    """Laplace(1, 1) vs Laplace(0, 1) is exactly 1-DP: 40 audits, the bound never exceeds 1."""
    g = np.random.default_rng(0)
    bounds = [
        threshold_audit(g.laplace(1, 1, 2000), g.laplace(0, 1, 2000)).epsilon_lower
        for _ in range(40)
    ]
    assert max(bounds) <= 1.0 and np.mean(bounds) > 0.6


def test_threshold_audit_finds_a_downward_shift() -> None:
    g = np.random.default_rng(1)
    audit = threshold_audit(g.laplace(-1, 1, 2000), g.laplace(0, 1, 2000))
    assert audit.side == "below" and 0.5 < audit.epsilon_lower <= 1.0


def test_threshold_audit_counts_only_the_evaluation_half() -> None:
    # first halves choose (in: 100..149, out: 50..99 -> a threshold just above 99); the second
    # halves (in: 150..199, out: 0..49) count: 50 of 50 and 0 of 50
    a, b = np.r_[100:150, 150:200].astype(float), np.r_[50:100, 0:50].astype(float)
    audit = threshold_audit(a, b, delta=1e-5)
    assert (
        isinstance(audit, ThresholdAudit) and audit.side == "above" and 99 < audit.threshold < 100
    )
    assert (audit.tp, audit.fp, audit.n_pos, audit.n_neg) == (50, 0, 50, 50)
    assert audit.epsilon_lower == pytest.approx(
        attack_epsilon_lower_bound(50, 0, 50, 50, delta=1e-5)
    )
    assert audit.epsilon_lower > 2.5 and audit.tpr == 1.0 and audit.fpr == 0.0
    lo, hi = audit.intervals()["fpr"]
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 50))


def test_threshold_audit_no_signal() -> None:
    g = np.random.default_rng(2)
    assert threshold_audit(g.normal(size=1000), g.normal(size=1000)).epsilon_lower < 0.3


@pytest.mark.parametrize(
    "a, b, kwargs, word",
    [
        (np.zeros(3), np.zeros(10), {}, "scores_in"),
        (np.zeros(10), np.zeros((5, 2)), {}, "scores_out"),
        (np.r_[np.zeros(9), np.nan], np.zeros(10), {}, "scores_in"),
        (np.zeros(10), np.zeros(10), {"confidence": 0.0}, "confidence"),
        (np.zeros(10), np.zeros(10), {"delta": -1.0}, "delta"),
        (np.zeros(10), np.zeros(10), {"n_thresholds": 0}, "n_thresholds"),
    ],
)
def test_threshold_audit_bad_input(a, b, kwargs, word) -> None:
    with pytest.raises(ValueError, match=word):
        threshold_audit(a, b, **kwargs)
