"""Build the static course site (``make site``): every notebook executed, rendered to HTML.

    python tools/build_site.py                       # all notebooks of the course map -> site/
    python tools/build_site.py --out /tmp/site 01_motivation.ipynb
    python tools/build_site.py --no-execute          # render without running (fast preview)

Why nbconvert (and not Jupyter Book): nbconvert is the Jupyter project's own exporter, already a
dependency of the stack we install (JupyterLab / nbclient), maintained with it, and it needs no
Node.js, no extra config tree and no network. The site is small (7 notebooks plus their exercise
sets), so a 300-line script that executes with nbclient, exports with the ``lab`` template and
writes one index page is easier to keep working than a book toolchain.

What the build does, per notebook in ``course_utils.nav.COURSE`` that exists in ``notebooks/``:

1. read it and run it in a fresh kernel (cwd: a temp dir, so nothing is written into the repo)
   with ``%matplotlib widget`` switched to ``%matplotlib inline``: the toys then show their figure
   as a static picture (``course_utils.plotting.figure_with_controls``) and check-yourself quizzes
   print as text with the answers at the end (``course_utils.quiz.as_text``);
2. replace every remaining widget output (sliders, buttons) by a one-line note, since a static page
   has no kernel to drive them, and drop widget state;
3. fail loudly if any cell raised (an error cell never reaches the site);
4. rewrite links between notebooks (``NN_x.ipynb`` -> ``NN_x.html``, ``../README.md#notebooks`` ->
   ``index.html``) and add a prev / index / next bar at the top;
5. export with nbconvert's ``lab`` template (figures are embedded PNGs, one self-contained file).

Exercise notebooks are rendered as they are (not executed: they are for the learner to fill in).
``index.html`` gives the learning path with time estimates and the build's run times.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from course_utils.nav import COURSE, notebook_titles  # noqa: E402

__all__ = ["static_notebook", "execute", "rewrite_links", "render", "build", "main"]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="course-static-note"><em>Interactive controls (sliders, buttons) appear here when '
    "you run this notebook in JupyterLab.</em></p>"
)
#: First cell of the executed copy: quizzes print as text (they have no kernel on a static page).
#: It is removed again before export.
STATIC_PRELUDE = (
    "import course_utils.quiz as _course_quiz\n"
    "_course_quiz.has_frontend = lambda: False  # static site: quizzes print as text\n"
    "del _course_quiz"
)
_PRELUDE_TAG = "course-site-prelude"
_LINK = re.compile(
    r"\]\(((?:\.\./)?(?:(notebooks|exercises)/)?(\d\d_[A-Za-z0-9_]+)\.ipynb)(#[^)]*)?\)"
)


def static_notebook(nb: Any) -> Any:
    """A copy of ``nb`` set up for a kernel-less page: inline figures, text quizzes.

    Examples
    --------
    >>> from nbformat.v4 import new_notebook, new_code_cell
    >>> nb = static_notebook(new_notebook(cells=[new_code_cell("%matplotlib widget\\nx = 1")]))
    >>> nb.cells[1].source
    '%matplotlib inline\\nx = 1'
    >>> nb.cells[0].metadata["tags"]
    ['course-site-prelude']
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(
                r"^%matplotlib\s+(widget|ipympl|notebook)\b",
                "%matplotlib inline",
                cell.source,
                flags=re.M,
            )
    prelude = nbformat.v4.new_code_cell(STATIC_PRELUDE, metadata={"tags": [_PRELUDE_TAG]})
    nb.cells.insert(0, prelude)
    nb.metadata.pop("widgets", None)
    return nb


