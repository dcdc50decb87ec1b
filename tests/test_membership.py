"""Membership-inference helpers: scores, LiRA, and metrics that agree with scikit-learn."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from course_utils.attacks.membership import (
    lira_all_targets,
    lira_scores,
    logit_confidence,
    loss_threshold_scores,
    membership_masks,
    plot_roc,
    roc_auc,
    roc_auc_interval,
    roc_curve,
    shadow_stats,
    split_in_out,
    tpr_at_fpr,
)


def _sk_tpr_at_fpr(scores, labels, fpr, drop_intermediate=False):
    # With ties, sklearn's default drop_intermediate=True removes collinear ROC points, some of
    # which are real thresholds; keep them all to compare like with like.
    fprs, tprs, _ = sk_roc_curve(labels, scores, drop_intermediate=drop_intermediate)
    return tprs[fprs <= fpr].max()


@pytest.mark.parametrize("seed", range(8))
def test_metrics_agree_with_sklearn_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    labels = rng.random(n) < rng.uniform(0.2, 0.8)
    labels[:2] = [True, False]
    scores = rng.normal(size=n) + labels * rng.uniform(0, 2)
    if seed % 2:  # plenty of ties
        scores = np.round(scores, 1)
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    for fpr in (0.001, 0.01, 0.05, 0.1, 0.5, 0.99):
        assert tpr_at_fpr(labels, scores, fpr=fpr) == pytest.approx(
            _sk_tpr_at_fpr(scores, labels, fpr)
        )
    if seed % 2 == 0:  # continuous scores: sklearn's default curve gives the same answer
        assert tpr_at_fpr(labels, scores) == pytest.approx(
            _sk_tpr_at_fpr(scores, labels, 0.01, True)
        )
    fprs, tprs = roc_curve(labels, scores)
    sk_f, sk_t, _ = sk_roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fprs, sk_f)
    np.testing.assert_allclose(tprs, sk_t)


def test_metric_extremes() -> None:
    labels = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    perfect = np.r_[np.ones(50), np.zeros(50)]
    assert roc_auc(labels, perfect) == 1.0
    assert tpr_at_fpr(labels, perfect, fpr=0.01) == 1.0
    assert roc_auc(labels, -perfect) == 0.0
    assert tpr_at_fpr(labels, -perfect, fpr=0.01) == 0.0
    assert roc_auc(labels, np.zeros(100)) == 0.5  # all tied
    assert tpr_at_fpr(labels, np.zeros(100), fpr=0.5) == 0.0  # the only threshold flags everyone
    assert roc_auc(labels.astype(int), perfect) == 1.0  # 0/1 labels work too


def test_loss_threshold_orders_low_loss_first() -> None:
    losses = np.array([0.01, 3.0, 0.2, 1.0])
    members = np.array([True, False, True, False])
    scores = loss_threshold_scores(losses)
    assert np.argmax(scores) == 0
    assert roc_auc(members, scores) == 1.0


def test_logit_confidence_matches_formula_and_is_stable() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)) * 3
    labels = rng.integers(0, 10, 50)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    py = p[np.arange(50), labels]
    expected = np.log(py / (1 - py))
    np.testing.assert_allclose(logit_confidence(p, labels), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        logit_confidence(logits, labels, from_logits=True), expected, rtol=1e-6, atol=1e-8
    )
    # a very confident model: p_y rounds to 1, yet the statistic stays finite and ordered
    big = np.array([[40.0, 0.0], [60.0, 0.0]])
    stat = logit_confidence(big, np.array([0, 0]), from_logits=True)
    assert np.isfinite(stat).all() and stat[1] > stat[0]
    np.testing.assert_allclose(stat, [40.0, 60.0])


def test_membership_masks_are_balanced_and_seeded() -> None:
    m = membership_masks(101, 16, rng=3)
    assert m.shape == (101, 16) and m.dtype == bool
    assert (m.sum(1) == 8).all()
    assert np.all(np.abs(m.mean(0) - 0.5) < 0.2)
    assert np.array_equal(m, membership_masks(101, 16, rng=3))
    assert not np.array_equal(m, membership_masks(101, 16, rng=4))


def test_split_in_out_partitions() -> None:
    stats = np.arange(12.0).reshape(3, 4)
    masks = membership_masks(3, 4, rng=0)
    i, o = split_in_out(stats, masks)
    assert np.array_equal(np.isnan(i), ~masks) and np.array_equal(np.isnan(o), masks)
    np.testing.assert_array_equal(np.where(masks, i, o), stats)


def _simulated_lira(n=400, n_shadows=16, seed=0):
    """Per-example Gaussians: members sit ``gap`` higher, examples differ in mean and spread."""
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 3, n)  # easy vs hard examples: a global threshold struggles
    spread = rng.uniform(0.2, 1.5, n)
    gap = rng.uniform(0.0, 2.0, n)
    masks = membership_masks(n, n_shadows + 1, rng=seed)
    noise = rng.normal(size=(n, n_shadows + 1)) * spread[:, None]
    stats = base[:, None] + gap[:, None] * masks + noise
    target, is_member = stats[:, 0], masks[:, 0]
    in_s, out_s = split_in_out(stats[:, 1:], masks[:, 1:])
    return target, in_s, out_s, is_member


def test_lira_beats_a_global_threshold_on_simulated_data() -> None:
    target, in_s, out_s, is_member = _simulated_lira()
    global_auc = roc_auc(is_member, target)
    for online in (True, False):
        for fix in (True, False):
            s = lira_scores(target, in_s, out_s, online=online, fix_variance=fix)
            assert s.shape == target.shape and np.isfinite(s).all()
            assert roc_auc(is_member, s) > global_auc + 0.1


def test_lira_online_is_the_gaussian_log_likelihood_ratio() -> None:
    from scipy.stats import norm

    target = np.array([1.0, -0.5])
    in_s = np.array([[2.0, 1.0, 3.0], [1.0, 1.5, 0.5]])
    out_s = np.array([[0.0, -1.0, 1.0], [-2.0, -1.0, 0.0]])
    s = lira_scores(target, in_s, out_s)
    m_in, s_in = in_s.mean(1), in_s.std(1, ddof=1)
    m_out, s_out = out_s.mean(1), out_s.std(1, ddof=1)
    expected = norm.logpdf(target, m_in, s_in) - norm.logpdf(target, m_out, s_out)
    np.testing.assert_allclose(s, expected)
    off = lira_scores(target, None, out_s, online=False)
    np.testing.assert_allclose(off, norm.logcdf(target, m_out, s_out))


def test_lira_accepts_one_shadow_as_a_vector() -> None:
    s = lira_scores([0.0, 2.0], [2.0, 2.0], [0.0, 0.0])
    assert s.shape == (2,) and s[1] > s[0]


def test_lira_handles_nan_padding_and_single_values() -> None:
    target = np.array([0.0, 1.0])
    in_s = np.array([[1.0, np.nan, np.nan], [2.0, 2.5, np.nan]])  # one value in row 0
    out_s = np.array([[np.nan, -1.0, 0.0], [0.0, np.nan, 0.0]])  # zero spread in row 1
    s = lira_scores(target, in_s, out_s)
    assert np.isfinite(s).all()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: roc_auc([True], [0.1, 0.2]), "same length"),
        (lambda: tpr_at_fpr([1, 0], [0.1, 0.2, 0.3], fpr=0.01), "same length"),
        (lambda: tpr_at_fpr([1, 0], [0.1, 0.2], fpr=0.0), "fpr must be"),
        (lambda: tpr_at_fpr([1, 0], [0.1, 0.2], fpr=1.0), "fpr must be"),
        (lambda: tpr_at_fpr([1, 0], [0.1, 0.2], fpr=1.5), "fpr must be"),
        (lambda: roc_auc([1, 1], [0.1, 0.2]), "both members"),
        (lambda: roc_auc([], []), "empty"),
        (lambda: roc_auc([1, 0], [0.1, np.nan]), "NaN"),
        (lambda: roc_auc([2, 0], [0.1, 0.2]), "boolean or 0/1"),
        (lambda: roc_auc([1, 0], np.zeros((2, 2))), "1-d"),
        (lambda: roc_auc([0.9, 0.3], [1, 0]), r"\(y_true, y_score\)"),  # the old order fails loudly
        (lambda: loss_threshold_scores([]), "empty"),
        (lambda: loss_threshold_scores([np.inf]), "finite"),
        (
            lambda: lira_scores([0.0, 1.0], np.zeros((3, 2)), np.zeros((2, 2))),
            "in_stats must have shape",
        ),
        (
            lambda: lira_scores([0.0, 1.0], np.zeros((2, 2)), np.zeros(3)),
            "out_stats must have shape",
        ),
        (lambda: lira_scores([0.0], None, np.zeros((1, 2))), "in_stats is required"),
        (lambda: lira_scores([0.0], np.full((1, 2), np.nan), np.zeros((1, 2))), "no finite value"),
        (lambda: lira_scores([np.inf], np.zeros((1, 2)), np.zeros((1, 2))), "finite"),
        (lambda: logit_confidence([[0.5, 0.5]], [2]), "labels must be integers"),
        (lambda: logit_confidence([[2.0, 0.0]], [0]), "probabilities"),
        (lambda: logit_confidence([0.5, 0.5], [0]), "shape"),
        (lambda: membership_masks(1, 4), "n must be"),
        (lambda: membership_masks(10, 1), "n_models must be"),
        (lambda: split_in_out(np.zeros((2, 2)), np.zeros((2, 3), bool)), "same shape"),
    ],
)
def test_bad_input_raises_clear_value_errors(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_plot_roc_returns_axes() -> None:
    fig, ax = plt.subplots()
    rng = np.random.default_rng(0)
    labels = rng.random(200) < 0.5
    out = plot_roc(labels, rng.normal(size=200) + labels, label="demo", ax=ax, log=False)
    assert out is ax and "demo" in ax.get_legend().get_texts()[0].get_text()
    plt.close(fig)


def test_shadow_stats_trains_one_model_per_column() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    masks = membership_masks(60, 4, rng=0)
    seen = []

    def fit_logits(X_tr, y_tr, X_ev):
        seen.append(len(X_tr))
        return LogisticRegression().fit(X_tr, y_tr).decision_function(X_ev)[:, None] * np.array(
            [-0.5, 0.5]
        )

    stats = shadow_stats(fit_logits, X, y, masks)
    assert stats.shape == (60, 4) and seen == masks.sum(0).tolist() and np.isfinite(stats).all()
    # members are fitted a bit better than non-members on average
    assert np.nanmean(np.where(masks, stats, np.nan)) > np.nanmean(np.where(masks, np.nan, stats))
    with pytest.raises(ValueError, match="masks must be"):
        shadow_stats(fit_logits, X, y, masks.astype(int))
    with pytest.raises(ValueError, match="same length"):
        shadow_stats(fit_logits, X, y[:-1], masks)


def test_lira_all_targets_matches_one_target_at_a_time() -> None:
    target, in_s, out_s, is_member = _simulated_lira(n=120, n_shadows=6, seed=2)
    # rebuild the full (n, 7) stats / masks of the simulation
    rng_stats = np.where(np.isnan(in_s), out_s, in_s)
    stats = np.c_[target, rng_stats]
    masks = np.c_[is_member, ~np.isnan(in_s)]
    all_scores = lira_all_targets(stats, masks, fix_variance=True)
    np.testing.assert_allclose(
        all_scores[:, 0], lira_scores(target, in_s, out_s, fix_variance=True)
    )
    assert all(roc_auc(masks[:, j], all_scores[:, j]) > 0.6 for j in range(7))
    with pytest.raises(ValueError, match="n_models >= 3"):
        lira_all_targets(stats[:, :2], masks[:, :2])


def test_roc_auc_interval_covers_the_true_auc_and_resamples_the_examples() -> None:
    """Two unit-variance Gaussians one apart: the true AUC is Phi(1 / sqrt(2)) = 0.760. Over 40
    audits of 300 examples the 90 % interval should cover it about 36 times; it must shrink with
    more examples, follow the rng, and equal the explicit resampling it documents."""
    from scipy import stats

    truth = stats.norm.cdf(1 / np.sqrt(2))
    gen = np.random.default_rng(0)
    covered = 0
    for _ in range(40):
        members = gen.random(300) < 0.5
        low, high = roc_auc_interval(
            members, members + gen.normal(size=300), rng=gen, resamples=200, confidence=0.9
        )
        covered += low <= truth <= high
    assert 30 <= covered <= 40  # Binomial(40, 0.9): below 30 has probability < 0.002
    members = np.arange(2000) % 2 == 0
    scores = members + np.random.default_rng(1).normal(size=2000)
    wide, narrow = (
        roc_auc_interval(members[:200], scores[:200], rng=2),
        roc_auc_interval(members, scores, rng=2),
    )
    assert narrow[1] - narrow[0] < 0.5 * (wide[1] - wide[0])
    assert roc_auc_interval(members, scores, rng=3) == roc_auc_interval(members, scores, rng=3)
    assert roc_auc_interval(members, scores, rng=3) != roc_auc_interval(members, scores, rng=4)
    rows = np.random.default_rng(5).integers(2000, size=(500, 2000))
    by_hand = np.quantile([roc_auc(members[r], scores[r]) for r in rows], [0.025, 0.975])
    assert roc_auc_interval(members, scores, rng=5) == pytest.approx(tuple(by_hand), abs=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y_true": [1, 1, 1], "y_score": [0.1, 0.2, 0.3]}, "both members"),
        ({"resamples": 5}, "resamples"),
        ({"confidence": 1.0}, "confidence"),
        ({"y_score": [0.1, 0.2]}, "same length"),
    ],
)
def test_roc_auc_interval_rejects_bad_input(kwargs, message) -> None:
    args = {"y_true": [1, 0, 1, 0], "y_score": [0.9, 0.8, 0.3, 0.1], "rng": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        roc_auc_interval(args.pop("y_true"), args.pop("y_score"), **args)
