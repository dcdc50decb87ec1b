"""An exercise notebook in a real browser: run it, write an answer, see the self-check box.

The learner's path: open ``exercises/01_motivation.ipynb``, Run All (every self-check says "not
implemented yet"), type a wrong answer into an exercise cell and run it with Shift+Enter (the box
says "not yet" and shows the hint), then a right one (the box says "passed").
"""

from __future__ import annotations

from typing import Any

import pytest

from course_utils.checks import questions
from tests.repo_support import ROOT

pytestmark = pytest.mark.browser

NB = "exercises/01_motivation.ipynb"

WRONG = """def leaks_more(years, salary, i, j):
    dev = np.abs(years - years.mean())
    return i if dev[i] < dev[j] else j
"""
RIGHT = """def leaks_more(years, salary, i, j):
    dev = np.abs(years - years.mean())
    return i if dev[i] > dev[j] else j
"""


@pytest.fixture(scope="module")
def ex01(lab: Any) -> Any:
    if not (ROOT / NB).exists():
        pytest.fail(f"{NB} is missing: generate it with `make exercises`")
    lab.open(NB)
    lab.run_all()
    assert lab.errors() == [], f"{NB} raised in the browser: {lab.errors()}"
    return lab


def _box(lab: Any, qid: str) -> Any:
    """The self-check result box of question ``qid`` (a ``role=status`` element)."""
    return lab.cell(f'check("{qid}"').locator(f'[role="status"][aria-label^="Exercise {qid} "]')


def test_self_checks_say_not_implemented(ex01: Any) -> None:
    """Run All on the untouched exercises: every self-check box says "not implemented yet"."""
    boxes = ex01.page.locator('[role="status"][aria-label^="Exercise 1."]')
    assert boxes.count() == len(questions(1))  # one box per question of set 01
    labels = boxes.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert all(label.endswith("not implemented yet") for label in labels), labels


def test_self_check_fails_then_passes(ex01: Any) -> None:
    """A wrong answer shows the "not yet" box with its hint; the right one shows "passed"."""
    page = ex01.page
    answer = ex01.cell("def leaks_more")
    box = _box(ex01, "1.4")

    ex01.set_source(answer, WRONG)
    page.keyboard.press("Shift+Enter")  # run the answer cell, move to the self-check cell
    page.keyboard.press("Shift+Enter")  # run the self-check
    ex01.wait_until(
        lambda: box.get_attribute("aria-label") == "Exercise 1.4 not yet", "the 'not yet' box"
    )
    text = box.inner_text()
    assert "0/1 points" in text and "hint:" in text and "LESS" in text, text

    ex01.set_source(answer, RIGHT)
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    ex01.wait_until(
        lambda: box.get_attribute("aria-label") == "Exercise 1.4 passed", "the 'passed' box"
    )
    assert "1/1 points" in box.inner_text()
    assert ex01.errors() == []
