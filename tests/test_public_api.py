"""The package's public surface: every name promised before the issue-17 refactor still imports
from its old path, every check's ``reference=`` names a real function, and no module has grown
past about 500 lines.

OLD_PUBLIC_NAMES (public_names_before_issue17.json) holds the ``__all__`` lists of commit
044f7a7 (before the refactor), module by module. A name may have moved
(``course_utils.robustness.pgd`` now lives in ``course_utils.robustness.evasion``) but the old
import must keep working.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

import course_utils
from course_utils import checks

OLD_PUBLIC_NAMES: dict[str, list[str]] = json.loads(
    (Path(__file__).parent / "public_names_before_issue17.json").read_text(encoding="utf-8")
)

ROOT = Path(course_utils.__file__).parent

#: The renames issue 17 asked for ("there are two ``Question`` classes. Keep one of each"):
#: old (module, name) -> the new name in the same module. The old name must be gone (no alias:
#: two public classes called ``Question`` was the defect) and the new one must exist.
RENAMED_BY_ISSUE_17: dict[tuple[str, str], str] = {
    ("course_utils.checks", "Question"): "GradedQuestion",  # quiz.Question keeps its name
}


def _kept_names(module: str) -> list[str]:
    return [n for n in OLD_PUBLIC_NAMES[module] if (module, n) not in RENAMED_BY_ISSUE_17]


@pytest.mark.parametrize("module", sorted(OLD_PUBLIC_NAMES))
def test_every_old_public_name_still_imports_from_its_old_path(module):
    mod = importlib.import_module(module)
    missing = [name for name in _kept_names(module) if not hasattr(mod, name)]
    assert not missing, f"{module} lost {missing}"
    # and `from module import name` works too (module __getattr__ included)
    for name in _kept_names(module):
        exec(f"from {module} import {name}", {})


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED_BY_ISSUE_17.items()))
def test_renamed_names_exist_only_under_their_new_name(old, new):
    module, name = old
    assert name in OLD_PUBLIC_NAMES[module], f"{module}.{name} was not public before issue 17"
    mod = importlib.import_module(module)
    assert hasattr(mod, new) and new in mod.__all__, f"{module} lacks {new}"
    assert not hasattr(mod, name), f"{module}.{name} is still there next to {new}"


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
