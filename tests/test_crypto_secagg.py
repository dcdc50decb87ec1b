"""Double-masked secure aggregation: the survivors' sum, dropout limits, the late-client attack
(succeeds with pairwise masks only, fails with double masking), measured costs vs the formulas,
the primitives, and the argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from course_utils.crypto.field import MODULUS
from course_utils.crypto.secagg import (
    SHARE_BYTES,
    agree,
    key_pair,
    prg_field,
    secagg_cost,
    secure_aggregate,
    strip_pairwise_masks,
)


def updates(n: int = 8, d: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.mark.parametrize("dropped", [(), (3,), (0, 7), (1, 2, 5)])
def test_sum_of_survivors(dropped) -> None:
    U = updates()
    total, info = secure_aggregate(U, dropped=dropped, threshold=5, rng=1)
    alive = [i for i in range(8) if i not in dropped]
    assert info["survivors"] == alive and info["dropped"] == sorted(dropped)
    assert total.shape == (20,)
    assert np.abs(total - U[alive].sum(axis=0)).max() <= len(alive) * 2**-17


def test_too_many_dropouts_raise() -> None:
    with pytest.raises(ValueError, match="n - threshold"):
        secure_aggregate(updates(), dropped=(0, 1, 2, 3), threshold=5, rng=0)


def test_masked_inputs_look_uniform_and_hide_the_update() -> None:
    U = np.zeros((4, 3000))
    U[0] = 1.0  # a very structured update
    _, info = secure_aggregate(U, threshold=3, rng=2)
    y = info["server_view"]["masked"][0]
    bins = np.bincount((y // (MODULUS // 20 + 1)).astype(int), minlength=20)
    assert stats.chisquare(bins).pvalue > 1e-3  # 150 expected per bin
    # negative control: the encoded update itself is far from uniform
    assert stats.chisquare(np.bincount(np.full(3000, 0), minlength=20)).pvalue < 1e-10


def test_late_client_attack_needs_single_masking() -> None:
    U = updates(6, 50, seed=4)
    _, single = secure_aggregate(U, dropped=[2], late=[2], threshold=4, rng=3, double_masking=False)
    assert np.abs(strip_pairwise_masks(single, 2) - U[2]).max() <= 2**-17
    total, double = secure_aggregate(U, dropped=[2], late=[2], threshold=4, rng=3)
    leaked = strip_pairwise_masks(double, 2)
    assert np.median(np.abs(leaked - U[2])) > 1e9  # noise spread over the whole field
    assert np.abs(total - U[[0, 1, 3, 4, 5]].sum(axis=0)).max() <= 5 * 2**-17
    assert 2 not in double["server_view"]["self_seeds"]  # never revealed for a "dropped" client
    with pytest.raises(ValueError, match="not announced as dropped"):
        strip_pairwise_masks(double, 0)


@pytest.mark.parametrize("n, d, k", [(3, 1, 0), (10, 64, 2), (25, 10, 5)])
def test_measured_costs_match_the_formulas(n, d, k) -> None:
    _, info = secure_aggregate(updates(n, d), dropped=range(k), threshold=n - k, rng=0)
    c = secagg_cost(n, d, n_dropped=k)
    for key in ("rounds", "messages_per_client", "bytes_per_client", "messages", "bytes"):
        assert info[key] == c[key], key
    alive = info["survivors"]
    assert {info["bytes_sent"][i] for i in alive} == {c["bytes_per_client"]}
    assert {info["bytes_received"][i] for i in alive} == {c["bytes_received_per_client"]}
    assert info["plaintext_bytes_per_client"] == 8 * d


def test_cost_grows_linearly_in_clients() -> None:
    b = [secagg_cost(n, 1000)["bytes_per_client"] for n in (10, 100, 1000)]
    assert b[1] - b[0] == 90 * 3 * SHARE_BYTES and b[2] - b[1] == 900 * 3 * SHARE_BYTES


def test_primitives() -> None:
    sk1, pk1 = key_pair(rng=1)
    sk2, pk2 = key_pair(rng=2)
    assert len(sk1) == len(pk1) == 32 and agree(sk1, pk2) == agree(sk2, pk1)
    assert agree(sk1, pk2) != agree(sk1, pk1)
    a = prg_field(b"k", 10_000)
    assert a.dtype == np.int64 and a.min() >= 0 and a.max() < MODULUS
    assert stats.kstest(a / MODULUS, "uniform").pvalue > 1e-3
    assert not np.array_equal(prg_field(b"k", 5), prg_field(b"j", 5))


def test_seeded() -> None:
    U = updates(4, 5)
    a = secure_aggregate(U, threshold=2, rng=7)[1]["server_view"]["masked"][0]
    b = secure_aggregate(U, threshold=2, rng=7)[1]["server_view"]["masked"][0]
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"updates": np.ones(3)}, "updates"),
        ({"updates": np.ones((1, 3))}, "updates"),
        ({"updates": np.full((3, 2), np.nan)}, "finite"),
        ({"threshold": 1}, "threshold"),
        ({"threshold": 5}, "threshold"),
        ({"dropped": [0, 0]}, "repeat"),
        ({"dropped": [9]}, "dropped"),
        ({"dropped": "0"}, "dropped"),
        ({"late": [1]}, "subset"),
        ({"frac_bits": -1}, "frac_bits"),
        ({"double_masking": 1}, "double_masking"),
        ({"rng": 1.5}, "rng"),
        ({"updates": np.full((3, 2), 1e14)}, "too large|overflow"),
    ],
)
def test_secagg_bad_input(kwargs, word) -> None:
    args = {"updates": np.ones((4, 2)), "threshold": 2, "rng": 0} | kwargs
    with pytest.raises(ValueError, match=word):
        secure_aggregate(**args)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: secagg_cost(1, 3), "n_clients"),
        (lambda: secagg_cost(5, 0), "dim"),
        (lambda: secagg_cost(5, 3, n_dropped=4), "n_dropped"),
        (lambda: prg_field("k", 3), "bytes"),
        (lambda: prg_field(b"k", 0), "dim"),
        (lambda: agree(b"x" * 31, b"y" * 32), "32 bytes"),
        (lambda: agree("x", b"y"), "bytes"),
    ],
)
def test_primitive_bad_input(call, word) -> None:
    with pytest.raises(ValueError, match=word):
        call()
