"""Exercise set 08: the reference answers pass, unfinished answers are "not implemented", and the
field elements the checks use are too large for floats. The wrong and unusual-but-correct answers
are in ``tests/wrong_answers/ex08.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks import REGISTRY
from course_utils.checks.ex08_crypto import P61, _additive, _lagrange0, _shamir
from tests.check_support import solution_namespace

SOL = solution_namespace("08_crypto", np=np)
ANSWERS = {
    "8.1": "additive_share",
    "8.2": "decode_fixed_point",
    "8.3": "lagrange_reconstruct",
    "8.4": "beaver_mul",
    "8.5": "unmask_sum",
}


def test_set08_is_registered_with_points_and_references() -> None:
    assert [REGISTRY[q].points for q in ANSWERS] == [2, 2, 2, 2, 2]
    assert {q: REGISTRY[q].answer for q in ANSWERS} == ANSWERS
    assert all(REGISTRY[q].reference for q in ANSWERS)


def test_the_checks_field_elements_defeat_float_arithmetic() -> None:
    """The checks' cases use 61-bit field elements on purpose: a float cannot hold them exactly,
    so an answer computing in floats is caught rather than passing by luck."""
    gen = np.random.default_rng(0)
    shares = _additive(P61 - 2, 4, P61, gen)
    assert sum(shares) % P61 == P61 - 2
    assert any(float(s) != s for s in shares)  # not exactly representable as a float
    points = _shamir(P61 - 2, 6, 4, P61, gen)
    assert _lagrange0(points[:4], P61) == P61 - 2
    assert _lagrange0(points[:4], P61, sign_error=True) != P61 - 2
