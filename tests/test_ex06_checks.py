"""Exercise set 06: the checks' inputs tell the wrong definitions apart (issue #28: on 6.5's old
model the wrong definitions and the right one coincided). Registration, the reference answers and
unfinished ones are tested for every set in ``tests/test_every_question.py``; the wrong and
unusual-but-correct answers are in ``tests/wrong_answers/ex06.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.checks._ex06_cases import (
    BACKDOOR_HINTS,
    Backdoored,
    backdoor_case,
    backdoor_definitions,
    stamp,
)

torch.set_num_threads(1)


@pytest.mark.parametrize("target, seed", [(3, 0), (7, 1)])
def test_6_5_every_wrong_definition_is_far_from_the_success_rate(target, seed) -> None:
    """The mixed cases separate all definitions by at least 0.05 (each gets its own hint)."""
    X, y, clean, trig = backdoor_case(target, seed, "mixed")
    defs = backdoor_definitions(y, clean, trig, target)
    assert set(defs) - {"right"} == set(BACKDOOR_HINTS)
    values = np.array(list(defs.values()))
    gaps = np.abs(values[:, None] - values[None, :])[~np.eye(len(values), dtype=bool)]
    assert gaps.min() >= 0.05
    with torch.no_grad():  # the model reads the table back from the pixels
        model = Backdoored()
        assert np.array_equal(model(torch.tensor(X)).argmax(1).numpy(), clean)
        assert np.array_equal(model(torch.tensor(stamp(X))).argmax(1).numpy(), trig)
    assert 0 < np.mean(clean != y) < 0.5  # the clean model makes mistakes


def test_6_5_edge_cases_are_zero_and_one() -> None:
    X, y, clean, trig = backdoor_case(4, 2, "none")
    assert backdoor_definitions(y, clean, trig, 4)["right"] == 0.0
    X, y, clean, trig = backdoor_case(5, 3, "all")
    assert backdoor_definitions(y, clean, trig, 5)["right"] == 1.0


def test_the_margin_loss_of_the_challenges_reference_attacks() -> None:
    """6.7's and 10.5's reference attacks climb the margin: positive exactly on the misclassified
    examples, and still informative where a softmax saturates (logits times 1,000)."""
    from course_utils.checks._challenge_models import margin_loss

    logits = torch.randn(200, 10, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (200,), generator=torch.Generator().manual_seed(1))
    margin = margin_loss(logits, y)
    assert torch.equal(margin > 0, logits.argmax(1) != y)
    top2 = logits.topk(2, dim=1).values
    right = logits.argmax(1) == y
    assert torch.allclose(margin[right], (top2[:, 1] - top2[:, 0])[right])
    assert torch.allclose(margin_loss(1000 * logits, y), 1000 * margin, atol=1e-3)
