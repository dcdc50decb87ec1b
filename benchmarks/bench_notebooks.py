"""Headless run time of every course notebook (one fresh kernel each, as the tests run them)."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        try:
            client.execute()
            note = "budget 60 s"
        except Exception as exc:
            note = f"FAILED: {type(exc).__name__}"
        rows.append({"name": f"notebook {path.stem}", "value": time.perf_counter() - start, "unit": "s", "note": note})
    return rows
