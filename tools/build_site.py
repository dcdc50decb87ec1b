"""Build the static course site (``make site``): every notebook executed, rendered to HTML.

    python tools/build_site.py                       # all notebooks of the course map -> site/
    python tools/build_site.py --out /tmp/site 01_motivation.ipynb
    python tools/build_site.py --no-execute          # render without running (fast preview)
    python tools/build_site.py --strict              # exit 1 if a formula stayed TeX (CI)

Why nbconvert (and not Jupyter Book): nbconvert is the Jupyter project's own exporter, already a
dependency of the stack we install (JupyterLab / nbclient), maintained with it, and it needs no
Node.js, no extra config tree and no network. The site is small (a dozen notebooks plus their
exercise sets), so three short modules - this one, ``site_html.py`` (the page template, figure
descriptions, the offline check) and ``site_math.py`` (TeX to MathML) - are easier to keep
working than a book toolchain.

The site works offline: no page loads anything from outside ``site/``. Formulas are MathML made
at build time (browsers draw it natively; no MathJax), CSS and images are inlined, and the build
fails if a page references an outside script, stylesheet, font or image. A formula that cannot be
converted stays readable as TeX and is reported at the end of the build (``--strict``: exit 1).

What the build does, per notebook in ``course_utils.nav.COURSE`` that exists in ``notebooks/``:

1. read it and run it in a fresh kernel (cwd: a temp dir, so nothing is written into the repo)
   with ``%matplotlib widget`` switched to ``%matplotlib inline``: the toys then show their figure
   as a static picture (``course_utils.plotting.figure_with_controls``) and check-yourself quizzes
   print as text with the answers at the end (``course_utils.quiz.as_text``); every figure shown
   records its titles, axis labels and legend, which become the image's alt text;
2. replace every remaining widget output (sliders, buttons) by a one-line note, since a static page
   has no kernel to drive them, and drop widget state;
3. fail loudly if any cell raised (an error cell never reaches the site);
4. rewrite links between notebooks (``NN_x.ipynb`` -> ``NN_x.html``, ``../README.md#notebooks`` ->
   ``index.html``) and add a prev / index / next bar at the top (the notebook's own footer, at
   the bottom, is a second one);
5. export with nbconvert's ``lab`` page, minus its CDN scripts, formulas as MathML (figures are
   embedded PNGs: one self-contained file per page).

Exercise notebooks are rendered as they are (not executed: they are for the learner to fill in).
``index.html`` gives the learning path (generated from ``course_utils.nav.COURSE``: every notebook
of the map that exists) with time estimates, run times and each notebook's exercise set, and lists
any other exercise set found in ``exercises/``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, Path(__file__).resolve().parent):  # run as a script from anywhere
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from site_html import (  # noqa: E402
    CELL_KEY,
    FIGURE_HOOK,
    IMAGE_MIMES,
    SiteExporter,
    alt_text,
    describe_unlabelled_images,
    external_references,
    index_page,
)
from site_math import MathLog  # noqa: E402

from course_utils import nav  # noqa: E402

__all__ = [
    "exercise_sets",
    "static_notebook",
    "execute",
    "rewrite_links",
    "render",
    "build",
    "main",
]

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    '<p class="course-static-note"><em>Interactive controls (sliders, buttons) appear here when '
    "you run this notebook in JupyterLab.</em></p>"
)
#: First cell of the executed copy: figures are pictures on the page whatever MPLBACKEND the
#: build runs with (a notebook without a %matplotlib line would otherwise show none under Agg),
#: quizzes print as text (they have no kernel on a static page), and every figure displayed
#: records what it shows (for its alt text). Removed before export.
STATIC_PRELUDE = (
    'get_ipython().run_line_magic("matplotlib", "inline")\n'
    "import course_utils.quiz as _course_quiz\n"
    "_course_quiz.has_frontend = lambda: False  # static site: quizzes print as text\n"
    "del _course_quiz\n" + FIGURE_HOOK
)
_PRELUDE_TAG = "course-site-prelude"
_LINK = re.compile(
    r"\]\(((?:\.\./)?(?:(notebooks|exercises)/)?(\d\d[a-z]?_[A-Za-z0-9_]+)\.ipynb)(#[^)]*)?\)"
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


def _heading(source: str) -> str | None:
    """The last Markdown heading in ``source`` (its text), or None."""
    found = re.findall(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", source, flags=re.M)
    return found[-1] if found else None


def _finish(nb: Any) -> Any:
    """Drop the prelude, replace widget outputs by a note, clear widget state, number the cells
    (for math reports) and give every image output its alt text."""
    nb.cells = [c for c in nb.cells if _PRELUDE_TAG not in c.metadata.get("tags", [])]
    section, figures = "", 0
    for index, cell in enumerate(nb.cells):
        cell.metadata[CELL_KEY] = index
        if cell.cell_type == "markdown":
            heading = _heading(cell.source)
            section, figures = (heading, 0) if heading else (section, figures)
            continue
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_MIME in data:
                out = nbformat.v4.new_output("display_data", data={"text/html": WIDGET_NOTE})
            for mime in IMAGE_MIMES:
                if mime in data and WIDGET_MIME not in data:
                    figures += 1
                    meta = out.setdefault("metadata", {}).setdefault(mime, {})
                    where = f" of the section '{section}'" if section else ""
                    fallback = f"Figure {figures}{where} (no titles or axis labels)"
                    meta["alt"] = alt_text(meta.pop("course_site_figure", None), fallback=fallback)
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
    >>> rewrite_links("[05b](05b_flower.ipynb)")
    '[05b](05b_flower.html)'
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


def exercise_sets(folder: str | Path) -> dict[str, Path]:
    """Exercise notebooks in ``folder`` by the notebook number they belong to (``"03"``, ...).

    A set belongs to the notebook with its number (``exercises/03_dp_mechanisms.ipynb`` to
    ``notebooks/03_...``); files that are not ``NN_topic.ipynb`` are ignored.
    """
    sets = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            sets.setdefault(nav.notebook_number(path.name), path)
        except ValueError:
            continue
    return sets


def _nav_cell(name: str, present: list[str]) -> Any:
    """The prev / index / next bar for the top of notebook ``name``'s page."""
    titles = nav.notebook_titles()
    i = present.index(name)

    def link(other: str) -> str:
        return f"{nav.notebook_number(other)} {titles[other]}]({Path(other).stem}.html)"

    parts = [f"[&larr; {link(present[i - 1])}"] if i > 0 else []
    parts.append("[Course index](index.html)")
    if i + 1 < len(present):
        parts.append(f"[{link(present[i + 1])}".replace("](", " &rarr;](", 1))
    return nbformat.v4.new_markdown_cell(" | ".join(parts))


