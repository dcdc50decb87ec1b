"""Submissions as the grading tests write them: small notebooks of code cells, in the shape the
grader reads (a ``python3`` kernel, the exercise set in ``metadata.course_grade.set``)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["submission"]


def submission(
    *sources: str, set_number: int | None = 1, title: str | None = None
) -> nbformat.NotebookNode:
    """A submission notebook with one code cell per source, in order.

    Parameters
    ----------
    *sources : str
        The code cells' sources.
    set_number : int or None, default 1
        Recorded as ``metadata.course_grade.set``, as the exercise generator does; ``None``
        leaves that metadata out (the grader must then tell the set from the file name).
    title : str or None
        If given, a markdown cell ``# title`` comes first, as in a learner's notebook.

    Examples
    --------
    >>> nb = submission("x = 1", set_number=3, title="03 exercises")
    >>> [c.cell_type for c in nb.cells], nb.metadata.course_grade.set
    (['markdown', 'code'], 3)
    >>> "course_grade" in submission("x = 1", set_number=None).metadata
    False
    """
    cells = [new_markdown_cell(f"# {title}")] if title is not None else []
    cells += [new_code_cell(source) for source in sources]
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    if set_number is not None:
        metadata["course_grade"] = {"set": set_number}
    return new_notebook(cells=cells, metadata=metadata)
