"""course_utils.results: results with several parts are frozen dataclasses that also read like dicts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_utils.federated import FedResult, NumpyNet, run_federated
from course_utils.privacy.audit import AuditResult, audit_samples
from course_utils.privacy.epsilon_dial import NeighbourDensities, neighbour_densities
from course_utils.results import Result
from course_utils.training import TrainingHistory, mlp, train


def test_training_history_has_fields_and_the_old_keys():
    X = np.r_[np.zeros((10, 2)), np.ones((10, 2))]
    y = np.r_[np.zeros(10), np.ones(10)].astype(int)
    history = train(mlp(2, (), 2, rng=0), X, y, epochs=3)
    assert isinstance(history, TrainingHistory) and isinstance(history, Result)
    assert history["loss"] is history.loss and len(history.accuracy) == 3
    assert (
        list(history.keys()) == ["loss", "accuracy"] and "loss" in history and "lr" not in history
    )
    assert dict(history.as_dict()) == {"loss": history.loss, "accuracy": history.accuracy}
    with pytest.raises(KeyError):
        history["val_accuracy"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        history.loss = []


def test_the_package_results_follow_the_rule():
    net = NumpyNet(n_in=2, n_hidden=0, n_out=2)
    X, y = np.eye(2), np.array([0, 1])
    fed = run_federated(net, [(X, y), (X, y)], rounds=2, X_test=X, y_test=y, rng=0)
    assert isinstance(fed, FedResult) and len(fed.accuracy) == 3 and fed["upload_bytes"] > 0
    dens = neighbour_densities(
        np.linspace(-3, 3, 7), value=0, value_prime=1, sensitivity=1, epsilon=1
    )
    assert isinstance(dens, NeighbourDensities) and dens["scale"] == dens.scale == 1.0
    rng = np.random.default_rng(0)
    audit = audit_samples(rng.laplace(0, 1, 400), rng.laplace(1, 1, 400))
    assert isinstance(audit, AuditResult) and audit["epsilon_lower"] == audit.epsilon_lower
    for result in (fed, dens, audit):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.accuracy = None
