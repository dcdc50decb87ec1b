"""The proxy grades like the notebook: for every question of every set, the reference
answer and a handful of wrong variants (negated result, an exception, ``None``, a list instead
of an array, an input changed in place) get the same result - status, message, expected, got,
hint - through the kernel proxy as from :func:`course_utils.checks.run_check` in this process.

The variants are built from the answer cells of ``solutions/NN`` and defined identically in this
process and in one kernel per set.
"""

from __future__ import annotations

import linecache
import re
import tempfile
from pathlib import Path

import pytest

from course_utils import checks
from course_utils.grading.kernel import AnswerChannel, Kernel
from course_utils.grading.proxy import AnswerProxy, AnswerSession
from course_utils.grading.sandbox import resolve_sandbox
from tests.check_support import answer_cells, import_lines
from tests.repo_support import set_notebook

SETS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
pytestmark = pytest.mark.slow

PRELUDE = """
import math
import numpy as np
import pandas as pd
import torch
from scipy import stats

def _neg(r):
    if isinstance(r, (int, float, np.number)) and not isinstance(r, bool):
        return -r
    if isinstance(r, np.ndarray) and r.dtype.kind in "if":
        return -r
    if isinstance(r, torch.Tensor) and r.is_floating_point():
        return -r
    if isinstance(r, dict):
        return {k: _neg(v) for k, v in r.items()}
    if isinstance(r, (tuple, list)):  # set 08's shares are lists of ints
        return type(r)(_neg(v) for v in r)
    return r

def _first_array(args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, (np.ndarray, torch.Tensor)) and a.numel() if isinstance(a, torch.Tensor) else (
            isinstance(a, np.ndarray) and a.size and a.dtype.kind == "f"
        ):
            return a
    return None
"""

VARIANTS = """
def {name}__neg(*args, **kwargs):
    return _neg({name}(*args, **kwargs))

def {name}__raises(*args, **kwargs):
    values = list(args) + list(kwargs.values())
    raise ValueError(f"no answer for {{len(values)}} inputs")

def {name}__none(*args, **kwargs):
    return None

def {name}__list(*args, **kwargs):
    r = {name}(*args, **kwargs)
    return r.tolist() if isinstance(r, np.ndarray) else r

def {name}__mutates(*args, **kwargs):
    r = {name}(*args, **kwargs)
    a = _first_array(args, kwargs)
    if isinstance(a, np.ndarray):
        a.flat[0] += 1.0
    elif a is not None:
        with torch.no_grad():
            a.view(-1)[0] += 1.0
    return r
"""
KINDS = ("", "__neg", "__raises", "__none", "__list", "__mutates")


def _source(set_number: int) -> str:
    path = set_notebook(set_number)
    answers = "\n".join(import_lines(path)) + "\n\n"
    answers += "\n\n".join(re.sub(r"\s*# (BEGIN|END) SOLUTION", "", c) for c in answer_cells(path))
    variants = "".join(VARIANTS.format(name=q.answer) for q in checks.questions(set_number))
    return PRELUDE.lstrip() + answers + "\n" + variants  # IPython drops leading blank lines


def _summary(result) -> tuple:
    return (result.status, result.message, result.expected, result.got, result.hint)


@pytest.fixture(scope="module", params=SETS, ids=[f"set{n:02d}" for n in SETS])
def both(request):
    """(results in this process, results through the proxy) for every question and variant."""
    n = request.param
    source = _source(n)
    local: dict = {}
    filename = f"<solutions {n:02d}>"
    # as IPython does for a cell: the source stays readable, so errors quote the learner's line
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), local)  # noqa: S102 - our own solutions
    here = {
        (q.qid, k): _summary(checks.run_check(q.qid, local[q.answer + k]))
        for q in checks.questions(n)
        for k in KINDS
    }
    tmp = tempfile.TemporaryDirectory(prefix="cg-parity-")
    workdir = Path(tmp.name)
    for sub in ("home", "run"):
        (workdir / sub).mkdir()
    kernel = Kernel(workdir, sandbox=resolve_sandbox("auto")[0], set_number=n)
    try:
        kernel.start()
        assert kernel.run(source, 120).status == "ok"
        channel = AnswerChannel(kernel)
        channel.open()
        session = AnswerSession(channel, check_timeout=60)
        there = {}
        for q in checks.questions(n):
            for k in KINDS:
                session.begin(q.qid)
                there[(q.qid, k)] = _summary(
                    checks.run_check(q.qid, AnswerProxy(session, q.answer + k, label=q.answer))
                )
                session.release()
        session.stop()
        channel.close()
    finally:
        kernel.kill()
        tmp.cleanup()
    return here, there


def test_the_proxy_grades_every_variant_as_the_notebook_does(both) -> None:
    here, there = both
    assert here.keys() == there.keys()
    diffs = {key: (here[key], there[key]) for key in here if here[key] != there[key]}
    assert not diffs, diffs


def test_the_variants_are_not_all_passing(both) -> None:
    here, _ = both
    statuses = {key: value[0] for key, value in here.items()}
    assert all(s == "passed" for (qid, k), s in statuses.items() if k == "")
    assert sum(s != "passed" for (qid, k), s in statuses.items() if k) >= 3 * len(statuses) // len(
        KINDS
    )
