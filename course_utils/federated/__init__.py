"""Federated learning in numpy: partitions, FedAvg, client attacks, robust aggregation, DP-FedAvg.

The package is split by concept; every name is importable from here as before:

* :mod:`~course_utils.federated.partitions` - IID, Dirichlet and sharded splits over clients;
* :mod:`~course_utils.federated.aggregation` - FedAvg, median, trimmed mean, Krum, clipping, the
  masks of secure aggregation, the sign-flipping client;
* :mod:`~course_utils.federated.simulation` - the numpy network, local SGD and the round loop.

Label flipping and backdoor clients use :mod:`course_utils.attacks.poisoning` (``poison_backdoor``
and ``attack_success_rate`` are re-exported; the old ``flip_labels``, ``add_trigger``,
``backdoor_data`` and ``backdoor_success`` still work, with a DeprecationWarning). Accounting for
DP-FedAvg lives with the other accountants
(:func:`course_utils.privacy.accounting.dp_fedavg_epsilon`) and the label-mix heat map with the
other plots (:func:`course_utils.plotting.plot_label_mix`); both are re-exported here.

Examples
--------
>>> updates = np.array([[1.0, 0.0], [3.0, 2.0], [100.0, -100.0]])
>>> fedavg(updates, [1, 1, 2]).tolist()
[51.0, -49.5]
>>> coordinate_median(updates).tolist()
[3.0, 0.0]
"""

from __future__ import annotations

import numpy as np  # noqa: F401 - used by the doctest above

from ..attacks.poisoning import TRIGGER_PIXELS, attack_success_rate, poison_backdoor
from ..plotting import plot_label_mix
from ..privacy.accounting import dp_fedavg_epsilon
from ._deprecated import add_trigger, backdoor_data, backdoor_success, flip_labels
from .aggregation import (
    AGGREGATORS,
    clip_update,
    coordinate_median,
    fedavg,
    krum,
    krum_scores,
    pairwise_masks,
    secure_aggregation_masks,
    secure_aggregation_masks_mod,
    sign_flip,
    trimmed_mean,
)
from .partitions import (
    client_datasets,
    dirichlet_partition,
    iid_partition,
    label_histogram,
    shard_partition,
)
from .simulation import (
    FedResult,
    NumpyNet,
    bytes_per_round,
    client_rng,
    local_sgd,
    quadratic_fedavg_path,
    rounds_to_target,
    run_federated,
)

__all__ = [
    "iid_partition",
    "dirichlet_partition",
    "shard_partition",
    "client_datasets",
    "label_histogram",
    "plot_label_mix",
    "quadratic_fedavg_path",
    "fedavg",
    "coordinate_median",
    "trimmed_mean",
    "krum",
    "krum_scores",
    "AGGREGATORS",
    "clip_update",
    "pairwise_masks",
    "secure_aggregation_masks",
    "secure_aggregation_masks_mod",
    "NumpyNet",
    "client_rng",
    "local_sgd",
    "FedResult",
    "run_federated",
    "rounds_to_target",
    "bytes_per_round",
    "sign_flip",
    "poison_backdoor",
    "attack_success_rate",
    "flip_labels",
    "TRIGGER_PIXELS",
    "add_trigger",
    "backdoor_data",
    "backdoor_success",
    "dp_fedavg_epsilon",
]