def render(nb: Any, *, title: str, source: str = "", math_log: MathLog | None = None) -> str:
    """HTML of ``nb``: nbconvert's ``lab`` page with MathML formulas and nothing from a CDN.

    ``source`` names the notebook in ``math_log``'s reports. Raises ``RuntimeError`` if the page
    would still fetch anything from outside its folder.
    """
    from bs4 import BeautifulSoup

    exporter = SiteExporter(math_log=math_log if math_log is not None else MathLog(), source=source)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    soup = BeautifulSoup(body, "html.parser")
    describe_unlabelled_images(soup)
    page = str(soup)
    outside = external_references(page)
    if outside:
        raise RuntimeError(
            f"{source or title}: the page would fetch from outside the site: {outside}"
        )
    return page


def _write(path: Path, page: str) -> None:
    outside = external_references(page)
    if outside:
        raise RuntimeError(f"{path.name}: the page would fetch from outside the site: {outside}")
    path.write_text(page, encoding="utf-8")


def _exercise_page(path: Path, *, notebook: str | None, math_log: MathLog) -> str:
    exnb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(exnb.cells):
        cell.metadata[CELL_KEY] = index
        if cell.cell_type == "markdown":
            cell.source = rewrite_links(cell.source, kind="exercises")
    back = (
        f"[&larr; back to notebook {nav.notebook_number(notebook)}]({Path(notebook).stem}.html) | "
        if notebook
        else ""
    )
    exnb.cells.insert(
        0,
        nbformat.v4.new_markdown_cell(
            f"{back}[Course index](index.html)\n\n"
            "*Exercise notebook: run it in JupyterLab to write your answers and use the self-checks.*"
        ),
    )
    title = f"Exercises {nav.notebook_number(path.name)}"
    return render(exnb, title=title, source=f"exercises/{path.name}", math_log=math_log)


