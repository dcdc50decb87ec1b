"""The soccer model and its toy, driven headless."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from course_utils.data import pair_players
from course_utils.toys.soccer import GOALIE, SoccerToy, cell_centres, team_share


def loop_share(positions, teams, xs, ys, power=3.0):
    """Slow reference: one cell at a time, straight from the definition."""
    out = np.empty((len(ys), len(xs)))
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            d = np.hypot(positions[:, 0] - x, positions[:, 1] - y)
            if (d == 0).any():
                out[i, j] = np.mean(teams[d == 0] == 0)
                continue
            w = d**-power
            out[i, j] = w[teams == 0].sum() / w.sum()
    return out


@pytest.mark.parametrize("power", [1.0, 3.0, 5.0])
def test_team_share_matches_definition(power):
    positions, teams = pair_players("players1")
    xs, ys = cell_centres(7.5)
    np.testing.assert_allclose(
        team_share(positions, teams, xs, ys, power=power),
        loop_share(positions, teams, xs, ys, power),
    )


def test_team_share_shape_range_and_on_player_cells():
    positions, teams = pair_players()
    xs, ys = (
        np.array([positions[3, 0], positions[15, 0], 50.0]),
        np.array([positions[3, 1], positions[15, 1]]),
    )
    share = team_share(positions, teams, xs, ys)
    assert share.shape == (2, 3)
    assert share[0, 0] == 1.0  # cell on a team-0 player
    assert share[1, 1] == 0.0  # cell on a team-1 player
    xs, ys = cell_centres()
    full = team_share(positions, teams, xs, ys)
    assert full.shape == (20, 32) and full.min() >= 0 and full.max() <= 1


def test_team_share_coincident_players_split_the_vote():
    share = team_share([[1, 1], [1, 1]], [0, 1], [1.0], [1.0])
    assert share[0, 0] == 0.5


def test_higher_power_is_more_local():
    """With a larger exponent the cell next to a player is more certainly that player's team."""
    positions, teams = pair_players()
    x, y = positions[5] + 1.0
    low = team_share(positions, teams, [x], [y], power=1.0)[0, 0]
    high = team_share(positions, teams, [x], [y], power=5.0)[0, 0]
    assert high > low


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(positions=np.zeros((3, 3)), teams=[0, 1, 0]), "positions must have shape"),
        (dict(positions=np.zeros((3, 2)), teams=[0, 1]), "teams must have shape"),
        (dict(positions=np.zeros((2, 2)), teams=[0, 2]), "only 0 and 1"),
        (dict(positions=np.zeros((2, 2)), teams=[0, 1], power=0.0), "power must be positive"),
        (dict(positions=np.zeros((2, 2)), teams=[0, 1], xs=[]), "non-empty 1-d"),
        (dict(positions=[[np.nan, 0], [1, 1]], teams=[0, 1]), "finite"),
    ],
)
def test_team_share_bad_input(kwargs, message):
    args = dict(xs=[1.0], ys=[1.0]) | kwargs
    with pytest.raises(ValueError, match=message):
        team_share(**args)


def test_drag_changes_the_map_where_expected():
    toy = SoccerToy()
    try:
        before = toy.share.copy()
        team1_player = 15
        target = (100.0, 10.0)
        toy.drag(team1_player, *target)
        assert np.allclose(toy.positions[team1_player], target)
        changed = np.abs(toy.share - before) > 0.05
        assert changed.any()
        # the biggest change sits near the new spot, and it moved towards team 1 there
        i, j = np.unravel_index(np.abs(toy.share - before).argmax(), before.shape)
        far = np.hypot(toy.xs[j] - target[0], toy.ys[i] - target[1])
        old = np.hypot(
            toy.xs[j] - pair_players()[0][team1_player, 0],
            toy.ys[i] - pair_players()[0][team1_player, 1],
        )
        assert min(far, old) < 10
        assert toy.share_at(*target) < 0.05
        assert toy.update_seconds > 0
    finally:
        toy.close()


def test_drag_clips_to_field_and_rejects_bad_index():
    toy = SoccerToy()
    try:
        toy.drag(2, -50, 500)
        assert toy.positions[2].tolist() == [0.0, 75.0]
        with pytest.raises(ValueError, match="index"):
            toy.drag(22, 1, 1)
    finally:
        toy.close()


def test_toy_never_mutates_shipped_layouts():
    toy = SoccerToy()
    toy.drag(0, 50, 50)
    toy.close()
    assert pair_players()[0][0].tolist() != [50.0, 50.0]


def test_move_players_cycles_layouts():
    toy = SoccerToy()
    try:
        assert [toy.move_players() for _ in range(3)] == ["players1", "players2", "players0"]
        np.testing.assert_array_equal(toy.positions, pair_players("players0")[0])
    finally:
        toy.close()