def execute(nb: Any, *, timeout: int = 600, kernel_name: str = "python3") -> float:
    """Run ``nb`` in place in a fresh kernel whose working directory is a temp dir; return seconds.

    Raises ``RuntimeError`` naming the cell when a cell fails.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-site-run-") as tmp:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": tmp}}
        )
        try:
            client.execute()
        except CellExecutionError as exc:
            raise RuntimeError(f"a cell failed while building the site:\n{exc}") from None
    return time.perf_counter() - start


def error_cells(nb: Any) -> list[int]:
    """Indices of code cells with an error output."""
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]


def _finish(nb: Any) -> Any:
    """Drop the prelude, replace widget outputs by a note, clear widget state."""
    nb.cells = [c for c in nb.cells if _PRELUDE_TAG not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                out = nbformat.v4.new_output("display_data", data={"text/html": WIDGET_NOTE})
            outputs.append(out)
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return nb


def rewrite_links(text: str, *, kind: str = "notebooks") -> str:
    """Point links between course notebooks at the site's pages.

    ``kind`` is the folder of the page the text is on ("notebooks" or "exercises").

    Examples
    --------
    >>> rewrite_links("[next](02_threat_models.ipynb) [ex](../exercises/01_motivation.ipynb)")
    '[next](02_threat_models.html) [ex](exercises-01_motivation.html)'
    >>> rewrite_links("[Index](../README.md#notebooks)")
    '[Index](index.html)'
    >>> rewrite_links("[nb](../notebooks/01_motivation.ipynb#top)", kind="exercises")
    '[nb](01_motivation.html#top)'
    """
    if kind not in ("notebooks", "exercises"):
        raise ValueError(f"kind must be 'notebooks' or 'exercises', got {kind!r}")

    def page(m: re.Match) -> str:
        folder = m.group(2) or kind
        name = m.group(3)
        anchor = m.group(4) or ""
        target = f"{name}.html" if folder == "notebooks" else f"exercises-{name}.html"
        return f"]({target}{anchor})"

    text = _LINK.sub(page, text)
    return re.sub(r"\]\((?:\.\./)?README\.md(#[^)]*)?\)", "](index.html)", text)


def _nav_cell(name: str, present: list[str]) -> Any:
    titles = notebook_titles()
    i = present.index(name)
    parts = []
    if i > 0:
        parts.append(
            f"[&larr; {present[i - 1][:2]} {titles[present[i - 1]]}]({present[i - 1][:-6]}.html)"
        )
    parts.append("[Course index](index.html)")
    if i + 1 < len(present):
        parts.append(
            f"[{present[i + 1][:2]} {titles[present[i + 1]]} &rarr;]({present[i + 1][:-6]}.html)"
        )
    return nbformat.v4.new_markdown_cell(" | ".join(parts))


def render(nb: Any, *, title: str) -> str:
    """HTML of ``nb`` with nbconvert's ``lab`` template."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _index(rows: list[dict[str, Any]], *, built: str) -> str:
    total = sum(r["minutes"] for r in rows)
    items = []
    for r in rows:
        ex = f'<a href="{r["exercises"]}">exercises</a>' if r.get("exercises") else "&ndash;"
        run = f"{r['seconds']:.0f} s" if r.get("seconds") is not None else "&ndash;"
        name = html.escape(r["title"])
        link = f'<a href="{r["page"]}">{name}</a>' if r.get("page") else f"{name} (not built yet)"
        items.append(
            f"<tr><td>{r['number']}</td><td>{link}</td>"
            f"<td>{r['minutes']} min</td><td>{ex}</td><td>{run}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Private &amp; Robust ML - course index</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 54rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; }}
th {{ background: #f3f3f3; }}
a {{ color: #0072B2; }}
.small {{ color: #555; font-size: .9rem; }}
</style></head>
<body>
<h1>Private &amp; Robust ML</h1>
<p>A workbook that teaches privacy-aware and robust machine learning by doing: every notebook
runs offline on two CPU cores in about a minute. This site shows each notebook executed, with its
figures; the interactive toys, quizzes and self-checks come alive when you run the notebooks
yourself in JupyterLab (<code>make lab</code>, see the README).</p>
<h2>Learning path</h2>
<p>Work through the notebooks in order; each ends with a short quiz and points to its exercise
set. Total: about {total // 60} h {total % 60:02d} min of reading and playing, plus the exercises.</p>
<table>
<thead><tr><th>#</th><th>Notebook</th><th>Time</th><th>Exercises</th><th>Run time (this build)</th></tr></thead>
<tbody>
{chr(10).join(items)}
</tbody></table>
<p class="small">Built {html.escape(built)} with nbconvert. Static pages cannot run code: sliders
and buttons are replaced by a note, toys show a picture of their starting state, and quizzes list
their answers at the end.</p>
</body></html>
"""


def build(
    out: str | Path = "site",
    names: list[str] | None = None,
    *,
    execute_notebooks: bool = True,
    timeout: int = 600,
    notebooks_dir: str | Path | None = None,
    exercises_dir: str | Path | None = None,
    log: Any = print,
) -> list[dict[str, Any]]:
    """Build the site into ``out``; return one row per notebook page.

    Parameters
    ----------
    out : path
        Output folder (created; existing pages are overwritten).
    names : list of str, optional
        Notebook file names to build (default: every notebook of the course map that exists).
    execute_notebooks : bool
        Run the notebooks (default). ``False`` renders them as committed, without outputs.
    timeout : int
        Seconds per cell.
    """
    notebooks_dir = Path(notebooks_dir or ROOT / "notebooks")
    exercises_dir = Path(exercises_dir or ROOT / "exercises")
    present = [n for n, _, _ in COURSE if (notebooks_dir / n).exists()]
    wanted = present if not names else [Path(n).name for n in names]
    unknown = [n for n in wanted if n not in present]
    if unknown:
        raise ValueError(
            f"names must be notebooks of the course map present in {notebooks_dir}; got {unknown}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    minutes = {n: m for n, _, m in COURSE}
    for name in wanted:
        nb = nbformat.read(notebooks_dir / name, as_version=4)
        seconds = None
        if execute_notebooks:
            nb = static_notebook(nb)
            log(f"running {name} ...")
            seconds = execute(nb, timeout=timeout)
            bad = error_cells(nb)
            if bad:
                raise RuntimeError(f"{name}: cells {bad} have error outputs")
            log(f"  {seconds:.1f} s")
        nb = _finish(nb)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = rewrite_links(cell.source, kind="notebooks")
        nb.cells.insert(0, _nav_cell(name, present))
        stem = name[:-6]
        title = f"{stem[:2]}. {notebook_titles()[name]}"
        (out / f"{stem}.html").write_text(render(nb, title=title), encoding="utf-8")
        row = {
            "number": stem[:2],
            "title": notebook_titles()[name],
            "minutes": minutes[name],
            "page": f"{stem}.html",
            "seconds": seconds,
        }
        ex = exercises_dir / name
        if ex.exists():
            exnb = nbformat.read(ex, as_version=4)
            for cell in exnb.cells:
                if cell.cell_type == "markdown":
                    cell.source = rewrite_links(cell.source, kind="exercises")
            exnb.cells.insert(
                0,
                nbformat.v4.new_markdown_cell(
                    f"[&larr; back to notebook {stem[:2]}]({stem}.html) | [Course index](index.html)\n\n"
                    "*Exercise notebook: run it in JupyterLab to write your answers and use the self-checks.*"
                ),
            )
            (out / f"exercises-{stem}.html").write_text(
                render(exnb, title=f"Exercises {stem[:2]}"), encoding="utf-8"
            )
            row["exercises"] = f"exercises-{stem}.html"
        rows.append(row)
    # the index lists the whole course map; a page not in `out` (partial build) gets no link
    built = {r["page"]: r for r in rows}
    index_rows = []
    for name, title, mins in COURSE:
        stem = name[:-6]
        r = built.get(f"{stem}.html") or {
            "number": stem[:2],
            "title": title,
            "minutes": mins,
            "page": f"{stem}.html" if (out / f"{stem}.html").exists() else None,
            "seconds": None,
            "exercises": f"exercises-{stem}.html"
            if (out / f"exercises-{stem}.html").exists()
            else None,
        }
        index_rows.append(r)
    (out / "index.html").write_text(
        _index(index_rows, built=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
        encoding="utf-8",
    )
    log(f"site written to {out.resolve()} ({len(rows)} notebook page(s))")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="notebook file names (default: the whole course)")
    p.add_argument("--out", default=str(ROOT / "site"), help="output folder (default: site/)")
    p.add_argument("--no-execute", action="store_true", help="render without running the notebooks")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = p.parse_args(argv)
    try:
        build(
            args.out,
            args.names or None,
            execute_notebooks=not args.no_execute,
            timeout=args.timeout,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
