"""DP-SGD: accuracy at each epsilon vs non-private, and the time cost of per-sample gradients.

* Test accuracy on digits of a zero-initialised linear model trained with ``train_dp_sgd``
  at epsilon 0.5, 1, 3, 8 (delta = 1e-5) and without privacy; median of 3 seeds. Two ways:
  notebook 04's ``CONFIG`` (Adam, 40 epochs, batch 512, C = 1, PRV accountant), and a config
  chosen *per epsilon* on a validation split (20% of the training split) from ``GRID``, then
  retrained on the whole training split and scored on the test split. The notebook runs only a
  small one-epsilon sweep (its 60-second budget); this grid is the larger version.
* Seconds per epoch (1,347 examples, one thread) of non-private SGD, Opacus hooks, Opacus ghost
  clipping, the scratch ``vmap(grad)`` version and microbatching, on a small MLP (64-32-10) and a
  wide one (64-512-512-10), at batch 128; the private methods also as ratios to non-private.
  Extra rows at batch 512 (where DP training runs) for ghost clipping on both models and for
  vmap vs hooks on the small one. Goals (issue 6): vmap within 1.5x of Opacus hooks; ghost
  clipping under 3x non-private on the small model.
"""

from __future__ import annotations

import itertools
import math
import statistics
import warnings

import torch
from sklearn.model_selection import train_test_split
from torch import nn

from course_utils.data import digits_split
from course_utils.privacy.dpsgd import GRADIENT_METHODS, gradient_step_seconds, train_dp_sgd
from course_utils.training import evaluate, mlp, train

CONFIG = dict(delta=1e-5, epochs=40, batch_size=512, max_grad_norm=1.0, lr=0.05, accountant="prv")
GRID = {"batch_size": (256, 512), "epochs": (20, 40), "lr": (0.05, 0.1)}  # tuned on validation
EPSILONS = (0.5, 1.0, 3.0, 8.0)
SEEDS = (0, 1, 2)
SIZES = {"small 64-32-10": (32,), "wide 64-512-512-10": (512, 512)}
REPEATS = {"small 64-32-10": 25, "wide 64-512-512-10": 5}  # best of: many cheap steps, few dear ones
BATCH = 128
LARGE_BATCH = 512


def _zero_linear() -> nn.Module:
    model = mlp(64, (), 10)
    for p in model.parameters():
        nn.init.zeros_(p)
    return model


def _test_accuracies(X_train, y_train, X_test, y_test, epsilon: float, config: dict) -> list[float]:
    return [evaluate(train_dp_sgd(_zero_linear(), X_train, y_train, epsilon=epsilon, seed=s, **config)[0], X_test, y_test)
            for s in SEEDS]


def _accuracy_row(name: str, accs: list[float], note: str) -> dict:
    return {"name": name, "value": statistics.median(accs), "unit": "",
            "note": f"median of {len(SEEDS)} seeds (min {min(accs):.3f}, max {max(accs):.3f}); {note}"}


def accuracy_rows() -> list[dict]:
    X_train, X_test, y_train, y_test = digits_split(seed=0)
    X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.2, stratify=y_train, random_state=0)
    rows = []
    for eps in EPSILONS:
        accs = _test_accuracies(X_train, y_train, X_test, y_test, eps, CONFIG)
        rows.append(_accuracy_row(f"dp-sgd test accuracy, epsilon={eps:g}", accs, "delta=1e-5, notebook CONFIG"))
    for eps in EPSILONS:  # per-epsilon choice on validation (median over seeds), then test
        best, best_val = None, -1.0
        for values in itertools.product(*GRID.values()):
            config = {**CONFIG, **dict(zip(GRID, values, strict=True))}
            val = statistics.median(_test_accuracies(X_fit, y_fit, X_val, y_val, eps, config))
            if val > best_val:
                best, best_val = config, val
        accs = _test_accuracies(X_train, y_train, X_test, y_test, eps, best)
        chosen = ", ".join(f"{k} {best[k]:g}" for k in GRID)
        rows.append(_accuracy_row(f"dp-sgd test accuracy, epsilon={eps:g}, tuned on validation", accs,
                                  f"chosen: {chosen} (validation {best_val:.3f})"))
    accs = []
    for s in SEEDS:
        model = _zero_linear()
        train(model, X_train, y_train, epochs=CONFIG["epochs"], batch_size=CONFIG["batch_size"], lr=CONFIG["lr"], seed=s)
        accs.append(evaluate(model, X_test, y_test))
    rows.append({"name": "non-private test accuracy (same model, Adam)", "value": statistics.median(accs), "unit": "",
                 "note": f"median of {len(SEEDS)} seeds; epsilon = {math.inf}"})
    return rows


def _epoch_seconds(hidden: tuple, X, y, method: str, batch: int, repeats: int) -> float:
    step = gradient_step_seconds(lambda: mlp(64, hidden, 10), X, y, method=method, batch_size=batch, repeats=repeats)
    return step * len(X) / batch


def timing_rows() -> list[dict]:
    X_train, _, y_train, _ = digits_split(seed=0)
    steps_per_epoch = len(X_train) / BATCH
    rows = []
    for size, hidden in SIZES.items():
        secs = {m: _epoch_seconds(hidden, X_train, y_train, m, BATCH, REPEATS[size]) for m in GRADIENT_METHODS}
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
    # batch 512: the fixed per-step cost of Opacus's two backward passes is spread over more examples
    for size, hidden in SIZES.items():
        methods = ("non-private", "opacus-ghost") + (("opacus-hooks", "vmap") if size.startswith("small") else ())
        secs = {m: _epoch_seconds(hidden, X_train, y_train, m, LARGE_BATCH, REPEATS[size]) for m in methods}
        rows.append({"name": f"dp-sgd epoch time ratio, opacus-ghost / non-private, {size}, batch {LARGE_BATCH}",
                     "value": secs["opacus-ghost"] / secs["non-private"], "unit": "x",
                     "note": f"goal < 3 on the small model; {secs['non-private']:.4g} vs {secs['opacus-ghost']:.4g} s per epoch"})
        if "vmap" in secs:
            rows.append({"name": f"dp-sgd vmap / opacus-hooks, {size}, batch {LARGE_BATCH}",
                         "value": secs["vmap"] / secs["opacus-hooks"], "unit": "x", "note": "goal <= 1.5"})
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
