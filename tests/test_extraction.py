"""Tests of course_utils.attacks.extraction: the query API, extraction, agreement, mixup queries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.attacks.extraction import agreement, extract, mixup_queries, query_api
from course_utils.data import digits_split
from course_utils.training import evaluate, mlp, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setting():
    X_train, X_test, y_train, y_test = digits_split()
    victim = mlp(64, 64, 10, rng=0)
    train(victim, X_train[:700], y_train[:700], epochs=15, lr=2e-2, batch_size=128)
    return victim, X_train[700:], X_test, y_test


def test_query_api_outputs_and_counts(setting):
    victim, pool, _, _ = setting
    labels = query_api(victim, output="label")
    proba = query_api(victim, output="proba")
    rounded = query_api(victim, output="proba", decimals=1)
    L, P, R = labels(pool[:50]), proba(pool[:50]), rounded(pool[:50])
    assert L.shape == (50,) and L.dtype.kind == "i"
    assert P.shape == (50, 10) and np.allclose(P.sum(1), 1) and np.all(P >= 0)
    assert np.allclose(R.sum(1), 1) and np.all(R >= 0)
    assert np.array_equal(L, P.argmax(1))
    assert np.abs(R - P).max() <= 0.1 + 1e-9  # rounding moves each probability a little
    assert labels.n_queries == 50
    labels(pool[:7])
    assert labels.n_queries == 57


def test_query_api_validates():
    with pytest.raises(ValueError, match="output"):
        query_api(mlp(rng=0), output="logits")
    with pytest.raises(ValueError, match="decimals"):
        query_api(mlp(rng=0), decimals=-1)


def test_extract_with_labels_and_probabilities(setting):
    victim, pool, X_test, y_test = setting
    results = {}
    for output in ("label", "proba"):
        surrogate = extract(
            query_api(victim, output=output), pool[:300], mlp(64, 64, 10, rng=1), epochs=30
        )
        results[output] = agreement(victim, surrogate, X_test)
        assert not surrogate.training
    assert min(results.values()) > 0.85
    assert evaluate(surrogate, X_test, y_test) > 0.8


def test_more_queries_give_a_closer_copy(setting):
    victim, pool, X_test, _ = setting
    api = query_api(victim, output="proba")
    few = agreement(victim, extract(api, pool[:30], mlp(64, 64, 10, rng=1), epochs=30), X_test)
    many = agreement(victim, extract(api, pool, mlp(64, 64, 10, rng=1), epochs=30), X_test)
    assert many > few


def test_extract_validates(setting):
    victim, pool, _, _ = setting
    with pytest.raises(ValueError, match="X_queries"):
        extract(query_api(victim), np.zeros((0, 64)), mlp(rng=1))
    with pytest.raises(ValueError, match="answers"):
        extract(lambda X: np.zeros(3, dtype=int), pool[:10], mlp(rng=1))
    with pytest.raises(ValueError, match="labels"):
        extract(lambda X: np.zeros((len(X), 2, 2)), pool[:10], mlp(rng=1))


def test_agreement(setting):
    victim, pool, X_test, _ = setting
    other = mlp(64, 64, 10, rng=3)
    assert agreement(victim, victim, X_test) == 1.0
    a = agreement(victim, other, X_test)
    assert 0.0 <= a <= 1.0 and a == agreement(other, victim, torch.tensor(X_test))
    with pytest.raises(ValueError, match="at least one"):
        agreement(victim, other, np.zeros((0, 64)))


def test_mixup_queries():
    rng = np.random.default_rng(0)
    pool = rng.random((20, 64)).astype(np.float32)
    Q = mixup_queries(pool, 100, rng=rng)
    assert Q.shape == (100, 64) and Q.dtype == np.float32
    assert Q.min() >= pool.min() - 1e-6 and Q.max() <= pool.max() + 1e-6
    assert mixup_queries(pool, 0, rng=rng).shape == (0, 64)
    with pytest.raises(ValueError, match="two examples"):
        mixup_queries(pool[:1], 5, rng=rng)
    with pytest.raises(ValueError, match="n must be"):
        mixup_queries(pool, -1, rng=rng)
