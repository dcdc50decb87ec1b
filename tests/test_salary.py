"""The salary view: lines, influence, the attacker's inversions and the DP dial."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.data import pair_players, salary_view
from course_utils.toys.salary import (
    SALARY_BOUNDS,
    SalaryToy,
    dp_dial,
    dp_group_lines,
    group_lines,
    infer_salary_from_slope,
    loo_slope_influence,
    patch_salary_readout,
    slope_weights,
)


def leak(layout):
    positions, teams = pair_players(layout)
    years, salary = salary_view(positions)
    return years, salary, teams


def test_group_lines_match_polyfit_and_leak_panel_numbers():
    years, salary, teams = leak("playersleaklow")
    lines = group_lines(years, salary, teams)
    for g in (0, 1):
        np.testing.assert_allclose(lines[g], np.polyfit(years[teams == g], salary[teams == g], 1))
    high = group_lines(*leak("playersleakhigh"))
    assert lines[0][0] == pytest.approx(1807, abs=1) and high[0][0] == pytest.approx(-1472, abs=1)
    assert lines[1][0] == pytest.approx(146, abs=1) and high[1][0] == pytest.approx(-7, abs=1)


def test_slope_weights_are_the_slope_gradient():
    years, salary, teams = leak("players0")
    m = teams == 0
    c = slope_weights(years[m])
    base = group_lines(years[m], salary[m], np.zeros(m.sum()))[0][0]
    bumped = salary[m].copy()
    bumped[3] += 1000
    assert group_lines(years[m], bumped, np.zeros(m.sum()))[0][0] - base == pytest.approx(
        1000 * c[3]
    )


def test_loo_influence_definition_and_outlier_dominates():
    years, salary, teams = leak("playersleaklow")
    m = teams == 0
    infl = loo_slope_influence(years[m], salary[m])
    full = np.polyfit(years[m], salary[m], 1)[0]
    keep = np.arange(m.sum()) != 4
    assert infl[4] == pytest.approx(full - np.polyfit(years[m][keep], salary[m][keep], 1)[0])
    assert np.abs(infl).argmax() == 0  # the new hire moves the men's line most


def test_attacker_inverts_exact_slope():
    years, salary, teams = leak("playersleakhigh")
    m = teams == 0
    slope = group_lines(years, salary, teams)[0][0]
    assert infer_salary_from_slope(years[m], salary[m], 0, slope) == pytest.approx(salary[0])


def test_patch_readout_within_half_a_patch():
    years, salary, teams = leak("players0")
    guess = patch_salary_readout(years, salary, teams, tenure=years[0])
    assert abs(guess - salary[0]) <= 1250  # cells are $2,500 tall


def test_dp_lines_converge_and_noise_shrinks_with_epsilon():
    years, salary, teams = leak("playersleaklow")
    rng = np.random.default_rng(1)
    exact = group_lines(years, salary, teams)
    spread = {}
    for eps in (1.0, 100.0, 1e6):
        slopes = np.array(
            [dp_group_lines(years, salary, teams, epsilon=eps, rng=rng)[0][0] for _ in range(200)]
        )
        spread[eps] = np.median(np.abs(slopes - exact[0][0]))
    assert spread[1.0] > spread[100.0] > spread[1e6]
    assert spread[1e6] < 1.0


def test_dp_lines_clip_out_of_range_values():
    rng = np.random.default_rng(0)
    years, salary = np.array([1.0, 5.0, 10.0, 15.0]), np.array([50e3, 60e3, 70e3, 10e6])
    clipped = salary.clip(*SALARY_BOUNDS[1])
    a = dp_group_lines(years, salary, [0] * 4, epsilon=1e9, rng=rng)[0]
    b = group_lines(years, clipped, [0] * 4)[0]
    np.testing.assert_allclose(a, b, rtol=1e-4)


class SpyGenerator(np.random.Generator):
    """A real Generator that records the Laplace scales it is asked for."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.scales = []

    def laplace(self, *args, **kwargs):
        self.scales.append((kwargs.get("scale"), kwargs.get("size")))
        return super().laplace(*args, **kwargs)


@pytest.mark.parametrize("epsilon", [0.5, 2.0])
def test_dp_noise_is_laplace_with_the_stated_scale(epsilon):
    """Five statistics per group, each with Laplace noise of scale 5 / epsilon (L1 sensitivity 5)."""
    years, salary, teams = leak("players0")
    spy = SpyGenerator(0)
    dp_group_lines(years, salary, teams, epsilon=epsilon, rng=spy)
    assert spy.scales == [(5.0 / epsilon, 5)] * 2  # one draw of 5 per group (parallel composition)


