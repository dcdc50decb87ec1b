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
from . import aggregation, partitions, simulation
from ._deprecated import add_trigger, backdoor_data, backdoor_success, flip_labels
from .aggregation import *  # noqa: F403 - the public names of the three modules are public here
from .partitions import *  # noqa: F403
from .simulation import *  # noqa: F403

__all__ = [
    *partitions.__all__,
    *aggregation.__all__,
    *simulation.__all__,
    "plot_label_mix",  # plotting
    "dp_fedavg_epsilon",  # privacy.accounting
    "poison_backdoor",  # attacks.poisoning
    "attack_success_rate",
    "TRIGGER_PIXELS",
    # deprecated: the federated versions of attacks.poisoning's functions
    "flip_labels",
    "add_trigger",
    "backdoor_data",
    "backdoor_success",
]
