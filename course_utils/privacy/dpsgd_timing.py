"""How long DP-SGD takes: one training step, or one whole epoch read through a data loader, for
each way of computing clipped per-sample gradients (Opacus's hooks and ghost clipping, this
package's ``vmap`` version, one backward pass per example) against non-private SGD.

Wall-clock numbers depend on the machine and its load: they belong in benchmarks and in prose
stated with their spread, never in an assert.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ..training import to_tensors
from ..validation import (
    RNGLike,
    as_seed,
    check_choice,
    check_int,
    check_non_negative,
    check_positive,
)
from .dpsgd_steps import (
    LossFn,
    _noisy_sum,  # the package's DP-SGD noise step (private to course_utils.privacy)
    clip_per_sample,
    clipped_sum_microbatch,
    per_sample_gradients,
)

__all__ = ["GRADIENT_METHODS", "gradient_step_seconds", "epoch_seconds"]


GRADIENT_METHODS = ("non-private", "opacus-hooks", "opacus-ghost", "vmap", "microbatch")


def _method_step(
    make_model: Callable[[], nn.Module],
    method: str,
    loader: torch.utils.data.DataLoader,
    *,
    batch_size: int,
    max_grad_norm: float,
    noise_multiplier: float,
    poisson_sampling: bool,
    seed: int,
) -> tuple[Callable[[torch.Tensor, torch.Tensor], None], torch.utils.data.DataLoader]:
    """One training step of ``method`` as a function of a batch, and the loader the method trains with.

    The Opacus methods wrap model, optimiser and loader with ``PrivacyEngine.make_private`` (so the
    loader they return is Opacus's, Poisson-sampled when ``poisson_sampling``); the others keep
    ``loader``. Shared by :func:`gradient_step_seconds` and :func:`epoch_seconds`.
    """
    check_choice(method, "method", GRADIENT_METHODS)
    max_grad_norm = check_positive(max_grad_norm, "max_grad_norm")
    noise_multiplier = check_non_negative(noise_multiplier, "noise_multiplier")
    if isinstance(make_model, nn.Module) or not callable(make_model):
        raise ValueError(
            f"make_model must be a function that returns a fresh model (e.g. lambda: mlp(64, (32,), 10)), "
            f"got {type(make_model).__name__}"
        )
    torch.manual_seed(seed)
    model = make_model()
    if not isinstance(model, nn.Module):
        raise ValueError(f"make_model() must return a torch.nn.Module, got {type(model).__name__}")
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn: LossFn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    params = [p for p in model.parameters() if p.requires_grad]

    if method.startswith("opacus"):
        from opacus import PrivacyEngine

        mode = "hooks" if method == "opacus-hooks" else "ghost"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = PrivacyEngine(accountant="rdp").make_private(
                module=model,
                optimizer=opt,
                criterion=nn.CrossEntropyLoss(),
                data_loader=loader,
                noise_multiplier=noise_multiplier,
                max_grad_norm=max_grad_norm,
                poisson_sampling=poisson_sampling,
                grad_sample_mode=mode,
                noise_generator=gen,
            )
        model, opt, loader = out[0], out[1], out[-1]
        loss_fn = out[2] if mode == "ghost" else loss_fn

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        opt.zero_grad()
        if method in ("non-private", "opacus-hooks", "opacus-ghost"):
            loss_fn(model(xb), yb).backward()
        else:
            if method == "vmap":
                clipped, _ = clip_per_sample(
                    per_sample_gradients(model, loss_fn, xb, yb),
                    max_grad_norm=max_grad_norm,
                    inplace=True,
                )
            else:
                total, _ = clipped_sum_microbatch(
                    model, loss_fn, xb, yb, max_grad_norm=max_grad_norm
                )
                clipped = {k: v.unsqueeze(0) for k, v in total.items()}  # already summed
            # the noise step of train_dp_sgd, from one torch stream kept across steps
            noisy = _noisy_sum(clipped, noise_multiplier * max_grad_norm, gen, batch_size)
            for k, p in zip(names, params, strict=True):
                p.grad = noisy[k]
        opt.step()

    return step, loader


def _timing_data(
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    batch_size: int,
    count: tuple[str, int],
) -> torch.utils.data.TensorDataset:
    """Validate the arguments of the two timing helpers; return the data as a ``TensorDataset``."""
    check_int(count[1], count[0], min_val=1)
    X_t, y_t = to_tensors(X, y)
    check_int(batch_size, "batch_size", min_val=1, max_val=len(X_t))
    return torch.utils.data.TensorDataset(X_t, y_t)


def _fastest(run: Callable[[], object], times: int) -> float:
    """Seconds of the fastest of ``times`` calls of ``run``, after one untimed warm-up call.

    The warm-up fills caches and lets Opacus attach its hooks; the fastest call is the one least
    disturbed by other processes (as :mod:`timeit` advises). Warnings are silenced throughout.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
        best = math.inf
        for _ in range(times):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
    return best


def gradient_step_seconds(
    make_model: Callable[[], nn.Module],
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    method: str,
    batch_size: int = 128,
    max_grad_norm: float = 1.0,
    noise_multiplier: float = 1.0,
    repeats: int = 5,
    rng: RNGLike = 0,
) -> float:
    """Wall-clock seconds (best of ``repeats``) of one training step (forward, gradients, clip, noise, update).

    The batch is a fixed tensor, so this is the compute of a step alone; :func:`epoch_seconds`
    times whole epochs with a data loader.

    Parameters
    ----------
    make_model : callable
        Returns a fresh model (each method wraps its own copy).
    X, y : arrays
        The first ``batch_size`` rows form the batch (fixed, so every method does the same work).
    method : {"non-private", "opacus-hooks", "opacus-ghost", "vmap", "microbatch"}
        Plain SGD; Opacus with per-sample gradients from module hooks; Opacus's ghost (fast
        gradient) clipping, which never stores per-sample gradients; this module's
        ``vmap(grad)`` version; one backward pass per example (:func:`clipped_sum_microbatch`).
    repeats : int
        Timed steps after one warm-up step; the fastest is returned.
    rng : numpy.random.Generator, int seed or None, default 0
        Seeds the model's initialisation, the batches and the noise.

    Examples
    --------
    >>> X, y = np.random.default_rng(0).normal(size=(32, 4)), np.arange(32) % 2
    >>> make = lambda: nn.Linear(4, 2)
    >>> all(gradient_step_seconds(make, X, y, method=m, batch_size=16, repeats=2) > 0
    ...     for m in GRADIENT_METHODS)
    True
    """
    xb, yb = _timing_data(X, y, batch_size, ("repeats", repeats))[:batch_size]
    seed = as_seed(rng)
    batch = torch.utils.data.TensorDataset(xb, yb)
    step, _ = _method_step(
        make_model,
        method,
        torch.utils.data.DataLoader(batch, batch_size=batch_size),
        batch_size=batch_size,
        max_grad_norm=max_grad_norm,
        noise_multiplier=noise_multiplier,
        poisson_sampling=False,
        seed=seed,
    )
    return _fastest(lambda: step(xb, yb), repeats)


def epoch_seconds(
    make_model: Callable[[], nn.Module],
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    method: str,
    batch_size: int = 128,
    max_grad_norm: float = 1.0,
    noise_multiplier: float = 1.0,
    epochs: int = 3,
    rng: RNGLike = 0,
) -> float:
    """Wall-clock seconds (best of ``epochs``) of one whole training epoch read through a torch ``DataLoader``.

    This is what a training loop costs end to end: every method reads ``TensorDataset(X, y)``
    through a ``DataLoader``, which fetches and stacks the examples of each batch one by one.
    Non-private SGD shuffles; every private method uses Poisson sampling with rate
    ``batch_size / n`` (the Opacus methods through the loader ``make_private`` returns, the
    scratch methods through Opacus's ``DPDataLoader``), as its privacy accounting requires.
    On a small model the loader costs more than the gradients, so the ratios between methods
    are smaller than those of :func:`gradient_step_seconds`.

    Parameters
    ----------
    make_model, method, max_grad_norm, noise_multiplier, rng
        As in :func:`gradient_step_seconds`.
    X, y : arrays
        The whole training set.
    batch_size : int
        Batch size (expected batch size under Poisson sampling).
    epochs : int
        Timed epochs after one warm-up epoch; the fastest is returned.

    Examples
    --------
    >>> X, y = np.random.default_rng(0).normal(size=(64, 4)), np.arange(64) % 2
    >>> all(epoch_seconds(lambda: nn.Linear(4, 2), X, y, method=m, batch_size=16, epochs=1) > 0
    ...     for m in GRADIENT_METHODS)
    True
    """
    data = _timing_data(X, y, batch_size, ("epochs", epochs))
    seed = as_seed(rng)
    shuffle = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        data, batch_size=batch_size, shuffle=True, generator=shuffle
    )
    step, loader = _method_step(
        make_model,
        method,
        loader,
        batch_size=batch_size,
        max_grad_norm=max_grad_norm,
        noise_multiplier=noise_multiplier,
        poisson_sampling=True,
        seed=seed,
    )
    if method in ("vmap", "microbatch"):
        from opacus.data_loader import DPDataLoader

        loader = DPDataLoader.from_data_loader(
            loader, generator=torch.Generator().manual_seed(seed)
        )

    def one_epoch() -> None:
        for xb, yb in loader:
            if len(xb) > 0:  # an empty Poisson batch: nothing to learn, and vmap needs a batch
                step(xb, yb)

    return _fastest(one_epoch, epochs)
