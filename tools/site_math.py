"""TeX in the course's Markdown, rendered to MathML when the site is built (no script on the page).

The site used to leave ``$...$`` for MathJax, loaded from a CDN when the page opened; offline the
reader saw raw TeX. Here every formula becomes MathML at build time with ``latex2mathml``, and
browsers draw MathML themselves (MathML Core: Chromium 109+, Firefox, Safari).

Where the formulas are found is nbconvert's own Markdown parser (the one its HTML export uses),
so code spans, fenced code, raw HTML and escaped dollars (``\\$5``) are left alone as in
JupyterLab, with one deliberate difference for inline ``$``: as in pandoc, the opening ``$``
must be followed by a non-space, the closing ``$`` preceded by a non-space and not followed by
a digit, and (our addition) an inline formula holds no backtick, so a code span is never the end
of one. "It costs $5 and $10" therefore stays text, where JupyterLab would typeset "5 and ".

``latex2mathml`` does not know every LaTeX construct, and some of what it produces is outside
MathML Core, so :func:`tex_to_mathml`

* rewrites a few environments it lacks into ones it has (``aligned`` -> ``split``, ``gather`` ->
  one centred column, ...) and drops ``\\label`` / ``\\nonumber``;
* checks the result: braces balanced, well-formed XML, no command left over as text (an unknown
  ``\\foo`` comes back as ``<mi>\\foo</mi>``), every fraction and script with its arguments;
  anything else raises :class:`MathError`;
* redraws what browsers ignore or draw badly (each checked in Chromium screenshots):
  ``mathvariant="script"`` etc. become the Unicode mathematical letters, named spaces ``em``,
  table cell alignment and over/underlines CSS, primes full-size glyphs, and limits of ``\\max``
  and friends go underneath in display style as in TeX;
* keeps the TeX as an ``application/x-tex`` annotation (copy-paste, screen readers).

A formula that still fails is kept readable as TeX in a ``<code class="course-tex">`` and
recorded in a :class:`MathLog`, which ``make site`` prints (file, cell, TeX, reason).
"""

from __future__ import annotations

import html
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from nbconvert.filters.markdown_mistune import (
    IPythonRenderer,
    MarkdownWithMath,
    MathInlineParser,
)

__all__ = [
    "MathError",
    "MathLog",
    "MathProblem",
    "SiteMathRenderer",
    "markdown_to_html",
    "math_html",
    "plain_tex",
    "tex_to_mathml",
]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML_NS)
_Q = f"{{{MATHML_NS}}}"

#: Environments latex2mathml does not know, written as ones it does (name -> (begin, end)).
_ENVIRONMENTS = {
    "aligned": (r"\begin{split}", r"\end{split}"),
    "align*": (r"\begin{split}", r"\end{split}"),
    "alignedat": (r"\begin{split}", r"\end{split}"),
    "alignat": (r"\begin{split}", r"\end{split}"),
    "alignat*": (r"\begin{split}", r"\end{split}"),
    "flalign": (r"\begin{split}", r"\end{split}"),
    "flalign*": (r"\begin{split}", r"\end{split}"),
    "gather": (r"\begin{array}{c}", r"\end{array}"),
    "gather*": (r"\begin{array}{c}", r"\end{array}"),
    "gathered": (r"\begin{array}{c}", r"\end{array}"),
    "multline": (r"\begin{array}{c}", r"\end{array}"),
    "multline*": (r"\begin{array}{c}", r"\end{array}"),
    "eqnarray": (r"\begin{array}{rcl}", r"\end{array}"),
    "eqnarray*": (r"\begin{array}{rcl}", r"\end{array}"),
    "equation": ("", ""),
    "equation*": ("", ""),
    "displaymath": ("", ""),
}
_ENV = re.compile(r"\\(begin|end)\{([A-Za-z]+\*?)\}(\{\d+\})?")
_DROP = re.compile(r"\\(?:label\{[^{}]*\}|nonumber\b|notag\b)")
#: \textbf and friends: CSS on the text rather than mathematical letters.
_TEXT_STYLES = {
    "bold": "font-weight: bold",
    "italic": "font-style: italic",
    "bold-italic": "font-weight: bold; font-style: italic",
    "monospace": "font-family: monospace",
    "sans-serif": "font-family: sans-serif",
}
#: Elements and how many children they need.
_ARITY = {
    "mfrac": 2,
    "msub": 2,
    "msup": 2,
    "msubsup": 3,
    "munder": 2,
    "mover": 2,
    "munderover": 3,
    "mroot": 2,
}
#: Operators whose sub/superscripts go underneath/above in display style, as in TeX.
_LIMIT_OPERATORS = ("lim", "liminf", "limsup", "max", "min", "sup", "inf", "det", "gcd", "Pr")
_TOKENS = ("mi", "mn", "mo", "mtext", "ms")
#: Over/underline bars (drawn as CSS borders), primes, and ASCII accents -> spacing accents.
_LINES = ("\u2015", "\u00af", "\u203e", "_", "\u0332", "\u2014")
_PRIMES = "\u2032\u2033\u2034'"
_ACCENTS = {"^": "\u02c6", "~": "\u02dc"}
#: MathML named spaces (not in MathML Core) in em.
_NAMED_SPACES = {
    "veryverythinmathspace": 1,
    "verythinmathspace": 2,
    "thinmathspace": 3,
    "mediummathspace": 4,
    "thickmathspace": 5,
    "verythickmathspace": 6,
    "veryverythickmathspace": 7,
}
#: mathvariant -> the word(s) in Unicode's names of the mathematical alphanumeric symbols.
_VARIANTS = {
    "bold": "BOLD",
    "italic": "ITALIC",
    "bold-italic": "BOLD ITALIC",
    "double-struck": "DOUBLE-STRUCK",
    "script": "SCRIPT",
    "bold-script": "BOLD SCRIPT",
    "fraktur": "FRAKTUR",
    "bold-fraktur": "BOLD FRAKTUR",
    "sans-serif": "SANS-SERIF",
    "bold-sans-serif": "SANS-SERIF BOLD",
    "sans-serif-italic": "SANS-SERIF ITALIC",
    "sans-serif-bold-italic": "SANS-SERIF BOLD ITALIC",
    "monospace": "MONOSPACE",
}