def build(
    out: str | Path = "site",
    names: list[str] | None = None,
    *,
    execute_notebooks: bool = True,
    timeout: int = 600,
    notebooks_dir: str | Path | None = None,
    exercises_dir: str | Path | None = None,
    math_log: MathLog | None = None,
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
    math_log : MathLog, optional
        Collects how many formulas became MathML and which stayed TeX (reported through ``log``).
    """
    notebooks_dir = Path(notebooks_dir or ROOT / "notebooks")
    exercises_dir = Path(exercises_dir or ROOT / "exercises")
    math_log = math_log if math_log is not None else MathLog()
    present = [n for n, _, _ in nav.COURSE if (notebooks_dir / n).exists()]
    wanted = present if not names else [Path(n).name for n in names]
    unknown = [n for n in wanted if n not in present]
    if unknown:
        raise ValueError(
            f"names must be notebooks of the course map present in {notebooks_dir}; got {unknown}"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    titles = nav.notebook_titles()
    sets = exercise_sets(exercises_dir)
    rows = []
    minutes = {n: m for n, _, m in nav.COURSE}
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
        stem, number = Path(name).stem, nav.notebook_number(name)
        page = render(
            nb, title=f"{number}. {titles[name]}", source=f"notebooks/{name}", math_log=math_log
        )
        _write(out / f"{stem}.html", page)
        row = {
            "number": number,
            "title": titles[name],
            "minutes": minutes[name],
            "page": f"{stem}.html",
            "seconds": seconds,
        }
        ex = exercises_dir / name if (exercises_dir / name).exists() else sets.get(number)
        if ex is not None:
            expage = f"exercises-{ex.stem}.html"
            _write(out / expage, _exercise_page(ex, notebook=name, math_log=math_log))
            row["exercises"] = expage
        rows.append(row)
    # exercise sets that belong to no notebook of the map: listed (and built on full builds)
    numbers = {nav.notebook_number(n) for n in present}
    others = []
    for number, ex in sets.items():
        if number in numbers:
            continue
        if not names:
            _write(
                out / f"exercises-{ex.stem}.html",
                _exercise_page(ex, notebook=None, math_log=math_log),
            )
        if (out / f"exercises-{ex.stem}.html").exists():
            others.append(
                {"page": f"exercises-{ex.stem}.html", "title": f"Exercises {number} ({ex.stem})"}
            )
    # the index lists every notebook of the map that exists; one not built (partial build) and
    # not in `out` from an earlier build gets no link
    built = {r["page"]: r for r in rows}
    index_rows = []
    for name in present:
        stem, number = Path(name).stem, nav.notebook_number(name)
        ex = exercises_dir / name if (exercises_dir / name).exists() else sets.get(number)
        expage = f"exercises-{ex.stem}.html" if ex is not None else None
        r = built.get(f"{stem}.html") or {
            "number": number,
            "title": titles[name],
            "minutes": minutes[name],
            "page": f"{stem}.html" if (out / f"{stem}.html").exists() else None,
            "seconds": None,
            "exercises": expage if expage and (out / expage).exists() else None,
        }
        index_rows.append(r)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    _write(out / "index.html", index_page(index_rows, built=stamp, others=others))
    log(f"site written to {out.resolve()} ({len(rows)} notebook page(s))")
    log(
        f"math: {math_log.converted} formula(s) rendered as MathML, "
        f"{len(math_log.problems)} left as TeX" + (" (listed below)" if math_log.problems else "")
    )
    for problem in math_log.problems:
        log(f"  not converted: {problem}")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="notebook file names (default: the whole course)")
    p.add_argument("--out", default=str(ROOT / "site"), help="output folder (default: site/)")
    p.add_argument("--no-execute", action="store_true", help="render without running the notebooks")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 if a formula could not be converted"
    )
    p.add_argument("--notebooks", help="folder of the notebooks (default: notebooks/)")
    p.add_argument("--exercises", help="folder of the exercise sets (default: exercises/)")
    args = p.parse_args(argv)
    math_log = MathLog()
    try:
        build(
            args.out,
            args.names or None,
            execute_notebooks=not args.no_execute,
            timeout=args.timeout,
            notebooks_dir=args.notebooks,
            exercises_dir=args.exercises,
            math_log=math_log,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    if args.strict and math_log.problems:
        print(f"build_site: {len(math_log.problems)} formula(s) left as TeX", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
