"""Reconstruction from aggregate statistics: the Dinur-Nissim attack on noisy subset sums.

Each of ``n`` people holds one secret bit. A curator answers ``m`` random *subset-sum* queries
("how many people in this subset have the bit set?") and perturbs every answer by at most
``noise``. Dinur and Nissim (PODS 2003) showed that when the perturbation is well below
``sqrt(n)`` an attacker who sees about ``n`` such answers recovers almost every bit, so
"only publishing aggregates" is no protection; above ``sqrt(n)`` the answers stop pinning the
bits down. The attack is one least-squares solve (or one linear programme) and a rounding step.

Here neighbouring databases differ in one person's bit, so every answer moves by at most 1.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> bits = rng.integers(0, 2, size=100)
>>> Q, answers = subset_sum_queries(bits, 400, noise=1.0, rng=rng)
>>> float(np.mean(reconstruct_bits(Q, answers) == bits))
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course_utils.validation import (
    RNGLike,
    as_rng,
    check_bool,
    check_choice,
    check_int,
    check_non_negative,
)

__all__ = [
    "subset_sum_queries",
    "reconstruct_bits",
    "recovery_rate",
    "recovery_curve",
    "plot_recovery",
]


def _bits(bits: Any, name: str = "bits") -> np.ndarray:
    arr = np.asarray(bits)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of 0/1 values, got shape {arr.shape}"
        )
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must contain only 0/1 (or False/True) values")
    return arr.astype(np.int8)


def subset_sum_queries(
    bits: Any, m: int, *, noise: float, rng: RNGLike
) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random subset-sum queries about ``bits`` and their answers, each off by at most ``noise``.

    Every query includes each person independently with probability 1/2.

    Parameters
    ----------
    bits : array_like of 0/1, shape (n,)
        The secret bit of each person.
    m : int
        Number of queries (>= 1).
    noise : float
        Bound on the perturbation (>= 0): each answer gets independent uniform noise in
        ``[-noise, noise]``.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    Q : ndarray of float, shape (m, n)
        The 0/1 query matrix (row j says who is in subset j).
    answers : ndarray of float, shape (m,)
        ``Q @ bits + e`` with ``e`` uniform in ``[-noise, noise]``.

    Examples
    --------
    >>> Q, a = subset_sum_queries([1, 0, 1], 4, noise=0.0, rng=0)
    >>> Q.shape, bool(np.all(a == Q @ [1, 0, 1]))
    ((4, 3), True)
    """
    x = _bits(bits)
    m = check_int(m, "m", min_val=1)
    noise = check_non_negative(noise, "noise")
    rng = as_rng(rng)
    Q = rng.integers(0, 2, size=(m, x.size)).astype(float)
    answers = Q @ x + rng.uniform(-noise, noise, size=m)
    return Q, answers


def _least_squares(Q: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """Least-squares solution; the normal equations when they are well posed (10x faster)."""
    if Q.shape[0] >= Q.shape[1]:
        gram = Q.T @ Q
        if np.linalg.cond(gram) < 1e8:
            return np.linalg.solve(gram, Q.T @ answers)
    return np.linalg.lstsq(Q, answers, rcond=None)[0]


def _linear_programme(Q: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """The x in [0, 1]^n with the smallest largest residual ``max_j |Q_j x - a_j|``."""
    from scipy.optimize import linprog

    m, n = Q.shape
    cost = np.r_[np.zeros(n), 1.0]  # variables: x (n of them) and the bound t
    ones = np.ones((m, 1))
    a_ub = np.vstack([np.hstack([Q, -ones]), np.hstack([-Q, -ones])])
    b_ub = np.r_[answers, -answers]
    bounds = [(0.0, 1.0)] * n + [(0.0, None)]
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if not res.success:  # pragma: no cover - the programme is always feasible
        raise RuntimeError(f"the linear programme failed: {res.message}")
    return res.x[:n]


def reconstruct_bits(Q: Any, answers: Any, *, method: str = "lstsq") -> np.ndarray:
    """Guess every secret bit from the queries and their perturbed answers.

    Solve ``Q x ~= answers`` for a real vector ``x`` and round each entry to the nearer of 0
    and 1 (threshold 1/2).

    Parameters
    ----------
    Q : array_like, shape (m, n)
        Query matrix (0/1 entries), as from :func:`subset_sum_queries`.
    answers : array_like, shape (m,)
        The published answers.
    method : {"lstsq", "lp"}, default "lstsq"
        ``"lstsq"``: least squares (fast; the noise averages out over the ``m`` answers).
        ``"lp"``: Dinur and Nissim's linear programme, the ``x`` in ``[0, 1]^n`` that minimises
        the largest residual.

    Returns
    -------
    ndarray of int8, shape (n,)
        The guessed bits (0 or 1).

    Examples
    --------
    >>> Q = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=float)
    >>> reconstruct_bits(Q, Q @ [1, 0, 1] + 0.2).tolist()
    [1, 0, 1]
    >>> reconstruct_bits(Q, Q @ [1, 0, 1], method="lp").tolist()
    [1, 0, 1]
    """
    method = check_choice(method, "method", ("lstsq", "lp"))
    Q = np.asarray(Q, dtype=float)
    a = np.asarray(answers, dtype=float)
    if Q.ndim != 2 or Q.size == 0:
        raise ValueError(f"Q must be a non-empty 2-D query matrix, got shape {Q.shape}")
    if a.shape != (Q.shape[0],):
        raise ValueError(
            f"answers must have one entry per row of Q ({Q.shape[0]}), got shape {a.shape}"
        )
    if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(a))):
        raise ValueError("Q and answers must be finite (no NaN or inf)")
    x = _least_squares(Q, a) if method == "lstsq" else _linear_programme(Q, a)
    return (x > 0.5).astype(np.int8)


