"""The site's pages as HTML that needs nothing from outside ``site/``, with described figures.

* :class:`SiteExporter` - nbconvert's ``lab`` export through a small template that drops the CDN
  scripts it would add (require.js, MathJax, mermaid, the widget manager) and renders every
  formula to MathML at build time (:mod:`site_math`). CSS and images are already inlined by
  the ``lab`` template, so a page is one self-contained file.
* :func:`external_references` - every script, stylesheet, font, image or frame a page would
  fetch from outside its folder; the build fails if a page has one, and so does a test.
* Figures get alt text from what the figure says about itself: the build's kernel records the
  suptitle, axes titles, axis labels and legend of each matplotlib figure it displays
  (:func:`figure_info`, installed by :data:`FIGURE_HOOK`), and :func:`alt_text` turns that into
  a sentence. An image without such a record is described by the section it appears in.
"""

from __future__ import annotations

import html
import inspect
import re
import textwrap
from typing import Any

import jinja2
from bs4 import BeautifulSoup
from markupsafe import Markup
from nbconvert import HTMLExporter
from site_math import MathLog, markdown_to_html, math_html, plain_tex

__all__ = [
    "FIGURE_HOOK",
    "IMAGE_MIMES",
    "NBCONVERT_DEFAULT_ALT",
    "SiteExporter",
    "alt_text",
    "describe_unlabelled_images",
    "external_references",
    "figure_info",
    "index_page",
]

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
#: What nbconvert writes into an image that has no alt text.
NBCONVERT_DEFAULT_ALT = "No description has been provided for this image"
#: Cell metadata key holding the cell's index in its source notebook (for math reports).
CELL_KEY = "course_site_cell"

#: The page template: nbconvert's ``lab`` page minus everything it loads from a CDN.
TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- require.js, MathJax, mermaid and the widget manager: nothing here may come from a CDN -#}
{% block html_head_js %}{% endblock html_head_js %}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}
{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}
{% block extra_css %}
<style type="text/css">
/* a font with an OpenType MATH table, installed on the reader's machine (never downloaded):
   Chromium's generic "math" family may pick one without, and then radicals and brackets do
   not stretch */
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre",
       "Libertinus Math", math; }
math[display="block"] { margin: 0.6em 0; overflow-x: auto; overflow-y: hidden; }
code.course-tex { color: #8a3b00; }
span.course-tex-display { display: block; text-align: center; margin: 0.6em 0; }
</style>
{% endblock extra_css %}
{% block data_png scoped %}{{ super() | course_alt(output, 'image/png') }}{% endblock data_png %}
{% block data_jpg scoped %}{{ super() | course_alt(output, 'image/jpeg') }}{% endblock data_jpg %}
{% block data_svg scoped %}{{ super() | course_alt(output, 'image/svg+xml') }}{% endblock data_svg %}
{% block data_latex scoped %}
<div class="jp-RenderedLatex jp-OutputArea-output {{ extra_class }}" data-mime-type="text/latex">
{{ output.data['text/latex'] | course_latex }}
</div>
{%- endblock data_latex %}
"""


class SiteExporter(HTMLExporter):
    """nbconvert's ``lab`` HTML export with build-time MathML and no CDN scripts.

    ``source`` names the notebook in math reports; every formula goes through ``math_log``.
    """

    def __init__(self, *, math_log: MathLog, source: str = "", **kwargs: Any) -> None:
        loader = jinja2.DictLoader({"course_site.html.j2": TEMPLATE})
        super().__init__(
            template_name="lab",
            template_file="course_site.html.j2",
            extra_loaders=[loader],
            **kwargs,
        )
        self.math_log = math_log
        self.source = source
        self.register_filter("course_alt", _with_alt)
        self.register_filter("course_latex", self._latex_output)

    def _where(self, cell: Any) -> str:
        index = cell.get("metadata", {}).get(CELL_KEY) if cell else None
        return f"{self.source} cells[{index}]" if index is not None else self.source

    @jinja2.pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        """Markdown (cells and ``text/markdown`` outputs) to HTML, formulas as MathML."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        return markdown_to_html(
            source,
            log=self.math_log,
            where=self._where(cell),
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )

    @jinja2.pass_context
    def _latex_output(self, context: Any, tex: str) -> Markup:
        """A ``text/latex`` output (``IPython.display.Math``, sympy): its formula as MathML."""
        tex = tex.strip()
        display = tex.startswith("$$") or tex.startswith(r"\[")
        for left, right in (("$$", "$$"), (r"\[", r"\]"), ("$", "$"), (r"\(", r"\)")):
            if tex.startswith(left) and tex.endswith(right) and len(tex) > len(left + right):
                tex = tex[len(left) : -len(right)]
                break
        tex = tex.replace(r"\displaystyle", "").strip()
        where = self._where(context.get("cell"))
        return Markup(math_html(tex, display=display, log=self.math_log, where=where))


