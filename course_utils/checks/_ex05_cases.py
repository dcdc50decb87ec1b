"""Reference computations of the exercise-set-05 checks: Krum's scores and pick (with the usual
slips as options), and how many values a check's ``rng`` produced during an answer.

Private to :mod:`course_utils.checks.ex05_federated_learning` (kept apart so that each module
stays short).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["krum_pick", "krum_scores", "pcg64_steps"]

#: The multiplier of numpy's PCG64 (its 128-bit LCG: state <- state * multiplier + increment).
_PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341
_MASK128 = (1 << 128) - 1


def krum_scores(U: np.ndarray, f: int) -> np.ndarray:
    D = ((U[:, None, :] - U[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    return np.sort(D, axis=1)[:, : len(U) - f - 2].sum(axis=1)


def krum_pick(
    U: np.ndarray,
    f: int,
    *,
    neighbours: int | None = None,
    squared: bool = True,
    self_included: bool = False,
) -> int:
    n = len(U)
    D = np.sqrt(((U[:, None, :] - U[None, :, :]) ** 2).sum(-1))
    if squared:
        D = D**2
    if not self_included:
        np.fill_diagonal(D, np.inf)
    m = n - f - 2 if neighbours is None else neighbours
    scores = np.sort(D, axis=1)[:, :m].sum(axis=1)
    return int(np.argmin(scores))


def pcg64_steps(before: dict[str, Any], after: dict[str, Any]) -> int | None:
    """How many 64-bit outputs a numpy ``PCG64`` generator produced between two of its states
    (``bit_generator.state`` dicts), or None when they are not states of one PCG64 stream.

    The LCG distance of O'Neill's PCG library: bit by bit, step the state when that bit differs
    and square the step. A draw of a double or a normal takes about one output, a small integer
    half of one.

    Examples
    --------
    >>> g = np.random.default_rng(0)
    >>> s = g.bit_generator.state
    >>> _ = g.random(1000)
    >>> pcg64_steps(s, g.bit_generator.state)
    1000
    """
    try:
        if before["bit_generator"] != "PCG64" or after["bit_generator"] != "PCG64":
            return None
        s, t = int(before["state"]["state"]), int(after["state"]["state"])
        plus = int(before["state"]["inc"])
        if int(after["state"]["inc"]) != plus:
            return None
    except (KeyError, TypeError, ValueError):
        return None
    mult, bit, distance = _PCG64_MULTIPLIER, 1, 0
    while s != t:
        if bit > _MASK128:
            return None
        if (s ^ t) & bit:
            s = (s * mult + plus) & _MASK128
            distance |= bit
        bit <<= 1
        plus = ((mult + 1) * plus) & _MASK128
        mult = (mult * mult) & _MASK128
    return distance
