"""``course-grade similar``: which submissions share code, and which answers are the course's own
implementation - for the instructor's eyes only.

    course-grade similar FOLDER [...] [--html F] [--csv F] [--set N] [--threshold 0.5]
                         [--min-match 10] [--top 50] [--max-share M] [--exercises DIR]

**Method** (the winnowing of MOSS: Schleimer, Wilkerson and Aiken, SIGMOD 2003). Each code cell
a learner wrote is turned into tokens with Python's own tokenizer, and normalised so that
renaming and reformatting change nothing: comments, docstrings, line breaks and indentation are
dropped; every identifier becomes ``V`` except keywords, builtins and attribute names (``.mean``
stays ``.mean``); strings become ``S``; numbers keep their value (``1_000`` equals ``1000.0``).
Every run of :data:`K` tokens is hashed and, in every window of :data:`W` consecutive hashes, the
smallest is kept: the submission's *fingerprints*. Two submissions sharing a run of at least
``K + W - 1`` normalised tokens are sure to share a fingerprint; shorter coincidences mostly are
not. Fingerprints of the exercise notebook handed out (the signatures and docstrings every
learner starts from) are removed, and so are - between learners - fingerprints found in more than
``--max-share`` submissions (code everybody writes the same way).

**Scores.** A pair's similarity is its shared fingerprints over the smaller submission's count
(a copy inside a longer notebook still scores 1.0); a pair is flagged at ``--threshold`` with at
least ``--min-match`` shared fingerprints. Code left out as too common is not forgotten: a
notebook whose code is mostly (80 % and more) such code is listed - one solution passed around a
whole class would otherwise hide itself. Each answer is also compared with the course's own
implementation of its question (the ``reference=`` of the question in :mod:`course_utils.checks`,
read with :func:`inspect.getsource`): the share of the implementation's fingerprints found in the
notebook. Identical files (same SHA-256) and code worth a look (``exec``, ``eval``,
``inspect.getsource``, ``importlib``, and the grader's own flags: imports of the course's
implementation, patches of the checks, paths into ``solutions/``) are listed.

A flag means "read these two side by side" (the HTML report shows the matching lines), not
"copied": short answers to the same question can coincide, and working together may be allowed.
Nothing of this goes into the learners' feedback files.

Examples
--------
>>> a = "def f(xs):\\n    total = 0\\n    for x in xs:\\n        total += x * x\\n    return total / len(xs)\\n"
>>> b = "def g(values):  # mine!\\n    s = 0\\n    for v in values:\\n        s += v*v\\n    return s/len(values)\\n"
>>> c = "def f(xs):\\n    return sum(x ** 2 for x in xs) / len(xs)\\n"
>>> similarity(a, b), similarity(a, c)
(1.0, 0.0)
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import inspect
import io
import keyword
import re
import textwrap
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "K",
    "W",
    "Pair",
    "RefMatch",
    "Submission",
    "Unit",
    "compare",
    "fingerprints",
    "load_submissions",
    "main",
    "normalised_tokens",
    "similarity",
]

#: Tokens per hashed run (k-gram) and hashes per winnowing window.
K, W = 6, 4
#: Characters of a cell compared (a longer cell is cut, and listed).
MAX_CELL_CHARS = 100_000
_BUILTINS = frozenset(dir(builtins))
_SKIP = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
_FALLBACK = re.compile(
    r"""[A-Za-z_]\w*|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|#[^\n]*|\S"""
)


def _number(text: str) -> str:
    try:
        return repr(float(text.replace("_", "")))
    except ValueError:
        return text.lower()


def _blank_magics(src: str) -> str:
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()
    )


def _name(text: str, previous: str) -> str:
    if keyword.iskeyword(text) or text in _BUILTINS or previous == ".":
        return text
    return "V"


