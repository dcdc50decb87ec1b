"""Federated learning on the digits (notebooks 05 and 05b): rounds to target accuracy for FedSGD
and FedAvg on IID and non-IID clients, each aggregator under 0-3 sign-flipping attackers of 10,
DP-FedAvg accuracy against user-level epsilon, and Flower's run time for the same 10 rounds
against the scratch loop (the engine's overhead, split as in notebook 05b)."""

from __future__ import annotations

import time

import numpy as np

from course_utils import federated as fl
from course_utils.data import digits_split

TARGET = 0.9


def run() -> list[dict]:
    X, Xt, y, yt = digits_split()
    net = fl.NumpyNet(n_hidden=32)
    common = dict(X_test=Xt, y_test=yt)
    rows: list[dict] = []

    # 1. rounds to 90 % test accuracy: FedSGD (best of three learning rates) vs FedAvg
    splits = {
        "IID": fl.iid_partition(len(y), 10, rng=np.random.default_rng(0)),
        "Dirichlet 0.1": fl.dirichlet_partition(y, 10, alpha=0.1, rng=np.random.default_rng(0)),
        "2 classes/client": fl.shard_partition(y, 10, rng=np.random.default_rng(0), by_class=True),
    }
    sgd_rounds = {}
    for lr in (0.5, 1.0, 2.0):  # FedSGD is split-invariant, so one split suffices
        res = fl.run_federated(
            net,
            fl.client_datasets(X, y, splits["IID"]),
            rounds=60,
            batch_size=None,
            lr=lr,
            **common,
        )
        sgd_rounds[lr] = fl.rounds_to_target(res.accuracy, TARGET)
    best = min((r for r in sgd_rounds.values() if r is not None), default=None)
    rows.append(
        {
            "name": "FedSGD rounds to 90% (any split)",
            "value": best if best is not None else "never",
            "unit": "rounds",
            "note": f"best of lr {sorted(sgd_rounds)}; 10 clients, full batch",
        }
    )
    for name, split in splits.items():
        res = fl.run_federated(net, fl.client_datasets(X, y, split), rounds=60, **common)
        r = fl.rounds_to_target(res.accuracy, TARGET)
        rows.append(
            {
                "name": f"FedAvg rounds to 90% ({name})",
                "value": r if r is not None else "never",
                "unit": "rounds",
                "note": "1 local epoch, batch 10, lr 0.1",
            }
        )
        if r and best:
            rows.append(
                {
                    "name": f"FedAvg speed-up over FedSGD ({name})",
                    "value": best / r,
                    "unit": "x",
                    "note": f"bytes per round {fl.bytes_per_round(net.dim, 10)} (upload)",
                }
            )

    # 2. aggregators under sign-flipping attackers (x10), 12 rounds, IID
    clients = fl.client_datasets(X, y, splits["IID"])
    for agg in ("mean", "trimmed mean", "median", "krum", "multi-krum"):
        for k in range(4):
            res = fl.run_federated(
                net,
                clients,
                rounds=12,
                aggregator=agg,
                malicious=set(range(k)),
                update_attack=fl.sign_flip,
                **common,
            )
            rows.append(
                {
                    "name": f"{agg} accuracy, {k}/10 sign flippers",
                    "value": res.accuracy[-1],
                    "unit": "acc",
                    "note": "12 rounds",
                }
            )

    # 3. DP-FedAvg: 100 clients, sample rate 0.2, 50 rounds, clip 0.5
    clients100 = fl.client_datasets(
        X, y, fl.iid_partition(len(y), 100, rng=np.random.default_rng(0))
    )
    dp_kw = dict(rounds=50, sample_rate=0.2, local_epochs=3, **common)
    base = fl.run_federated(net, clients100, **dp_kw)
    rows.append(
        {
            "name": "DP-FedAvg accuracy, no noise",
            "value": base.accuracy[-1],
            "unit": "acc",
            "note": "100 clients, q=0.2, 50 rounds",
        }
    )
    for z in (0.6, 1.0, 2.0, 4.0):
        res = fl.run_federated(net, clients100, max_grad_norm=0.5, noise_multiplier=z, **dp_kw)
        eps = fl.dp_fedavg_epsilon(noise_multiplier=z, sample_rate=0.2, rounds=50, delta=1e-5)
        rows.append(
            {
                "name": f"DP-FedAvg accuracy at eps={eps:.2f}",
                "value": res.accuracy[-1],
                "unit": "acc",
                "note": f"noise_multiplier {z}, max_grad_norm 0.5, delta 1e-5 (n = 100 clients)",
            }
        )

    # 4. Flower (Ray simulation runtime) vs the scratch loop, same 10 rounds as notebook 05b
    rounds = 10
    start = time.perf_counter()
    scratch = fl.run_federated(net, clients, rounds=rounds, **common)
    scratch_s = time.perf_counter() - start
    rows.append(
        {
            "name": f"scratch FedAvg, {rounds} rounds",
            "value": scratch_s,
            "unit": "s",
            "note": "10 clients; goal (was a notebook 05b assert): < 1 s",
        }
    )
    try:
        from course_utils.flower_app import ray_processes, run_flower

        flower = run_flower(net, clients, rounds=rounds, start_attempts=3, **common)
    except Exception as exc:  # Ray may not start on a crowded machine; say so, keep the other rows
        rows.append(
            {
                "name": f"Flower FedAvg, {rounds} rounds",
                "value": "failed",
                "unit": "",
                "note": f"{type(exc).__name__}: {str(exc)[:120]}",
            }
        )
        return rows
    same = bool(np.allclose(flower.accuracy, scratch.accuracy))
    rows.append(
        {
            "name": f"Flower FedAvg, {rounds} rounds (total)",
            "value": flower.seconds,
            "unit": "s",
            "note": f"Ray backend, 2 CPUs; same accuracies as scratch: {same}",
        }
    )
    parts = flower.breakdown()
    for part, secs in parts.items():
        name = part if part.startswith("Flower") else f"Flower: {part}"
        rows.append({"name": name, "value": secs, "unit": "s", "note": ""})
    startup = parts.get("starting Ray", 0.0) + parts.get("starting workers", 0.0)
    rows += [
        {
            "name": "Flower start-up / training rounds",
            "value": startup / max(parts.get("training rounds", 0.0), 1e-9),
            "unit": "x",
            "note": "goal (was a notebook 05b assert): > 2 - start-up dominates a 10-round demo",
        },
        {
            "name": "Flower per round after start-up",
            "value": float(np.median(flower.round_seconds[1:])),
            "unit": "s",
            "note": f"scratch per round {scratch_s / rounds:.3f} s; goal (was a notebook 05b assert): "
            "between 2x the scratch round and 2 s",
        },
        {
            "name": "Flower overhead ratio (total / scratch)",
            "value": flower.seconds / scratch_s,
            "unit": "x",
            "note": f"Ray processes left: {len(ray_processes())}",
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
