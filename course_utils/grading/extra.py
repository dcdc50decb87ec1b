"""Instructor-only checks: ``course-grade --extra-checks FILE.py``.

An instructor can keep checks that learners never see - not in ``exercises/``, not in the
installed package - in a Python file of their own, registered with the same decorator as the
course's checks::

    # hidden_03.py, kept next to the gradebook, never handed out
    import numpy as np
    from course_utils.checks import expect, question

    @question("3.101", points=2, answer="laplace_mechanism", task="hidden: huge sensitivities")
    def _hidden_laplace(laplace_mechanism):
        out = laplace_mechanism(0.0, sensitivity=1e6, epsilon=1.0, rng=np.random.default_rng(0))
        expect(np.isfinite(out), "a sensitivity of one million still gives a finite number")

The file is loaded in the grader's process only (the learner's kernel never receives it: the
check functions run in the grader and call the learner's functions through the usual proxy).
Its questions are taken out of the public registry again right after loading, so the self-check
cells, ``questions(N)`` and the exercise generator never see them; the grader runs them after a
set's own questions, for submissions of that set. Their scores go into their own gradebook
columns (``extra:3.101``, ``extra_total``, ``extra_max``), outside ``total`` and ``max``; the
feedback files do not mention them unless ``--feedback-extra`` is given.

Rules for the file:

* ids are ``"N.k"`` of an existing set ``N``, and must not collide with a registered question:
  number them from ``N.101`` up, so a future public question never takes the id;
* ``answer=`` names a function of the learner's notebook - usually one a public question already
  checks (hidden tests of the same function), or another name the task asked for;
* a check may send the learner's function numbers, arrays, tensors, plain containers, course
  objects, and functions defined inside the check (they travel by value); helper functions at
  the file's top level run in the grader and cannot be sent to the kernel.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import checks
from ..checks import GradedQuestion

__all__ = ["extra_version", "load_extra_checks", "registered"]

_CACHE: dict[tuple[str, str], dict[str, GradedQuestion]] = {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_extra_checks(paths: Sequence[str | Path]) -> dict[str, GradedQuestion]:
    """``{qid: GradedQuestion}`` registered by the files ``paths``, kept out of the public
    registry.

    Parameters
    ----------
    paths : sequence of path
        Python files that register questions with ``@course_utils.checks.question``.

    Returns
    -------
    dict
        The extra questions, by id, in id order.

    Raises
    ------
    ValueError
        If a file cannot be read or run, registers nothing, registers a question of a set that
        has no public questions, or collides with a registered question.

    Examples
    --------
    >>> import tempfile, textwrap
    >>> src = textwrap.dedent('''
    ...     from course_utils.checks import expect, question
    ...     @question("1.101", points=1, answer="team0_share", task="hidden: a far-away point")
    ...     def _far(team0_share):
    ...         expect(0 <= team0_share([[0, 0], [1, 0]], [0, 1], [1e6, 1e6]) <= 1, "a share")
    ... ''')
    >>> with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
    ...     _ = f.write(src)
    >>> extra = load_extra_checks([f.name])
    >>> list(extra), "1.101" in checks.REGISTRY
    (['1.101'], False)
    """
    found: dict[str, GradedQuestion] = {}
    for raw in paths:
        path = Path(raw)
        try:
            key = (str(path.resolve()), _digest(path))
        except OSError as exc:
            raise ValueError(f"--extra-checks: cannot read {raw}: {exc}") from None
        if key not in _CACHE:
            _CACHE[key] = _load_one(path)
        for qid, q in _CACHE[key].items():
            if qid in found:
                raise ValueError(f"--extra-checks: question {qid} is registered by two files")
            found[qid] = q
    return dict(sorted(found.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def _load_one(path: Path) -> dict[str, GradedQuestion]:
    before = dict(checks.REGISTRY)
    name = f"course_extra_checks_{_digest(path)[:12]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"--extra-checks: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Not put in sys.modules: functions the checks define are then pickled by value when they
    # travel to the learner's kernel, which cannot import this file.
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        added = [q for q in checks.REGISTRY if q not in before]
        for qid in added:
            del checks.REGISTRY[qid]
        if isinstance(exc, ValueError) and "registered twice" in str(exc):
            raise ValueError(
                f"--extra-checks: {path}: {exc}; number extra questions from N.101 up so they "
                "never collide with the set's own"
            ) from None
        raise ValueError(f"--extra-checks: {path} failed: {type(exc).__name__}: {exc}") from None
    added = {qid: q for qid, q in checks.REGISTRY.items() if qid not in before}
    for qid in added:
        del checks.REGISTRY[qid]
    if not added:
        raise ValueError(f"--extra-checks: {path} registers no question (use @question)")
    for qid, q in added.items():
        if not checks.questions(q.set_number):
            raise ValueError(
                f"--extra-checks: {path}: question {qid} belongs to set {q.set_number:02d}, "
                "which has no questions of its own"
            )
    return added


@contextlib.contextmanager
def registered(question: GradedQuestion) -> Iterator[None]:
    """Put ``question`` in the registry for the duration of its check, so that it runs through
    :func:`course_utils.checks.run_check` exactly like a public question."""
    if question.qid in checks.REGISTRY:
        raise ValueError(f"question {question.qid} is already registered")
    checks.REGISTRY[question.qid] = question
    try:
        yield
    finally:
        checks.REGISTRY.pop(question.qid, None)


def extra_version(base: str, paths: Sequence[str | Path] = ()) -> str:
    """The gradebook's ``checks_version`` with extra checks: ``base`` followed by a hash of the
    extra files, so that ``--resume`` regrades when they change (``base`` alone without them).

    Examples
    --------
    >>> extra_version("abc")
    'abc'
    """
    if not paths:
        return base
    h = hashlib.sha256()
    for p in sorted(str(Path(p).resolve()) for p in paths):
        h.update(Path(p).read_bytes())
    return f"{base}+extra:{h.hexdigest()[:12]}"
