"""The similarity report of ``course-grade similar`` (method: :mod:`.similarity`): an HTML page
with the most similar pairs and, for each flagged or top pair, the matching lines side by side;
and a CSV with one line per pair, reference match, identical group and construct.

The page is self-contained (no script, no network), every piece of a learner's code or file name
in it is HTML-escaped, and it is written for the instructor only.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import sys
from collections import defaultdict
from pathlib import Path

from .files import atomic_write_text
from .similarity import (
    K,
    Pair,
    RefMatch,
    Submission,
    Unit,
    compare,
    load_submissions,
    reference_units,
)

__all__ = ["csv_report", "html_report", "identical_groups", "main", "widely_shared"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;
vertical-align:top;text-align:left}th{background:#f3f3f3}.flag{background:#fde2d6}
pre{margin:0;font-size:12px;line-height:1.35;white-space:pre-wrap}.m{background:#ffe9a8}
.side{width:50%}.note{color:#555}
"""


#: Pairs shown side by side at most (the table lists every flagged pair).
MAX_DETAILS = 200


def identical_groups(subs: list[Submission]) -> list[list[str]]:
    """Row keys of files with the same SHA-256, in groups of two or more."""
    by_hash: dict[str, list[str]] = defaultdict(list)
    for s in subs:
        by_hash[s.sha256].append(s.key)
    return sorted(sorted(keys) for keys in by_hash.values() if len(keys) > 1)


def widely_shared(subs: list[Submission], at_least: float = 0.8) -> list[Submission]:
    """Notebooks whose code is mostly code found in too many notebooks to compare by pairs."""
    return [s for s in subs if s.common_share >= at_least and len(s.prints()) >= 10]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _code(unit: Unit, marked: set[int]) -> str:
    lines = set()
    for h in marked & unit.prints.keys():
        lines |= unit.prints[h]
    out = []
    for n, line in enumerate(unit.source.splitlines(), start=1):
        text = f"{n:3d}  {html.escape(line)}"
        out.append(f'<span class="m">{text}</span>' if n in lines else text)
    return f"<b>{html.escape(unit.label)}</b><pre>" + "\n".join(out) + "</pre>"


def _side_by_side(left: list[Unit], right: list[Unit], shared: set[int]) -> str:
    rows = []
    for u in left:
        mine = shared & u.prints.keys()
        if not mine:
            continue
        best = max(right, key=lambda v: len(mine & v.prints.keys()), default=None)
        other = _code(best, shared) if best is not None else ""
        rows.append(
            f'<tr><td class="side">{_code(u, shared)}</td><td class="side">{other}</td></tr>'
        )
    return "<table>" + "".join(rows) + "</table>" if rows else "<p>(no matching lines)</p>"