def test_guess_game_measures_distance():
    toy = SoccerToy()
    try:
        toy.hide_players(True)
        toy.move_players()
        gx, gy = toy.positions[GOALIE]
        assert toy.guess(gx + 3, gy + 4) == pytest.approx(5.0)
        assert toy.last_guess == pytest.approx((gx + 3, gy + 4, 5.0))
        assert not toy.dots.get_visible()
        assert toy.truth_marker.get_xdata()[0] == pytest.approx(gx)
    finally:
        toy.close()


def fake_event(toy, x, y):
    return SimpleNamespace(inaxes=toy.ax, xdata=x, ydata=y)


def test_mouse_drag_and_click_handlers():
    toy = SoccerToy()
    try:
        x0, y0 = toy.positions[7]
        toy._on_press(fake_event(toy, x0 + 1, y0))
        toy._on_motion(fake_event(toy, 60, 30))
        toy._on_release(fake_event(toy, 60, 30))
        assert toy.positions[7].tolist() == [60.0, 30.0]
        toy._on_motion(fake_event(toy, 10, 10))  # no button held: nothing moves
        assert toy.positions[7].tolist() == [60.0, 30.0]
        toy.hide_players(True)
        toy._on_press(fake_event(toy, 0, 0))  # a click while hidden is a guess
        assert toy.last_guess is not None
    finally:
        toy.close()


def test_keyboard_controls_move_the_picked_player():
    toy = SoccerToy()
    try:
        c = toy.controls()
        c.picker.value = 4
        assert (c.sx.value, c.sy.value) == pytest.approx(tuple(toy.positions[4]), abs=0.5)
        c.sx.value = 30.0
        c.sy.value = 20.0
        assert toy.positions[4].tolist() == [30.0, 20.0]
    finally:
        toy.close()


def test_widget_without_ipympl_shows_a_static_figure(capsys):
    toy = SoccerToy()
    try:
        box = toy.widget()  # Agg backend: the figure is displayed as a picture, controls returned
        assert len(box.children) == 1 and box.children[0] is toy.controls()
        assert "Figure" in capsys.readouterr().out
    finally:
        toy.close()


def _pixels(fig) -> np.ndarray:
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def test_fast_redraws_paint_what_a_full_draw_paints():
    toy = SoccerToy()
    try:
        toy.drag(3, 10, 10)  # first redraw: full (no background yet)
        toy.drag(3, 50, 30)
        toy.drag(5, 100, 60)
        assert toy.blitter.full_draws == 1 and toy.blitter.fast_draws == 2
        # not stale: else IPython's post_execute hook, which ipykernel fires after every widget
        # message, would ask ipympl for another (full) draw, endlessly
        assert not toy.fig.stale
        fast = _pixels(toy.fig)
        toy.fig.canvas.draw()
        assert np.array_equal(fast, _pixels(toy.fig))  # the same picture, pixel for pixel
    finally:
        toy.close()


def test_title_changes_and_guesses_are_drawn_at_once():
    toy = SoccerToy()
    try:
        toy.drag(3, 10, 10)
        full = toy.blitter.full_draws
        toy.hide_players(True)  # a new title: the saved background is out of date
        assert toy.blitter.full_draws == full + 1
        toy.guess(20, 30)  # title and markers show the guess in the same redraw
        assert toy.ax.get_title().startswith("Your guess was")
        shown = _pixels(toy.fig)
        toy.fig.canvas.draw()
        assert np.array_equal(shown, _pixels(toy.fig))
    finally:
        toy.close()


def test_saved_copies_include_the_animated_artists(tmp_path):
    import io

    toy = SoccerToy()

    def png() -> bytes:
        buf = io.BytesIO()
        toy.fig.savefig(buf, format="png")
        return buf.getvalue()

    try:
        toy.drag(3, 10, 10)
        toy.drag(3, 50, 30)
        saved = png()
        for artist in toy.blitter.artists:  # the same figure without the fast path
            artist.set_animated(False)
        assert png() == saved  # heat map, dots and frame are all in the file
        for artist in toy.blitter.artists:
            artist.set_animated(True)
        toy.fig.savefig(tmp_path / "toy.svg")  # another backend's renderer: no crash
        assert "<image" in (tmp_path / "toy.svg").read_text()
        toy.drag(3, 55, 30)
        full = toy.blitter.full_draws
        toy.fig.savefig(tmp_path / "small.png", dpi=40)
        toy.drag(3, 60, 30)  # after a save at another dpi, the saved background is stale
        assert toy.blitter.full_draws == full + 1
    finally:
        toy.close()
