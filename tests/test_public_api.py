"""The package's public surface: every name promised before the issue-17 refactor still imports
from its old path, every check's ``reference=`` names a real function, and no module has grown
past about 500 lines.

OLD_PUBLIC_NAMES is the union of the ``__all__`` lists of commit 044f7a7 (before the refactor),
module by module. A name may have moved (``course_utils.robustness.pgd`` now lives in
``course_utils.robustness.evasion``) but the old import must keep working.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import course_utils
from course_utils import checks

OLD_PUBLIC_NAMES: dict[str, tuple[str, ...]] = {
    "course_utils": (
        "__version__",
        "setup",
    ),
    "course_utils.attacks.extraction": (
        "query_api",
        "extract",
        "agreement",
        "mixup_queries",
    ),
    "course_utils.attacks.inversion": (
        "invert_class",
        "invert_class_blackbox",
        "correlation_matrix",
        "plot_images",
    ),
    "course_utils.attacks.membership": (
        "loss_threshold_scores",
        "logit_confidence",
        "membership_masks",
        "split_in_out",
        "shadow_stats",
        "lira_scores",
        "lira_all_targets",
        "roc_curve",
        "roc_auc",
        "tpr_at_fpr",
        "plot_roc",
    ),
    "course_utils.attacks.memorization": (
        "CharNgram",
        "card_log",
        "insert_canary",
        "candidate_log_probs",
        "exposure",
    ),
    "course_utils.attacks.reconstruction": (
        "reconstruct_deleted",
        "estimate_hessian",
        "cosine_similarity",
        "noisy_release",
        "attack_every_deletion",
    ),
    "course_utils.checks": (
        "AnswerError",
        "CheckFailure",
        "CheckResult",
        "LOAD_ERRORS",
        "Question",
        "REGISTRY",
        "check",
        "expect",
        "expect_number",
        "exercise_set",
        "get_question",
        "question",
        "questions",
        "run_check",
    ),
    "course_utils.data": (
        "FIELD_WIDTH",
        "FIELD_HEIGHT",
        "N_PLAYERS",
        "PAIR_SOURCE",
        "pair_layout_names",
        "pair_players",
        "salary_view",
        "positions_from_salary",
        "digits_split",
        "SYNTHETIC_ZIPS",
        "DIAGNOSES",
        "synthetic_patients",
        "voter_list",
    ),
    "course_utils.doctor": (
        "Check",
        "PYTHON_RANGE",
        "REFERENCE_SECONDS",
        "no_network",
        "check_python",
        "check_requirement",
        "check_packages",
        "check_datasets",
        "check_lab_extensions",
        "check_torch",
        "check_speed",
        "run_checks",
        "report",
        "main",
    ),
    "course_utils.federated": (
        "iid_partition",
        "dirichlet_partition",
        "shard_partition",
        "client_datasets",
        "label_histogram",
        "plot_label_mix",
        "quadratic_fedavg_path",
        "fedavg",
        "coordinate_median",
        "trimmed_mean",
        "krum",
        "krum_scores",
        "AGGREGATORS",
        "clip_update",
        "pairwise_masks",
        "secure_aggregation_masks",
        "secure_aggregation_masks_mod",
        "NumpyNet",
        "client_rng",
        "local_sgd",
        "FedResult",
        "run_federated",
        "rounds_to_target",
        "bytes_per_round",
        "sign_flip",
        "flip_labels",
        "TRIGGER_PIXELS",
        "add_trigger",
        "backdoor_data",
        "backdoor_success",
        "dp_fedavg_epsilon",
    ),
    "course_utils.flower_app": (
        "FlowerRun",
        "RayStartError",
        "ray_backend_config",
        "make_client_app",
        "make_server_app",
        "run_flower",
        "ray_processes",
        "running_under_pytest",
    ),
    "course_utils.grading": (
        "BEGIN",
        "END",
        "QuestionGrade",
        "SubmissionGrade",
        "detect_set",
        "exercise_notebook",
        "generate",
        "grade_paths",
        "grade_submission",
        "main",
        "strip_solution",
        "write_gradebook",
    ),
    "course_utils.nav": (
        "COURSE",
        "FOOTER_MARK",
        "footer",
        "notebook_number",
        "notebook_titles",
    ),
    "course_utils.plotting": (
        "OKABE_ITO",
        "TEAM_COLORS",
        "TEAM_CMAP",
        "use_style",
        "get_ax",
        "share_map",
        "figure_with_controls",
        "Blitter",
    ),
    "course_utils.privacy.accounting": (
        "basic_composition",
        "advanced_composition",
        "gaussian_epsilon",
        "gaussian_epsilon_exact",
        "gaussian_epsilon_textbook_rdp",
        "gaussian_noise_multiplier",
        "epsilon_ledger",
    ),
    "course_utils.privacy.anonymity": (
        "equivalence_classes",
        "k_anonymity",
        "l_diversity",
        "t_closeness",
        "class_report",
        "generalize",
        "suppress",
        "linkage_attack",
    ),
    "course_utils.privacy.audit": (
        "clopper_pearson",
        "epsilon_lower_bound",
        "AuditResult",
        "audit_samples",
        "empirical_epsilon",
        "plot_audit",
    ),
    "course_utils.privacy.dpsgd": (
        "per_sample_gradients",
        "clip_per_sample",
        "noisy_aggregate",
        "poisson_batch",
        "clipped_sum_microbatch",
        "noise_multiplier_for",
        "train_dp_sgd",
        "dp_tpr_bound",
        "GRADIENT_METHODS",
        "gradient_step_seconds",
        "epoch_seconds",
    ),
    "course_utils.privacy.mechanisms": (
        "laplace_mechanism",
        "gaussian_sigma",
        "gaussian_delta",
        "gaussian_mechanism",
        "exponential_probabilities",
        "exponential_mechanism",
        "rr_keep_probability",
        "randomized_response",
        "rr_estimate",
        "rr_standard_error",
        "neighbour_densities",
        "plot_neighbour_densities",
        "EpsilonDial",
    ),
    "course_utils.quiz": (
        "Question",
        "quiz",
        "as_text",
        "has_frontend",
    ),
    "course_utils.robustness": (
        "as_generator",
        "fgsm",
        "pgd",
        "robust_accuracy",
        "adversarial_training",
        "gaussian_augment",
        "Preprocessed",
        "Temperature",
        "feature_squeeze",
        "median_smooth",
        "add_noise",
        "bpda_pgd",
        "distill",
        "defensive_distillation",
        "clopper_pearson_lower",
        "certified_radius",
        "smoothed_predict",
        "certify",
        "certify_dataset",
        "certified_accuracy",
        "flip_labels",
        "add_trigger",
        "poison_backdoor",
        "attack_success_rate",
        "per_example_loss",
        "hidden_features",
        "spectral_signature_scores",
    ),
    "course_utils.toys.salary": (
        "SALARY_BOUNDS",
        "GROUP_NAMES",
        "group_lines",
        "slope_weights",
        "loo_slope_influence",
        "infer_salary_from_slope",
        "patch_salary_readout",
        "dp_group_lines",
        "dp_dial",
        "SalaryToy",
    ),
    "course_utils.toys.soccer": (
        "team_share",
        "cell_centres",
        "SoccerToy",
        "SOCCER_LAYOUTS",
        "GOALIE",
    ),
    "course_utils.training": (
        "mlp",
        "to_tensors",
        "train",
        "evaluate",
        "predict_proba",
    ),
    "course_utils.unlearning": (
        "add_intercept",
        "ridge_fit",
        "ridge_hessian",
        "ridge_remove",
        "logistic_fit",
        "logistic_hessian",
        "logistic_predict_proba",
        "logistic_losses",
        "newton_remove_logistic",
        "SISAModel",
        "sisa_train",
        "sisa_remove",
    ),
    "course_utils.validation": (
        "RNGLike",
        "as_rng",
        "torch_generator",
        "check_int",
        "check_scalar",
        "check_positive",
        "check_non_negative",
        "check_probability",
        "check_bool",
        "check_choice",
    ),
}

ROOT = Path(course_utils.__file__).parent


@pytest.mark.parametrize("module", sorted(OLD_PUBLIC_NAMES))
def test_every_old_public_name_still_imports_from_its_old_path(module):
    mod = importlib.import_module(module)
    missing = [name for name in OLD_PUBLIC_NAMES[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lost {missing}"
    # and `from module import name` works too (module __getattr__ included)
    for name in OLD_PUBLIC_NAMES[module]:
        exec(f"from {module} import {name}", {})


def test_current_all_lists_name_real_objects():
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        )
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", ()):
            assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which it does not define"


def _references():
    for q in checks.REGISTRY.values():
        for ref in q.reference:
            yield q.qid, ref


@pytest.mark.parametrize("qid, ref", list(_references()))
def test_every_check_reference_resolves_to_a_function(qid, ref):
    """A rename must not silently switch off the grader's integrity flag for a question."""
    module, _, name = ref.rpartition(".")
    obj = getattr(importlib.import_module(module), name, None)
    assert obj is not None, f"question {qid}: reference {ref!r} does not exist"
    assert inspect.isfunction(obj) or inspect.isclass(obj), (
        f"question {qid}: {ref!r} is a {type(obj)}"
    )


def test_there_are_references_to_check():
    assert len(list(_references())) >= 20


# The two files other work is rewriting are exempt until it merges (the grader becomes a package,
# the checks are rewritten); everything else stays readable in one sitting.
TOO_LONG_EXEMPT = {"grading.py", "checks/__init__.py"}


def test_no_module_over_about_500_lines():
    long = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > 530 and rel not in TOO_LONG_EXEMPT:
            long[rel] = n
    assert not long, f"split these modules by concept: {long}"