def _with_alt(rendered: str, output: Any, mime: str) -> Markup:
    """Put the alt text the build stored in ``output``'s metadata into its ``<img>``."""
    alt = (output.get("metadata", {}).get(mime) or {}).get("alt")
    if not alt:
        return Markup(rendered)
    attr, rendered = html.escape(str(alt), quote=True), str(rendered)  # str: replace, not escape
    if "<img" in rendered:
        return Markup(rendered.replace("<img", f'<img alt="{attr}"', 1))
    return Markup(rendered.replace("<svg", f'<svg role="img" aria-label="{attr}"', 1))


# ============================================================================ figures
def figure_info(fig: Any) -> dict[str, Any]:
    """What a matplotlib figure says about itself: its title and, per axes, title, labels, legend.

    Runs in the build's kernel (its source is part of :data:`FIGURE_HOOK`), so it is
    self-contained.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], label="Laplace"); _ = ax.legend(); _ = ax.set_xlabel("noise")
    >>> figure_info(fig)["axes"]
    [{'title': '', 'xlabel': 'noise', 'ylabel': '', 'legend': ['Laplace'], 'colorbar': False}]
    >>> plt.close(fig)
    """

    def text(artist: Any) -> str:
        if artist is None or not artist.get_visible():
            return ""
        return artist.get_text().strip()

    legends = [text(t) for leg in getattr(fig, "legends", []) for t in leg.get_texts()]
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else text(fig._suptitle)
    info: dict[str, Any] = {"title": title.strip(), "legend": legends}
    info["axes"] = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        titles = [ax.get_title(loc).strip() for loc in ("left", "center", "right")]
        legend = ax.get_legend()
        info["axes"].append(
            {
                "title": " ".join(t for t in titles if t),
                "xlabel": ax.get_xlabel().strip(),
                "ylabel": ax.get_ylabel().strip(),
                "legend": [text(t) for t in legend.get_texts()] if legend is not None else [],
                "colorbar": getattr(ax, "_colorbar", None) is not None,
            }
        )
    return info


_HOOK = r"""
def _course_site_figure_hook():
    # Every matplotlib figure displayed also records figure_info(fig) in the output's metadata.
    from typing import Any

    from IPython import get_ipython
    from matplotlib.figure import Figure

FIGURE_INFO
    formatters = get_ipython().display_formatter.formatters
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        fmt = formatters[mime]

        def traced(obj, _lookup=fmt.lookup):
            printer = _lookup(obj)  # KeyError when there is none, as before
            if not isinstance(obj, Figure):
                return printer

            def with_info(fig):
                data = printer(fig)
                if data is None or isinstance(data, tuple):
                    return data
                try:
                    return data, {"course_site_figure": figure_info(fig)}
                except Exception:  # a description is never worth a failed figure
                    return data

            return with_info

        fmt.lookup = traced


_course_site_figure_hook()
del _course_site_figure_hook
"""
#: Kernel code: after it, every matplotlib figure displayed records :func:`figure_info`.
#: Nothing is left in the kernel's namespace.
FIGURE_HOOK = _HOOK.replace("FIGURE_INFO", textwrap.indent(inspect.getsource(figure_info), "    "))


def _text(value: str) -> str:
    """A figure text as plain words: mathtext as Unicode, whitespace (line breaks) as one space."""
    return " ".join(plain_tex(value).split())


def _describe_axes(ax: dict[str, Any]) -> str:
    parts = [f"{k[0]} axis: {_text(ax[k])}" for k in ("xlabel", "ylabel") if ax.get(k)]
    legend = [_text(t) for t in ax.get("legend", []) if t]
    if legend:
        more = f" and {len(legend) - 6} more" if len(legend) > 6 else ""
        parts.append("legend: " + ", ".join(legend[:6]) + more)
    details = f" ({'; '.join(parts)})" if parts else ""
    return (_text(ax.get("title", "")) or "plot") + details


