"""`make bench`: run every benchmark module, print one table, write benchmarks/results.json.

Each ``benchmarks/bench_*.py`` defines ``run() -> list[dict]``; a row has ``name``, ``value``,
``unit`` and optionally ``note``. A module that fails gives one row saying so; the others still run.

    python benchmarks/run.py                 # everything
    python benchmarks/run.py notebooks toys  # only bench_notebooks.py and bench_toys.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    modules = sorted(HERE.glob("bench_*.py"))
    if wanted:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in wanted]
    rows: list[dict] = []
    for path in modules:
        start = time.perf_counter()
        try:
            new = load(path).run()
        except Exception as exc:  # one broken benchmark must not hide the others
            traceback.print_exc()
            new = [
                {
                    "name": f"{path.stem} FAILED",
                    "value": type(exc).__name__,
                    "unit": "",
                    "note": str(exc)[:200],
                }
            ]
        for row in new:
            row.setdefault("group", path.stem.removeprefix("bench_"))
        rows += new
        print(f"[{path.stem}] {time.perf_counter() - start:.1f} s", file=sys.stderr)
    width = max([len(r["name"]) for r in rows] + [10])
    print(f"{'benchmark'.ljust(width)}  {'value':>12}  unit      note")
    for r in rows:
        print(
            f"{r['name'].ljust(width)}  {fmt(r['value']):>12}  {r.get('unit', ''):<8}  {r.get('note', '')}"
        )
    out = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "rows": rows,
    }
    (HERE / "results.json").write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwrote {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
