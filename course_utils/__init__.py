"""Helper package of the *Private & Robust ML* workbook.

Importing the package does nothing but define names; call :func:`setup` once at the top of a
notebook to set the plotting style and seed every random number generator.
"""

from __future__ import annotations

import random

import numpy as np

__version__ = "0.1.0"
__all__ = ["__version__", "setup"]


def setup(seed: int = 0, *, style: bool = True) -> np.random.Generator:
    """Seed ``random``, numpy and torch, set the course's plot style, return a Generator.

    Parameters
    ----------
    seed : int, default 0
        Seed for Python's ``random``, numpy's legacy global state, torch, and the returned
        generator. Must be a non-negative integer.
    style : bool, default True
        Apply :func:`course_utils.plotting.use_style` (matplotlib rcParams only).

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed``; pass it (as ``rng``) to every random function.

    ``setup`` is the one place that takes a ``seed`` rather than an ``rng``: it seeds the global
    generators of ``random``, numpy and torch (for third-party code), which need an int.

    Examples
    --------
    >>> rng = setup(seed=1, style=False)
    >>> float(rng.random()) == float(np.random.default_rng(1).random())
    True
    """
    from .validation import check_int

    seed = check_int(seed, "seed", min_val=0)
    random.seed(seed)
    np.random.seed(seed)  # for third-party code that still reads the global state
    try:
        import torch
    except ImportError:  # torch is a dependency, but the DP-free notebooks work without it
        pass
    else:
        torch.manual_seed(seed)
    if style:
        from .plotting import use_style

        use_style()
    return np.random.default_rng(seed)
