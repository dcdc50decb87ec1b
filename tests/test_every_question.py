"""Every exercise question, of every set: it is registered with the answer name and points the
workbook promises (and the course function it is compared with), its reference answer in
``solutions/`` passes with full points, and an unfinished answer is reported "not implemented"
(never a crash or a failure). The per-set test files hold what is particular to each question."""

from __future__ import annotations

import functools

import pytest

from course_utils.checks import get_question, questions, run_check
from tests.check_support import ROOT, solution_namespace

#: question: (the answer's name, its points); the last question of each set is its challenge
REGISTERED = {
    "1.1": ("team0_share", 2),
    "1.2": ("slope_influence", 2),
    "1.3": ("infer_salary", 2),
    "1.4": ("leaks_more", 1),
    "1.5": ("find_team0", 4),
    "2.1": ("membership_scores", 2),
    "2.2": ("tpr_at_fpr", 3),
    "2.3": ("k_anonymity", 2),
    "2.4": ("rules_for_k5", 2),
    "2.5": ("lira_offline", 4),
    "3.1": ("laplace_mechanism", 2),
    "3.2": ("gaussian_sigma", 1),
    "3.3": ("exponential_mechanism", 2),
    "3.4": ("rr_estimate", 2),
    "3.5": ("split_budget", 2),
    "3.6": ("dp_mean", 4),
    "4.1": ("clip_gradients", 2),
    "4.2": ("noisy_mean", 2),
    "4.3": ("find_noise_multiplier", 2),
    "4.4": ("scale_pixels", 1),
    "4.5": ("dp_sgd_logistic", 5),
    "5.1": ("fedavg_aggregate", 2),
    "5.2": ("trimmed_mean_agg", 2),
    "5.3": ("krum_aggregate", 2),
    "5.4": ("zero_sum_masks", 1),
    "5.5": ("dp_fedavg_step", 2),
    "5.6": ("geometric_median_agg", 4),
    "6.1": ("fgsm_attack", 2),
    "6.2": ("project", 2),
    "6.3": ("certified_radius", 2),
    "6.4": ("agreement", 1),
    "6.5": ("backdoor_success_rate", 2),
    "6.6": ("bpda_gradient", 2),
    "6.7": ("adaptive_attack", 5),
    "7.1": ("remove_ridge_row", 3),
    "7.2": ("newton_unlearn_logistic", 2),
    "7.3": ("reconstruct_from_update", 3),
    "7.4": ("attack_cosine_under_noise", 2),
    "7.5": ("sisa_unlearning", 4),
    "8.1": ("additive_share", 2),
    "8.2": ("decode_fixed_point", 2),
    "8.3": ("lagrange_reconstruct", 2),
    "8.4": ("beaver_mul", 2),
    "8.5": ("unmask_sum", 2),
    "8.6": ("robust_reconstruct", 4),
    "9.1": ("reconstruct", 2),
    "9.2": ("report_noisy_max", 2),
    "9.3": ("grr_estimate", 2),
    "9.4": ("above_threshold", 3),
    "9.5": ("private_top_k", 4),
    "10.1": ("epsilon_from_attack", 2),
    "10.2": ("audit_canary_runs", 3),
    "10.3": ("most_exposed", 2),
    "10.4": ("robust_accuracy_upper", 3),
    "10.5": ("robustness_sandwich", 5),
}

#: Questions whose answer is judged on its properties alone: the check names no course function
#: (``reference=``) that the grader compares it with.
WITHOUT_REFERENCE = {"1.5", "2.4", "3.5", "3.6", "4.4", "5.6", "8.6", "9.5", "10.4"}


@pytest.mark.parametrize("qid", list(REGISTERED))
def test_question_is_registered_with_its_answer_points_and_reference(qid) -> None:
    q = get_question(qid)
    assert (q.answer, q.points) == REGISTERED[qid]
    assert bool(q.reference) == (qid not in WITHOUT_REFERENCE), q.reference


@functools.cache
def _solutions(set_number: int) -> dict:
    (path,) = (ROOT / "solutions").glob(f"{set_number:02d}_*.ipynb")
    return solution_namespace(path, with_imports=True)


@pytest.mark.parametrize("q", questions(), ids=lambda q: q.qid)
def test_reference_answer_earns_full_points(q) -> None:
    result = run_check(q.qid, _solutions(q.set_number)[q.answer])
    assert result.passed and result.points == q.points, str(result)


@pytest.mark.parametrize("q", questions(), ids=lambda q: q.qid)
def test_unfinished_answer_is_reported_not_implemented(q) -> None:
    def unfinished(*args, **kwargs):
        raise NotImplementedError(f"Exercise {q.qid}: {q.task}")

    result = run_check(q.qid, unfinished)
    assert result.status == "not implemented" and result.points == 0, str(result)
