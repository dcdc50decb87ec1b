"""A fresh JupyterLab on the course's settings greets the learner with no news pop-up (Chromium).

The control run, on JupyterLab's own defaults, must show the "official Jupyter news?" question,
or the check that it is absent would prove nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_lab_settings import app_settings, lab_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
QUESTION = "official Jupyter news"


def _news_prompt_after(browser: Any, url: str, token: str, seconds: float) -> tuple[bool, float]:
    """Open JupyterLab; (was the news question shown within ``seconds``, when it showed)."""
    page = browser.new_page()
    try:
        page.goto(f"{url}/lab?token={token}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if page.get_by_text(QUESTION).count():
                return True, time.monotonic() - start
            time.sleep(0.25)
        return False, seconds
    finally:
        page.close()


def test_fresh_lab_asks_no_news_question(browser: Any, tmp_path: Path) -> None:
    with lab_server(tmp_path / "plain", app_settings(tmp_path, with_overrides=False)) as (
        url,
        token,
    ):
        shown, after = _news_prompt_after(browser, url, token, seconds=60)
    assert shown, (
        "control: JupyterLab's defaults should ask about news; the check below means nothing"
    )
    with lab_server(tmp_path / "course", app_settings(tmp_path, with_overrides=True)) as (
        url,
        token,
    ):
        shown, _ = _news_prompt_after(browser, url, token, seconds=max(10.0, 3 * after))
    assert not shown, "the course's settings should leave the learner undisturbed"
