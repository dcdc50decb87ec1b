"""Notebook 01 in a real browser: run it in JupyterLab, then use its toys like a learner would.

The notebook is opened and run once per module (``nb01``); each test then works on a different
toy: drag a player with the mouse, the keyboard path (player picker + x / y sliders), the
guess-the-goalie game, the salary sliders and the check-yourself quiz. Every assertion looks at
what the learner sees (canvas pixels, slider read-outs, HTML messages); the kernel is only read to
confirm that the widget's Python state followed.
"""

from __future__ import annotations

import inspect
import io
import json
import re
from typing import Any

import numpy as np
import pytest

from course_utils.plotting import figure_with_controls
from course_utils.quiz import questions_in
from tests.repo_support import ROOT

pytestmark = pytest.mark.browser

NB = "notebooks/01_motivation.ipynb"


@pytest.fixture(scope="module")
def nb01(lab: Any) -> Any:
    """Notebook 01 opened in JupyterLab with every cell run."""
    lab.open(NB)
    lab.seconds = lab.run_all()
    assert lab.errors() == [], f"{NB} raised in the browser: {lab.errors()}"
    return lab


# ------------------------------------------------------------------------------------ helpers
def slider(cell: Any, label: str) -> Any:
    """The ipywidgets slider in ``cell`` whose label is exactly ``label``."""
    return cell.locator(".widget-slider").filter(
        has=cell.page.locator("label.widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))
    )


def readout(slider_locator: Any) -> float:
    """The number a slider shows next to it (thousands separators removed)."""
    return float(slider_locator.locator(".widget-readout").inner_text().replace(",", ""))


#: ipympl leaves a canvas embedded in a widget box at 0x0 px when the kernel draws before the
#: browser's view is ready (ipympl#472; common under "Run All"). A direct display avoids it by
#: sizing the canvas model in ``Canvas._repr_mimebundle_``; until ``figure_with_controls`` does the
#: same, a 0x0 canvas is an expected failure here - after the fix it is a real failure again.
IPYMPL_0x0_KNOWN = "_repr_mimebundle_" not in inspect.getsource(figure_with_controls)


def canvas_of(cell: Any) -> Any:
    """The ipympl canvas of ``cell``'s figure (the top layer, which receives the mouse)."""
    canvas = cell.locator(".jupyter-matplotlib-canvas-div canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    if IPYMPL_0x0_KNOWN and box is not None and (box["width"] == 0 or box["height"] == 0):
        pytest.xfail(
            "this toy's ipympl canvas rendered as 0x0 px (ipympl#472: see IPYMPL_0x0_KNOWN)"
        )
    return canvas


def to_page(lab: Any, toy: str, canvas: Any, points: Any) -> list[tuple[float, float]]:
    """Page coordinates of data points ``points`` on the figure of kernel variable ``toy``."""
    info = lab.kernel(
        "import json, numpy as _np\n"
        f"_f, _a = {toy}.fig, {toy}.ax\n"
        f"print(json.dumps({{'px': _a.transData.transform(_np.asarray({json.dumps(points)}, float)).tolist(),"
        " 'w': _f.bbox.width, 'h': _f.bbox.height}))"
    )
    box = canvas.bounding_box()
    sx, sy = box["width"] / info["w"], box["height"] / info["h"]
    return [(box["x"] + x * sx, box["y"] + (info["h"] - y) * sy) for x, y in info["px"]]


def rgb_at(canvas: Any, page_xy: tuple[float, float]) -> np.ndarray:
    """RGB (0..1) of the canvas pixel under a page position, from a fresh screenshot."""
    import matplotlib.image as mpimg

    box = canvas.bounding_box()
    img = mpimg.imread(io.BytesIO(canvas.screenshot()), format="png")
    x = int(round(page_xy[0] - box["x"]))
    y = int(round(page_xy[1] - box["y"]))
    return img[y, x, :3]


def mpimg_of(canvas: Any) -> np.ndarray:
    """The canvas as an RGB array (0..1), from a fresh screenshot."""
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(canvas.screenshot()), format="png")[..., :3]


#: Arrow-key presses per slider in the keyboard-hint test (each moves the player by one 0.5 step).
NUDGES = 12


def is_orange(rgb: np.ndarray) -> bool:
    return bool(rgb[0] > rgb[2] + 0.15)  # team 0 (orange) is red-heavy, team 1 (blue) blue-heavy


def is_blue(rgb: np.ndarray) -> bool:
    return bool(rgb[2] > rgb[0] + 0.15)


def tab_to(page: Any, target: Any, max_presses: int = 6) -> None:
    """Press Tab until the keyboard focus is inside ``target`` (fail after ``max_presses``)."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el.contains(document.activeElement)"):
            return
    focused = page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? `${e.tagName}.${e.className}` : 'nothing'; }"
    )
    raise AssertionError(
        f"{max_presses} Tab presses did not reach {target}; the focus is on {focused}"
    )


def state(lab: Any, toy: str, index: int) -> dict[str, Any]:
    return lab.kernel(
        f"import json; print(json.dumps({{'pos': {toy}.positions[{index}].tolist(), "
        f"'layout': {toy}.layout, 'hidden': {toy}.hidden}}))"
    )


# -------------------------------------------------------------------------------------- tests
def test_notebook_runs_and_toys_render(nb01: Any) -> None:
    """Run All finishes without errors and every live figure is an ipympl canvas."""
    assert nb01.seconds < 150, f"Run All took {nb01.seconds:.0f} s"
    for start in ("soccer = SoccerToy", "leak = sal.SalaryToy", "dp_toy = sal.SalaryToy"):
        box = canvas_of(nb01.cell(start)).bounding_box()
        assert box["width"] > 300 and box["height"] > 200, f"the figure of `{start}...` is {box}"


def test_drag_player_with_mouse(nb01: Any) -> None:
    """Drag the goalie deep into blue territory: the heat map there turns orange, and the
    keyboard sliders and the Python state follow the drag."""
    cell = nb01.cell("soccer = SoccerToy")
    canvas = canvas_of(cell)
    start = state(nb01, "soccer", 0)["pos"]
    target = (100.0, 62.0)
    probe = (104.0, 65.0)  # a cell next to the target, not covered by the dot
    (sx, sy), (tx, ty), probe_xy = to_page(nb01, "soccer", canvas, [start, target, probe])
    before = rgb_at(canvas, probe_xy)
    assert is_blue(before), f"the probe cell should start blue, got {before}"
    # the figure in words, for screen readers: one status element next to the controls
    status = cell.get_by_role("status")
    assert status.count() == 1, "the soccer toy needs exactly one text read-out (role=status)"
    said_before = nb01.wait_until(
        lambda: (t := status.inner_text().strip()) == nb01.kernel("print(soccer.readout())") and t,
        "the text read-out to say what the toy says before the drag",
    )
    assert (
        said_before.startswith("Orange reaches the ball first on")
        and "goalie at x =" in said_before
    )

    page = nb01.page
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=12)
    page.wait_for_timeout(150)  # ipympl throttles motion events (33 ms)
    page.mouse.move(tx + 0.5, ty + 0.5)
    page.mouse.up()

    def arrived() -> list[float] | None:
        p = state(nb01, "soccer", 0)["pos"]
        return p if np.hypot(p[0] - target[0], p[1] - target[1]) < 1.5 else None

    pos = nb01.wait_until(arrived, "the goalie to arrive at (100, 62) in the kernel")
    # the keyboard controls show the dragged player's new position
    x_slider, y_slider = slider(cell, "x"), slider(cell, "y")
    nb01.wait_until(
        lambda: abs(readout(x_slider) - pos[0]) < 0.6, "the x slider to follow the drag"
    )
    assert abs(readout(y_slider) - pos[1]) < 0.6
    # and the picture changed where the player went
    nb01.wait_until(
        lambda: is_orange(rgb_at(canvas, probe_xy)), "the heat map near the target to turn orange"
    )
    nb01.wait_until(
        lambda: nb01.kernel("print(soccer.share_at(104, 65))") > 0.9,
        "the model's share next to the target to favour orange",
    )
    # the frames the browser asked for during the drag were fast repaints, not full draws
    assert nb01.kernel("print(soccer.blitter.fast_draws)") > 0
    # the read-out followed the drag: it says what the kernel's toy says, goalie and all
    said = nb01.wait_until(
        lambda: (
            (t := status.inner_text().strip()) != said_before
            and t == nb01.kernel("print(soccer.readout())")
            and t
        ),
        "the text read-out to describe the goalie's new position",
    )
    final = state(nb01, "soccer", 0)["pos"]
    assert f"Orange goalie at x = {final[0]:.1f}, y = {final[1]:.1f}" in said


def test_keyboard_path_moves_a_player(nb01: Any) -> None:
    """Without a mouse: pick a player in the dropdown, Tab to the sliders, use End / Home."""
    cell = nb01.cell("soccer = SoccerToy")
    canvas = canvas_of(cell)
    page = nb01.page
    (probe_xy,) = to_page(nb01, "soccer", canvas, [(116.0, 4.0)])
    assert is_blue(rgb_at(canvas, probe_xy))

    picker = cell.locator(".widget-dropdown select")
    picker.focus()
    # A collapsed dropdown loses plain arrow keys to JupyterLab's command mode (ipywidgets#3912):
    # Space opens the list, where the arrows and Enter work.
    page.keyboard.press("Space")
    page.wait_for_timeout(200)  # let the list open
    page.keyboard.press("ArrowDown")  # player 0 -> player 1 (orange)
    page.keyboard.press("Enter")
    nb01.wait_until(
        lambda: nb01.kernel("print(soccer._controls.picker.value)") == 1, "player 1 to be picked"
    )
    tab_to(page, slider(cell, "x").locator(".noUi-handle"))
    page.keyboard.press("End")  # x = 120
    tab_to(page, slider(cell, "y").locator(".noUi-handle"))
    page.keyboard.press("Home")  # y = 0

    nb01.wait_until(
        lambda: state(nb01, "soccer", 1)["pos"] == [120.0, 0.0],
        "player 1 to reach (120, 0) in the kernel",
    )
    assert readout(slider(cell, "x")) == 120.0 and readout(slider(cell, "y")) == 0.0
    nb01.wait_until(lambda: is_orange(rgb_at(canvas, probe_xy)), "the corner to turn orange")


def test_keyboard_hint_tabs_from_its_cell_to_the_player_list(nb01: Any) -> None:
    """Follow the notebook's keyboard hint literally: select the hint's cell with the arrow keys,
    Tab to the *Player* list (the controls come before the live figure, which would keep the
    focus for good), Space / arrow / Enter to pick the next player, Tab to the x and y sliders and
    nudge them with the arrow keys. The player moves in the kernel and on the picture."""
    page = nb01.page
    hint = nb01.cell("### Drag the players")
    text = " ".join(hint.locator(".jp-RenderedMarkdown").inner_text().split())
    assert "Tab past Move players and Hide players to the Player list" in text, (
        f"the hint changed, update this test: {text!r}"
    )
    cell = nb01.cell("soccer = SoccerToy")
    canvas = canvas_of(cell)
    picked = nb01.kernel("print(soccer._controls.picker.value)")
    player = picked + 1  # ArrowDown in the open list picks the next player
    before = state(nb01, "soccer", player)["pos"]
    (old_xy,) = to_page(nb01, "soccer", canvas, [before])
    box = canvas.bounding_box()
    picture = mpimg_of(canvas)

    # start two cells above (the claim check) and walk down to the hint in command mode
    nb01.cell("**Claim check.**").locator(".jp-RenderedMarkdown").click()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert hint.evaluate("el => el.contains(document.activeElement)"), "the hint cell has no focus"
    tab_to(page, cell.locator(".widget-dropdown select"), max_presses=8)
    page.keyboard.press("Space")
    page.wait_for_timeout(200)  # let the list open
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    nb01.wait_until(
        lambda: nb01.kernel("print(soccer._controls.picker.value)") == player,
        f"player {player} to be picked",
    )
    x_slider, y_slider = slider(cell, "x"), slider(cell, "y")
    # the sliders show the picked player's position (rounded to their 0.5 step)
    nb01.wait_until(
        lambda: (
            abs(readout(x_slider) - before[0]) <= 0.25
            and abs(readout(y_slider) - before[1]) <= 0.25
        ),
        f"the x / y sliders to show player {player}'s position {before}",
    )
    start = [readout(x_slider), readout(y_slider)]
    # right / down (ArrowLeft on y) unless the player is too close to that edge of the field
    dx = 1 if start[0] + NUDGES * 0.5 <= 120 else -1
    dy = -1 if start[1] - NUDGES * 0.5 >= 0 else 1
    tab_to(page, x_slider.locator(".noUi-handle"))
    for _ in range(NUDGES):
        page.keyboard.press("ArrowRight" if dx > 0 else "ArrowLeft")
    tab_to(page, y_slider.locator(".noUi-handle"))
    for _ in range(NUDGES):
        page.keyboard.press("ArrowRight" if dy > 0 else "ArrowLeft")

    step = NUDGES * 0.5  # the sliders' step is 0.5
    want = [start[0] + dx * step, start[1] + dy * step]
    nb01.wait_until(
        lambda: state(nb01, "soccer", player)["pos"] == want,
        f"player {player} to move from {before} to {want} in the kernel",
    )
    assert (readout(x_slider), readout(y_slider)) == tuple(want)
    # the picture changed around the player's old spot (the dot left it)
    x0, y0 = int(old_xy[0] - box["x"]), int(old_xy[1] - box["y"])

    def dot_left() -> float:
        now = mpimg_of(canvas)
        patch = (slice(max(y0 - 6, 0), y0 + 7), slice(max(x0 - 6, 0), x0 + 7))
        return float(np.abs(now[patch] - picture[patch]).max())

    nb01.wait_until(lambda: dot_left() > 0.3, "the canvas to redraw the moved player")


def test_guess_the_goalie_with_the_keyboard(nb01: Any) -> None:
    """The keyboard route through the game: "Move players" with Enter, the guess sliders with
    Home, then "Guess goalie here" with Enter; the message reports the distance."""
    cell = nb01.cell("game = SoccerToy")
    page = nb01.page
    message = cell.locator(".widget-html").last
    assert state(nb01, "game", 0)["hidden"] is True

    cell.get_by_role("button", name="Move players").focus()
    page.keyboard.press("Enter")

    def moved() -> dict[str, Any] | None:
        s = state(nb01, "game", 0)
        return s if s["layout"] == "players1" else None

    goalie = nb01.wait_until(moved, "the next layout")
    assert goalie["hidden"] is True, "moving players must keep them hidden"
    slider(cell, "guess x").locator(".noUi-handle").focus()
    page.keyboard.press("Home")
    tab_to(page, slider(cell, "guess y").locator(".noUi-handle"))
    page.keyboard.press("Home")
    tab_to(page, cell.get_by_role("button", name=re.compile("Guess goalie")))
    page.keyboard.press("Enter")
    expected = float(np.hypot(*goalie["pos"]))  # guessed (0, 0)
    want = f"Your guess was {expected:.1f} field units"
    nb01.wait_until(lambda: want in message.inner_text(), repr(want))


def test_guess_the_goalie_by_clicking(nb01: Any) -> None:
    """Hide the players again (toggle off and on), click near the hidden goalie on the heat map:
    the game reports how far off the click was."""
    cell = nb01.cell("game = SoccerToy")
    message = cell.locator(".widget-html").last
    toggle = cell.get_by_role("button", name="Hide players")
    toggle.click()
    nb01.wait_until(lambda: state(nb01, "game", 0)["hidden"] is False, "the players to show")
    toggle.click()
    nb01.wait_until(lambda: state(nb01, "game", 0)["hidden"] is True, "the players to hide again")

    canvas = canvas_of(cell)
    goalie = state(nb01, "game", 0)["pos"]
    click = (goalie[0] + 6.0, goalie[1] + 8.0)  # 10 field units off, inside the field
    ((cx, cy),) = to_page(nb01, "game", canvas, [click])
    nb01.page.mouse.click(cx, cy)

    def reported() -> float | None:
        m = re.search(r"Your guess was ([\d.]+) field units", message.inner_text())
        return (
            float(m.group(1))
            if m and nb01.kernel("print(game.last_guess is not None)") == "True"
            else None
        )

    distance = nb01.wait_until(reported, "the game to report the clicked guess")
    assert abs(distance - 10.0) < 0.6, f"clicked 10 units from the goalie, the game says {distance}"
    guessed = nb01.kernel("import json; print(json.dumps(game.last_guess))")
    assert np.hypot(guessed[0] - click[0], guessed[1] - click[1]) < 0.5


def test_salary_sliders_change_the_slopes(nb01: Any) -> None:
    """The salary sliders (keyboard and mouse) change the slope read-out next to them."""
    cell = nb01.cell("leak = sal.SalaryToy")
    cell.scroll_into_view_if_needed()
    out = cell.locator(".widget-html").last

    def slopes() -> tuple[int, int]:
        m = re.search(r"men's slope ([+-][\d,]+).*women's slope ([+-][\d,]+)", out.inner_text())
        assert m, out.inner_text()
        return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))

    men, women = slopes()
    assert men > 0
    # keyboard: the new hire's salary to the top of the scale flips the men's slope
    slider(cell, "new hire $").locator(".noUi-handle").focus()
    nb01.page.keyboard.press("End")
    nb01.wait_until(lambda: slopes()[0] < 0, "the men's slope to turn negative")
    assert readout(slider(cell, "new hire $")) == 90_000
    assert slopes()[1] == women
    # mouse: drag person 18's handle to the left end; the women's slope moves
    handle = slider(cell, "person 18 $").locator(".noUi-handle")
    track = slider(cell, "person 18 $").locator(".noUi-target").bounding_box()
    hb = handle.bounding_box()
    page = nb01.page
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] - 20, hb["y"] + hb["height"] / 2, steps=8)
    page.mouse.up()
    nb01.wait_until(lambda: slopes()[1] != women, "the women's slope to change")
    assert readout(slider(cell, "person 18 $")) == 40_000
    kernel = nb01.kernel(
        "import json; print(json.dumps({int(k): v for k, v in leak.slopes().items()}))"
    )
    assert (round(kernel["0"]), round(kernel["1"])) == slopes()


def _quiz_questions() -> list[tuple[str, list[str], int]]:
    """(prompt, options, correct) of the notebook's quiz, read from its source (the cell names
    the correct option by a key; ``questions_in`` resolves it without running the notebook)."""
    return [(q.prompt, list(q.options), q.correct) for q in questions_in(ROOT / NB)]


def test_quiz_right_and_wrong(nb01: Any) -> None:
    """Answer the first check-yourself question wrong, then right, and read the feedback."""
    prompt, options, correct = _quiz_questions()[0]
    box = nb01.page.locator(".course-quiz").filter(has_text=prompt).first
    box.scroll_into_view_if_needed()
    feedback = box.locator(".widget-html").last
    wrong = next(i for i in range(len(options)) if i != correct)

    box.get_by_role("button", name="Check").click()
    nb01.wait_until(
        lambda: "Pick an answer" in feedback.inner_text(), "the 'pick an answer first' hint"
    )
    box.get_by_label(options[wrong], exact=True).check()
    box.get_by_role("button", name="Check").click()
    nb01.wait_until(
        lambda: feedback.inner_text().strip().startswith("✘ Not quite"), "the wrong-answer feedback"
    )
    box.get_by_label(options[correct], exact=True).check()
    box.get_by_role("button", name="Check").click()
    nb01.wait_until(
        lambda: feedback.inner_text().strip().startswith("✔ Correct!"), "the right-answer feedback"
    )
