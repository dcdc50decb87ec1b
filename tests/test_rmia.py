"""rmia_scores: hand-computed values, invariances, a statistical check with a negative control,
and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.attacks.membership import rmia_scores, roc_auc


def _logits(p: list[list[float]]) -> np.ndarray:
    return np.log(np.asarray(p, dtype=float))


def test_hand_computed_scores() -> None:
    # p(x | target) for the true label (class 0): 0.8, 0.4, 0.3
    target = _logits([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    # two reference models: mean p(x) = 0.5, 0.4, 0.6 -> ratios 1.6, 1.0, 0.5
    refs = np.stack(
        [
            _logits([[0.6, 0.4], [0.5, 0.5], [0.6, 0.4]]),
            _logits([[0.4, 0.6], [0.3, 0.7], [0.6, 0.4]]),
        ]
    )
    # population: p(z | target) = 0.5, 0.9, 0.2, 0.6 and mean p(z) = 0.5, 0.6, 0.4, 0.2
    # -> ratios 1.0, 1.5, 0.5, 3.0
    pop_t = _logits([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    pop_r = np.stack(
        [
            _logits([[0.5, 0.5], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]]),
            _logits([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.3, 0.7]]),
        ]
    )
    labels, pop_labels = np.zeros(3, int), np.zeros(4, int)
    # x0 (1.6) beats 1.0, 1.5, 0.5; x1 (1.0) beats 1.0 (tie counts), 0.5; x2 (0.5) beats 0.5
    np.testing.assert_allclose(
        rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels), [0.75, 0.5, 0.25]
    )
    # gamma = 0.5: LR >= 0.5 <=> ratio(z) <= 2 ratio(x): x0 3.2 (all 4), x1 2.0 (3), x2 1.0 (2)
    np.testing.assert_allclose(
        rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels, gamma=0.5), [1.0, 0.75, 0.5]
    )


def _setting(seed: int, n: int = 400, m: int = 300, k: int = 4, c: int = 5, leak: float = 2.0):
    """Random logits; members (first half) get `leak` added to their true-class target logit."""
    g = np.random.default_rng(seed)
    labels, pop_labels = g.integers(0, c, n), g.integers(0, c, m)
    base = g.normal(size=(n, c)) * 1.5
    base[np.arange(n), labels] += g.normal(
        1.0, 1.0, size=n
    )  # record difficulty, shared by all models
    pop_base = g.normal(size=(m, c)) * 1.5
    pop_base[np.arange(m), pop_labels] += g.normal(1.0, 1.0, size=m)
    refs = base + 0.3 * g.normal(size=(k, n, c))
    pop_refs = pop_base + 0.3 * g.normal(size=(k, m, c))
    target = base + 0.3 * g.normal(size=(n, c))
    is_member = np.arange(n) < n // 2
    target[is_member, labels[is_member]] += leak
    pop_target = pop_base + 0.3 * g.normal(size=(m, c))
    return target, refs, labels, pop_target, pop_refs, pop_labels, is_member


def test_scores_are_fractions_of_the_population() -> None:
    target, refs, labels, pop_t, pop_r, pop_labels, _ = _setting(0)
    s = rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels)
    assert s.shape == (400,) and s.min() >= 0 and s.max() <= 1
    np.testing.assert_allclose(s * 300, np.round(s * 300))


def test_invariant_to_shifting_a_row_of_logits() -> None:
    target, refs, labels, pop_t, pop_r, pop_labels, _ = _setting(1)
    s = rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels)
    shifted = rmia_scores(target + 7.0, refs - 3.0, labels, pop_t + 1.0, pop_r, pop_labels)
    np.testing.assert_allclose(s, shifted)


def test_larger_gamma_never_raises_a_score() -> None:
    args = _setting(2)[:-1]
    s1, s2 = rmia_scores(*args, gamma=1.0), rmia_scores(*args, gamma=2.0)
    assert (s2 <= s1).all() and (s2 < s1).any()


def test_finds_members_and_not_a_non_leaking_model() -> None:
    target, refs, labels, pop_t, pop_r, pop_labels, is_member = _setting(3)
    assert roc_auc(is_member, rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels)) > 0.8
    # negative control: a "target" that is just another reference model has no members
    control, _, _, pop_control, _, _, _ = _setting(3, leak=0.0)
    auc = roc_auc(is_member, rmia_scores(control, refs, labels, pop_control, pop_r, pop_labels))
    assert 0.4 < auc < 0.6


def test_dividing_by_p_x_matters() -> None:
    # easy records (high p(x)) must not look like members just because the target is confident
    target, refs, labels, pop_t, pop_r, pop_labels, is_member = _setting(4, leak=1.0)
    s = rmia_scores(target, refs, labels, pop_t, pop_r, pop_labels)
    raw = target[np.arange(len(labels)), labels] - np.log(np.exp(target).sum(1))
    assert roc_auc(is_member, s) > roc_auc(is_member, raw) + 0.1


def test_one_reference_model_and_one_population_record() -> None:
    s = rmia_scores(
        _logits([[0.9, 0.1]]),
        _logits([[[0.5, 0.5]]]),
        [0],
        _logits([[0.5, 0.5]]),
        _logits([[[0.5, 0.5]]]),
        [0],
    )
    assert s.tolist() == [1.0]


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda a: {**a, "target_logits": a["target_logits"][:, :1]}, "target_logits"),
        (lambda a: {**a, "reference_logits": a["reference_logits"][0]}, "reference_logits"),
        (lambda a: {**a, "reference_logits": a["reference_logits"][:, :-1]}, "reference_logits"),
        (lambda a: {**a, "labels": a["labels"][:-1]}, "labels"),
        (lambda a: {**a, "labels": a["labels"] + 5}, "labels"),
        (lambda a: {**a, "labels": a["labels"].astype(float)}, "labels"),
        (lambda a: {**a, "pop_labels": a["pop_labels"] - 1}, "pop_labels"),
        (
            lambda a: {**a, "reference_pop_logits": a["reference_pop_logits"][:2]},
            "reference_pop_logits",
        ),
        (
            lambda a: {
                **a,
                "target_pop_logits": a["target_pop_logits"][:, :3],
                "reference_pop_logits": a["reference_pop_logits"][..., :3],
                "pop_labels": a["pop_labels"] % 3,
            },
            "classes",
        ),
        (lambda a: {**a, "target_logits": np.where(a["target_logits"] > 0, np.nan, 0.0)}, "finite"),
        (lambda a: {**a, "gamma": 0.0}, "gamma"),
        (lambda a: {**a, "gamma": True}, "gamma"),
    ],
)
def test_bad_input(change, word) -> None:
    target, refs, labels, pop_t, pop_r, pop_labels, _ = _setting(5, n=20, m=10, k=3)
    args = dict(
        target_logits=target,
        reference_logits=refs,
        labels=labels,
        target_pop_logits=pop_t,
        reference_pop_logits=pop_r,
        pop_labels=pop_labels,
        gamma=1.0,
    )
    with pytest.raises(ValueError, match=word):
        rmia_scores(**change(args))
