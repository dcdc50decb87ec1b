"""Names kept for one release after the one-convention refactor (issue 17); each warns once used."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..stats import clopper_pearson

__all__ = ["as_generator", "clopper_pearson_lower"]


def as_generator(generator: Any) -> Any:
    """Deprecated: random functions take ``rng`` now; torch generators come from
    :func:`course_utils.validation.torch_generator`.

    Behaves as before: a ``torch.Generator`` or None is returned unchanged, a numpy Generator or
    an int seed gives a seeded ``torch.Generator``.

    Examples
    --------
    >>> import torch
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     g = as_generator(3)
    >>> isinstance(g, torch.Generator)
    True
    """
    import torch

    from ..validation import torch_generator

    warnings.warn(
        "as_generator is deprecated; pass rng= (a numpy Generator, an int seed or None) or use "
        "course_utils.validation.torch_generator(rng)",
        DeprecationWarning,
        stacklevel=2,
    )
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    return torch_generator(generator, name="generator")


def clopper_pearson_lower(k: int, n: int, *, alpha: float) -> float:
    """Deprecated: ``course_utils.stats.clopper_pearson(k, n, confidence=1 - alpha, side="lower")[0]``.

    Examples
    --------
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     round(clopper_pearson_lower(100, 100, alpha=0.001), 4)   # = alpha ** (1 / n)
    0.9333
    """
    warnings.warn(
        "clopper_pearson_lower is deprecated; use course_utils.stats.clopper_pearson("
        "k, n, confidence=1 - alpha, side='lower')[0]",
        DeprecationWarning,
        stacklevel=2,
    )
    return float(np.asarray(clopper_pearson(k, n, confidence=1.0 - alpha, side="lower")[0]))
