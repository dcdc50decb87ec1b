"""A small digit classifier trained on the spot, and the margin loss that the reference attacks
of the challenge checks of sets 06 and 10 climb.

Kept apart from the check modules (the leading underscore keeps the checks' auto-discovery from
importing it as an exercise set). Training is seeded and single-threaded, takes about a second,
and is cached per process.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["digits_mlp", "margin_loss"]

# Trained once per process. A plain dict, not functools.lru_cache: the grader compares this
# module's attributes with a fresh import, and a dict's contents may change (a cache wrapper's
# identity would not match and would be flagged as a patch).
_CACHE: dict[tuple[int, int], tuple[nn.Module, torch.Tensor, torch.Tensor]] = {}


def margin_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(largest other logit) - (true logit), per example: positive exactly where the prediction
    is wrong, and unlike the cross-entropy it does not saturate (Carlini and Wagner).

    Examples
    --------
    >>> margin_loss(torch.tensor([[2.0, 0.5, 1.0], [0.0, 3.0, 1.0]]), torch.tensor([0, 2]))
    tensor([-1.,  2.])
    """
    true = logits.gather(1, y[:, None])[:, 0]
    other = logits.masked_fill(nn.functional.one_hot(y, logits.shape[1]).bool(), -torch.inf)
    return other.amax(1) - true


def digits_mlp(hidden: int, seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """``(net, X_test, y_test)``: a ``64 -> hidden -> 10`` ReLU network trained for 25 epochs
    (Adam) on 1,300 of scikit-learn's digits (pixels / 16), and 300 other digits to test on.

    The network's parameters do not require gradients (attacks take input gradients only).
    """
    if (hidden, seed) not in _CACHE:
        _CACHE[hidden, seed] = _train(hidden, seed)
    return _CACHE[hidden, seed]


def _train(hidden: int, seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1300], order[1300:1600]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(0)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        Xt, yt = torch.tensor(X[train]), torch.tensor(y[train])
        for _ in range(25):
            perm = torch.randperm(len(Xt), generator=gen)
            for i in range(0, len(Xt), 64):
                b = perm[i : i + 64]
                opt.zero_grad()
                nn.functional.cross_entropy(net(Xt[b]), yt[b]).backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net, torch.tensor(X[test]), torch.tensor(y[test])
