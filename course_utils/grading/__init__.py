"""Exercise generator and class autograder (``course-grade``).

* **Generate** ``exercises/`` from ``solutions/`` (``make exercises``): :mod:`.generator`.
* **Grade** submissions::

      course-grade PATH [PATH ...] [--set N] [--timeout 120] [--check-timeout 30] [--jobs 2]
                   [--csv F] [--json F] [--feedback DIR] [--sandbox auto|bwrap|none]
                   [--memory 2GiB] [--resume] [--ray auto|ADDRESS]

  Each notebook runs in a fresh kernel inside a sandbox (:mod:`.sandbox`, bubblewrap where it
  works) from a private copy; then every registered question of its exercise set is checked
  **in the grader's own process** (:mod:`.grade`): the check receives a proxy
  (:mod:`.proxy`) that runs the learner's function in the kernel and brings back only plain data
  (:mod:`.protocol`, :mod:`.kernel_side`). Nothing a notebook patches can change a score, except
  by making its functions return right answers. Broken submissions (syntax errors, exceptions,
  endless loops, crashes, huge output, invalid files, another set's notebook) get a clear
  per-question result; nothing stops the batch (:mod:`.batch`), and the gradebook
  (:mod:`.gradebook`) keeps every row, also after Ctrl-C. With ``--ray`` each notebook is one
  Ray task graded the same way on a cluster's machines (:mod:`.distributed`).

* **Run a class**: ``--roster``, ``--ids``, ``--late-policy``, ``--late``, ``--due`` when grading
  (:mod:`.classroom`, :mod:`.roster`, :mod:`.identity`, :mod:`.late`); then::

      course-grade export GRADEBOOK --roster CSV (--canvas F | --moodle F)   # .lms
      course-grade similar FOLDER [--html F] [--csv F]                       # .similarity
      python -m course_utils.grading.release DIR   # make student-release    # .release

The modules: ``generator`` (the exercise generator), ``submission`` (reading a notebook, its set,
static integrity flags), ``sandbox`` (bubblewrap and limits), ``kernel`` (a kernel and its answer
socket, seen from the grader), ``kernel_side`` (what runs inside the kernel), ``protocol`` (the
safe wire format), ``proxy`` (the learner's answer as the checks see it), ``grade`` (one
submission), ``batch`` (a class), ``distributed`` (a class on Ray), ``gradebook``, ``results``,
``files``, ``cli``; for a real class ``roster``, ``identity`` (whose notebook), ``late``,
``classroom`` (the class options and report), ``lms`` (Canvas and Moodle files), ``similarity``
and ``similarity_report``, ``release`` (the students' repository).
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are imported on first use: the kernel imports `course_utils.grading.kernel_side`, which
# must stay light (no checks, no torch), and importing this package must not import the rest.
_WHERE = {
    "BEGIN": "generator",
    "END": "generator",
    "_dump": "generator",
    "_set_number_from_name": "generator",
    "exercise_notebook": "generator",
    "generate": "generator",
    "strip_solution": "generator",
    "MAX_OUTPUT_CHARS": "grade",
    "checks_version": "grade",
    "grade_submission": "grade",
    "collect": "batch",
    "grade_paths": "batch",
    "ray_session": "distributed",
    "run_on_ray": "distributed",
    "main": "cli",
    "Gradebook": "gradebook",
    "write_gradebook": "gradebook",
    "AnswerProxy": "proxy",
    "RemoteFunction": "proxy",
    "QuestionGrade": "results",
    "SubmissionGrade": "results",
    "SANDBOXES": "sandbox",
    "bwrap_problem": "sandbox",
    "parse_memory": "sandbox",
    "resolve_sandbox": "sandbox",
    "detect_set": "submission",
    "read_notebook": "submission",
    "static_flags": "submission",
}

__all__ = sorted(k for k in _WHERE if not k.startswith("_"))


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