class MathError(ValueError):
    """A formula that cannot be shown as MathML; the message says why."""


@dataclass
class MathProblem:
    """One formula left as TeX: where it is, the TeX, and why."""

    where: str
    tex: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.tex!r} ({self.reason})"


@dataclass
class MathLog:
    """What the build did with the formulas it met."""

    converted: int = 0
    problems: list[MathProblem] = field(default_factory=list)


# ============================================================================ TeX -> MathML
def _check_braces(tex: str) -> None:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex, flags=re.S):
        token = m.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                raise MathError("a '}' closes no '{'")
    if depth:
        raise MathError(f"{depth} '{{' never closed")


def _rewrite(tex: str) -> tuple[str, set[str]]:
    """TeX latex2mathml can read, and the operator names that take limits (``\\max``,
    ``\\operatorname*{...}``). Environments it lacks become ones it has; ``\\label`` and
    ``\\nonumber`` (which print nothing) go; ``\\arg`` becomes an operator name."""

    def env(m: re.Match) -> str:
        kind, name = m.group(1), m.group(2)
        if name not in _ENVIRONMENTS:
            return m.group(0)
        begin, end = _ENVIRONMENTS[name]
        return begin if kind == "begin" else end

    limits = set(_LIMIT_OPERATORS)

    def operator(m: re.Match) -> str:
        name = re.sub(r"\\[,;: ]", "\u2009", re.sub(r"\s+", "", m.group(2)))  # TeX: \\, = thin
        if m.group(1):
            limits.add(name)
        return rf"\operatorname{{{name}}}"

    tex = _DROP.sub("", tex)
    tex = _ENV.sub(env, tex)
    tex = re.sub(r"\\arg(?![A-Za-z])", r"\\operatorname{arg}", tex)
    tex = re.sub(r"\\operatorname(\*?)\{([^{}]*)\}", operator, tex)
    return tex, limits


def _styled_char(ch: str, words: str) -> str | None:
    """``ch`` in the mathematical alphabet ``words`` (e.g. "SCRIPT"), or None if Unicode has none."""
    if "A" <= ch <= "Z" or "a" <= ch <= "z":
        letter = f"{'CAPITAL' if ch.isupper() else 'SMALL'} {ch.upper()}"
    elif ch.isdigit():
        letter = unicodedata.name(ch)  # "DIGIT ONE"
    elif unicodedata.name(ch, "").startswith("GREEK "):
        letter = unicodedata.name(ch)[len("GREEK ") :].replace("LETTER ", "")
    else:
        return None
    candidates = [f"MATHEMATICAL {words} {letter}", f"{words} {letter}"]
    if words == "FRAKTUR":  # the holes of the Fraktur block are Letterlike "BLACK-LETTER" letters
        candidates.append(f"BLACK-LETTER {letter}")
    if (words, letter) == ("ITALIC", "SMALL H"):
        candidates.append("PLANCK CONSTANT")
    for name in candidates:
        try:
            return unicodedata.lookup(name)
        except KeyError:
            continue
    return None


