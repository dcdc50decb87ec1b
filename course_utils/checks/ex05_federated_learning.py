"""Checks of exercise set 05 (federated learning: FedAvg's server step, the trimmed mean, Krum,
zero-sum secure-aggregation masks, the DP-FedAvg server step).

Conventions (as in notebook 05): a round's client updates are a float array of shape
``(n_clients, dim)``; every aggregator returns one vector of shape ``(dim,)``.

Expected values are computed here with numpy and scipy, never with :mod:`course_utils.federated`;
the usual mistakes are recomputed on the same inputs so that the hint can name the one that was
made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from . import expect, expect_array, question
from ._ex05_cases import krum_pick as _krum_pick
from ._ex05_cases import krum_scores as _krum_scores
from ._ex05_cases import pcg64_steps
from ._values import expect_reproducible

__all__: list[str] = []


def _vector(value: Any, what: str, dim: int, hint: str) -> np.ndarray:
    return expect_array(value, what, shape=(dim,), hint=hint)


def _updates(seed: int, n: int = 10, dim: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 1.0, size=(n, dim))


def _expr(seed: int, n: int = 10, dim: int = 6) -> str:
    """The numpy expression of :func:`_updates`, so that a failing input can be rebuilt."""
    return f"np.random.default_rng({seed}).normal(0.0, 1.0, size=({n}, {dim}))"


def _head(v: np.ndarray, k: int = 4) -> str:
    """The first ``k`` entries of a vector, rounded (what a failure shows as expected / got)."""
    v = np.asarray(v, dtype=float).reshape(-1)
    return str(np.round(v[:k], 4).tolist())[:-1] + (", ...]" if v.size > k else "]")


# ---------------------------------------------------------------------------------------------
# 5.1  FedAvg's server step
# ---------------------------------------------------------------------------------------------
@question("5.1", points=2, reference="course_utils.federated.fedavg")
def _check_fedavg(fedavg_aggregate: Any) -> None:
    """Return the average of the client updates weighted by the clients' example counts."""
    shape_hint = "Average over clients (axis 0): one number per parameter, shape (dim,)."
    for seed in range(3):
        U = _updates(seed)
        w = np.random.default_rng(100 + seed).integers(5, 300, size=len(U)).astype(float)
        call = f"fedavg_aggregate(U, w) with U = {_expr(seed)}, w = {w.astype(int).tolist()}"
        got = _vector(
            fedavg_aggregate(U.copy(), w.copy()),
            f"{call} returns one vector of shape (dim,)",
            U.shape[1],
            shape_hint,
        )
        want = (w[:, None] * U).sum(axis=0) / w.sum()
        hint = "Multiply each row of updates by its weight, sum over clients, divide by the weights' sum."
        for wrong, wrong_hint in (
            (
                U.mean(axis=0),
                "Weight each update by its client's example count: sum_k w_k u_k / sum_k w_k. "
                "A plain mean gives a client with 5 examples as much say as one with 300.",
            ),
            (
                (w[:, None] * U).sum(axis=0),
                "Divide the weighted sum by the total weight sum_k w_k.",
            ),
            (
                (w[:, None] * U).sum(axis=0) / len(w),
                "Divide by sum_k w_k, the total number of examples, not by the number of clients.",
            ),
        ):
            if np.allclose(got, wrong) and not np.allclose(got, want):
                hint = wrong_hint
        expect(
            np.allclose(got, want),
            f"{call}: sum_k w_k u_k / sum_k w_k",
            expected=_head(want),
            got=_head(got),
            hint=hint,
        )
    # properties: scaling the weights changes nothing, equal weights give the mean, lists work
    U = _updates(7, n=4, dim=3)
    call = f"fedavg_aggregate(U, w) with U = {_expr(7, 4, 3)}"
    a = _vector(
        fedavg_aggregate(U, [1, 2, 3, 4]),
        f"{call}, w = [1, 2, 3, 4] (a list) returns one vector",
        3,
        "Convert the weights with np.asarray(weights, dtype=float).",
    )
    b = _vector(fedavg_aggregate(U, [10, 20, 30, 40]), f"{call}, w = [10, 20, 30, 40]", 3, "")
    expect(
        np.allclose(a, b),
        f"{call}: w = [10, 20, 30, 40] gives what w = [1, 2, 3, 4] gives",
        expected=_head(a),
        got=_head(b),
        hint="Normalise by the sum of the weights.",
    )
    equal = _vector(fedavg_aggregate(U, [1, 1, 1, 1]), f"{call}, w = [1, 1, 1, 1]", 3, "")
    expect(
        np.allclose(equal, U.mean(axis=0)),
        f"{call}, w = [1, 1, 1, 1]: equal weights give the plain mean",
        expected=_head(U.mean(axis=0)),
        got=_head(equal),
        hint="Divide the weighted sum by the sum of the weights.",
    )
    one_hot = _vector(fedavg_aggregate(U, [0, 0, 5, 0]), f"{call}, w = [0, 0, 5, 0]", 3, "")
    expect(
        np.allclose(one_hot, U[2]),
        f"{call}, w = [0, 0, 5, 0]: a client holding all the data decides alone",
        expected=_head(U[2]),
        got=_head(one_hot),
        hint="A client with weight 0 must not count at all.",
    )