def html_report(
    subs: list[Submission],
    pairs: list[Pair],
    refs: list[RefMatch],
    *,
    title: str,
    top: int = 50,
    settings: str = "",
    notes: list[str] | None = None,
) -> str:
    """The HTML page (see the module docstring)."""
    e = html.escape
    by_key = {s.key: s for s in subs}
    shown = [p for p in pairs if p.flagged] + [p for p in pairs[:top] if not p.flagged]
    flagged = sum(p.flagged for p in pairs)
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>",
        "<p><b>For the instructor only</b> - never send this page or its numbers to learners. "
        "A flag means: read these side by side. Short answers to one question can coincide, "
        "and working together may have been allowed.</p>",
        f"<p class='note'>{len(subs)} notebooks; {flagged} pair(s) flagged; {e(settings)}</p>",
        "<h2>Most similar pairs</h2><table><tr><th>#</th><th>A</th><th>B</th><th>set</th>"
        "<th>similarity</th><th>shared fingerprints</th><th>of A</th><th>of B</th></tr>",
    ]
    for n, p in enumerate(shown, start=1):
        cls = " class='flag'" if p.flagged else ""
        parts.append(
            f"<tr{cls}><td><a href='#pair-{n}'>{n}</a></td><td>{e(p.a)}</td><td>{e(p.b)}</td>"
            f"<td>{p.set_number if p.set_number is not None else '?'}</td><td>{_pct(p.similarity)}"
            f"{' FLAG' if p.flagged else ''}</td><td>{p.matched}</td><td>{_pct(p.a_share)}</td>"
            f"<td>{_pct(p.b_share)}</td></tr>"
        )
    parts.append("</table><h2>Answers close to the course's own implementation</h2>")
    refs_shown = [r for r in refs if r.flagged or r.share >= 0.1]
    if refs_shown:
        parts.append(
            "<table><tr><th>notebook</th><th>question</th><th>course function</th>"
            "<th>share of it found</th><th>shared fingerprints</th></tr>"
        )
        for r in refs_shown:
            cls = " class='flag'" if r.flagged else ""
            parts.append(
                f"<tr{cls}><td>{e(r.key)}</td><td>{e(r.qid)}</td><td>{e(r.reference)}</td>"
                f"<td>{_pct(r.share)}{' FLAG' if r.flagged else ''}</td><td>{r.matched}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>none from 10 % of a function up</p>")
    groups = identical_groups(subs)
    parts.append("<h2>Identical files</h2>")
    parts.append(
        "<ul>" + "".join(f"<li>{e(', '.join(g))}</li>" for g in groups) + "</ul>"
        if groups
        else "<p>none</p>"
    )
    many = widely_shared(subs)
    parts.append("<h2>Code found in many notebooks</h2>")
    parts.append(
        "<ul>"
        + "".join(
            f"<li>{e(s.key)}: {_pct(s.common_share)} of its code is also in more than "
            "--max-share other notebooks (one solution passed around?)</li>"
            for s in many
        )
        + "</ul>"
        if many
        else "<p>none</p>"
    )
    looks = [(s.key, c) for s in subs for c in s.constructs]
    parts.append("<h2>Code worth a look</h2>")
    parts.append(
        "<ul>" + "".join(f"<li>{e(k)}: {e(c)}</li>" for k, c in looks) + "</ul>"
        if looks
        else "<p>none</p>"
    )
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in notes) + "</ul>")
    if len(shown) > MAX_DETAILS:
        parts.append(f"<p>Side by side below: the first {MAX_DETAILS} pairs of the table.</p>")
    for n, p in enumerate(shown[:MAX_DETAILS], start=1):
        a, b = by_key[p.a], by_key[p.b]
        parts.append(
            f"<h2 id='pair-{n}'>{n}. {e(p.a)} and {e(p.b)}: {_pct(p.similarity)}</h2>"
            + _side_by_side(a.units, b.units, p.shared)
        )
    for r in (r for r in refs if r.flagged):
        units = [
            u
            for q, u in reference_units(by_key[r.key].set_number or 0)[0]
            if u.label == r.reference
        ]
        parts.append(
            f"<h2>{e(r.key)} and {e(r.reference)} (question {e(r.qid)}): {_pct(r.share)}</h2>"
            + _side_by_side(by_key[r.key].units, units, r.shared)
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def csv_report(subs: list[Submission], pairs: list[Pair], refs: list[RefMatch]) -> str:
    """``kind, set, a, b, similarity, matched, a_share, b_share, flagged, detail`` lines (every
    pair sharing a fingerprint; reference matches from 10 % of the course's function up)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "kind",
            "set",
            "a",
            "b",
            "similarity",
            "matched",
            "a_share",
            "b_share",
            "flagged",
            "detail",
        ]
    )
    sets = {s.key: s.set_number for s in subs}
    for p in pairs:
        w.writerow(
            ["pair", p.set_number, p.a, p.b, p.similarity, p.matched, round(p.a_share, 3),
             round(p.b_share, 3), "yes" if p.flagged else "", ""]
        )  # fmt: skip
    for r in (r for r in refs if r.flagged or r.share >= 0.1):
        w.writerow(
            ["reference", sets.get(r.key), r.key, r.reference, r.share, r.matched, "", "",
             "yes" if r.flagged else "", f"question {r.qid}"]
        )  # fmt: skip
    for g in identical_groups(subs):
        for other in g[1:]:
            w.writerow(
                ["identical", sets.get(g[0]), g[0], other, 1.0, "", "", "", "yes", "same sha256"]
            )
    for s in widely_shared(subs):
        w.writerow(
            ["widely-shared", s.set_number, s.key, "", s.common_share, "", "", "", "yes", ""]
        )
    for s in subs:
        for c in s.constructs:
            w.writerow(["construct", s.set_number, s.key, "", "", "", "", "", "", c])
    return buf.getvalue()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="course-grade similar",
        description="Compare the code of every pair of submissions (and each answer with the "
        "course's own implementation) and report the most similar - for the instructor only.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="notebooks or folders of them")
    p.add_argument("--html", metavar="FILE", help="write the HTML report (side by side)")
    p.add_argument("--csv", metavar="FILE", help="write every pair and match as CSV")
    p.add_argument("--set", dest="set_number", type=int, default=None, help="only this set")
    p.add_argument("--threshold", type=float, default=0.5, help="similarity flagged (0.5)")
    p.add_argument("--min-match", type=int, default=10, help="shared fingerprints flagged (10)")
    p.add_argument("--top", type=int, default=50, help="pairs shown besides the flagged (50)")
    p.add_argument(
        "--max-share",
        type=int,
        default=None,
        help="ignore code found in more than this many notebooks (default max(10, n/4))",
    )
    p.add_argument("--exercises", metavar="DIR", help="the handed-out notebooks (exercises/)")
    p.add_argument("--no-reference", action="store_true", help="skip the course's code")
    return p


def main(argv: list[str] | None = None) -> int:
    """``course-grade similar``; exit status 0, or 2 for a usage error."""
    p = _parser()
    a = p.parse_args(argv)
    if not 0 < a.threshold <= 1 or a.min_match < 1 or a.top < 0:
        p.error("--threshold must be in (0, 1], --min-match at least 1, --top at least 0")
    subs, base, notes = load_submissions(a.paths, set_number=a.set_number, exercises=a.exercises)
    if not subs:
        p.error("; ".join(notes) or "no notebooks to compare")
    pairs, refs, more = compare(
        subs,
        threshold=a.threshold,
        min_match=a.min_match,
        max_share=a.max_share,
        references=not a.no_reference,
        base=base,
    )
    notes += more + [f"{s.key}: {s.problem}" for s in subs if s.problem]
    settings = (
        f"threshold {a.threshold:g}, at least {a.min_match} shared fingerprints, "
        f"k-grams of {K} normalised tokens"
    )
    if a.html:
        title = "Similarity report: " + ", ".join(a.paths)
        atomic_write_text(
            a.html,
            html_report(subs, pairs, refs, title=title, top=a.top, settings=settings, notes=notes),
        )
    if a.csv:
        atomic_write_text(a.csv, csv_report(subs, pairs, refs))
    flagged = [x for x in pairs if x.flagged]
    close = [r for r in refs if r.flagged]
    groups = identical_groups(subs)
    many = widely_shared(subs)
    print(
        f"compared {len(subs)} notebooks: {len(flagged)} pair(s) flagged, {len(close)} answer(s) "
        f"close to the course's implementation, {len(groups)} group(s) of identical files"
    )
    for x in flagged[:20]:
        print(f"  {x.similarity:.0%}  {x.a}  {x.b}  ({x.matched} shared)")
    if len(flagged) > 20:
        print(f"  ... and {len(flagged) - 20} more flagged pairs (the reports list them all)")
    for r in close:
        print(f"  {r.share:.0%} of {r.reference} in {r.key} (question {r.qid})")
    for g in groups:
        print(f"  identical: {', '.join(g)}")
    for s in many:
        print(f"  {s.common_share:.0%} of {s.key} is code found in too many notebooks to pair")
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    for f in (a.html, a.csv):
        if f:
            print(f"wrote {Path(f)}")
    return 0