def test_dp_dial_privacy_utility_trade_off():
    years, salary, teams = leak("playersleaklow")
    rng = np.random.default_rng(0)
    small = dp_dial(years, salary, teams, epsilon=1.0, rng=rng, n_draws=200)
    large = dp_dial(years, salary, teams, epsilon=1000.0, rng=rng, n_draws=200)
    assert small["attack_error"] > 10_000 > 2_000 > large["attack_error"]
    assert small["slope_error"] > 5 * large["slope_error"]
    assert small["guesses"].min() >= 40_000 and small["guesses"].max() <= 90_000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epsilon=0.0), "epsilon"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(bounds=((5, 5), (0, 1))), "lo < hi"),
        (dict(bounds=((0, 20), (90e3, 40e3))), "lo < hi"),
        (dict(bounds=(0, 20)), "bounds must be"),
        (dict(rng=-1), "rng"),
    ],
)
def test_dp_group_lines_bad_input(kwargs, message):
    years, salary, teams = leak("players0")
    args = dict(epsilon=1.0, rng=np.random.default_rng(0)) | kwargs
    with pytest.raises(ValueError, match=message):
        dp_group_lines(years, salary, teams, **args)


def test_lines_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        group_lines([1, 2, 3], [1, 2], [0, 0, 0])
    with pytest.raises(ValueError, match="groups"):
        group_lines([1, 2, 3], [1, 2, 3], [0, 0])
    with pytest.raises(ValueError, match="two points"):
        group_lines([1, 1, 1], [1, 2, 3], [0, 0, 0])
    with pytest.raises(ValueError, match="index"):
        infer_salary_from_slope([1, 2, 3], [1, 2, 3], 5, 1.0)


def test_salary_toy_sliders_move_the_slope_as_claimed():
    toy = SalaryToy()
    try:
        c = toy.controls()
        low = toy.slopes()
        c.new_hire.value = 75_000
        high = toy.slopes()
        assert low[0] > 1500 and high[0] < -1000  # the outlier flips the men's line
        c.typical.value = 75_000  # person 18: a woman of common tenure
        assert abs(toy.slopes()[1] - high[1]) < 250  # barely moves the women's line
        c.dial.value = 1000
        assert "attacker" in c.readout.value
        with pytest.raises(ValueError, match="epsilon"):
            toy.set_epsilon(0)
    finally:
        toy.close()


def test_salary_controls_start_where_the_toy_is():
    toy = SalaryToy()
    try:
        toy.set_epsilon(10)
        assert toy.controls().dial.value == 10  # not "off" while the plot shows DP releases
        toy.set_epsilon(5)  # off the usual stops: the dial gains a stop rather than failing
        c = toy.controls()
        assert c.dial.value == 5 and c.dial.label == "5"
        c.dial.value = 0.0
        assert toy.epsilon is None and "attacker" not in c.readout.value
    finally:
        toy.close()


@pytest.mark.parametrize("show_patches", [False, True])
def test_fast_redraws_paint_what_a_full_draw_paints(show_patches):
    toy = SalaryToy(show_patches=show_patches)
    try:
        # the new hire goes up into the legend and back; the dial adds faint lines
        for salary in (60_000, 88_000, 45_000):
            toy.set_salary(0, salary)
        toy.set_epsilon(1.0)
        toy.set_salary(0, 85_000)
        assert toy.blitter.full_draws == 1 and toy.blitter.fast_draws == 5 and not toy.fig.stale
        fast = np.asarray(toy.fig.canvas.buffer_rgba()).copy()
        toy.fig.canvas.draw()
        assert np.array_equal(fast, np.asarray(toy.fig.canvas.buffer_rgba()))
        assert "epsilon = 1" in toy.ax.get_title()  # the read-out title is redrawn every time
    finally:
        toy.close()


def test_toys_sharing_a_figure_draw_in_full():
    import matplotlib.pyplot as plt

    from course_utils.plotting import Blitter
    from course_utils.toys.soccer import SoccerToy

    fig, (a, b) = plt.subplots(1, 2)
    try:
        salary, soccer = SalaryToy(ax=a), SoccerToy(ax=b)
        assert salary.blitter is None and soccer.blitter is None  # a given axes: no fast path
        salary.set_salary(0, 70_000)
        soccer.drag(3, 10, 10)
        assert salary.slopes()[0] < 1500 and soccer.share_at(10, 10) > 0.5
        Blitter(fig, [a.lines[0]])
        with pytest.raises(ValueError, match="has a Blitter already"):
            Blitter(fig, [b.lines[0]])
    finally:
        plt.close(fig)