# ---------------------------------------------------------------------------------------------
# 5.2  coordinate-wise trimmed mean
# ---------------------------------------------------------------------------------------------
@question("5.2", points=2, reference="course_utils.federated.trimmed_mean")
def _check_trimmed_mean(trimmed_mean_agg: Any) -> None:
    """Per coordinate, drop the floor(trim_ratio * n) largest and smallest values and average the
    rest."""
    shape_hint = "Work per coordinate (axis 0) and return one value per parameter."
    for seed, n, ratio in ((0, 10, 0.1), (1, 10, 0.2), (2, 9, 0.3), (3, 7, 0.0), (4, 12, 0.25)):
        U = _updates(seed, n=n, dim=8)
        U[0] *= 50  # one loud client
        call = f"trimmed_mean_agg(U, {ratio}) with U = {_expr(seed, n, 8)}; U[0] *= 50"
        got = _vector(
            trimmed_mean_agg(U.copy(), ratio), f"{call} returns shape (dim,)", 8, shape_hint
        )
        k = int(np.floor(ratio * n))
        want = stats.trim_mean(U, ratio, axis=0)
        S = np.sort(U, axis=0)
        keep_rows = np.argsort(np.linalg.norm(U, axis=1))[k : n - k]
        hint = "k = floor(trim_ratio * n_clients); sort along axis 0, keep rows k .. n-k-1, average them."
        mistakes = [
            (
                k > 0 and np.allclose(got, U[keep_rows].mean(axis=0)),
                "Sort each coordinate separately (np.sort(updates, axis=0)) and cut k values at "
                "each end; dropping whole clients by their norm is a different rule.",
            ),
            (
                k > 0 and np.allclose(got, S[: n - k].mean(axis=0)),
                "Drop the k smallest AND the k largest values of each coordinate.",
            ),
            (
                k > 0 and np.allclose(got, S[: n - 2 * k].mean(axis=0)),
                "Cut k = floor(trim_ratio * n_clients) values at each end, not 2k at the top.",
            ),
        ]
        other_k = {
            "round": int(round(ratio * n)),
            "ceil": int(np.ceil(ratio * n - 1e-12)),
            "the number of coordinates": int(np.floor(ratio * U.shape[1])),
        }
        for how, k2 in other_k.items():
            found = k2 != k and 2 * k2 < n and np.allclose(got, S[k2 : n - k2].mean(axis=0))
            k_hint = (
                f"k = floor(trim_ratio * n_clients) = {k} here, with n_clients = "
                f"updates.shape[0] (you used {how}: k = {k2})."
            )
            mistakes.append((found, k_hint))
        for found, found_hint in mistakes:
            if found:
                hint = found_hint
                break
        expect(
            np.allclose(got, want),
            f"{call}: the coordinate-wise trimmed mean (k = {k} cut at each end)",
            expected=_head(want),
            got=_head(got),
            hint=hint,
        )
    # one attacker is removed by a trim of one per side
    U = np.vstack([np.zeros((9, 3)), np.full((1, 3), 1e6)])
    got = _vector(trimmed_mean_agg(U, 0.1), "returns shape (dim,)", 3, shape_hint)
    expect(
        np.allclose(got, 0.0),
        "trimmed_mean_agg(U, 0.1) with U = 9 rows of zeros and a last row of 1e6 (3 "
        "coordinates): the huge attacker is trimmed away",
        expected=_head(np.zeros(3)),
        got=_head(got),
        hint="With n = 10 and trim_ratio = 0.1 one value is dropped at each end of every coordinate.",
    )


