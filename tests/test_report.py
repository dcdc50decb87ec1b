"""course_utils.report: Markdown and HTML against hand-written expectations, embedded figures,
escaping, and bad input."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import pytest

from course_utils.report import AuditReport, Measurement, Section


@pytest.fixture
def report() -> AuditReport:
    r = AuditReport(
        "Audit of A and B",
        models=["A", "B"],
        summary="Two toy models.",
        context={"Claim": "epsilon = 2, delta = 1e-5 (add/remove-one, RDP)"},
    )
    s = r.section("Membership", tested="RMIA, 4 references", shows="the leak", does_not_show="more")
    s.add("TPR at 1 % FPR", "A", 0.042, interval=(0.026, 0.064), fmt="{:.1%}", note="CP 95 %")
    s.add("TPR at 1 % FPR", "B", 0.014, interval=(0.006, 0.029), fmt="{:.1%}", note="CP 95 %")
    s.add("verdict", "B", "caught")
    return r


def test_markdown_by_hand(report: AuditReport) -> None:
    want = """# Audit of A and B

Two toy models.

| | |
|---|---|
| **Claim** | epsilon = 2, delta = 1e-5 (add/remove-one, RDP) |

## Membership

**What was tested.** RMIA, 4 references

| Measure | A | B | Notes |
|---|---|---|---|
| TPR at 1 % FPR | 4.2% [2.6%, 6.4%] | 1.4% [0.6%, 2.9%] | CP 95 % |
| verdict | - | caught |  |

**What it shows.** the leak

