"""Exercise set 01: the checks' inputs tell the wrong definitions apart. Registration, the
reference answers and unfinished ones are tested for every set in ``tests/test_every_question.py``;
the wrong and unusual-but-correct answers are in ``tests/wrong_answers/ex01.py`` (run by
``tests/test_wrong_answers.py``)."""

from __future__ import annotations

import numpy as np

from course_utils.checks._ex01_cases import (
    LEAK_RULES,
    leak_cases,
    leak_truth,
    share,
    share_mistakes,
)


def test_1_1_mistakes_differ_from_the_share_off_the_line() -> None:
    """On the 22-player layout every usual mistake gives another value than the share."""
    from course_utils.data import pair_players

    positions, teams = pair_players("players0")
    point = np.array([40.0, 30.0])
    right = share(positions, teams, point, 3.0)
    for wrong, what, _ in share_mistakes(positions, teams, point, 3.0):
        assert abs(wrong - right) > 1e-3, what


def test_1_4_cases_tell_every_wrong_rule_apart() -> None:
    """Each wrong rule answers differently from the right one, and from every other wrong rule,
    on the check's cases - so the hint names the rule that was used."""
    cases = leak_cases()
    truth = [leak_truth(*c) for c in cases]
    answers = [[rule(*c) for c in cases] for rule, _ in LEAK_RULES]
    for a in answers:
        assert a != truth
    assert len({tuple(a) for a in answers}) == len(answers)