def alt_text(info: dict[str, Any] | None, *, fallback: str, limit: int = 600) -> str:
    """A one-sentence description of a figure from :func:`figure_info`'s record.

    Mathtext (``$\\varepsilon$``) is shown as Unicode. ``fallback`` when the figure has no
    title, label or legend at all.

    Examples
    --------
    >>> one = {"title": "", "axes": [{"title": r"Noise at $\\varepsilon = 1$", "xlabel": "x",
    ...        "ylabel": "density", "legend": [], "colorbar": False}]}
    >>> alt_text(one, fallback="a figure")
    'Noise at ε = 1 (x axis: x; y axis: density)'
    >>> two = {"title": "Before and after", "axes": [{"title": "before"}, {"title": "after"},
    ...        {"ylabel": "share", "colorbar": True}]}
    >>> alt_text(two, fallback="a figure")
    'Before and after. 2 panels: (1) before; (2) after. Colour scale: share'
    >>> alt_text({"title": "", "axes": [{"title": ""}]}, fallback="Figure 2 of section 'Intro'")
    "Figure 2 of section 'Intro'"
    """
    axes = (info or {}).get("axes", [])
    panels = [a for a in axes if not a.get("colorbar")]
    pieces = [_text(info["title"])] if info and info.get("title") else []
    said = [
        (i, _describe_axes(a))
        for i, a in enumerate(panels, 1)
        if any(a.get(k) for k in ("title", "xlabel", "ylabel", "legend"))
    ]
    if len(panels) == 1 and said:
        pieces.append(said[0][1])
    elif said:
        pieces.append(f"{len(panels)} panels: " + "; ".join(f"({i}) {d}" for i, d in said))
    scales = [_text(a.get("ylabel") or a.get("xlabel") or "") for a in axes if a.get("colorbar")]
    pieces += [f"Colour scale: {s}" for s in scales if s]
    legend = [_text(t) for t in (info or {}).get("legend", []) if t]
    if legend:
        pieces.append("Legend: " + ", ".join(legend))
    text = ". ".join(p for p in pieces if p)
    if not text:
        return fallback
    text = text[0].upper() + text[1:]
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def describe_unlabelled_images(soup: BeautifulSoup) -> int:
    """Give every ``<img>`` with no alt text or nbconvert's placeholder one naming its section.

    Returns how many images were described this way.
    """
    count = 0
    for img in soup.find_all("img"):
        if img.get("alt") not in (None, NBCONVERT_DEFAULT_ALT):
            continue
        heading = img.find_previous(["h1", "h2", "h3", "h4"])
        section = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading else ""
        img["alt"] = f"Image in the section '{section}'" if section else "Image"
        count += 1
    return count


def index_page(rows: list[dict[str, Any]], *, built: str, others: list[dict[str, str]]) -> str:
    """The course index: one row per notebook (number, title, page, minutes, exercises, seconds),
    then ``others`` (exercise sets of no notebook: page, title). ``built`` is a time stamp."""
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
    extra = ""
    if others:
        links = "".join(
            f'<li><a href="{o["page"]}">{html.escape(o["title"])}</a></li>' for o in others
        )
        extra = f"<h2>Other exercise sets</h2>\n<ul>{links}</ul>\n"
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
{extra}<p class="small">Built {html.escape(built)} with nbconvert. Static pages cannot run code: sliders
and buttons are replaced by a note, toys show a picture of their starting state, and quizzes list
their answers at the end. Formulas are MathML, drawn by the browser; the site loads nothing from
the network.</p>
</body></html>
"""


# ============================================================================ offline check
_RESOURCE_ATTRS = ("src", "srcset", "data", "poster", "background", "href", "xlink:href")
_LINK_TAGS = ("a", "area")  # a link the reader may follow is not a fetch
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I | re.S)
_ABSOLUTE = re.compile(r"""(?:https?|ftp|wss?)://[^\s'"`)]+|(?<=['"`])//[^\s'"`)]+""", re.I)
#: Namespace names look like addresses but are never fetched.
_NAMESPACES = ("http://www.w3.org/",)


def _outside(url: str) -> bool:
    url = url.strip()
    if not url or url.startswith(("#", "data:", "about:", "blob:", "javascript:", "mailto:")):
        return False
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) or url.startswith(("/", "\\")):
        return True  # another scheme (http, file, ...), or an absolute path
    return ".." in re.split(r"[/\\]", url.split("?")[0].split("#")[0])


def _css_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [m.group(2) if m.group(2) is not None else m.group(4) for m in _CSS_URL.finditer(css)]


def external_references(page: str) -> list[str]:
    """What ``page`` (HTML) would fetch from outside its own folder, one line per reference.

    Scripts, stylesheets, fonts and images (``src``, ``href`` on anything but a link, CSS
    ``url()`` and ``@import`` in style sheets and ``style`` attributes, addresses inside inline
    scripts). ``data:`` URIs and files next to the page are fine; so are ``<a href>`` links.

    Examples
    --------
    >>> external_references('<a href="https://opacus.ai">docs</a><img src="data:image/png;base64,">')
    []
    >>> external_references('<script src="https://cdn.x/m.js"></script><style>@import "//f.x/a.css";</style>')
    ['<script src="https://cdn.x/m.js">', '<style> //f.x/a.css']
    """
    soup = BeautifulSoup(page, "html.parser")
    found = []
    for tag in soup.find_all(True):
        for attr in _RESOURCE_ATTRS:
            value = tag.get(attr)
            if value is None or (attr == "href" and tag.name in _LINK_TAGS):
                continue
            urls = (
                [u.strip().split(" ")[0] for u in value.split(",")] if attr == "srcset" else [value]
            )
            found += [f'<{tag.name} {attr}="{u}">' for u in urls if _outside(u)]
        found += [
            f"<{tag.name} style> url({u})" for u in _css_urls(tag.get("style", "")) if _outside(u)
        ]
        if tag.name == "style":
            found += [f"<style> {u}" for u in _css_urls(tag.get_text()) if _outside(u)]
        if tag.name == "script":
            urls = _ABSOLUTE.findall(tag.get_text())
            found += [f"<script> {u}" for u in urls if not u.startswith(_NAMESPACES)]
    return found
