"""``course-grade similar`` (issue 26): a copy with renamed variables and new formatting is
caught, so is a paste of the course's own implementation (and ``exec(inspect.getsource(...))``),
two correct answers written independently are not flagged, identical files are grouped, and the
report (instructor only) is safe to open whatever the learners wrote. No kernel runs: the
notebooks are only read."""

from __future__ import annotations

import csv
import inspect
import re
from pathlib import Path

import nbformat
import pytest

from course_utils.grading import main
from course_utils.grading.similarity import (
    compare,
    fingerprints,
    load_submissions,
    normalised_tokens,
    similarity,
)
from course_utils.grading.similarity_report import widely_shared
from course_utils.toys import salary
from tests.repo_support import ROOT

TEMPLATE = ROOT / "exercises" / "01_motivation.ipynb"
NAMES = ("team0_share", "slope_influence", "infer_salary", "leaks_more")


def _answers(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        for name in NAMES:
            if cell.cell_type == "code" and f"def {name}(" in cell.source:
                out[name] = re.sub(r"\s*# (BEGIN|END) SOLUTION", "", cell.source)
    return out


COURSE_STYLE = _answers(ROOT / "solutions" / "01_motivation.ipynb")
OTHER_STYLE = _answers(ROOT / "tests" / "sample_submissions" / "alice_full.ipynb")


def _renamed(src: str) -> str:
    """The same code with every local name changed, comments added and the layout changed."""
    for old, new in (
        ("dx", "horiz"), ("dy", "vert"), ("w", "wt"), ("slope_all", "b_full"),
        ("salaries", "candidates"), ("best", "top"), ("dev", "spread"), ("n", "count"),
    ):  # fmt: skip
        src = re.sub(rf"\b{old}\b", new, src)
    src = src.replace(" = ", " =  ").replace(", ", ",")
    return "# my own work\n" + "\n\n".join(src.splitlines()) + "\n# done\n"


def _pasted_reference() -> str:
    """Question 1.2 answered with the course's function (and its helpers) pasted in, renamed."""
    parts = [
        inspect.getsource(f) for f in (salary._check_xy, salary._fit, salary.loo_slope_influence)
    ]
    code = "\n\n".join(parts).replace("years", "xs").replace("salary", "ys")
    return code.replace("def loo_slope_influence", "def slope_influence")


EXEC_SOURCE = (
    "import inspect\nimport course_utils.toys.salary as S\n"
    "exec(inspect.getsource(S.loo_slope_influence))\n"
    "def slope_influence(x, y):\n    return loo_slope_influence(x, y)"
)


def _notebook(answers: dict[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.read(TEMPLATE, as_version=4)
    for cell in nb.cells:
        for name, src in answers.items():
            if cell.cell_type == "code" and f"def {name}(" in cell.source:
                cell.source = src
    return nb


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sims")
    notebooks = {
        "course_style": COURSE_STYLE,
        "other_style": OTHER_STYLE,
        "renamed_copy": {k: _renamed(v) for k, v in OTHER_STYLE.items()},
        "pasted_reference": {**COURSE_STYLE, "slope_influence": _pasted_reference()},
        "exec_source": {**OTHER_STYLE, "slope_influence": EXEC_SOURCE},
        "<script>x": {  # a hostile name, and markup in the code the report shows
            **OTHER_STYLE,
            "team0_share": OTHER_STYLE["team0_share"] + "\n# </pre><script>alert(1)</script>",
        },
    }
    for name, answers in notebooks.items():
        nbformat.write(_notebook(answers), folder / f"{name}.ipynb")
    (folder / "sub").mkdir()
    nbformat.write(_notebook(OTHER_STYLE), folder / "sub" / "twin.ipynb")  # an identical file
    return folder


@pytest.fixture(scope="module")
def found(klass):
    subs, base, notes = load_submissions([klass])
    pairs, refs, more = compare(subs, base=base)
    return {s.key: s for s in subs}, pairs, refs, notes + more


def _pair(pairs, a: str, b: str):
    return next(
        p for p in pairs if {p.a, p.b} == {f"{a}.ipynb", f"{b}.ipynb"} or {p.a, p.b} == {a, b}
    )


def test_normalisation_ignores_names_comments_and_layout() -> None:
    a = "def f(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s / len(xs)\n"
    b = "def mean_of(values):  # the mean\n    acc=0\n    for v in values: acc += v\n    return (acc / len(values))\n"
    assert [t for t, _ in normalised_tokens(a)][:6] == ["def", "V", "(", "V", ")", ":"]
    assert similarity(a, a.replace("s", "total")) == 1.0
    assert similarity(a, b) >= 0.5  # the same loop, re-laid out (the extra parentheses count)
    assert fingerprints([]) == {} and similarity("", a) == 0.0
    assert normalised_tokens("x = 'unterminated\n") != []  # Python cannot tokenize it; we can


def test_a_renamed_and_reformatted_copy_is_flagged(found) -> None:
    _, pairs, _, _ = found
    p = _pair(pairs, "other_style", "renamed_copy")
    assert p.flagged and p.similarity == 1.0 and p.matched >= 40


def test_independent_correct_answers_written_differently_are_not_flagged(found) -> None:
    _, pairs, _, _ = found
    p = _pair(pairs, "course_style", "other_style")
    assert not p.flagged and p.similarity < 0.35, p
    flagged = {frozenset((p.a, p.b)) for p in pairs if p.flagged}
    assert frozenset(("course_style.ipynb", "other_style.ipynb")) not in flagged


def test_a_paste_of_the_courses_implementation_is_flagged(found) -> None:
    subs, _, refs, _ = found
    hit = {(r.qid, r.reference): r for r in refs if r.key == "pasted_reference.ipynb" and r.flagged}
    assert hit[("1.2", "course_utils.toys.salary.loo_slope_influence")].share >= 0.9
    # (the pasted helper _fit also holds the lines of slope_weights, 1.4's reference: flagged too)
    assert not any(r.flagged for r in refs if r.key in ("course_style.ipynb", "other_style.ipynb"))
    looks = " ".join(subs["exec_source.ipynb"].constructs)
    assert "calls exec()" in looks and "inspect.getsource" in looks
    assert (
        "imports the course's implementation `course_utils.toys.salary.loo_slope_influence`"
        in looks
    )


def test_the_report_is_for_the_instructor_and_safe_to_open(klass, tmp_path, capsys) -> None:
    html, table = tmp_path / "sim.html", tmp_path / "sim.csv"
    assert main(["similar", str(klass), "--html", str(html), "--csv", str(table)]) == 0
    out = capsys.readouterr().out
    assert "identical: other_style.ipynb, sub/twin.ipynb" in out
    assert "of course_utils.toys.salary.loo_slope_influence in pasted_reference.ipynb" in out
    page = html.read_text()
    assert "<script" not in page and "For the instructor only" in page
    assert "&lt;script&gt;x.ipynb" in page and "&lt;/pre&gt;&lt;script&gt;alert(1)" in page
    assert 'class="m"' in page  # matching lines are marked side by side
    rows = list(csv.DictReader(table.open()))
    kinds = {r["kind"] for r in rows}
    assert {"pair", "reference", "identical", "construct"} <= kinds
    flagged = {(r["a"], r["b"]) for r in rows if r["kind"] == "pair" and r["flagged"]}
    assert ("other_style.ipynb", "renamed_copy.ipynb") in flagged
    assert ("course_style.ipynb", "other_style.ipynb") not in flagged
    with pytest.raises(SystemExit):
        main(["similar", str(klass), "--threshold", "2"])


def test_one_solution_passed_around_a_class_is_still_listed(klass) -> None:
    """Code in more than --max-share notebooks is not compared pair by pair (it is what
    everybody writes, in a big class), but a notebook made mostly of it is listed."""
    subs, base, _ = load_submissions([klass])
    pairs, _, _ = compare(subs, base=base, max_share=3)  # OTHER_STYLE's code is in 5 notebooks
    many = {s.key for s in widely_shared(subs)}
    assert {"other_style.ipynb", "sub/twin.ipynb", "renamed_copy.ipynb"} <= many
    assert "course_style.ipynb" not in many
    assert not any(
        p.flagged and {p.a, p.b} == {"other_style.ipynb", "renamed_copy.ipynb"} for p in pairs
    )
