"""Exercise set 08: the field elements the checks use are too large for floats. Registration,
the reference answers and unfinished ones are tested for every set in
``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex08.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks.ex08_crypto import P61, _additive, _lagrange0, _shamir


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