def _restyle(elem: ET.Element, variant: str) -> bool:
    """Replace the text of ``elem``'s tokens by Unicode math letters; False if one has none."""
    words = _VARIANTS.get(variant)
    if words is None:
        return False
    for node in elem.iter():
        if node.tag[len(_Q) :] in _TOKENS and node.text:
            styled = [_styled_char(ch, words) or ("" if ch.isspace() else None) for ch in node.text]
            if any(s is None for s in styled):
                return False
            node.text = "".join(s or ch for s, ch in zip(styled, node.text, strict=True))
    return True


def _check_and_fix(root: ET.Element, limits: set[str]) -> None:
    for elem in root.iter():
        tag = elem.tag[len(_Q) :]
        if tag in _TOKENS and len(elem):  # e.g. \\mathop{...}: a token holding a formula
            elem.tag, tag = f"{_Q}mrow", "mrow"
        if tag in ("msub", "msubsup") and len(elem) and elem[0].tag == f"{_Q}mo":
            if (elem[0].text or "").strip() in limits:  # \\max_x: x underneath in display
                elem.tag = f"{_Q}munder" if tag == "msub" else f"{_Q}munderover"
                elem[0].set("movablelimits", "true")
                tag = elem.tag[len(_Q) :]
        if tag in _TOKENS and elem.text and re.match(r"\\[A-Za-z]", elem.text):
            raise MathError(f"unknown command {elem.text}")
        if tag in _ARITY and len(elem) != _ARITY[tag]:
            raise MathError(f"<{tag}> needs {_ARITY[tag]} arguments, got {len(elem)}")
        variant = elem.get("mathvariant")
        if tag == "mtext" and variant in _TEXT_STYLES:  # words: CSS, not math letters
            elem.set("style", _TEXT_STYLES[variant])
            del elem.attrib["mathvariant"]
        elif variant and variant != "normal" and _restyle(elem, variant):
            del elem.attrib["mathvariant"]
        width = elem.get("width", "")
        name = width.removeprefix("negative")
        if tag == "mspace" and name in _NAMED_SPACES:
            sign = "-" if width.startswith("negative") else ""
            elem.set("width", f"{sign}{_NAMED_SPACES[name] / 18:.4f}em")
        align = elem.get("columnalign")
        if tag == "mtd" and align in ("left", "right", "center"):  # Chromium ignores columnalign
            elem.set("style", f"text-align: -webkit-{align}; padding: 0.1em 0.25em")
        if tag == "mo" and elem.text == "/":  # a slash, not a spaced operator (as TeX does it)
            elem.set("lspace", "0")
            elem.set("rspace", "0")
        if tag in ("mover", "munder") and len(elem) == 2 and elem[1].text in _ACCENTS:
            elem[1].text = _ACCENTS[elem[1].text]
    for parent in list(root.iter()):
        for i, child in enumerate(parent):
            parent[i] = _redraw(child)


