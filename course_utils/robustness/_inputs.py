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
Generator = torch.Generator | np.random.Generator | int | None


def as_generator(generator: Generator) -> torch.Generator | None:
    """A ``torch.Generator`` from a torch generator, a numpy generator, an int seed, or None.

    ``None`` stays ``None`` (torch's global generator, seeded by :func:`course_utils.setup`).

    Examples
    --------
    >>> g = as_generator(3)
    >>> torch.rand(1, generator=g).item() == torch.rand(1, generator=as_generator(3)).item()
    True
    >>> as_generator(None) is None
    True
    """
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, np.random.Generator):
        return torch.Generator().manual_seed(int(generator.integers(0, 2**62)))
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        if generator < 0:
            raise ValueError(f"generator seed must be non-negative, got {generator}")
        return torch.Generator().manual_seed(int(generator))
    raise ValueError(
        "generator must be a torch.Generator, a numpy Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )


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


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {value!r}") from exc
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


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


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