# ---------------------------------------------------------------------------------------------
# 5.3  Krum
# ---------------------------------------------------------------------------------------------
def _row_of(got: np.ndarray, U: np.ndarray) -> str:
    rows = [i for i in range(len(U)) if np.allclose(got, U[i])]
    return f"row {rows[0]} of U, {_head(got)}" if rows else f"{_head(got)} (no row of U)"


@question("5.3", points=2, reference="course_utils.federated.krum")
def _check_krum(krum_aggregate: Any) -> None:
    """Return the update whose summed squared distance to its n - f - 2 nearest other updates is
    smallest."""
    shape_hint = "Return the selected client's update itself, a vector of shape (dim,)."
    # 1. the honest cluster wins against far-away attackers
    rng = np.random.default_rng(5)
    honest = rng.normal(0.0, 0.1, size=(7, 4))
    attackers = 40.0 + rng.normal(0.0, 0.1, size=(3, 4))
    U = np.vstack([attackers, honest])
    call = (
        "krum_aggregate(U, 3) with U = 3 attackers near 40 (rows 0-2) and 7 honest updates near "
        "0 (rows 3-9), 4 coordinates"
    )
    got = _vector(krum_aggregate(U.copy(), 3), f"{call} returns one vector", 4, shape_hint)
    want = U[_krum_pick(U, 3)]
    rows = [i for i in range(len(U)) if np.allclose(got, U[i])]
    if not rows or rows[0] < 3:
        hint = (
            "Score each update by the distances to its NEAREST n - f - 2 neighbours; attackers "
            "are far from the honest majority."
        )
        if not rows:
            hint = (
                "Krum selects a single update; averaging (that is Multi-Krum) or a median is a "
                "different rule."
            )
        elif rows[0] == int(np.argmax(_krum_scores(U, 3))):
            hint = (
                "Krum returns the update whose summed squared distance to its neighbours is the "
                "smallest (np.argmin), not the largest."
            )
        expect(
            False,
            f"{call}: picks one of the honest updates",
            expected=_row_of(want, U),
            got=_row_of(got, U),
            hint=hint,
        )
    # 2. exact rule on random cases where the usual slips choose differently: name the slip that
    #    explains every case (several slips can coincide on a single case); inputs have two
    #    decimals, so a failing one can be shown exactly
    cases = []
    for seed in range(40):
        g = np.random.default_rng(seed)
        n, f = int(g.integers(7, 13)), int(g.integers(1, 3))
        U = np.round(g.normal(size=(n, 3)) * g.uniform(0.5, 3.0, size=(n, 1)), 2)
        got = _vector(
            krum_aggregate(U.copy(), f), "returns one vector of shape (dim,)", 3, shape_hint
        )
        cases.append((U, f, got))
    bad = [(U, f, got) for U, f, got in cases if not np.allclose(got, U[_krum_pick(U, f)])]
    if not bad:
        return
    slips = [
        (
            lambda U, f: _krum_pick(U, f, squared=False),
            "Use SQUARED Euclidean distances in the score.",
        ),
        (
            lambda U, f: _krum_pick(U, f, self_included=True),
            "Leave each update's zero distance to itself out of its own score.",
        ),
        (
            lambda U, f: _krum_pick(U, f, neighbours=len(U) - f),
            "Sum over the n - f - 2 nearest neighbours, not n - f.",
        ),
        (
            lambda U, f: _krum_pick(U, f, neighbours=len(U) - f - 1),
            "Sum over the n - f - 2 nearest neighbours, not n - f - 1.",
        ),
        (
            lambda U, f: _krum_pick(U, f, neighbours=len(U) - 1),
            "Sum over the n - f - 2 nearest neighbours only, not over all other updates.",
        ),
    ]
    U, f, got = bad[0]
    hint = "score_i = sum of the n - f - 2 smallest ||u_i - u_j||^2 over j != i; return u_argmin."
    for slip, slip_hint in slips:
        if all(np.allclose(g, V[slip(V, k)]) for V, k, g in cases):
            hint = slip_hint
            break
    expect(
        False,
        f"krum_aggregate(U, {f}) with U = np.array({U.tolist()}): the update with the smallest "
        "Krum score",
        expected=_row_of(U[_krum_pick(U, f)], U),
        got=_row_of(got, U),
        hint=hint,
    )


