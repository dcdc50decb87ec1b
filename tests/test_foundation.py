"""setup(), the offline data, plotting helpers, the quiz and the shared training loop."""

from __future__ import annotations

import subprocess
import sys

import matplotlib as mpl
import numpy as np
import pytest
import torch

import course_utils
from course_utils import setup
from course_utils.data import (
    PAIR_SOURCE,
    pair_layout_names,
    pair_players,
    positions_from_salary,
    salary_view,
)
from course_utils.plotting import figure_with_controls, get_ax
from course_utils.quiz import Question, as_text, quiz
from course_utils.training import evaluate, mlp, train


def test_import_has_no_side_effects():
    code = (
        "import matplotlib as mpl, numpy as np; before = dict(mpl.rcParams); s = np.random.get_state()[1][:5].tolist();"
        "import course_utils, course_utils.data, course_utils.toys.soccer, course_utils.quiz;"
        "assert dict(mpl.rcParams) == before, 'rcParams changed on import';"
        "assert np.random.get_state()[1][:5].tolist() == s, 'numpy seeded on import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_setup_seeds_everything_and_returns_generator():
    rng = setup(seed=3)
    a = (rng.random(), np.random.rand(), torch.rand(1).item())
    rng = setup(seed=3)
    assert (rng.random(), np.random.rand(), torch.rand(1).item()) == a
    assert mpl.rcParams["axes.spines.top"] is False
    assert course_utils.__version__


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_setup_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        setup(seed=bad)


def test_pair_layouts():
    assert set(pair_layout_names()) == {
        "players0",
        "players1",
        "players2",
        "playersleaklow",
        "playersleakhigh",
    }
    for name in pair_layout_names():
        positions, teams = pair_players(name)
        assert positions.shape == (22, 2) and positions.dtype == float
        assert teams.tolist() == [0] * 11 + [1] * 11
        assert (positions[:, 0] >= 0).all() and (positions[:, 0] <= 120).all()
        assert (positions[:, 1] >= 0).all() and (positions[:, 1] <= 75).all()
    low, _ = pair_players("playersleaklow")
    high, _ = pair_players("playersleakhigh")
    assert set(np.flatnonzero((low != high).any(axis=1))) == {0, 18}
    assert "Apache-2.0" in PAIR_SOURCE
    with pytest.raises(ValueError, match="unknown layout"):
        pair_players("players9")


def test_pair_players_returns_fresh_copies():
    a, _ = pair_players()
    a[0] = -1
    assert pair_players()[0][0, 0] != -1


def test_salary_view_formula_and_inverse():
    positions, _ = pair_players()
    years, salary = salary_view(positions)
    np.testing.assert_allclose(years, positions[:, 0] / 6)
    np.testing.assert_allclose(salary, 90000 - positions[:, 1] / 75 * 50000)
    assert 40000 <= salary.min() and salary.max() <= 90000
    np.testing.assert_allclose(positions_from_salary(years, salary), positions)
    with pytest.raises(ValueError, match="shape"):
        salary_view(np.zeros(4))
    with pytest.raises(ValueError, match="equal length"):
        positions_from_salary([1, 2], [1])


def test_get_ax_reuses_axes():
    ax = get_ax()
    assert get_ax(ax) is ax


def test_live_figure_comes_after_its_controls():
    """A live ipympl canvas keeps the keyboard focus (every key is taken by the figure), so the
    controls must come first in the box for Tab to reach them."""
    import ipywidgets
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    backend = mpl.get_backend()
    try:
        from ipympl.backend_nbagg import Canvas  # importing ipympl switches the backend

        fig = Figure()
        canvas = Canvas(fig)  # what %matplotlib widget attaches to a new figure
        controls = ipywidgets.HTML("controls")
        box = figure_with_controls(fig, controls)
        assert box.children == (controls, canvas)
        assert canvas.header_visible is False
    finally:
        plt.switch_backend(backend)


def test_question_and_text_quiz(capsys):
    q = Question("Which?", ["a", "b", "c"], correct=2, explanation="Because.")
    assert q.answer(2) == (True, "Correct! Because.")
    assert q.answer(0)[0] is False
    with pytest.raises(ValueError, match="choice"):
        q.answer(3)
    with pytest.raises(ValueError, match="correct"):
        Question("x", ["a", "b"], correct=2)
    with pytest.raises(ValueError, match="two options"):
        Question("x", ["a"], correct=0)
    assert quiz([q], widget=False) is None
    assert "Q1. Which?" in capsys.readouterr().out
    assert as_text([q]).endswith("Q1 c")
    with pytest.raises(ValueError, match="at least one"):
        quiz([])


def test_quiz_widget_feedback():
    q = Question("Which?", ["a", "b"], correct=1, explanation="Because.")
    box = quiz([q], widget=True)
    item = box.children[0]
    item.check()
    assert "Pick an answer" in item.feedback.value
    item.radios.value = 0
    item.check()
    assert "Not quite" in item.feedback.value
    item.radios.value = 1
    item.check()
    assert "Correct" in item.feedback.value


def test_training_loop_learns_and_validates():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = mlp(5, (16,), 2, rng=0)
    history = train(model, X, y, epochs=15, lr=0.05)
    assert history["loss"][-1] < history["loss"][0]
    assert evaluate(model, X, y) > 0.9
    calls = []

    def attack(model, xb, yb):
        calls.append(len(xb))
        return xb

    train(model, X, y, epochs=1, batch_size=50, attack=attack)
    assert calls == [50, 50, 50, 50]
    with pytest.raises(ValueError, match="optimizer"):
        train(model, X, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs"):
        train(model, X, y, epochs=0)
    with pytest.raises(ValueError, match="lengths"):
        train(model, X, y[:10])
    with pytest.raises(ValueError, match="n_in"):
        mlp(0)
