"""Shared pytest configuration.

* Headless matplotlib everywhere (``MPLBACKEND=Agg``) unless a notebook selects ipympl itself.
* Torch uses the machine's cores politely: at most 2 threads.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
