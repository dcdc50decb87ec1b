"""Exercise set 04: the checks' inputs tell the clipping mistakes apart, and a numpy answer gets
a type message. Registration, the reference answers and unfinished ones are tested for every set
in ``tests/test_every_question.py``; the wrong and unusual-but-correct answers (including the
endless loops of issue #28) are in ``tests/wrong_answers/ex04.py``."""

from __future__ import annotations

import math

import numpy as np
import torch

from course_utils.checks import run_check
from course_utils.checks.ex04_dp_sgd import _BATCH, _clip_mistakes, _flat, _grads
from course_utils.privacy.accounting import gaussian_epsilon
from tests.check_support import solution_namespace

SOL = solution_namespace(
    "04_dp_sgd", np=np, math=math, torch=torch, gaussian_epsilon=gaussian_epsilon
)


def test_4_1_the_clipping_mistakes_all_give_different_gradients() -> None:
    grads = _grads(0)
    before = _flat(grads, _BATCH)
    norms = np.linalg.norm(before, axis=1)
    right = before * np.minimum(1.0, 1.0 / (norms + 1e-6))[:, None]
    values = [
        w for w, _ in _clip_mistakes(before, {k: tuple(v.shape) for k, v in grads.items()}, 1.0)
    ]
    for k, w in enumerate(values):
        assert not np.allclose(w, right, rtol=1e-4, atol=1e-6), k
        for other in values[k + 1 :]:
            assert not np.allclose(w, other, rtol=1e-4, atol=1e-6)


def test_4_1_numpy_return_is_a_type_message_not_a_crash() -> None:
    """Issue #28: numpy from 4.1 crashed the check ('numpy.ndarray' object has no attribute
    'detach') and was reported as the learner's exception with the signature hint."""

    def numpy_version(grads, *, max_grad_norm):
        clipped, norms = SOL["clip_gradients"](grads, max_grad_norm=max_grad_norm)
        return {k: v.numpy() for k, v in clipped.items()}, norms.numpy()

    r = run_check("4.1", numpy_version)
    assert r.status == "failed", str(r)
    assert "expected a torch tensor, got numpy.ndarray" in r.message
    assert "signature" not in r.hint.lower() and "raised" not in r.message
