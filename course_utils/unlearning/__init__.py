"""Machine unlearning: make a model forget training rows.

Three ways to honour a deletion request, from exact to approximate:

* **Retrain** without the rows (the gold standard every other method is measured against).
* **SISA** (Bourtoule et al., 2021): train one model per disjoint *shard*, optionally in *slices*
  with checkpoints, and aggregate their votes; a deletion retrains only the shard that held the
  row, from the last checkpoint before it (:func:`sisa_train`, :func:`sisa_remove`).
* **Closed-form / Newton removal**: for ridge regression one Newton step on the objective without
  the row lands exactly on the retrained parameters (:func:`ridge_remove`); for logistic
  regression the same step is an approximation (:func:`newton_remove_logistic`).

Conventions shared with :mod:`course_utils.attacks.reconstruction`:

* Parameters are one vector ``theta``. With ``fit_intercept=True``, ``theta[0]`` is the
  intercept and ``theta[1:]`` the weights; the design matrix is ``Xa = [1, X]``.
* Ridge minimises the *sum* of squared errors plus ``lam * ||w||^2`` (the intercept is not
  penalised). Its Hessian, up to the constant factor 2 that cancels everywhere, is
  ``Xa.T @ Xa + lam * diag(0, 1, ..., 1)`` (:func:`ridge_hessian`).
* Logistic regression (labels 0/1; -1/+1 are accepted too) minimises the *sum* of log-losses plus
  ``lam / 2 * ||w||^2``, so its Hessian ``Xa.T @ diag(p(1-p)) @ Xa + lam * diag(0, 1, ..., 1)``
  has the same regulariser term as ridge's.
"""

from __future__ import annotations

from . import linear, sisa
from .linear import *  # noqa: F403 - the public names of both modules are public here
from .sisa import *  # noqa: F403

__all__ = [*linear.__all__, *sisa.__all__]
