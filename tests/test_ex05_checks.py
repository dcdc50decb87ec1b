"""Exercise set 05: the reference answers pass, unfinished answers are "not implemented", and a
correct pairwise construction never fails the masks' size test. The wrong and unusual-but-correct
answers are in ``tests/wrong_answers/ex05.py``."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checks import REGISTRY, run_check
from tests.check_support import passes, solution_namespace

SOL = solution_namespace("05_federated_learning", np=np)
ANSWERS = {
    "5.1": "fedavg_aggregate",
    "5.2": "trimmed_mean_agg",
    "5.3": "krum_aggregate",
    "5.4": "zero_sum_masks",
    "5.5": "dp_fedavg_step",
}


def test_set05_is_registered_with_points_and_references() -> None:
    assert [REGISTRY[q].points for q in ANSWERS] == [2, 2, 2, 1, 2]
    assert {q: REGISTRY[q].answer for q in ANSWERS} == ANSWERS
    assert all(REGISTRY[q].reference for q in ANSWERS)


@pytest.mark.parametrize("qid", list(ANSWERS))
def test_reference_answer_passes(qid) -> None:
    passes(qid, SOL[ANSWERS[qid]])


@pytest.mark.parametrize("qid", list(ANSWERS))
def test_unfinished_answers_are_reported_not_implemented(qid) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {qid}: ...")

    assert run_check(qid, unfinished).status == "not implemented"


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e4])
def test_5_4_pairwise_masks_of_any_scale_and_distribution_pass(scale) -> None:
    def pairwise(n_clients, dim, rng):
        masks = np.zeros((n_clients, dim))
        for i in range(n_clients):
            for j in range(i + 1, n_clients):
                m = rng.laplace(0.0, scale, size=dim)
                masks[i] += m
                masks[j] -= m
        return masks

    passes("5.4", pairwise)
