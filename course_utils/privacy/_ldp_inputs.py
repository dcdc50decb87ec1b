"""Argument checks shared by the local-DP frequency oracles (:mod:`.local`, :mod:`.local_cms`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.validation import check_int

#: The Mersenne prime 2^31 - 1 of OLH's universal hash family ((a x + b) mod P) mod g.
OLH_PRIME = 2**31 - 1
_CHUNK = 8192  # users processed at once where a per-user vector is needed


def _values(values: Any, k: int | None, name: str = "values") -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of integers, got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise ValueError(f"{name} must hold integers in range(k), got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    upper = OLH_PRIME if k is None else k
    if arr.min() < 0 or arr.max() >= upper:
        raise ValueError(
            f"{name} must lie in range({upper}), got values from {arr.min()} to {arr.max()}"
        )
    return arr


def _k(k: Any) -> int:
    return check_int(k, "k", min_val=2, max_val=OLH_PRIME - 1)


def _counts(counts: Any) -> np.ndarray:
    arr = np.asarray(counts, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError("counts must be a 1-D array of at least 2 non-negative true counts")
    return arr