**What it does not show.** more
"""
    assert report.to_markdown() == want


def test_cells_and_rows() -> None:
    assert Measurement("m", "A", 0.5, (0.25, 0.75), "{:.2f}").cell() == "0.50 [0.25, 0.75]"
    assert Measurement("m", "A", "yes").cell() == "yes"
    s = Section("t", "x", "y", "z", ("A", "B"))
    s.add("m1", "A", 1.0, note="n1").add("m2", "A", 2.0).add("m1", "B", 3.0, note="n2")
    assert s.rows() == [("m1", {"A": "1.000", "B": "3.000"}, "n1; n2"), ("m2", {"A": "2.000"}, "")]


class _Tags(HTMLParser):
    """Collects start tags and checks that every non-void tag is closed in order."""

    VOID = {"meta", "img", "br", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_balanced_and_complete(report: AuditReport) -> None:
    page = report.html()
    parser = _Tags()
    parser.feed(page)
    assert parser.stack == []
    tags = [t for t, _ in parser.seen]
    assert tags.count("table") == 1 and tags.count("section") == 1 and "script" not in tags
    text = " ".join(parser.text)
    for needle in (
        "4.2% [2.6%, 6.4%]",
        "1.4% [0.6%, 2.9%]",
        "caught",
        "What it does not show.",
        "RDP",
    ):
        assert needle in text
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


def test_figures_are_embedded_as_png(tmp_path) -> None:
    r = AuditReport("F", models=["A"])
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    s = r.section("S", tested="t", shows="s", does_not_show="d").add_figure(fig, caption="a line")
    plt.close(fig)
    ((caption, png),) = s.figures
    assert caption == "a line" and png.startswith(b"\x89PNG\r\n\x1a\n")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    assert f"![a line]({uri})" in r.to_markdown()
    assert "[figure: a line]" in r.to_markdown(figures=False) and uri not in r.to_markdown(
        figures=False
    )
    path = r.to_html(tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    src = re.search(r'<img src="([^"]+)" alt="a line">', page).group(1)
    assert base64.b64decode(src.split(",", 1)[1]) == png
    assert "http" not in page  # nothing to fetch: one offline file
    s.add_figure(png, caption="the same bytes")
    assert len(s.figures) == 2


def test_text_is_escaped() -> None:
    r = AuditReport("<b>bold</b> & co", models=["a|b"])
    s = r.section("<script>alert(1)</script>", tested="x < y", shows="s", does_not_show="d")
    s.add("p | q", "a|b", 1.0, note="<i>n</i>")
    page = r.html()
    assert (
        "<script>" not in page
        and "&lt;script&gt;" in page
        and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page
    )
    md = r.to_markdown()
    assert "| p \\| q | 1.000 | <i>n</i> |" in md and "| Measure | a\\|b | Notes |" in md


def test_to_html_writes_and_returns_the_path(report: AuditReport, tmp_path) -> None:
    path = report.to_html(str(tmp_path / "r.html"))
    assert path.read_text(encoding="utf-8") == report.html()
    with pytest.raises(ValueError, match="existing folder"):
        report.to_html(tmp_path / "missing" / "r.html")
    with pytest.raises(ValueError, match="not a folder"):
        report.to_html(tmp_path)
    with pytest.raises(ValueError, match="path"):
        report.to_html(3)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"title": ""}, "title"),
        ({"models": []}, "models"),
        ({"models": "AB"}, "models"),
        ({"models": ["A", "A"]}, "repeat"),
        ({"summary": 3}, "summary"),
        ({"context": {"a": 1}}, "context"),
    ],
)
def test_bad_report(kwargs, word) -> None:
    args = {"title": "T", "models": ["A"], **kwargs}
    with pytest.raises(ValueError, match=word):
        AuditReport(args.pop("title"), **args)


@pytest.mark.parametrize(
    "args, kwargs, word",
    [
        (("m", "C", 1.0), {}, "model"),
        (("", "A", 1.0), {}, "measure"),
        (("m", "A", float("nan")), {}, "finite"),
        (("m", "A", [1.0]), {}, "value"),
        (("m", "A", True), {}, "value"),
        (("m", "A", 0.5), {"interval": (0.6, 0.4)}, "interval"),
        (("m", "A", 0.5), {"interval": (0.6, 0.7)}, "outside"),
        (("m", "A", 0.5), {"interval": (0.1,)}, "interval"),
        (("m", "A", 0.5), {"fmt": "{:d}"}, "fmt"),
        (("m", "A", 0.5), {"fmt": "{0}{1}"}, "fmt"),
        (("m", "A", 0.5), {"note": None}, "note"),
    ],
)
def test_bad_measurement(args, kwargs, word) -> None:
    s = AuditReport("T", models=["A"]).section("S", tested="t", shows="s", does_not_show="d")
    with pytest.raises(ValueError, match=word):
        s.add(*args, **kwargs)


def test_bad_section_and_figure() -> None:
    r = AuditReport("T", models=["A"])
    with pytest.raises(ValueError, match="does_not_show"):
        r.section("S", tested="t", shows="s", does_not_show=" ")
    s = r.section("S", tested="t", shows="s", does_not_show="d")
    with pytest.raises(ValueError, match="PNG"):
        s.add_figure(b"GIF89a", caption="c")
    with pytest.raises(ValueError, match="figure"):
        s.add_figure("plot.png", caption="c")
    with pytest.raises(ValueError, match="caption"):
        s.add_figure(b"\x89PNG\r\n\x1a\n", caption="")
    assert repr(r) == "AuditReport('T', models=['A'], sections=1)"


def test_a_section_can_show_a_subset_of_the_models() -> None:
    r = AuditReport("T", models=["A", "B", "C"])
    s = r.section("code audit", tested="t", shows="s", does_not_show="d", models=["C", "A"])
    s.add("bound", "C", 4.68, fmt="{:.2f}")
    assert (
        "| Measure | C | A | Notes |" in r.to_markdown()
        and "| bound | 4.68 | - |  |" in r.to_markdown()
    )
    assert r.html().count('<th scope="col">') == 4  # Measure, C, A, Notes
    with pytest.raises(ValueError, match="this section's models"):
        s.add("bound", "B", 1.0)
    for bad in (["D"], [], "A", ["A", "A"]):
        with pytest.raises(ValueError, match="models"):
            r.section("x", tested="t", shows="s", does_not_show="d", models=bad)