def recovery_rate(bits: Any, guess: Any) -> float:
    """Fraction of people whose bit the attacker guessed right (0.5 is a coin flip).

    Examples
    --------
    >>> recovery_rate([1, 0, 1, 1], [1, 1, 1, 1])
    0.75
    """
    x, g = _bits(bits), _bits(guess, "guess")
    if x.shape != g.shape:
        raise ValueError(f"guess must have the shape of bits {x.shape}, got {g.shape}")
    return float(np.mean(x == g))


def recovery_curve(
    n: int,
    m: int,
    noise_levels: Sequence[float],
    *,
    trials: int,
    rng: RNGLike,
    method: str = "lstsq",
    progress: bool = False,
) -> Any:
    """Run the attack ``trials`` times at every noise level: fresh bits and queries each time.

    Parameters
    ----------
    n, m : int
        People and queries.
    noise_levels : sequence of float
        Perturbation bounds to try (each >= 0).
    trials : int
        Independent repetitions per level (>= 1).
    rng : numpy.random.Generator, int seed or None
    method : {"lstsq", "lp"}
    progress : bool, default False
        Show a progress bar (``tqdm.auto``) over the noise levels.

    Returns
    -------
    pandas.DataFrame
        One row per (noise, trial) with columns ``noise``, ``noise_over_sqrt_n``, ``trial``,
        ``recovery``.

    Examples
    --------
    >>> table = recovery_curve(64, 256, [0.0, 400.0], trials=3, rng=0)
    >>> rates = table.groupby("noise")["recovery"].mean()
    >>> float(rates[0.0]), bool(rates[400.0] < 0.65)  # perfect, then close to coin flips
    (1.0, True)
    """
    import pandas as pd

    n = check_int(n, "n", min_val=1)
    m = check_int(m, "m", min_val=1)
    trials = check_int(trials, "trials", min_val=1)
    levels = [check_non_negative(e, "noise_levels") for e in noise_levels]
    if not levels:
        raise ValueError("noise_levels must hold at least one noise bound")
    rng = as_rng(rng)
    if check_bool(progress, "progress"):
        from tqdm.auto import tqdm

        levels = tqdm(levels, desc=f"attack ({method})", leave=False)
    rows = []
    for noise in levels:
        for trial in range(trials):
            bits = rng.integers(0, 2, size=n)
            Q, answers = subset_sum_queries(bits, m, noise=noise, rng=rng)
            rate = recovery_rate(bits, reconstruct_bits(Q, answers, method=method))
            rows.append(
                {
                    "noise": noise,
                    "noise_over_sqrt_n": noise / np.sqrt(n),
                    "trial": trial,
                    "recovery": rate,
                }
            )
    return pd.DataFrame(rows)


def plot_recovery(table: Any, *, ax: Any = None, label: str | None = None) -> Any:
    """Median recovery rate against noise / sqrt(n), with the spread (min to max) over trials.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`recovery_curve`.
    ax : matplotlib Axes, optional
    label : str, optional
        Legend label of the median curve.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_recovery(recovery_curve(32, 128, [0.0, 2.0, 40.0], trials=2, rng=0))
    >>> ax.get_xlabel()
    'noise bound / sqrt(n)'
    >>> plt.close("all")
    """
    from course_utils.plotting import OKABE_ITO, get_ax

    ax = get_ax(ax, figsize=(6, 3.3))
    stats = table.groupby("noise_over_sqrt_n")["recovery"].agg(["median", "min", "max"])
    x = stats.index.to_numpy()
    ax.fill_between(
        x,
        stats["min"],
        stats["max"],
        color=OKABE_ITO["sky"],
        alpha=0.4,
        label="min to max over trials",
    )
    ax.plot(x, stats["median"], "o-", color=OKABE_ITO["blue"], ms=4, label=label or "median")
    ax.axhline(0.5, color=OKABE_ITO["vermillion"], ls=":", label="coin flip")
    ax.axvline(1.0, color="grey", ls="--", lw=1)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set(xlabel="noise bound / sqrt(n)", ylabel="fraction of bits recovered", ylim=(0.4, 1.02))
    ax.legend(fontsize=8, loc="lower left")
    return ax
