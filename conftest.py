"""How the suite splits over pytest-xdist workers (``make test`` and ``make check`` run
``-n 2 --dist loadfile``).

Tests that share expensive state must run on the same worker, in order:

* the cells of one notebook (nbval runs them in one kernel, top to bottom);
* the tests of one module (module-scoped fixtures: a trained model, a graded class...);
* every browser test (one JupyterLab server and one Chromium for the whole session).

``--dist loadfile`` gives the first two; the scheduler below adds the third by making
tests/browser/ one unit. (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but
pytest-xdist 3.8 cannot tag node ids under pytest 9, so its groups are ignored.) Without ``-n``
nothing changes.
"""

from __future__ import annotations

from typing import Any

BROWSER = "tests/browser/"


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """``--dist loadfile``, with all browser tests in one unit; other modes are xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesAndOneBrowser(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return BROWSER if path.startswith(BROWSER) else path

    return FilesAndOneBrowser(config, log)