def _redraw(elem: ET.Element) -> ET.Element:
    """Constructs browsers draw badly, redrawn: lines over/under as CSS borders (a stretchy
    bar is not drawn at all by Chromium), primes at full size next to their base (as a
    superscript the font's prime is tiny)."""
    tag = elem.tag[len(_Q) :]
    if tag in ("mover", "munder") and len(elem) == 2 and (elem[1].text or "") in _LINES:
        side = "top" if tag == "mover" else "bottom"
        row = ET.Element(f"{_Q}mrow", style=f"border-{side}: 0.06em solid; padding-{side}: 0.1em")
        row.append(elem[0])
        return row
    if tag == "msup" and len(elem) == 2 and set(elem[1].text or "x") <= set(_PRIMES):
        row = ET.Element(f"{_Q}mrow")
        prime = ET.SubElement(row, f"{_Q}mo", lspace="0", rspace="0")
        prime.text = elem[1].text
        row.insert(0, elem[0])
        return row
    return elem


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """One TeX formula (without its ``$``) as a ``<math>`` element; :class:`MathError` if it can't.

    Examples
    --------
    >>> tex_to_mathml(r"\\varepsilon = 1")  # doctest: +ELLIPSIS
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><semantics><mrow>...\
<mi>ε</mi><mo>=</mo><mn>1</mn>...<annotation encoding="application/x-tex">\\\\varepsilon = 1</annotation>...'
    >>> "\U0001d4a9" in tex_to_mathml(r"\\mathcal N(0, \\sigma^2)")  # a script N, drawn by any font
    True
    >>> tex_to_mathml(r"\\frobnicate x")
    Traceback (most recent call last):
    ...
    site_math.MathError: unknown command \\frobnicate
    """
    if not tex.strip():
        raise MathError("empty formula")
    _check_braces(tex)
    from latex2mathml.converter import convert

    try:
        rewritten, limits = _rewrite(tex)
        xml = convert(rewritten, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises many types; each means "cannot convert"
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        raise MathError(f"latex2mathml: {reason}") from None
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise MathError(f"not well-formed MathML ({exc})") from None
    _check_and_fix(root, limits)
    semantics = ET.Element(f"{_Q}semantics")
    body = ET.SubElement(semantics, f"{_Q}mrow")
    body.extend(list(root))
    annotation = ET.SubElement(semantics, f"{_Q}annotation", encoding="application/x-tex")
    annotation.text = tex.strip()
    root[:] = [semantics]
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


def math_html(tex: str, *, display: bool, log: MathLog | None = None, where: str = "") -> str:
    """HTML for one formula: MathML, or (and a problem logged) the TeX kept readable in a ``<code>``.

    Examples
    --------
    >>> log = MathLog()
    >>> math_html(r"x^", display=False, log=log, where="nb.ipynb cells[3]")
    '<code class="course-tex" title="not converted: ...">$x^$</code>'
    >>> log.converted, str(log.problems[0])  # doctest: +ELLIPSIS
    (0, "nb.ipynb cells[3]: 'x^' (latex2mathml: MissingSuperScriptOrSubscriptError)")
    """
    delim = "$$" if display else "$"
    try:
        out = tex_to_mathml(tex, display=display)
    except MathError as exc:
        if log is not None:
            log.problems.append(MathProblem(where, tex, str(exc)))
        code = html.escape(f"{delim}{tex}{delim}", quote=False)
        tag = (
            f'<code class="course-tex" title="not converted: {html.escape(str(exc))}">{code}</code>'
        )
        return f'<span class="course-tex-display">{tag}</span>' if display else tag
    if log is not None:
        log.converted += 1
    return out


# ============================================================================ Markdown
class _DollarParser(MathInlineParser):
    """nbconvert's math-aware inline parser with pandoc's rule for inline ``$...$``."""

    INLINE_MATH_TEX = (
        r"(?s:(?<![$\\])\$(?![\s$])(?P<math_inline_tex>(?:\\.|[^$\\`])+?)(?<![\s\\])\$(?!\d))"
    )
    SPECIFICATION = {**MathInlineParser.SPECIFICATION, "inline_math_tex": INLINE_MATH_TEX}


class SiteMathRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer with every formula converted by :func:`math_html`."""

    def __init__(self, *, log: MathLog, where: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log = log
        self.where = where

    def block_math(self, body: str) -> str:
        return math_html(body, display=True, log=self.log, where=self.where)

    def latex_environment(self, name: str, body: str) -> str:
        tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return math_html(tex, display=True, log=self.log, where=self.where)

    def inline_math(self, body: str) -> str:
        return math_html(body, display=False, log=self.log, where=self.where)


def markdown_to_html(source: str, *, log: MathLog | None = None, where: str = "", **kw: Any) -> str:
    """Markdown to HTML as nbconvert does it, with the math as MathML.

    Extra keywords go to nbconvert's ``IPythonRenderer`` (``attachments``, ``path``, ...).

    Examples
    --------
    >>> out = markdown_to_html(r"Noise $\\sigma$, price \\$5, `$x$` and $5 or $10.")
    >>> out.count("<math"), "$5" in out, "<code>$x$</code>" in out, "$5 or $10" in out
    (1, True, True, True)
    """
    kw.setdefault("escape", False)
    renderer = SiteMathRenderer(log=log if log is not None else MathLog(), where=where, **kw)
    return MarkdownWithMath(renderer=renderer, inline=_DollarParser(hard_wrap=False)).render(source)


def plain_tex(text: str) -> str:
    """Text with its ``$...$`` mathtext made readable: symbols as Unicode, no ``$`` or braces.

    For alt text, which cannot hold MathML. As in matplotlib, a text is mathtext only if it has
    an even number of unescaped ``$``.

    Examples
    --------
    >>> plain_tex(r"accuracy at $\\varepsilon = 1$, $\\delta=10^{-5}$; costs \\$5")
    'accuracy at ε = 1, δ=10^-5; costs $5'
    >>> plain_tex("error ($)")
    'error ($)'
    """
    from latex2mathml.symbols_parser import convert_symbol

    def symbol(m: re.Match) -> str:
        code = convert_symbol(m.group(0))  # hex code point, e.g. "003B5", or None
        return chr(int(code, 16)) if code else m.group(0)[1:]

    def formula(m: re.Match) -> str:
        body = re.sub(r"\\[A-Za-z]+", symbol, m.group(1))
        body = re.sub(r"\\[,;:! ]", " ", body)
        return body.replace("{", "").replace("}", "")

    if len(re.findall(r"(?<!\\)\$", text)) % 2 == 0:
        text = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", formula, text)
    return text.replace(r"\$", "$")
