"""Composition theorems and the wrappers around Opacus's accountants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from opacus.accountants import PRVAccountant, RDPAccountant

from course_utils.privacy.accounting import (
    advanced_composition,
    basic_composition,
    epsilon_ledger,
    gaussian_epsilon,
    gaussian_epsilon_exact,
    gaussian_epsilon_textbook_rdp,
    gaussian_noise_multiplier,
)
from course_utils.privacy.mechanisms import gaussian_delta

DELTA = 1e-5


# --------------------------------------------------------------------------- basic
def test_basic_composition_adds_epsilons_and_deltas() -> None:
    assert basic_composition([0.5, 1.0, 1.5], [1e-6, 0.0, 2e-6]) == pytest.approx((3.0, 3e-6))


def test_basic_composition_scalar_and_missing_deltas() -> None:
    assert basic_composition([1.0, 1.0], 1e-6) == pytest.approx((2.0, 2e-6))
    assert basic_composition([1.0, 2.0]) == (3.0, 0.0)
    assert basic_composition(np.full(10, 0.1))[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "epsilons, deltas, word",
    [
        ([1.0, -1.0], [0.0, 0.0], "epsilons"),
        ([1.0, 0.0], [0.0, 0.0], "epsilons"),
        ([], [], "epsilons"),
        ([1.0, 1.0], [0.0], "deltas"),
        ([1.0], [1.0], "deltas"),
        ([1.0], [-1e-6], "deltas"),
    ],
)
def test_basic_composition_bad_input(epsilons, deltas, word) -> None:
    with pytest.raises(ValueError, match=word):
        basic_composition(epsilons, deltas)


# --------------------------------------------------------------------------- advanced
def test_advanced_composition_formula() -> None:
    eps, k, dp = 0.05, 400, 1e-6
    total, delta = advanced_composition(epsilon=eps, delta=1e-8, k=k, delta_prime=dp)
    assert total == pytest.approx(
        math.sqrt(2 * k * math.log(1 / dp)) * eps + k * eps * (math.exp(eps) - 1)
    )
    assert delta == pytest.approx(k * 1e-8 + dp)


def test_advanced_beats_basic_only_for_many_small_releases() -> None:
    many, _ = advanced_composition(epsilon=0.01, delta=0.0, k=10_000, delta_prime=1e-6)
    assert many < basic_composition([0.01] * 10_000)[0] / 10
    few, _ = advanced_composition(epsilon=1.0, delta=0.0, k=2, delta_prime=1e-6)
    assert few > 2.0  # with two releases, the sqrt(k) bound is worse than just adding


def test_advanced_composition_grows_like_sqrt_k_for_small_epsilon() -> None:
    e1, _ = advanced_composition(epsilon=1e-3, delta=0.0, k=100, delta_prime=1e-6)
    e4, _ = advanced_composition(epsilon=1e-3, delta=0.0, k=400, delta_prime=1e-6)
    assert e4 / e1 == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize(
    "args, kwargs, word",
    [
        ((0.0, 0.0, 10), {"delta_prime": 1e-6}, "epsilon"),
        ((1.0, 1.5, 10), {"delta_prime": 1e-6}, "delta"),
        ((1.0, 0.0, 0), {"delta_prime": 1e-6}, "k"),
        ((1.0, 0.0, 2.5), {"delta_prime": 1e-6}, "k"),
        ((1.0, 0.0, 10), {"delta_prime": 0.0}, "delta_prime"),
        ((1.0, 0.0, 10), {"delta_prime": 1.0}, "delta_prime"),
    ],
)
def test_advanced_composition_bad_input(args, kwargs, word) -> None:
    with pytest.raises(ValueError, match=word):
        advanced_composition(**dict(zip(("epsilon", "delta", "k"), args, strict=True)), **kwargs)


# --------------------------------------------------------------------------- Opacus wrappers
@pytest.mark.parametrize("cls, name", [(RDPAccountant, "rdp"), (PRVAccountant, "prv")])
@pytest.mark.parametrize("sigma, q, steps", [(1.1, 0.02, 300), (4.0, 1.0, 20)])
def test_gaussian_epsilon_matches_opacus_step_by_step(cls, name, sigma, q, steps) -> None:
    acct = cls()
    for _ in range(steps):
        acct.step(noise_multiplier=sigma, sample_rate=q)
    with np.errstate(all="ignore"):
        expected = acct.get_epsilon(delta=DELTA)
    got = gaussian_epsilon(
        noise_multiplier=sigma, steps=steps, delta=DELTA, sample_rate=q, accountant=name
    )
    assert got == pytest.approx(expected, rel=1e-9)


def test_gaussian_epsilon_responds_to_its_knobs() -> None:
    base = gaussian_epsilon(noise_multiplier=2.0, steps=50, delta=DELTA)
    assert gaussian_epsilon(noise_multiplier=4.0, steps=50, delta=DELTA) < base
    assert gaussian_epsilon(noise_multiplier=2.0, steps=200, delta=DELTA) > base
    assert gaussian_epsilon(noise_multiplier=2.0, steps=50, delta=1e-3) < base
    assert gaussian_epsilon(noise_multiplier=2.0, steps=50, delta=DELTA, sample_rate=0.1) < base


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"noise_multiplier": 0.0}, "noise_multiplier"),
        ({"steps": 0}, "steps"),
        ({"delta": 0.0}, "delta"),
        ({"delta": 1.0}, "delta"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"sample_rate": 0.0}, "sample_rate"),
        ({"accountant": "gdp"}, "accountant"),
    ],
)
def test_gaussian_epsilon_bad_input(kwargs, word) -> None:
    args = {"noise_multiplier": 1.0, "steps": 10, "delta": DELTA} | kwargs
    with pytest.raises(ValueError, match=word):
        gaussian_epsilon(**args)


# --------------------------------------------------------------------------- exact and textbook
@pytest.mark.parametrize("sigma, steps", [(1.0, 1), (2.0, 10), (30.0, 1000)])
def test_exact_epsilon_inverts_the_gaussian_profile(sigma, steps) -> None:
    eps = gaussian_epsilon_exact(noise_multiplier=sigma, steps=steps, delta=DELTA)
    s_eff = sigma / math.sqrt(steps)
    assert gaussian_delta(epsilon=eps, noise_multiplier=s_eff) <= DELTA
    assert gaussian_delta(epsilon=eps * 0.999, noise_multiplier=s_eff) > DELTA


def test_exact_epsilon_is_zero_when_noise_is_overwhelming() -> None:
    assert gaussian_epsilon_exact(noise_multiplier=1e6, steps=1, delta=0.5) == 0.0


@pytest.mark.parametrize("sigma, steps", [(2.0, 10), (5.0, 100), (30.0, 1000)])
def test_accountants_are_ordered_and_prv_is_nearly_exact(sigma, steps) -> None:
    kw = {"noise_multiplier": sigma, "steps": steps, "delta": DELTA}
    exact = gaussian_epsilon_exact(**kw)
    prv = gaussian_epsilon(**kw, accountant="prv")
    rdp = gaussian_epsilon(**kw, accountant="rdp")
    textbook = gaussian_epsilon_textbook_rdp(**kw)
    assert exact <= prv <= rdp <= textbook
    assert prv - exact < 0.05  # Opacus's default eps_error is 0.01


def test_textbook_rdp_closed_form_matches_a_numerical_minimum() -> None:
    sigma, k = 3.0, 40
    alphas = np.linspace(1.001, 200, 400_000)
    numeric = np.min(k * alphas / (2 * sigma**2) + math.log(1 / DELTA) / (alphas - 1))
    closed = gaussian_epsilon_textbook_rdp(noise_multiplier=sigma, steps=k, delta=DELTA)
    assert closed == pytest.approx(numeric, rel=1e-6)


def test_noise_multiplier_round_trip() -> None:
    sigma = gaussian_noise_multiplier(epsilon=2.0, delta=DELTA, steps=200, sample_rate=0.05)
    eps = gaussian_epsilon(noise_multiplier=sigma, steps=200, delta=DELTA, sample_rate=0.05)
    assert 1.98 <= eps <= 2.0
    with pytest.raises(ValueError, match="epsilon"):
        gaussian_noise_multiplier(epsilon=-1.0, delta=DELTA, steps=10)


def test_epsilon_ledger_is_ordered_and_spends_one_delta() -> None:
    ledger = epsilon_ledger(noise_multiplier=30.0, steps=1000, delta=DELTA)
    assert list(ledger.columns) == ["method", "epsilon", "delta", "upper_bound", "note"]
    assert ledger["epsilon"].is_monotonic_decreasing
    assert (ledger["delta"] == DELTA).all() and ledger["upper_bound"].all()
    eps = dict(zip(ledger["method"], ledger["epsilon"], strict=True))
    assert eps["basic"] > 2 * eps["advanced"] > 10 * eps["RDP (Opacus)"]
