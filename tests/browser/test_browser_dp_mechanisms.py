"""Notebook 03's epsilon dial in a real browser: mouse and keyboard move epsilon.

Only the three cells the dial needs run (imports + setup, the patients table, the dial); the rest
of notebook 03 (audits, accountants) is not needed for this widget and would slow the suite down.

The dial is a ``FloatLogSlider`` over log10(epsilon) in [-1, 1] with step 0.05 and
``continuous_update=False`` (the kernel hears about a mouse move when the handle is released),
a Laplace / Gaussian switch, a P[|log ratio| > epsilon] read-out and the figure as a PNG in an
``Image`` widget. Every check compares three views: the slider's read-out in the page, the dial's
Python state in the kernel, and the PNG the page displays (its SHA-256 against the kernel's).

Reading the kernel while the dial redraws can catch ``EpsilonDial.update`` half-way: with
ipykernel 7 a widget's comm message is handled concurrently with the test's execute request, and
a new ``epsilon`` next to a cleared or old title was seen in about 1 read in 15 right after a key
press. So :meth:`Dial.settle` accepts a state only when two reads in a row agree with each other
and with the page; no single read is judged.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

NB = "notebooks/03_dp_mechanisms.ipynb"
CELLS = ("<setup>", "patients = synthetic_patients", "n_flu = int(")
LOG_MIN, LOG_MAX, LOG_STEP = -1.0, 1.0, 0.05  # the dial's slider (EpsilonDial.__init__)

_KERNEL_STATE = (
    "import hashlib, json; print(json.dumps({'value': dial.slider.value, 'epsilon': dial.epsilon, "
    "'mechanism': dial.mechanism, 'kind': dial.kind.value, 'scale': dial.state['scale'], "
    "'exceeds': dial.state['ratio_exceeds'], 'title': dial.axes[0].get_title(), "
    "'label': dial.label.value, 'sha': hashlib.sha256(bytes(dial.image.value)).hexdigest()}))"
)
_PAGE_SHA = """async (img) => {
  if (!img.src) return null;
  const data = await (await fetch(img.src)).arrayBuffer();
  const digest = await crypto.subtle.digest('SHA-256', data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}"""


@pytest.fixture(scope="module")
def nb03(lab: Any) -> Any:
    """Notebook 03 opened in JupyterLab with only the dial's cells run."""
    lab.open(NB)
    lab.run_cells(*CELLS)
    assert lab.errors() == [], f"{NB} raised in the browser: {lab.errors()}"
    return lab


# ------------------------------------------------------------------------------------ helpers
def consistent(s: dict[str, Any]) -> bool:
    """The kernel's slider value, epsilon, switch, noise scale and title describe one setting."""
    eps = s["epsilon"]
    if not (math.isclose(s["value"], eps) and s["kind"] == s["mechanism"]):
        return False
    if s["mechanism"] == "laplace" and not math.isclose(s["scale"], 1.0 / eps):
        return False  # Laplace with sensitivity 1: scale = 1 / epsilon
    return s["title"] == f"{s['mechanism']}, scale {s['scale']:.2f}"


def on_grid(log_value: float) -> float:
    """The epsilon the slider snaps to for a position at log10(epsilon) = ``log_value``."""
    steps = round((log_value - LOG_MIN) / LOG_STEP)
    return 10 ** (LOG_MIN + steps * LOG_STEP)


class Dial:
    """The dial's elements in the page and its state in the kernel."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.cell = lab.cell(CELLS[-1])
        self.slider = self.cell.locator(".widget-slider").filter(
            has=lab.page.locator("label.widget-label", has_text=re.compile(r"^epsilon$"))
        )
        self.handle = self.slider.locator(".noUi-handle")
        self.image = self.cell.locator("img.widget-image")
        self.label = self.cell.locator(".widget-html").last
        self.slider.scroll_into_view_if_needed()

    def readout(self) -> float:
        """The epsilon the page shows next to the slider."""
        return float(self.slider.locator(".widget-readout").inner_text().replace("\u2212", "-"))

    def shown_exceeds(self) -> float:
        """The probability the page shows under the slider."""
        text = self.label.inner_text().strip()
        m = re.fullmatch(r"P\[\|log ratio\| > epsilon\] = (\S+)", text)
        assert m, f"unexpected read-out {text!r}"
        return float(m.group(1))

    def kernel(self) -> dict[str, Any]:
        return self.lab.kernel(_KERNEL_STATE)

    def page_sha(self) -> str | None:
        """SHA-256 of the PNG the page displays."""
        return self.image.evaluate(_PAGE_SHA)

    def page_x(self, log_value: float) -> tuple[float, float]:
        """Page position on the slider's track of log10(epsilon) = ``log_value``."""
        base = self.slider.locator(".noUi-base").bounding_box()
        frac = (log_value - LOG_MIN) / (LOG_MAX - LOG_MIN)
        return base["x"] + frac * base["width"], base["y"] + base["height"] / 2

    def settle(self, what: str, accept: Any = lambda s: True, timeout: float = 20.0) -> dict:
        """Wait until the dial is at rest and ``accept(state)``: the kernel state is consistent,
        equal in two reads in a row, and the page shows its epsilon, its probability and its PNG.
        """
        previous: list[dict[str, Any]] = []

        def at_rest() -> dict[str, Any] | None:
            s = self.kernel()
            same = previous[-1:] == [s]
            previous[:] = [s]
            ok = (
                same
                and consistent(s)
                and accept(s)
                and math.isclose(self.readout(), s["epsilon"], rel_tol=0.01)
                and self.shown_exceeds() == float(f"{s['exceeds']:.2g}")
                and self.page_sha() == s["sha"]
            )
            return s if ok else None

        try:
            return self.lab.wait_until(at_rest, what, timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last kernel state {previous[-1:]}") from None


def near(s: dict[str, Any], log_value: float) -> bool:
    """Epsilon within one slider step of 10**log_value (a mouse lands within a pixel or two)."""
    return abs(math.log10(s["epsilon"]) - log_value) <= LOG_STEP + 1e-9


# -------------------------------------------------------------------------------------- tests
def test_dial_renders_at_epsilon_one(nb03: Any) -> None:
    """The dial starts at epsilon = 1 (Laplace) with its figure drawn at a real size."""
    dial = Dial(nb03)
    s = dial.settle("the dial at rest", lambda s: s["epsilon"] == 1.0)
    assert s["mechanism"] == "laplace" and s["exceeds"] == 0.0 and dial.readout() == 1.0
    box = dial.image.bounding_box()
    assert box["width"] > 400 and box["height"] > 120, f"the dial's figure is {box}"


def test_mouse_drag_and_click_move_epsilon(nb03: Any) -> None:
    """Drag the handle to log10(eps) = -0.5 (eps ~ 0.32): kernel, read-out and figure follow;
    then click the track at log10(eps) = +0.5 (eps ~ 3.2): they follow again."""
    dial = Dial(nb03)
    page = nb03.page
    start = dial.settle("the dial at rest", lambda s: s["mechanism"] == "laplace")
    start_px = dial.image.screenshot()

    hb = dial.handle.bounding_box()
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(*dial.page_x(-0.5), steps=10)
    page.mouse.up()
    dragged = dial.settle(
        "epsilon near 0.32 after the drag", lambda s: near(s, -0.5) and s["sha"] != start["sha"]
    )
    assert dragged["scale"] > 2.5  # much more noise than at the start
    dragged_px = dial.image.screenshot()
    assert dragged_px != start_px, "the figure on screen did not change after the drag"

    page.mouse.click(*dial.page_x(0.5))
    dial.settle(
        "epsilon near 3.2 after the click", lambda s: near(s, 0.5) and s["sha"] != dragged["sha"]
    )
    assert dial.image.screenshot() not in (start_px, dragged_px)
    assert nb03.errors() == []


def test_keyboard_arrows_move_epsilon(nb03: Any) -> None:
    """Without a mouse: focus the handle; Home goes to eps = 0.1, each ArrowRight / ArrowLeft
    is one step (x or / 10**0.05), End goes to eps = 10; kernel, read-out and figure follow."""
    dial = Dial(nb03)
    page = nb03.page
    dial.handle.focus()
    assert dial.handle.evaluate("el => el === document.activeElement")

    page.keyboard.press("Home")
    low = dial.settle("epsilon 0.1 after Home", lambda s: math.isclose(s["epsilon"], 0.1))
    assert low["scale"] == pytest.approx(10.0)

    for _ in range(4):
        page.keyboard.press("ArrowRight")
    four = dial.settle(
        "epsilon 10**-0.8 after four ArrowRight presses",
        lambda s: math.isclose(s["epsilon"], on_grid(-1 + 4 * LOG_STEP), rel_tol=1e-6),
    )
    assert four["sha"] != low["sha"]

    page.keyboard.press("ArrowLeft")
    dial.settle(
        "epsilon 10**-0.85 after one ArrowLeft press",
        lambda s: math.isclose(s["epsilon"], on_grid(-1 + 3 * LOG_STEP), rel_tol=1e-6),
    )
    page.keyboard.press("End")
    high = dial.settle("epsilon 10 after End", lambda s: math.isclose(s["epsilon"], 10.0))
    assert high["scale"] == pytest.approx(0.1)
    assert nb03.errors() == []


def test_mechanism_switch_by_mouse_and_keyboard(nb03: Any) -> None:
    """Click "gaussian": title and the P[|log ratio| > epsilon] read-out change (Gaussian noise
    leaves the band with a small but positive probability); Space on "laplace" switches back."""
    dial = Dial(nb03)
    before = dial.settle("the dial at rest", lambda s: s["mechanism"] == "laplace")
    assert before["exceeds"] == 0.0 and dial.shown_exceeds() == 0.0

    dial.cell.get_by_role("button", name="gaussian", exact=True).click()
    gauss = dial.settle(
        "the Gaussian mechanism", lambda s: s["mechanism"] == "gaussian" and s["exceeds"] > 0
    )
    assert gauss["epsilon"] == before["epsilon"] and gauss["sha"] != before["sha"]
    assert dial.shown_exceeds() > 0

    dial.cell.get_by_role("button", name="laplace", exact=True).focus()
    nb03.page.keyboard.press("Space")
    back = dial.settle("Laplace again", lambda s: s["mechanism"] == "laplace")
    assert back["exceeds"] == 0.0 and back["sha"] == before["sha"]  # the same figure as before
    assert nb03.errors() == []
