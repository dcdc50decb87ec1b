"""course_utils.plotting.describe: static figures with alt text and a caption."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from course_utils.plotting import describe, figure_summary, share_map


def test_html_carries_alt_and_caption_and_the_png_its_description() -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 10, 100], [3, 2, 1], label="Laplace")
    ax.legend()
    ax.set(title=r"Noise at $\varepsilon = 1$", xlabel="queries", ylabel="error (\\$)")
    shown = describe(fig, "The error falls <fast> as queries grow.")
    assert shown.alt == "Noise at ε = 1 (x axis: queries; y axis: error ($); legend: Laplace)"
    bundle = shown._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.startswith('<figure class="course-figure"') and html.count("<img ") == 1
    assert f'alt="{shown.alt}"' in html
    assert "<figcaption>The error falls &lt;fast&gt; as queries grow.</figcaption>" in html
    assert Image.open(io.BytesIO(shown.png)).info["Description"] == shown.alt
    assert bundle["text/plain"].startswith("[Figure: Noise at")
    assert not plt.fignum_exists(fig.number), "the figure must not be shown a second time"


def test_panels_suptitle_and_colour_bars() -> None:
    fig, axes = plt.subplots(1, 2)
    share_map(np.full((2, 2), 0.5), (0, 2, 0, 2), ax=axes[0]).set_title("before")
    image = axes[1].imshow(np.eye(2))
    axes[1].set_title("after")
    fig.colorbar(image, ax=axes[1], label="share")
    fig.suptitle("One player moved")
    text = figure_summary(fig)
    assert text == "One player moved. 2 panels: (1) before; (2) after"
    kept = describe(fig, close=False)
    assert plt.fignum_exists(fig.number) and kept.caption == ""
    assert "<figcaption>" not in kept._repr_mimebundle_()["text/html"]
    plt.close(fig)


def test_caption_must_be_one_line() -> None:
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="caption must be one line"):
        describe(fig, "two\nlines")
    plt.close(fig)
