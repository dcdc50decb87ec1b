"""Robustness: evasion attacks, defences, certification, and data poisoning.

The package is split by concept; every name is importable from here as before:

* :mod:`~course_utils.robustness.evasion` - FGSM, PGD, adaptive PGD (BPDA, EOT), robust accuracy;
* :mod:`~course_utils.robustness.defences` - adversarial training, Gaussian augmentation, input
  transformations, defensive distillation, spectral signatures against poisoned data;
* :mod:`~course_utils.robustness.smoothing` - randomized smoothing: certified radii;
* :mod:`~course_utils.robustness.verify` - interval bound propagation: verified robustness;
* :mod:`~course_utils.robustness.tools` - the bridge to the Adversarial Robustness Toolbox (ART);
* data poisoning (label flipping, backdoors) is an attack on the training data and lives in
  :mod:`course_utils.attacks.poisoning`; its functions are re-exported here.

``clopper_pearson_lower`` and ``as_generator`` are deprecated (see :mod:`course_utils.stats` and
the ``rng`` convention of :mod:`course_utils.validation`).
"""

from __future__ import annotations

from ..attacks.poisoning import add_trigger, attack_success_rate, flip_labels, poison_backdoor
from ..training import per_example_loss
from . import defences, evasion, smoothing
from ._deprecated import as_generator, clopper_pearson_lower
from .defences import *  # noqa: F403 - the public names of the three modules are public here
from .evasion import *  # noqa: F403
from .smoothing import *  # noqa: F403
from .tools import art_classifier
from .verify import ibp_bounds, ibp_certified_accuracy

__all__ = [
    *evasion.__all__,
    *defences.__all__,
    *smoothing.__all__,
    # from attacks.poisoning and training, where they live now
    "flip_labels",
    "add_trigger",
    "poison_backdoor",
    "attack_success_rate",
    "per_example_loss",
    # certified robustness by interval bound propagation, and ART's wrapper
    "ibp_bounds",
    "ibp_certified_accuracy",
    "art_classifier",
    # deprecated
    "as_generator",
    "clopper_pearson_lower",
]