# ---------------------------------------------------------------------------------------------
# 5.4  zero-sum masks
# ---------------------------------------------------------------------------------------------
@question("5.4", points=1, reference="course_utils.federated.secure_aggregation_masks")
def _check_masks(zero_sum_masks: Any) -> None:
    """Return random float masks of shape (n_clients, dim) that sum to zero over the clients."""

    def masks(n, dim, seed):
        return expect_array(
            zero_sum_masks(n, dim, np.random.default_rng(seed)),
            f"one mask per client (n_clients={n}, dim={dim})",
            shape=(n, dim),
            hint="Return an array with one row per client and one column per parameter.",
        )

    for n, dim in ((2, 3), (5, 4), (12, 7)):
        M = masks(n, dim, n)
        expect(
            np.allclose(M.sum(axis=0), 0.0, atol=1e-6),
            f"the masks cancel in the sum (n={n})",
            expected="column sums 0",
            got=np.round(M.sum(axis=0), 3),
            hint="Independent random masks do not cancel. For each pair i < j draw m_ij; client i "
            "adds it and client j subtracts it.",
        )
        expect(
            n < 3 or np.linalg.matrix_rank(M, tol=1e-6 * max(1.0, np.abs(M).max())) > 1,
            f"the clients' masks are not multiples of one vector (n={n})",
            got=f"rank {np.linalg.matrix_rank(M)}",
            hint="Draw a fresh random vector m_ij for EVERY pair i < j; one vector shared by all "
            "pairs makes every mask a multiple of it (and the middle client's mask zero).",
        )
        size = np.abs(M).mean(axis=1)
        expect(
            bool(np.all(size > 1e-3)),
            "every client's mask hides its update",
            expected="no all-zero mask",
            got=np.round(size, 4),
            hint="Each client must add a non-zero random mask; zeros sum to zero but hide nothing.",
        )
    # the pairwise construction: every mask is a sum of n - 1 pairwise vectors, so all clients'
    # masks are equally large (a last mask that is minus the sum of the others stands out)
    big = masks(12, 400, 99)
    spread = big.std(axis=1)
    expect(
        spread.max() / spread.min() < 1.6,
        "every client's mask is built from its pairwise masks (all masks equally large)",
        got=f"mask sizes from {spread.min():.3g} to {spread.max():.3g}",
        hint="Build the masks pairwise as the task says: for every pair i < j draw m_ij, client i "
        "adds it and client j subtracts it. Giving the last client minus the sum of the others "
        "needs someone who knows every mask.",
    )
    a, b, c = masks(4, 5, 1), masks(4, 5, 2), masks(4, 5, 1)
    expect(
        not np.allclose(a, b),
        "the masks are random (drawn from rng)",
        hint="Draw the masks from the rng argument, e.g. rng.normal(0, scale, size=dim).",
    )
    expect(
        np.allclose(a, c),
        "the same rng seed gives the same masks",
        hint="Use only the rng argument for randomness (no np.random.* global state).",
    )
    # the masks are drawn from rng pair by pair, as the task says: 66 pairs of 12 clients need 66
    # vectors of 400 values (at least half a 64-bit draw per value, whatever the distribution);
    # independent masks made zero-sum afterwards (minus their mean) draw one vector per client,
    # and no test of the masks alone can tell those apart (for Gaussian masks they have the
    # same distribution)
    rng = np.random.default_rng(98)
    state = rng.bit_generator.state
    expect_array(zero_sum_masks(12, 400, rng), "one mask per client", shape=(12, 400))
    drawn = pcg64_steps(state, rng.bit_generator.state)
    expect(
        drawn is None or drawn >= 0.4 * 66 * 400,
        "zero_sum_masks(12, 400, rng) draws a random vector from rng for every pair i < j",
        expected=f"66 vectors of 400 values: at least {int(0.4 * 66 * 400)} draws from rng",
        got=f"{drawn} draws (about {drawn / 400:.0f} vectors of 400)" if drawn else "none",
        hint="Build the masks pairwise as the task says: draw m_ij from rng for every pair "
        "i < j. Masks made zero-sum afterwards (independent masks minus their mean, or a last "
        "mask that is minus the sum of the others) need a dealer who knows every mask - what "
        "secure aggregation avoids.",
    )


