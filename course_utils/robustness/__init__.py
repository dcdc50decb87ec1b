"""Robustness: evasion attacks, defences, certification, and data poisoning.

The package is split by concept; every name is importable from here as before:

* :mod:`~course_utils.robustness.evasion` - FGSM, PGD, adaptive PGD (BPDA, EOT), robust accuracy;
* :mod:`~course_utils.robustness.defences` - adversarial training, Gaussian augmentation, input
  transformations, defensive distillation, spectral signatures against poisoned data;
* :mod:`~course_utils.robustness.certify` - randomized smoothing certificates;
* data poisoning (label flipping, backdoors) is an attack on the training data and lives in
  :mod:`course_utils.attacks.poisoning`; its functions are re-exported here.

``clopper_pearson_lower`` and ``as_generator`` are deprecated (see :mod:`course_utils.stats` and
the ``rng`` convention of :mod:`course_utils.validation`).
"""

from __future__ import annotations

from ..attacks.poisoning import add_trigger, attack_success_rate, flip_labels, poison_backdoor
from ._deprecated import clopper_pearson_lower
from ._inputs import as_generator
from .certify import (
    certified_accuracy,
    certified_radius,
    certify,
    certify_dataset,
    smoothed_predict,
)
from .defences import (
    Preprocessed,
    Temperature,
    add_noise,
    adversarial_training,
    defensive_distillation,
    distill,
    feature_squeeze,
    gaussian_augment,
    hidden_features,
    median_smooth,
    per_example_loss,
    spectral_signature_scores,
)
from .evasion import bpda_pgd, fgsm, pgd, robust_accuracy
from .tools import art_classifier
from .verify import ibp_bounds, ibp_certified_accuracy

__all__ = [
    "as_generator",
    "fgsm",
    "pgd",
    "robust_accuracy",
    "adversarial_training",
    "gaussian_augment",
    "Preprocessed",
    "Temperature",
    "feature_squeeze",
    "median_smooth",
    "add_noise",
    "bpda_pgd",
    "distill",
    "defensive_distillation",
    "clopper_pearson_lower",
    "certified_radius",
    "smoothed_predict",
    "certify",
    "certify_dataset",
    "certified_accuracy",
    "flip_labels",
    "add_trigger",
    "poison_backdoor",
    "attack_success_rate",
    "per_example_loss",
    "hidden_features",
    "spectral_signature_scores",
    "ibp_bounds",
    "ibp_certified_accuracy",
    "art_classifier",
]
