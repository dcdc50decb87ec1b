"""Headless run time and peak memory of every course notebook (one fresh kernel each, as the tests
run them).

Peak memory is the largest sum of resident set sizes of this process's children - the kernel and
whatever it starts (Flower's Ray processes in 05b) - sampled every 0.1 s, so short spikes between
samples can be missed. RSS counts shared libraries once per process, so a multi-process total
(Ray) is an upper bound on what the machine really needs.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


class PeakChildMemory:
    """Context manager sampling the summed RSS of this process's descendants in a thread."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:  # a process that ended between listing and reading
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakChildMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        with PeakChildMemory() as memory:
            try:
                client.execute()
                note = "budget 60 s"
            except Exception as exc:
                note = f"FAILED: {type(exc).__name__}"
        rows.append(
            {
                "name": f"notebook {path.stem}",
                "value": time.perf_counter() - start,
                "unit": "s",
                "note": note,
            }
        )
        rows.append(
            {
                "name": f"notebook {path.stem} peak memory",
                "value": memory.peak / 2**30,
                "unit": "GiB",
                "note": "kernel + its child processes (RSS, sampled every 0.1 s)",
            }
        )
    return rows
