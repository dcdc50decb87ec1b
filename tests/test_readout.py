"""The toys' text read-outs (course_utils.toys.readout) and their wiring into the widgets."""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_utils.data import pair_players, salary_view
from course_utils.toys.readout import live_html, salary_readout, soccer_readout
from course_utils.toys.salary import SalaryToy, group_lines
from course_utils.toys.soccer import GOALIE, SoccerToy, cell_centres, team_share


@pytest.fixture()
def field():
    positions, teams = pair_players("players0")
    xs, ys = cell_centres(3.75)
    return team_share(positions, teams, xs, ys), positions, teams, xs, ys


def percentages(text: str) -> tuple[int, int]:
    m = re.search(r"first on (\d+) % of the field, blue on (\d+) %", text)
    assert m, text
    return int(m.group(1)), int(m.group(2))


def test_soccer_readout_says_who_controls_the_field_and_where_the_goalie_is(field) -> None:
    share, positions, teams, xs, ys = field
    text = soccer_readout(share, positions, teams, xs=xs, ys=ys)
    orange, blue = percentages(text)
    assert abs(orange - 100 * np.mean(share > 0.5)) <= 0.5 and orange + blue <= 100
    gx, gy = positions[GOALIE]
    assert f"Orange goalie at x = {gx:.1f}, y = {gy:.1f}." in text
    moved = soccer_readout(share, positions, teams, xs=xs, ys=ys, moved=15)
    assert f"Blue player 15 at x = {positions[15, 0]:.1f}" in moved


def test_soccer_readout_keeps_the_game_secret_but_answers_probes(field) -> None:
    share, positions, teams, xs, ys = field
    gx, gy = positions[GOALIE]
    hidden = soccer_readout(share, positions, teams, xs=xs, ys=ys, hidden=True, probe=(gx, gy))
    assert "Players hidden" in hidden and "goalie at" not in hidden
    assert f"x = {gx:.1f}" in hidden  # the probe point itself, chosen by the learner
    said = int(re.search(r"gives orange (\d+) %", hidden).group(1))
    i, j = np.abs(ys - gy).argmin(), np.abs(xs - gx).argmin()
    assert said == round(100 * share[i, j]) and said > 90  # on the goalie: deep orange
    revealed = soccer_readout(
        share, positions, teams, xs=xs, ys=ys, hidden=True, last_guess=(gx + 3, gy + 4, 5.0)
    )
    assert "Your guess was 5.0 field units" in revealed and f"x = {gx:.1f}" in revealed


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"share": np.zeros((3, 3))}, "share must have shape"),
        ({"teams": np.zeros(3)}, "teams shape"),
        ({"goalie": 99}, "goalie must be an integer"),
        ({"moved": -1}, "moved must be an integer"),
    ],
)
def test_soccer_readout_bad_input(field, kwargs, message) -> None:
    share, positions, teams, xs, ys = field
    args = {"share": share, "positions": positions, "teams": teams, **kwargs}
    with pytest.raises(ValueError, match=message):
        soccer_readout(
            args.pop("share"), args.pop("positions"), args.pop("teams"), xs=xs, ys=ys, **args
        )


def test_salary_readout_names_people_slopes_and_the_dial() -> None:
    positions, groups = pair_players("playersleaklow")
    years, salary = salary_view(positions)
    text = salary_readout(years, salary, groups, people=(0, 18))
    first, second = text.split("\n")
    assert first.startswith(f"person 0 (men): {years[0]:.1f} years, ${salary[0]:,.0f}")
    assert "person 18 (women)" in first
    slopes = {g: s for g, (s, _) in group_lines(years, salary, groups).items()}
    assert second == f"men's slope {slopes[0]:+,.0f} $/year, women's slope {slopes[1]:+,.0f} $/year"
    dp = salary_readout(years, salary, groups, epsilon=3, attack_error=1234, slope_error=56)
    assert dp.endswith(
        "epsilon = 3: attacker's median error on the new hire $1,234, slopes move by 56 $/year"
    )
    with pytest.raises(ValueError, match="attack_error and slope_error"):
        salary_readout(years, salary, groups, epsilon=3)
    with pytest.raises(ValueError, match="people must be an integer"):
        salary_readout(years, salary, groups, people=(99,))


def test_live_html_is_a_polite_status_and_escapes() -> None:
    out = live_html("<b>x</b>\ny")
    assert out.startswith('<div role="status" aria-live="polite"') and "&lt;b&gt;" in out
    assert out.endswith("x&lt;/b&gt;<br>y</div>")


def test_soccer_widget_readout_follows_drags_and_probes_without_extra_draws() -> None:
    toy = SoccerToy()
    try:
        c = toy.controls()
        before = c.readout.value
        assert 'role="status"' in before and "Orange goalie at" in before
        toy.drag(GOALIE, 100, 62)  # warm: a full draw
        toy.drag(GOALIE, 101, 62)
        draws = (toy.blitter.full_draws, toy.blitter.fast_draws)
        toy.drag(GOALIE, 102, 60)
        assert "x = 102.0, y = 60.0" in c.readout.value
        # one drag, one fast repaint: the read-out added none
        assert (toy.blitter.full_draws, toy.blitter.fast_draws) == (draws[0], draws[1] + 1)
        toy.hide_players(True)
        assert "Players hidden" in c.readout.value and "goalie at" not in c.readout.value
        draws = (toy.blitter.full_draws, toy.blitter.fast_draws)
        gx = c.children[2].children[0]  # the "guess x" slider
        gx.value = 10.0
        assert "At the guess point x = 10.0" in c.readout.value
        assert (toy.blitter.full_draws, toy.blitter.fast_draws) == draws  # text only
    finally:
        toy.close()


def test_salary_widget_readout_names_the_slider_people() -> None:
    toy = SalaryToy("playersleaklow")
    try:
        c = toy.controls(typical=18)
        assert 'role="status"' in c.readout.value and "person 18 (women)" in c.readout.value
        toy.set_salary(0, 75_333)
        assert "$75,333" in c.readout.value and "men's slope -" in c.readout.value
        assert "person 0" not in toy.readout()  # the title keeps the short form
    finally:
        toy.close()
