"""Write (or check) the prev / index / next footer of every notebook in notebooks/.

    python tools/footers.py --write          # update every notebook's footer cell
    python tools/footers.py --check          # exit 1 and list stale notebooks
    python tools/footers.py --write NB.ipynb # only that notebook

The footer is the last cell, recognised by course_utils.nav.FOOTER_MARK; it is appended if missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from course_utils.nav import FOOTER_MARK, footer, present_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def stale(path: Path, present: set[str]) -> bool:
    nb = nbformat.read(path, as_version=4)
    want = footer(path.name, present=present)
    last = nb.cells[-1] if nb.cells else None
    return not (last is not None and last.cell_type == "markdown" and last.source == want)


def write(path: Path, present: set[str]) -> None:
    nb = nbformat.read(path, as_version=4)
    want = footer(path.name, present=present)
    cells = [
        c for c in nb.cells if not (c.cell_type == "markdown" and c.source.startswith(FOOTER_MARK))
    ]
    cells.append(nbformat.v4.new_markdown_cell(want))
    # keep ids stable: reuse the old footer's id when there was one
    old = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith(FOOTER_MARK)]
    if old and "id" in old[0]:
        cells[-1]["id"] = old[0]["id"]
    else:
        cells[-1]["id"] = "course-footer"
    nb.cells = cells
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    present = present_notebooks(NOTEBOOKS)
    paths = args.notebooks or sorted(NOTEBOOKS / n for n in present)
    bad = []
    for path in paths:
        if not path.exists():
            print(f"no such notebook: {path}", file=sys.stderr)
            return 2
        if args.write:
            write(path, present)
        elif stale(path, present):
            bad.append(path.name)
    if bad:
        print("stale footers (run `make footers`): " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