def normalised_tokens(source: str) -> list[tuple[str, int]]:
    """``(token, line)`` of ``source`` normalised as the module docstring says.

    Examples
    --------
    >>> [t for t, _ in normalised_tokens("y = np.mean(x, )  # avg\\n")]
    ['V', '=', 'V', '.', 'mean', '(', 'V', ')']
    """
    src = _blank_magics(source) + "\n"
    try:
        raw = [
            t
            for t in tokenize.generate_tokens(io.StringIO(src).readline)
            if t.type not in (tokenize.NL, tokenize.COMMENT)
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _fallback_tokens(src)
    out: list[tuple[str, int]] = []
    for i, t in enumerate(raw):
        if t.type in _SKIP:
            continue
        prev = out[-1][0] if out else ""
        if t.type == tokenize.STRING or t.type == getattr(tokenize, "FSTRING_START", -1):
            before = raw[i - 1].type if i else tokenize.NEWLINE
            after = raw[i + 1].type if i + 1 < len(raw) else tokenize.NEWLINE
            if before in _SKIP[:3] and after in (tokenize.NEWLINE, tokenize.ENDMARKER):
                continue  # a docstring (or a bare string statement)
            text = "S"
        elif t.type in (
            getattr(tokenize, "FSTRING_MIDDLE", -1),
            getattr(tokenize, "FSTRING_END", -1),
        ):
            continue
        elif t.type == tokenize.NAME:
            text = _name(t.string, prev)
        elif t.type == tokenize.NUMBER:
            text = _number(t.string)
        elif t.type == tokenize.OP and t.string in ")]}" and prev == ",":
            out.pop()  # a trailing comma is formatting
            text = t.string
        else:
            text = t.string
        out.append((text, t.start[0]))
    return out


def _fallback_tokens(src: str) -> list[tuple[str, int]]:
    """A cruder tokenizer for cells Python cannot tokenize (a syntax error mid-string...)."""
    out: list[tuple[str, int]] = []
    for n, line in enumerate(src.splitlines(), start=1):
        for m in _FALLBACK.finditer(line):
            s = m.group()
            if s.startswith("#"):
                break
            if s[0] in "\"'":
                text = "S"
            elif s[0].isdigit():
                text = _number(s)
            elif s[0].isalpha() or s[0] == "_":
                text = _name(s, out[-1][0] if out else "")
            else:
                text = s
            out.append((text, n))
    return out


def _hash(texts: list[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(texts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def fingerprints(tokens: list[tuple[str, int]], k: int = K, w: int = W) -> dict[int, set[int]]:
    """``{fingerprint: lines it covers}`` chosen by winnowing the ``k``-gram hashes of ``tokens``
    (the rightmost smallest hash of every window of ``w``)."""
    texts = [t for t, _ in tokens]
    hashes = [_hash(texts[i : i + k]) for i in range(len(texts) - k + 1)]
    if not hashes:
        return {}
    picked: set[int] = set()
    for start in range(max(1, len(hashes) - w + 1)):
        window = hashes[start : start + w]
        low = min(window)
        picked.add(start + max(i for i, h in enumerate(window) if h == low))
    out: dict[int, set[int]] = {}
    for pos in picked:
        out.setdefault(hashes[pos], set()).update(line for _, line in tokens[pos : pos + k])
    return out


def similarity(a: str, b: str) -> float:
    """Shared fingerprints of two pieces of code over the smaller one's count (0 to 1)."""
    fa, fb = fingerprints(normalised_tokens(a)), fingerprints(normalised_tokens(b))
    if not fa or not fb:
        return 0.0
    return round(len(fa.keys() & fb.keys()) / min(len(fa), len(fb)), 2)


# --------------------------------------------------------------------------------- submissions
@dataclass
class Unit:
    """A piece of a submission compared as one: an answer cell, another cell, or a reference."""

    label: str
    source: str
    prints: dict[int, set[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, source: str) -> Unit:
        return cls(label, source, fingerprints(normalised_tokens(source)))


@dataclass
class Submission:
    """One notebook: its row key, set, hash, units and the constructs worth a look."""

    key: str
    set_number: int | None
    sha256: str
    units: list[Unit] = field(default_factory=list)
    constructs: list[str] = field(default_factory=list)
    problem: str = ""
    common_share: float = 0.0  # of its fingerprints, the share found in too many notebooks

    def prints(self) -> set[int]:
        return {h for u in self.units for h in u.prints}


@dataclass
class Pair:
    a: str
    b: str
    set_number: int | None
    matched: int
    a_share: float
    b_share: float
    similarity: float
    flagged: bool
    shared: set[int] = field(default_factory=set, repr=False)


@dataclass
class RefMatch:
    key: str
    qid: str
    reference: str
    matched: int
    share: float
    flagged: bool
    shared: set[int] = field(default_factory=set, repr=False)


def _defined(tree: ast.AST | None, src: str) -> set[str]:
    if tree is None:
        return set(re.findall(r"^\s*(?:def|class)\s+([A-Za-z_]\w*)", src, flags=re.M))
    names = set()
    for node in getattr(tree, "body", []):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _parse(src: str) -> ast.AST | None:
    try:
        return ast.parse(_blank_magics(src))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _constructs(tree: ast.AST | None, where: str) -> list[str]:
    found = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("exec", "eval", "compile", "__import__"):
                found.append(f"calls {node.func.id}() ({where})")
        if isinstance(node, ast.Attribute) and node.attr in ("getsource", "getsourcelines"):
            found.append(f"reads source code with inspect.{node.attr} ({where})")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            if any((m or "").split(".")[0] == "importlib" for m in names):
                found.append(f"imports modules by name with importlib ({where})")
    return found


def _norm_cell(src: str) -> str:
    return " ".join(t for t, _ in normalised_tokens(src))


def load_submissions(
    paths: list[str | Path], *, set_number: int | None = None, exercises: str | Path | None = None
) -> tuple[list[Submission], dict[int, set[int]], list[str]]:
    """``(submissions, {set: fingerprints of its handed-out notebook}, notes)`` of the
    notebooks under ``paths``."""
    from .. import checks
    from .batch import collect
    from .files import sha256_bytes
    from .sandbox import PACKAGE_DIR
    from .submission import code_cells, detect_set, only_self_checks, read_notebook, static_flags

    items, notes = collect(paths)
    folder = Path(exercises) if exercises is not None else PACKAGE_DIR.parent / "exercises"
    base: dict[int, set[int]] = {}
    templates: dict[int, set[str]] = {}
    subs = []
    for key, path in items:
        try:
            data = path.read_bytes()
        except OSError as exc:
            notes.append(f"{key}: cannot read ({exc})")
            continue
        nb, why = read_notebook(data)
        sub = Submission(key, None, sha256_bytes(data))
        if nb is None:
            sub.problem = why or "unreadable"
            subs.append(sub)
            continue
        sub.set_number = detect_set(nb, path.name)
        if set_number is not None and sub.set_number != set_number:
            continue
        s = sub.set_number
        if s is not None and s not in base:
            base[s], templates[s] = set(), set()
            found = sorted(folder.glob(f"{s:02d}_*.ipynb"))
            tnb = read_notebook(found[0].read_bytes())[0] if found else None
            if tnb is None:
                notes.append(
                    f"no handed-out notebook of set {s:02d} in {folder}: nothing discounted"
                )
            for _, src in code_cells(tnb) if tnb is not None else []:
                base[s] |= set(fingerprints(normalised_tokens(src)))
                templates[s].add(_norm_cell(src))
        qs = checks.questions(s) if s is not None else []
        answers = {q.answer: q.qid for q in qs}
        cells = [(i, src[:MAX_CELL_CHARS]) for i, src in code_cells(nb)]
        sub.constructs += [f"cell {i + 1} is {len(src):,} characters long: compared in part"
                           for i, src in code_cells(nb) if len(src) > MAX_CELL_CHARS]  # fmt: skip
        try:
            sub.constructs += static_flags(cells, qs)
        except RecursionError:
            sub.constructs.append("code nested too deeply to read")
        for index, src in cells:
            if only_self_checks(src) or _norm_cell(src) in templates.get(s, set()):
                continue
            tree = _parse(src)
            qids = sorted({answers[n] for n in _defined(tree, src) if n in answers})
            label = f"answer {', '.join(qids)}" if qids else "other code"
            sub.units.append(Unit.of(f"{label} (cell {index + 1})", src))
            sub.constructs += _constructs(tree, f"cell {index + 1}")
        for unit in sub.units:
            for h in base.get(s, set()):
                unit.prints.pop(h, None)
        subs.append(sub)
    return subs, base, notes


def reference_units(set_number: int) -> tuple[list[tuple[str, Unit]], list[str]]:
    """``([(qid, unit of the course's implementation)], notes)`` for the questions of a set."""
    from .. import checks

    out, notes = [], []
    for q in checks.questions(set_number):
        for ref in q.reference:
            mod, _, name = ref.rpartition(".")
            try:
                obj = getattr(importlib.import_module(mod), name)
                src = textwrap.dedent(inspect.getsource(obj))
            except (ImportError, AttributeError, OSError, TypeError) as exc:
                notes.append(f"question {q.qid}: cannot read {ref} ({type(exc).__name__})")
                continue
            out.append((q.qid, Unit.of(ref, src)))
    return out, notes


def compare(
    subs: list[Submission],
    *,
    threshold: float = 0.5,
    min_match: int = 10,
    max_share: int | None = None,
    references: bool = True,
    base: dict[int, set[int]] | None = None,
) -> tuple[list[Pair], list[RefMatch], list[str]]:
    """``(pairs, reference matches, notes)``: every pair of submissions of the same set that
    shares a fingerprint (most similar first), and every answer close to the course's code."""
    notes: list[str] = []
    by_set: dict[Any, list[Submission]] = {}
    for s in subs:
        if not s.problem:
            by_set.setdefault(s.set_number, []).append(s)
    pairs: list[Pair] = []
    refs: list[RefMatch] = []
    for set_number, group in by_set.items():
        limit = max_share if max_share is not None else max(10, len(group) // 4)
        counts = Counter(h for s in group for h in s.prints())
        common = {h for h, n in counts.items() if n > limit}
        prints = {s.key: s.prints() - common for s in group}
        for s in group:
            mine = s.prints()
            s.common_share = round(len(mine & common) / len(mine), 3) if mine else 0.0
        owners: dict[int, list[str]] = {}
        for s in group:
            for h in prints[s.key]:
                owners.setdefault(h, []).append(s.key)
        shared: Counter[tuple[str, str]] = Counter()
        for keys in owners.values():
            for i, a in enumerate(keys):
                for b in keys[i + 1 :]:
                    shared[(a, b)] += 1
        for (a, b), n in shared.items():
            na, nb = len(prints[a]), len(prints[b])
            sim = n / max(1, min(na, nb))
            flag = sim >= threshold and n >= min_match
            both = prints[a] & prints[b]
            pairs.append(Pair(a, b, set_number, n, n / na, n / nb, round(sim, 3), flag, both))
        if references and set_number is not None:
            units, ref_notes = reference_units(set_number)
            notes += ref_notes
            for s in group:
                mine = s.prints()
                for qid, unit in units:
                    theirs = set(unit.prints) - (base or {}).get(set_number, set())
                    hit = theirs & mine
                    if not theirs or not hit:
                        continue
                    share = len(hit) / len(theirs)
                    flag = share >= threshold and len(hit) >= min_match
                    refs.append(
                        RefMatch(s.key, qid, unit.label, len(hit), round(share, 3), flag, hit)
                    )
    pairs.sort(key=lambda p: (-p.similarity, -p.matched, p.a, p.b))
    refs.sort(key=lambda r: (-r.share, -r.matched, r.key))
    return pairs, refs, notes


def main(argv: list[str] | None = None) -> int:
    """``course-grade similar``: see :mod:`.similarity_report`."""
    from .similarity_report import main as report_main

    return report_main(argv)
