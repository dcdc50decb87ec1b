"""Shared pytest configuration.

* Headless matplotlib everywhere (``MPLBACKEND=Agg``) unless a notebook selects ipympl itself.
* Single-threaded OpenBLAS for the tests and the notebook kernels they start.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# Small linear algebra is faster single-threaded, and a busy 2-core machine makes multithreaded
# OpenBLAS thrash (a 401x401 solve measured 0.5 s instead of 0.01 s). Kernels inherit this.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
