"""Exercise set 08: the field elements the checks use are too large for floats. Registration,
the reference answers and unfinished ones are tested for every set in
``tests/test_every_question.py``; the wrong and unusual-but-correct answers are in
``tests/wrong_answers/ex08.py``."""

from __future__ import annotations

import numpy as np

from course_utils.checks._ex08_support import P61, lagrange_at, poly_at
from course_utils.checks.ex08_crypto import _additive, _shamir


def test_the_checks_field_elements_defeat_float_arithmetic() -> None:
    """The checks' cases use 61-bit field elements on purpose: a float cannot hold them exactly,
    so an answer computing in floats is caught rather than passing by luck."""
    gen = np.random.default_rng(0)
    shares = _additive(P61 - 2, 4, P61, gen)
    assert sum(shares) % P61 == P61 - 2
    assert any(float(s) != s for s in shares)  # not exactly representable as a float
    points = _shamir(P61 - 2, 6, 4, P61, gen)
    assert lagrange_at(points[:4], 0, P61) == P61 - 2
    assert lagrange_at(points[:4], 0, P61, sign_error=True) != P61 - 2


def test_the_checks_polynomial_and_interpolation_agree_at_every_point() -> None:
    """``poly_at`` and ``lagrange_at`` (8.3's expected values and the challenge's cheaters) are
    exact: the polynomial through four of its points is the polynomial, at 0 and elsewhere."""
    coeffs = [P61 - 2, 5, P61 - 7, 2**60]
    assert poly_at(coeffs, 9, P61) == sum(c * 9**k for k, c in enumerate(coeffs)) % P61
    points = [(x, poly_at(coeffs, x, P61)) for x in (3, 9, 1, 40)]
    for x0 in (0, 2, 17, 41):
        assert lagrange_at(points, x0, P61) == poly_at(coeffs, x0, P61)
    assert lagrange_at(points[:3], 0, P61) != P61 - 2  # three points fix a quadratic only
