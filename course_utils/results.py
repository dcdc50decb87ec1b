"""The one shape of a result with several named parts.

The package's rule for what a function returns:

* **one value** - a float, an array, a model (``evaluate``, ``gaussian_sigma``, ``pgd``);
* **several named parts** - a frozen dataclass derived from :class:`Result`
  (``TrainingHistory``, ``FedResult``, ``AuditResult``...): fields with names, types and
  docs, shown by ``repr``, and read-only;
* **a tuple** only where unpacking it is the contract, as in scikit-learn's
  ``train_test_split``: ``X_train, X_test, y_train, y_test = digits_split()``,
  ``lower, upper = clopper_pearson(...)``, ``label, radius = certify(...)``,
  ``model, history = train_dp_sgd(...)``, ``y_poisoned, flipped = flip_labels(...)``;
* **a table** - a pandas DataFrame (``epsilon_ledger``, ``class_report``);
* **a dict** only for a mapping keyed by data (``group_lines``: ``{group: (slope, intercept)}``),
  never for a fixed set of fields.

A :class:`Result` also answers ``result["name"]``, so code written when these results were
plain dicts keeps working.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Fit(Result):
...     loss: float
...     steps: int
>>> fit = Fit(loss=0.25, steps=3)
>>> fit.loss, fit["steps"], list(fit.keys())
(0.25, 3, ['loss', 'steps'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

__all__ = ["Result"]


class Result:
    """Base class of the package's result records (frozen dataclasses with named fields).

    Besides attribute access it offers the read-only part of a mapping: ``result["field"]``,
    ``"field" in result``, :meth:`keys` and :meth:`as_dict`.
    """

    def keys(self) -> list[str]:
        """The field names, in order."""
        return [f.name for f in dataclasses.fields(self)]  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        """A plain ``{field: value}`` dict (values are not copied)."""
        return {name: getattr(self, name) for name in self.keys()}

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())
