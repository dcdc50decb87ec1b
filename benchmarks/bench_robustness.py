"""Robustness numbers of notebook 06, recomputed with course_utils on the digits.

Rows: clean and PGD-20 accuracy of a standard and an adversarially trained MLP (and their training
times), certified accuracy of randomized smoothing at L2 radius 0, 0.25 and 0.5, feature squeezing
under the naive and the adaptive (BPDA) attack, and extraction agreement after 100 and 1000
queries. The notebook's own run time is measured by bench_notebooks.py.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import torch

from course_utils import setup
from course_utils.attacks.extraction import agreement, extract, mixup_queries, query_api
from course_utils.data import digits_split
from course_utils.robustness import (
    Preprocessed,
    bpda_pgd,
    certified_accuracy,
    certify_dataset,
    feature_squeeze,
    gaussian_augment,
    pgd,
    robust_accuracy,
)
from course_utils.training import evaluate, mlp, train

FIT = dict(epochs=20, lr=2e-2, batch_size=128)


def _row(name: str, value: float, unit: str, note: str = "") -> dict:
    return {"name": name, "value": value, "unit": unit, "note": note}


def run() -> list[dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run()
    finally:
        torch.set_num_threads(threads)


def _run() -> list[dict]:
    rng = setup(seed=0, style=False)
    X_train, X_test, y_train, y_test = digits_split()
    attack = partial(pgd, eps=0.1, step_size=0.025, steps=20, rng=0)
    rows = []
    train(mlp(64, 256, 10, rng=0), X_train, y_train, epochs=2, batch_size=128)  # warm-up, untimed

    start = time.perf_counter()
    standard = mlp(64, 256, 10, rng=0)
    train(standard, X_train, y_train, **FIT)
    t_standard = time.perf_counter() - start
    start = time.perf_counter()
    robust = mlp(64, 256, 10, rng=0)
    train(
        robust,
        X_train,
        y_train,
        attack=partial(pgd, eps=0.1, step_size=0.05, steps=5, rng=1),
        **FIT,
    )
    t_robust = time.perf_counter() - start
    for label, model in (("standard", standard), ("adversarially trained", robust)):
        rows.append(
            _row(
                f"robustness: {label} clean accuracy",
                evaluate(model, X_test, y_test),
                "frac",
                "MLP 64-256-10, 450 test digits",
            )
        )
        rows.append(
            _row(
                f"robustness: {label} PGD-20 accuracy (Linf 0.1)",
                robust_accuracy(model, X_test, y_test, attack),
                "frac",
                "upper bound on robust accuracy",
            )
        )
    rows.append(_row("robustness: standard training time", t_standard, "s", "20 epochs, 1 thread"))
    rows.append(
        _row(
            "robustness: adversarial training time",
            t_robust,
            "s",
            f"PGD-5 per batch; {t_robust / t_standard:.1f}x standard",
        )
    )

    squeezed = Preprocessed(standard, partial(feature_squeeze, bits=3))
    kw = dict(eps=0.1, step_size=0.025, steps=20, rng=0)
    rows.append(
        _row(
            "robustness: feature squeezing, naive PGD-20 accuracy",
            robust_accuracy(squeezed, X_test, y_test, partial(pgd, **kw)),
            "frac",
            "3 bits, Linf 0.1",
        )
    )
    rows.append(
        _row(
            "robustness: feature squeezing, BPDA PGD-20 accuracy",
            robust_accuracy(squeezed, X_test, y_test, partial(bpda_pgd, **kw)),
            "frac",
            "the gap to the naive row is the lesson",
        )
    )

    base = mlp(64, 256, 10, rng=0)
    train(base, X_train, y_train, attack=gaussian_augment(sigma=0.25, rng=2), **FIT)
    start = time.perf_counter()
    labels, radii = certify_dataset(
        base, X_test[:200], sigma=0.25, n0=100, n=1000, alpha=0.001, rng=3
    )
    t_cert = time.perf_counter() - start
    for r in (0.0, 0.25, 0.5):
        rows.append(
            _row(
                f"robustness: certified accuracy at L2 r={r}",
                certified_accuracy(labels, radii, y_test[:200], r),
                "frac",
                "sigma 0.25, n0 100, n 1000, alpha 0.001, 200 digits",
            )
        )
    rows.append(
        _row("robustness: CERTIFY time per digit", t_cert / 200, "s", "1,100 noisy forward passes")
    )

    victim = mlp(64, 256, 10, rng=0)
    train(victim, X_train[:700], y_train[:700], **FIT)
    pool = X_train[700:]
    queries = np.r_[pool, mixup_queries(pool, 1000 - len(pool), rng=rng)]
    for output in ("label", "proba"):
        for n in (100, 1000):
            surrogate = extract(
                query_api(victim, output=output), queries[:n], mlp(64, 256, 10, rng=1)
            )
            rows.append(
                _row(
                    f"extraction: agreement, {output} API, {n} queries",
                    agreement(victim, surrogate, X_test),
                    "frac",
                    "victim trained on 700 digits",
                )
            )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:.4g} {row['unit']:<5} {row['note']}")
