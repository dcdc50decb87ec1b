"""DP-SGD: accuracy at each epsilon vs non-private, and the time cost of per-sample gradients.

* Test accuracy on digits of a zero-initialised linear model trained with ``train_dp_sgd``
  (Adam, 30 epochs, batch 256, C = 1, delta = 1e-5) at epsilon 0.5, 1, 3, 8, and without privacy;
  median of 3 seeds.
* Seconds per epoch (1,347 examples, batch 128, one thread) of non-private SGD, Opacus hooks,
  Opacus ghost clipping, the scratch ``vmap(grad)`` version and microbatching, on a small MLP
  (64-32-10) and a wide one (64-512-512-10); the private methods also as ratios to non-private.
  Goals (issue 6): vmap within 1.5x of Opacus hooks; ghost clipping under 3x non-private on the
  small model.
"""

from __future__ import annotations

import math
import statistics
import warnings

import torch
from torch import nn

from course_utils.data import digits_split
from course_utils.privacy.dpsgd import GRADIENT_METHODS, gradient_step_seconds, train_dp_sgd
from course_utils.training import evaluate, mlp, train

CONFIG = dict(delta=1e-5, epochs=30, batch_size=256, max_grad_norm=1.0, lr=0.05)
EPSILONS = (0.5, 1.0, 3.0, 8.0)
SEEDS = (0, 1, 2)
SIZES = {"small 64-32-10": (32,), "wide 64-512-512-10": (512, 512)}
REPEATS = {"small 64-32-10": 25, "wide 64-512-512-10": 5}  # best of: many cheap steps, few dear ones
BATCH = 128


def _zero_linear() -> nn.Module:
    model = mlp(64, (), 10)
    for p in model.parameters():
        nn.init.zeros_(p)
    return model


def accuracy_rows() -> list[dict]:
    X_train, X_test, y_train, y_test = digits_split(seed=0)
    rows = []
    for eps in EPSILONS:
        accs = [evaluate(train_dp_sgd(_zero_linear(), X_train, y_train, epsilon=eps, seed=s, **CONFIG)[0], X_test, y_test)
                for s in SEEDS]
        rows.append({"name": f"dp-sgd test accuracy, epsilon={eps:g}", "value": statistics.median(accs), "unit": "",
                     "note": f"median of {len(SEEDS)} seeds (min {min(accs):.3f}, max {max(accs):.3f}); delta=1e-5"})
    accs = []
    for s in SEEDS:
        model = _zero_linear()
        train(model, X_train, y_train, epochs=CONFIG["epochs"], batch_size=CONFIG["batch_size"], lr=CONFIG["lr"], seed=s)
        accs.append(evaluate(model, X_test, y_test))
    rows.append({"name": "non-private test accuracy (same model, Adam)", "value": statistics.median(accs), "unit": "",
                 "note": f"median of {len(SEEDS)} seeds; epsilon = {math.inf}"})
    return rows


def timing_rows() -> list[dict]:
    X_train, _, y_train, _ = digits_split(seed=0)
    steps_per_epoch = len(X_train) / BATCH
    rows = []
    for size, hidden in SIZES.items():
        secs = {m: gradient_step_seconds(lambda h=hidden: mlp(64, h, 10), X_train, y_train, method=m,
                                         batch_size=BATCH, repeats=REPEATS[size]) * steps_per_epoch
                for m in GRADIENT_METHODS}
        base = secs["non-private"]
        rows.append({"name": f"dp-sgd epoch seconds, non-private, {size}", "value": base, "unit": "s",
                     "note": f"batch {BATCH}, best of {REPEATS[size]} steps x {steps_per_epoch:.1f} steps, 1 thread"})
        for m in GRADIENT_METHODS[1:]:
            rows.append({"name": f"dp-sgd epoch time ratio, {m} / non-private, {size}", "value": secs[m] / base,
                         "unit": "x", "note": f"{secs[m]:.3f} s per epoch"})
        rows.append({"name": f"dp-sgd vmap / opacus-hooks, {size}", "value": secs["vmap"] / secs["opacus-hooks"],
                     "unit": "x", "note": "goal <= 1.5"})
        rows.append({"name": f"dp-sgd microbatch / vmap, {size}", "value": secs["microbatch"] / secs["vmap"],
                     "unit": "x", "note": "< 1 means the per-example loop beats vectorised (memory-bound)"})
    return rows


def run() -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return accuracy_rows() + timing_rows()
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:>10.4g} {row['unit']:<3} {row['note']}")
