"""The wrong-answer suite (``tests/wrong_answers/exNN.py``) against the registered checks.

For every question: each plausible wrong answer is rejected - a real failure, never a crash of the
check - with feedback that names *its* mistake (the answer's phrase appears in the message or the
hint), and each unusual-but-correct answer passes. A question without at least four wrong and two
right answers fails ``test_every_question_has_its_suite``, so a new exercise set needs its own
``exNN.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks import get_question, questions, run_check
from tests.wrong_answers import MIN_RIGHT, MIN_WRONG, Edited, build, load_sets

SETS = load_sets()


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())[:40]


WRONG = [
    pytest.param(s, qid, w, id=f"{qid}-wrong{k}-{_slug(w.mistake)}")
    for s in SETS.values()
    for qid, answers in s.wrong.items()
    for k, w in enumerate(answers, start=1)
]
RIGHT = [
    pytest.param(s, qid, r, id=f"{qid}-right{k}-{_slug(r.how)}")
    for s in SETS.values()
    for qid, answers in s.right.items()
    for k, r in enumerate(answers, start=1)
]

#: The correct sources that wrong answers are edited from (``edited(BASE, old, new)``), once each.
BASES = [
    pytest.param(s, qid, base, id=f"{qid}-base{k}")
    for s in SETS.values()
    for qid, answers in s.wrong.items()
    for k, base in enumerate(
        dict.fromkeys(w.source.base for w in answers if isinstance(w.source, Edited)), start=1
    )
]


@pytest.mark.parametrize("answer_set, qid, wrong", WRONG)
def test_wrong_answer_is_rejected_with_its_hint(answer_set, qid, wrong) -> None:
    q = get_question(qid)
    answer = build(answer_set, q.answer, wrong.source, f"wrong answer {qid}")
    r = run_check(qid, answer, timeout=wrong.timeout)
    assert r.status == wrong.status and r.points == 0, f"{wrong.mistake}:\n{r}"
    feedback = f"{r.message} {r.hint}".lower()
    assert wrong.phrase.lower() in feedback, (
        f"{wrong.mistake}: the feedback does not say {wrong.phrase!r}:\n{r}"
    )


@pytest.mark.parametrize("answer_set, qid, right", RIGHT)
def test_unusual_correct_answer_passes(answer_set, qid, right) -> None:
    q = get_question(qid)
    answer = build(answer_set, q.answer, right.source, f"right answer {qid}")
    r = run_check(qid, answer)
    assert r.passed, f"{right.how}:\n{r}"


@pytest.mark.parametrize("answer_set, qid, base", BASES)
def test_the_answer_wrong_ones_are_edited_from_passes(answer_set, qid, base) -> None:
    """A wrong answer written as ``edited(BASE, old, new)`` is a correct answer with one mistake:
    BASE itself passes, so the edit is what the check catches."""
    q = get_question(qid)
    r = run_check(qid, build(answer_set, q.answer, base, f"base of wrong answers {qid}"))
    assert r.passed, f"the base the wrong answers of {qid} are edited from:\n{r}"


def test_every_question_has_its_suite() -> None:
    """Every registered question has >= 4 wrong and >= 2 right answers; no answer is orphaned."""
    missing = []
    for q in questions():
        s = SETS.get(q.set_number)
        n_wrong = len(s.wrong.get(q.qid, [])) if s else 0
        n_right = len(s.right.get(q.qid, [])) if s else 0
        if n_wrong < MIN_WRONG or n_right < MIN_RIGHT:
            missing.append(f"{q.qid}: {n_wrong} wrong, {n_right} right")
    assert not missing, (
        f"each question needs >= {MIN_WRONG} wrong and >= {MIN_RIGHT} right answers in "
        f"tests/wrong_answers/exNN.py: " + "; ".join(missing)
    )
    known = {q.qid for q in questions()}
    orphans = [qid for s in SETS.values() for qid in (*s.wrong, *s.right) if qid not in known]
    assert not orphans, f"answers for unregistered questions: {orphans}"


def test_each_wrong_answer_states_a_distinct_mistake() -> None:
    for s in SETS.values():
        for qid, answers in s.wrong.items():
            mistakes = [w.mistake for w in answers]
            assert len(set(mistakes)) == len(mistakes), f"{qid}: a mistake is listed twice"
            assert all(w.phrase.strip() for w in answers), f"{qid}: an empty phrase"


#: Questions whose every failed case shows the failing input (the call, in the message), the
#: expected and the returned value (issue #23 found 3.4 and 5.1-5.3 showing none of them).
SHOWS_THE_CASE = {
    "3.4": "rr_estimate(",
    "5.1": "fedavg_aggregate(",
    "5.2": "trimmed_mean_agg(",
    "5.3": "krum_aggregate(",
}


@pytest.mark.parametrize("qid", list(SHOWS_THE_CASE))
def test_failures_show_the_input_the_expected_and_the_returned_value(qid) -> None:
    s = SETS[get_question(qid).set_number]
    for wrong in s.wrong[qid]:
        answer = build(s, get_question(qid).answer, wrong.source, f"wrong answer {qid}")
        r = run_check(qid, answer)
        assert SHOWS_THE_CASE[qid] in r.message, f"{wrong.mistake}: no input shown:\n{r}"
        if "raised" not in r.message:  # an error in the answer shows its call and line instead
            assert r.expected and r.got, f"{wrong.mistake}: expected or got missing:\n{r}"


ODD_RETURNS = {
    "None": None,
    "a string": "0.5",
    "a list": [1.0, 2.0, 3.0],
    "a numpy array": np.ones((2, 2)),
    "a torch tensor": torch.ones(3, requires_grad=True),
    "a dict": {"a": 1},
    "NaN": float("nan"),
}


@pytest.mark.parametrize("what", list(ODD_RETURNS))
@pytest.mark.parametrize("qid", [q.qid for q in questions()])
def test_odd_return_values_fail_cleanly_never_crash_the_check(qid, what) -> None:
    """Whatever an answer returns, the check says what was wrong: status "failed", never "error"
    (a check that crashes on a return value would blame the learner for its own bug)."""
    value = ODD_RETURNS[what]
    r = run_check(qid, lambda *args, **kwargs: value)
    assert r.status == "failed" and r.points == 0, f"{what}:\n{r}"


def test_checks_leave_the_global_random_states_alone() -> None:
    """A self-check must not reseed the learner's session: numpy's, torch's and Python's global
    random states are the same after every question's check as before."""
    import random

    for s in SETS.values():
        for qid, answers in s.right.items():
            answer = build(s, get_question(qid).answer, answers[0].source, f"right answer {qid}")
            before = (np.random.get_state()[1].copy(), torch.get_rng_state(), random.getstate())
            assert run_check(qid, answer).passed
            after = (np.random.get_state()[1], torch.get_rng_state(), random.getstate())
            assert np.array_equal(before[0], after[0]), f"{qid} changed numpy's global state"
            assert torch.equal(before[1], after[1]), f"{qid} changed torch's global state"
            assert before[2] == after[2], f"{qid} changed Python's random state"
