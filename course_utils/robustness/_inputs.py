"""Input handling shared by the robustness modules (private: import the public functions instead).

* Inputs may be numpy arrays or tensors; functions return the kind they were given.
* Models are put in eval mode for attacks and certification and restored afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

Array = np.ndarray | torch.Tensor


def _tensor(X: Array, name: str = "X") -> tuple[torch.Tensor, bool]:
    """``X`` as a detached float32 tensor, and whether it came in as numpy."""
    if isinstance(X, torch.Tensor):
        return X.detach().to(torch.float32), False
    try:
        return torch.as_tensor(np.asarray(X, dtype=np.float32)), True
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a numeric array or tensor, got {type(X).__name__}"
        ) from exc


def _tensor_keep_graph(X: Array, name: str = "X") -> tuple[torch.Tensor, bool]:
    """Like :func:`_tensor`, but a tensor keeps its autograd graph (for transforms)."""
    if isinstance(X, torch.Tensor):
        return X.to(torch.float32), False
    return _tensor(X, name)


def _like(X_t: torch.Tensor, was_numpy: bool) -> Array:
    X_t = X_t.detach()
    return X_t.numpy() if was_numpy else X_t


def _labels(y: Array, n: int) -> torch.Tensor:
    y_t = (
        torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).long().reshape(-1)
    )
    if len(y_t) != n:
        raise ValueError(f"X and y have different lengths: {n} and {len(y_t)}")
    return y_t


def _check_unit_box(X_t: torch.Tensor) -> None:
    if X_t.numel() and (float(X_t.min()) < -1e-6 or float(X_t.max()) > 1 + 1e-6):
        raise ValueError(
            f"X must lie in [0, 1] (got values in [{float(X_t.min()):.3g}, {float(X_t.max()):.3g}]); "
            "scale the inputs first, e.g. digits_split(scale=True)"
        )


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    """L2 norm of each example, shaped to broadcast against ``t``."""
    norms = t.reshape(len(t), -1).norm(dim=1)
    return norms.reshape((-1,) + (1,) * (t.dim() - 1))


class _EvalMode:
    """Context manager: put a model in eval mode and restore its previous mode."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.was_training = self.model.training
        self.model.eval()

    def __exit__(self, *exc: Any) -> None:
        self.model.train(self.was_training)


def _check_single(x: Array) -> torch.Tensor:
    x_t, _ = _tensor(x, "x")
    if x_t.dim() == 0:
        raise ValueError("x must be one example (e.g. shape (64,)), got a scalar")
    return x_t