# ---------------------------------------------------------------------------------------------
# 5.5  DP-FedAvg server step
# ---------------------------------------------------------------------------------------------
def _clip_rows(U: np.ndarray, S: float) -> np.ndarray:
    norms = np.linalg.norm(U, axis=1, keepdims=True)
    return U * np.minimum(1.0, S / np.maximum(norms, 1e-12))


@question("5.5", points=2, reference="course_utils.federated.clip_update")
def _check_dp_step(dp_fedavg_step: Any) -> None:
    """Clip each update to max_grad_norm, sum, add N(0, (noise_multiplier*max_grad_norm)^2) noise,
    divide by expected_clients."""

    def call(U, S, z, m, seed=0):
        out = dp_fedavg_step(
            U.copy(),
            max_grad_norm=S,
            noise_multiplier=z,
            expected_clients=m,
            rng=np.random.default_rng(seed),
        )
        return _vector(
            out,
            "returns one vector of shape (dim,)",
            U.shape[1],
            "Sum over clients (axis 0) and return one value per parameter.",
        )

    # noise-free: the clipping and the denominator
    g = np.random.default_rng(11)
    U = g.normal(size=(7, 5)) * np.array([[0.1], [3.0], [0.2], [5.0], [0.05], [2.0], [0.3]])
    S, m = 1.0, 10.0  # 7 clients took part, 10 were expected
    got = call(U, S, 0.0, m)
    want = _clip_rows(U, S).sum(axis=0) / m
    wrong = [
        (U.sum(axis=0) / m, "Clip every client's update to norm max_grad_norm before summing."),
        (
            _clip_rows(U.sum(axis=0)[None, :], S)[0] / m,
            "Clip each client's update separately; clipping the sum bounds nothing per client.",
        ),
        (
            _clip_rows(U, S).sum(axis=0) / len(U),
            "Divide by expected_clients, not by the number of updates received: the actual count "
            "depends on who was sampled and would itself leak.",
        ),
        (
            _clip_rows(U, S).mean(axis=0),
            "Divide by expected_clients, not by the number of updates.",
        ),
        (
            np.clip(U, -S, S).sum(axis=0) / m,
            "Clip the L2 norm of the whole update (scale it by min(1, max_grad_norm / ||u||)), not each coordinate.",
        ),
        (
            (U * S / np.linalg.norm(U, axis=1, keepdims=True)).sum(axis=0) / m,
            "Only shrink: multiply by min(1, max_grad_norm / ||u||), so that short updates keep their "
            "length instead of being stretched to max_grad_norm.",
        ),
    ]
    if not np.allclose(got, want):
        for value, hint in wrong:
            if np.allclose(got, value):
                expect(False, "clip per client, sum, divide by expected_clients", hint=hint)
    expect(
        np.allclose(got, want),
        "with noise_multiplier = 0: sum of clipped updates / expected_clients",
        expected=np.round(want, 4),
        got=np.round(got, 4),
        hint="u_k * min(1, max_grad_norm / ||u_k||) for every row, then sum over rows, then / expected_clients.",
    )
    # the noise: centred, standard deviation noise_multiplier * max_grad_norm / expected_clients
    Z = np.zeros((3, 20000))
    for S, z, m in ((0.5, 2.0, 10.0), (1.0, 1.0, 4.0)):
        out = call(Z, S, z, m, seed=3)
        sd, want_sd = float(out.std()), z * S / m
        if abs(sd - z / m) < 0.05 * z / m and abs(z / m - want_sd) > 0.1 * want_sd:
            expect(
                False,
                "the noise scales with max_grad_norm",
                hint="The noise standard deviation is noise_multiplier * max_grad_norm (the sensitivity of the sum).",
            )
        if abs(sd - np.sqrt(len(Z)) * want_sd) < 0.05 * np.sqrt(len(Z)) * want_sd:
            expect(
                False,
                "one noise draw is added to the sum",
                hint="Add ONE draw of N(0, (noise_multiplier * max_grad_norm)^2) to the sum, not one per "
                "client: the sum's sensitivity is max_grad_norm however many clients there are.",
            )
        if abs(sd - z * S) < 0.05 * z * S:
            expect(
                False,
                "the noise is added to the sum, then everything is divided",
                hint="Add N(0, (noise_multiplier * max_grad_norm)^2) to the SUM, then divide by expected_clients.",
            )
        expect(
            abs(sd - want_sd) < 0.05 * want_sd,
            f"noise std = noise_multiplier * max_grad_norm / expected_clients = {want_sd:.3g}",
            expected=round(want_sd, 4),
            got=round(sd, 4),
            hint="Draw rng.normal(0, noise_multiplier * max_grad_norm, size=dim), add it to the clipped sum, divide.",
        )
        expect(
            abs(float(out.mean())) < 5 * want_sd / np.sqrt(out.size),
            "the noise is centred at zero",
            got=round(float(out.mean()), 5),
            hint="Use zero-mean Gaussian noise.",
        )
        # the accountant's epsilon is for the Gaussian mechanism: the noise must be Gaussian, not
        # merely of the right standard deviation (20,000 draws: Laplace or uniform noise fails by
        # far; a correct answer fails with probability 1e-6)
        p_normal = stats.kstest(out / want_sd, "norm").pvalue
        expect(
            p_normal > 1e-6,
            "the noise is Gaussian (a Kolmogorov-Smirnov test of the 20,000 noise values)",
            expected="p > 1e-6",
            got=f"p = {p_normal:.2g}",
            hint="The noise must be Gaussian, drawn with rng.normal(0, noise_multiplier * "
            "max_grad_norm, size=dim): the user-level epsilon is that of the Gaussian mechanism, "
            "and Laplace or uniform noise with the same standard deviation does not give it.",
        )
    expect_reproducible(
        lambda seed: call(Z[:, :50], 1.0, 1.0, 4.0, seed=seed),
        "the noise comes from the rng argument",
        seeds=[9],
        hint="Use rng.normal(...), not np.random.normal: the same rng seed must give the same output.",
    )
