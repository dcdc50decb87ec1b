"""Cryptographic privacy: secret sharing, secure computation, homomorphic encryption, secure
aggregation (notebook 08).

* :mod:`~course_utils.crypto.field` - exact arithmetic in ``Z_p`` and fixed-point reals.
* :mod:`~course_utils.crypto.sharing` - additive and Shamir secret sharing over the prime field
  of :data:`~course_utils.crypto.sharing.MODULUS` ``= 2**61 - 1``, fixed-point encoding of reals,
  Beaver-triple multiplication and a secure dot product with its communication cost.
* :mod:`~course_utils.crypto.he` - Paillier (``phe``) and CKKS (``tenseal``): encrypted linear
  scores, a polynomial sigmoid, ciphertext sizes and the parameters behind "128-bit security".
* :mod:`~course_utils.crypto.secagg` - secure aggregation with double masking (Bonawitz et al.,
  2017): X25519 key agreement, a SHAKE-256 mask generator, Shamir shares for dropouts, and the
  exact message and byte counts.

Importing this package imports only numpy; ``phe``, ``tenseal`` and ``cryptography`` are loaded
by the functions that need them.

All randomness that a *protocol* draws (shares, masks, keys) comes from the ``rng`` argument so the
notebook is reproducible. A numpy Generator is **not** a cryptographically secure random number
generator: real deployments draw these values from the operating system's CSPRNG (``secrets``,
``os.urandom``). Paillier and CKKS encryption use their libraries' own secure randomness.
"""

from __future__ import annotations

__all__ = ["field", "he", "secagg", "sharing"]


def __getattr__(name: str):  # lazy submodules: `from course_utils import crypto; crypto.he`
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
