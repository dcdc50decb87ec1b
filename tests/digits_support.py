"""The digits fixtures the robustness, verification and ART tests share: the course's digits split
with a short test set, and a small MLP trained on it once per test module."""

from __future__ import annotations

import pytest
from torch import nn

from course_utils.data import digits_split
from course_utils.training import mlp, train


def digits_fixtures(*, n_test: int, hidden: int, epochs: int) -> tuple:
    """Module-scoped pytest fixtures ``digits`` and ``trained``; put them in the test module with
    ``digits, trained = digits_fixtures(...)``.

    Parameters
    ----------
    n_test : int
        ``digits`` is ``digits_split()`` with the test arrays cut to their first ``n_test`` rows:
        ``(X_train, X_test, y_train, y_test)``.
    hidden : int
        ``trained`` is ``mlp(64, hidden, 10)`` (seed 0) ...
    epochs : int
        ... trained for ``epochs`` on the training arrays (lr 0.02, batches of 128).
    """

    @pytest.fixture(scope="module")
    def digits() -> tuple:
        X_train, X_test, y_train, y_test = digits_split()
        return X_train, X_test[:n_test], y_train, y_test[:n_test]

    @pytest.fixture(scope="module")
    def trained(digits) -> nn.Sequential:
        X_train, _, y_train, _ = digits
        model = mlp(64, hidden, 10, rng=0)
        train(model, X_train, y_train, epochs=epochs, lr=2e-2, batch_size=128)
        return model

    return digits, trained
