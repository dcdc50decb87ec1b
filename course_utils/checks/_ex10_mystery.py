"""The "mystery" of exercise set 10: a vendor's digit classifier and DP-SGD training code.

The vendor claims that the code, and so the model, is (epsilon = 2, delta = 1e-5)-DP for the
add/remove-one relation, by Opacus's RDP accountant. :func:`mystery` hands the learner what an
auditor would get. **The hidden settings** (``_HIDDEN``: which records trained the model, how it
was really trained, what is wrong with the code) live only here and in the checks of
:mod:`course_utils.checks.ex10_audit`, which imports this module; the exercise notebook never states
them. The leading underscore keeps the checks' auto-discovery from treating this module as an
exercise set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CLAIM", "ROBUST_EPS", "Mystery", "mystery"]

#: What the vendor claims (public).
CLAIM = {"epsilon": 2.0, "delta": 1e-5, "neighbours": "add/remove-one", "accountant": "RDP"}
#: Threat model of exercise 10.4 (public): an L-infinity ball of this radius, inside [0, 1].
ROBUST_EPS = 0.1

# The hidden settings. The shipped model was NOT trained with the vendor's DP-SGD code but with
# plain, weakly regularised logistic regression on 300 of the 600 audited records; the code clips
# the batch's average gradient instead of each example's (and adds noise scaled for the average).
_HIDDEN: dict[str, Any] = {
    "seed": 0,  # order of the digits, members, reference halves
    "n_audit": 600,
    "n_population": 400,
    "n_members": 300,
    "model_C": 1e3,  # scikit-learn's LogisticRegression(C=1e3): no DP at all
    "bug": "clip_after_average",
    "code_knobs": {"sample_rate": 0.2, "steps": 100, "max_grad_norm": 1.0, "lr": 0.5},
}


# ---------------------------------------------------------------------------------------------
# the mystery
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Mystery:
    """What the auditor gets from the vendor (arrays are read-only copies; see :func:`mystery`).

    Attributes
    ----------
    claim : dict
        ``epsilon``, ``delta``, ``neighbours`` and ``accountant`` of the vendor's claim.
    weights, bias : arrays of shape (10, 64) and (10,)
        The shipped linear classifier: ``logits = X @ weights.T + bias``.
    X_audit, y_audit : arrays of shape (600, 64) and (600,)
        The audited records; the model trained on half of them (which half is hidden).
    X_population, y_population : arrays of shape (400, 64) and (400,)
        Records from the same distribution that no model trained on.
    reference_logits, reference_population_logits : arrays of shape (4, 600, 10) and (4, 400, 10)
        Logits of four reference models, trained exactly like the shipped model, each on a random
        half of the audited records (every record is in two of them).
    X_test, y_test : arrays of shape (450, 64) and (450,)
        Test images for the robustness audit (pixels in [0, 1]).
    """

    claim: dict
    weights: np.ndarray
    bias: np.ndarray
    X_audit: np.ndarray
    y_audit: np.ndarray
    X_population: np.ndarray
    y_population: np.ndarray
    reference_logits: np.ndarray
    reference_population_logits: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def logits(self, X: Any) -> np.ndarray:
        """The shipped model's logits on ``X`` (shape (n, 10))."""
        return np.asarray(X, dtype=float) @ self.weights.T + self.bias

    def canary_runs(self, n_runs: int, *, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Run the vendor's training code ``n_runs`` times with a canary and ``n_runs`` times
        without; return the two arrays of audit scores (higher = looks more like the canary was
        in). The canary is a Dirac gradient of size 100 on a weight no real record touches; the
        score is how far that weight moved during training (as in notebook 10)."""
        from course_utils.validation import as_rng, check_int

        n = check_int(n_runs, "n_runs", min_val=2, max_val=20_000)
        return _code_scores(n, as_rng(rng), _HIDDEN["bug"])

    def __repr__(self) -> str:
        c = self.claim
        return (
            f"Mystery(claim: epsilon={c['epsilon']:g}, delta={c['delta']:g}, {c['neighbours']}, "
            f"{c['accountant']} accountant; {len(self.X_audit)} audited records, "
            f"{len(self.X_population)} population records, {len(self.reference_logits)} reference "
            f"models, {len(self.X_test)} test images)"
        )


def _fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = LogisticRegression(C=_HIDDEN["model_C"], max_iter=3000).fit(X, y)
    return m.coef_.astype(float), m.intercept_.astype(float)


# Computed once per process. A plain dict, not functools.lru_cache: the grader compares this
# module's attributes before and after a submission runs, and a dict of cached values compares
# as unchanged while a freshly built lru_cache wrapper would not.
_CACHE: dict[str, Any] = {}


def _cached(key: str, make: Any) -> Any:
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def _data() -> dict[str, np.ndarray]:
    return _cached("data", _make_data)


def _make_data() -> dict[str, np.ndarray]:
    from course_utils.data import digits_split

    X_train, X_test, y_train, y_test = digits_split(rng=0)
    g = np.random.default_rng(_HIDDEN["seed"])
    order = g.permutation(len(X_train))
    n, m = _HIDDEN["n_audit"], _HIDDEN["n_population"]
    members = np.zeros(n, dtype=bool)
    members[g.permutation(n)[: _HIDDEN["n_members"]]] = True
    return {
        "X_audit": X_train[order[:n]].astype(float),
        "y_audit": y_train[order[:n]],
        "X_population": X_train[order[n : n + m]].astype(float),
        "y_population": y_train[order[n : n + m]],
        "X_test": X_test.astype(float),
        "y_test": y_test,
        "members": members,
    }


def _members() -> np.ndarray:
    return _data()["members"].copy()


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def mystery() -> Mystery:
    """The vendor's model and audit material (computed once per process, in about a second).

    Examples
    --------
    >>> m = mystery()
    >>> m.weights.shape, m.reference_logits.shape, m.claim["epsilon"]
    ((10, 64), (4, 600, 10), 2.0)
    """
    return _cached("mystery", _make_mystery)


def _make_mystery() -> Mystery:
    from course_utils.attacks.membership import membership_masks

    d = _data()
    W, b = _fit(d["X_audit"][d["members"]], d["y_audit"][d["members"]])
    masks = membership_masks(_HIDDEN["n_audit"], 4, rng=_HIDDEN["seed"] + 10)
    refs = [_fit(d["X_audit"][mask], d["y_audit"][mask]) for mask in masks.T]
    ref_logits = np.stack([d["X_audit"] @ Wr.T + br for Wr, br in refs])
    ref_pop = np.stack([d["X_population"] @ Wr.T + br for Wr, br in refs])
    return Mystery(
        claim=dict(CLAIM),
        weights=_frozen(W),
        bias=_frozen(b),
        X_audit=_frozen(d["X_audit"]),
        y_audit=_frozen(d["y_audit"]),
        X_population=_frozen(d["X_population"]),
        y_population=_frozen(d["y_population"]),
        reference_logits=_frozen(ref_logits),
        reference_population_logits=_frozen(ref_pop),
        X_test=_frozen(d["X_test"]),
        y_test=_frozen(d["y_test"]),
    )


def _noise_multiplier() -> float:
    from course_utils.privacy.dpsgd import noise_multiplier_for

    k = _HIDDEN["code_knobs"]
    return noise_multiplier_for(  # cached by dpsgd itself
        epsilon=CLAIM["epsilon"],
        delta=CLAIM["delta"],
        sample_rate=k["sample_rate"],
        steps=k["steps"],
    )


def _code_scores(
    n_runs: int, rng: np.random.Generator, bug: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of ``n_runs`` runs with and ``n_runs`` without the canary of the vendor's code
    (``bug`` as hidden, or None for the correct code): 64 images of 0 and 1, pixel 0 unused."""
    from course_utils.data import digits_split
    from course_utils.privacy.canaries import DiracCanary, dp_sgd_runs

    X_train, _, y_train, _ = digits_split(rng=0)
    zeros_ones = np.isin(y_train, [0, 1])
    X, y = X_train[zeros_ones][:64], y_train[zeros_ones][:64]
    canary_in = np.arange(2 * n_runs) % 2 == 0
    runs = dp_sgd_runs(
        X,
        y,
        n_runs=2 * n_runs,
        n_classes=2,
        noise_multiplier=_noise_multiplier(),
        canary=DiracCanary(feature=0, label=0, norm=100.0),
        canary_in=canary_in,
        bug=bug,
        rng=rng,
        **_HIDDEN["code_knobs"],
    )
    s = runs.scores()
    return s[canary_in], s[~canary_in]
