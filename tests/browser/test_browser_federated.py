"""Notebook 05's widget in a real browser: the Dirichlet-alpha slider redraws the label mix.

Only the setup cell and the widget's cell run (the federated training cells are not needed for
this widget and would add a minute to the browser suite).
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

NB = "notebooks/05_federated_learning.ipynb"


@pytest.fixture(scope="module")
def nb05(lab: Any) -> Any:
    lab.open(NB)
    lab.run_cells("<setup>", "def show_mix(")
    assert lab.errors() == [], lab.errors()
    return lab


def test_alpha_slider_redraws_the_label_mix(nb05: Any) -> None:
    """Keyboard on the interact slider: End / Home change alpha and the figure is redrawn."""
    cell = nb05.cell("def show_mix(")
    slider = cell.locator(".widget-slider")
    readout_el = slider.locator(".widget-readout")

    def readout() -> str:
        return readout_el.inner_text().replace("\u2212", "-")  # ipywidgets prints a real minus

    picture = cell.locator(".jp-OutputArea-output img").last
    assert readout() == "-1.00"
    first = picture.get_attribute("src")
    assert first and first.startswith("data:image/png")

    slider.locator(".noUi-handle").focus()
    nb05.page.keyboard.press("End")  # log10(alpha) = 2: every client gets about the same mix
    nb05.wait_until(lambda: readout() == "2.00", "the slider to reach 2.00")
    nb05.wait_until(lambda: picture.get_attribute("src") not in (None, first), "a redrawn figure")
    second = picture.get_attribute("src")
    nb05.page.keyboard.press("Home")  # log10(alpha) = -2: one or two classes per client
    nb05.wait_until(lambda: readout() == "-2.00", "the slider to reach -2.00")
    nb05.wait_until(
        lambda: picture.get_attribute("src") not in (None, first, second), "another figure"
    )
    assert nb05.errors() == []
