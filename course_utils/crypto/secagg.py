"""Secure aggregation with double masking (after Bonawitz et al., CCS 2017), simulated.

``n`` clients each hold an update vector; the server must learn the sum of the updates of the
clients that did not drop out, and nothing else. Four rounds:

0. **Advertise keys** - client ``i`` makes an X25519 key pair and sends the public key; the
   server broadcasts the list.
1. **Share keys** - client ``i`` draws a self-mask seed ``b_i`` and Shamir-shares ``b_i`` *and*
   its private key ``sk_i`` (``threshold``-out-of-``n``, over the prime ``2**521 - 1``); the server
   forwards share pairs to their addressees.
2. **Masked input** - each surviving client sends
   ``y_i = x_i + PRG(b_i) + sum_{j > i} PRG(s_ij) - sum_{j < i} PRG(s_ij)  (mod 2**61 - 1)``,
   with ``x_i`` the fixed-point update and ``s_ij`` the key it agrees with client ``j``.
3. **Unmasking** - the server announces the survivors; each survivor sends, for every client,
   a share of ``b_i`` if ``i`` survived, a share of ``sk_i`` if it dropped - **never both**. The
   server rebuilds the self masks of survivors and the pairwise masks they had with dropped
   clients, and removes them from the sum.

Why the self mask: with pairwise masks alone (notebook 05), a client that is declared dropped but
whose masked input still arrives loses its privacy - the server recovers its pairwise keys and
unmasks it (:func:`strip_pairwise_masks` shows it). With the self mask, what remains is
``x_k + PRG(b_k)``: uniform, since nobody reveals shares of ``b_k`` for a client called dropped.

Simplified here: the server forwards shares in clear (the protocol encrypts them with a second
key agreement), there are no signatures or consistency checks (the malicious-server variant adds
them), and every party is honest-but-curious. Randomness comes from the ``rng`` argument for
reproducibility; a deployment uses the OS CSPRNG. The message and byte counts are measured on the
serialized messages and match :func:`secagg_cost`.

Examples
--------
>>> import numpy as np
>>> U = np.arange(12.0).reshape(4, 3) / 8
>>> total, info = secure_aggregate(U, dropped=[2], threshold=3, rng=0)
>>> total.tolist() == U[[0, 1, 3]].sum(axis=0).tolist(), info["survivors"]
(True, [0, 1, 3])
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..validation import RNGLike, as_rng, check_bool, check_int
from .field import MODULUS, decode_fixed, encode_fixed
from .sharing import lagrange_coefficients, shamir_share

__all__ = [
    "SECRET_PRIME",
    "KEY_BYTES",
    "SHARE_BYTES",
    "ID_BYTES",
    "ROUNDS",
    "key_pair",
    "agree",
    "prg_field",
    "secure_aggregate",
    "secagg_cost",
    "strip_pairwise_masks",
]

#: Prime field of the Shamir shares of 256-bit seeds and keys (a Mersenne prime).
SECRET_PRIME: int = 2**521 - 1
#: Bytes of an X25519 public key.
KEY_BYTES: int = 32
#: Bytes of one Shamir share on the wire: the x coordinate (4) and a 521-bit y (66).
SHARE_BYTES: int = 4 + 66
#: Bytes of a client id in the survivor list.
ID_BYTES: int = 4
#: Rounds of the protocol (advertise keys, share keys, masked input, unmasking).
ROUNDS: int = 4
_ELEMENT = 8  # bytes of one element of Z_(2**61 - 1)


# ------------------------------------------------------------------------- primitives
def key_pair(*, rng: RNGLike) -> tuple[bytes, bytes]:
    """An X25519 key pair ``(private, public)``, 32 bytes each, the private key drawn from ``rng``.

    Examples
    --------
    >>> sk_a, pk_a = key_pair(rng=1); sk_b, pk_b = key_pair(rng=2)
    >>> agree(sk_a, pk_b) == agree(sk_b, pk_a)
    True
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    private = as_rng(rng).bytes(32)
    pub = X25519PrivateKey.from_private_bytes(private).public_key()
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    return private, pub.public_bytes(*raw)


def agree(private: bytes, peer_public: bytes) -> bytes:
    """X25519 Diffie-Hellman: the 32-byte secret two clients share (``agree(a, B) == agree(b, A)``)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )

    if not (isinstance(private, bytes) and isinstance(peer_public, bytes)):
        raise ValueError("private and peer_public must be 32-byte keys (bytes)")
    if len(private) != 32 or len(peer_public) != 32:
        raise ValueError(
            f"private and peer_public must be 32 bytes, got {len(private)} and {len(peer_public)}"
        )
    sk = X25519PrivateKey.from_private_bytes(private)
    return sk.exchange(X25519PublicKey.from_public_bytes(peer_public))


def prg_field(seed: bytes, dim: int, *, label: bytes = b"") -> np.ndarray:
    """Expand ``seed`` into ``dim`` elements of ``Z_(2**61 - 1)`` with SHAKE-256.

    Each element takes 61 bits of the output (the value ``2**61 - 1`` maps to 0: a bias of
    ``2**-61`` per element). ``label`` separates streams drawn from one seed.

    Examples
    --------
    >>> a = prg_field(b"seed", 4); b = prg_field(b"seed", 4)
    >>> bool((a == b).all()), bool((a != prg_field(b"seed", 4, label=b"x")).any())
    (True, True)
    """
    dim = check_int(dim, "dim", min_val=1)
    if not isinstance(seed, (bytes, bytearray)) or not isinstance(label, (bytes, bytearray)):
        raise ValueError("seed and label must be bytes")
    raw = hashlib.shake_256(bytes(label) + b"|" + bytes(seed)).digest(8 * dim)
    words = np.frombuffer(raw, dtype=">u8").astype(np.uint64) >> np.uint64(3)
    return (words % np.uint64(MODULUS)).astype(np.int64)


def _sign(i: int, j: int) -> int:
    return 1 if i < j else -1


def _share_bytes(x: int, y: int) -> bytes:
    return x.to_bytes(4, "big") + y.to_bytes(66, "big")


class _Wire:
    """Counts what every client sends and receives, on the serialized messages."""

    def __init__(self, n: int) -> None:
        self.sent = [0] * n
        self.received = [0] * n
        self.msgs_sent = [0] * n
        self.msgs_received = [0] * n

    def up(self, i: int, payload: bytes) -> bytes:
        self.sent[i] += len(payload)
        self.msgs_sent[i] += 1
        return payload

    def down(self, i: int, payload: bytes) -> bytes:
        self.received[i] += len(payload)
        self.msgs_received[i] += 1
        return payload


def _check_clients(values: Iterable[Any], n: int, name: str) -> list[int]:
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a collection of client indices, got {values!r}")
    try:
        out = [check_int(v, name, min_val=0, max_val=n - 1) for v in values]
    except TypeError:
        raise ValueError(f"{name} must be a collection of client indices, got {values!r}") from None
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must not repeat a client, got {out}")
    return sorted(out)


# ---------------------------------------------------------------------------- the protocol
def secure_aggregate(
    updates: Any,
    *,
    dropped: Iterable[int] = (),
    threshold: int,
    rng: RNGLike,
    frac_bits: int = 16,
    late: Iterable[int] = (),
    double_masking: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Run the protocol on ``updates`` (``n x d``); return the survivors' sum and the run's record.

    Parameters
    ----------
    updates : array of shape (n, d)
        Row ``i`` is client ``i``'s update (``n >= 2``).
    dropped : collection of int, default ()
        Clients that go offline after sharing their keys (round 1) and before sending their
        masked input. At most ``n - threshold`` of them, else ``ValueError``.
    threshold : int
        Shares needed to rebuild a secret, ``2 <= threshold <= n`` (Bonawitz et al. take
        ``threshold > n / 2`` so a lying server cannot get both kinds of shares of one client;
        with ``c`` clients colluding with it, ``threshold > (n + c) / 2``, as notebook 08 says).
    rng : numpy.random.Generator, int or None
    frac_bits : int, default 16
        Fixed-point resolution of the updates.
    late : collection of int, default ()
        A subset of ``dropped`` whose masked input still reaches the server, after it announced
        them dropped (a slow network - or a server that lies about who dropped).
    double_masking : bool, default True
        False leaves out the self masks: pairwise masks plus key recovery only, to show why the
        self mask is needed.

    Returns
    -------
    total : numpy.ndarray of shape (d,)
        Sum of the surviving clients' rows (up to ``2**-frac_bits`` rounding per entry).
    info : dict
        ``survivors``, ``dropped``, ``late``, ``rounds``, ``messages`` (all messages, both
        directions), ``bytes`` (all bytes), ``bytes_sent`` and ``bytes_received`` (per client),
        ``messages_per_client`` and ``bytes_per_client`` (sent by one survivor),
        ``plaintext_bytes_per_client`` (``8 d``), ``frac_bits``, ``double_masking`` and
        ``server_view`` - everything the server saw or rebuilt (masked inputs, late inputs,
        public keys, rebuilt private keys of dropped clients and self-mask seeds of survivors).

    Examples
    --------
    >>> U = np.ones((5, 2))
    >>> total, info = secure_aggregate(U, threshold=3, rng=1)
    >>> total.tolist(), info["rounds"], info["messages_per_client"]
    ([5.0, 5.0], 4, 4)
    >>> secure_aggregate(U, dropped=[0, 1, 2], threshold=3, rng=1)
    Traceback (most recent call last):
    ...
    ValueError: dropped holds 3 clients but only n - threshold = 2 may drop out...
    """
    U = np.asarray(updates, dtype=float) if not isinstance(updates, np.ndarray) else updates
    if U.ndim != 2 or U.shape[0] < 2 or U.shape[1] < 1:
        raise ValueError(f"updates must have shape (n_clients >= 2, dim >= 1), got {U.shape}")
    U = U.astype(float)
    if not np.all(np.isfinite(U)):
        raise ValueError("updates must be finite")
    n, d = U.shape
    threshold = check_int(threshold, "threshold", min_val=2, max_val=n)
    frac_bits = check_int(frac_bits, "frac_bits", min_val=0, max_val=40)
    double_masking = check_bool(double_masking, "double_masking")
    drop = _check_clients(dropped, n, "dropped")
    late_l = _check_clients(late, n, "late")
    if not set(late_l) <= set(drop):
        raise ValueError(f"late must be a subset of dropped, got late={late_l}, dropped={drop}")
    if len(drop) > n - threshold:
        raise ValueError(
            f"dropped holds {len(drop)} clients but only n - threshold = {n - threshold} may drop "
            f"out (n={n}, threshold={threshold}): the server could not rebuild the masks"
        )
    encoded = np.asarray(encode_fixed(U, frac_bits=frac_bits), dtype=np.int64).reshape(n, d)
    if float(np.abs(U).sum(axis=0).max()) * 2.0**frac_bits >= (MODULUS - 1) / 2:
        raise ValueError(f"updates are too large for frac_bits={frac_bits}: the sum would wrap")
    gen = as_rng(rng)
    wire = _Wire(n)
    alive = [i for i in range(n) if i not in drop]

    # round 0: advertise keys
    keys = [key_pair(rng=gen) for _ in range(n)]
    pks = [wire.up(i, pk) for i, (_, pk) in enumerate(keys)]
    for i in range(n):
        wire.down(i, b"".join(pks))

    # round 1: share b_i and sk_i; the server forwards each pair to its addressee
    seeds = [gen.bytes(32) for _ in range(n)]
    held: list[dict[int, tuple[tuple[int, int], tuple[int, int]]]] = [{} for _ in range(n)]
    inbox: list[list[bytes]] = [[] for _ in range(n)]
    for i in range(n):
        b_pts = shamir_share(
            int.from_bytes(seeds[i], "big"), n, threshold, rng=gen, prime=SECRET_PRIME
        )
        s_pts = shamir_share(
            int.from_bytes(keys[i][0], "big"), n, threshold, rng=gen, prime=SECRET_PRIME
        )
        bundle = []
        for j in range(n):
            held[j][i] = (b_pts[j], s_pts[j])
            if j != i:
                msg = _share_bytes(*b_pts[j]) + _share_bytes(*s_pts[j])
                bundle.append(msg)
                inbox[j].append(msg)
        wire.up(i, b"".join(bundle))
    for j in range(n):
        wire.down(j, b"".join(inbox[j]))

    # round 2: masked inputs (survivors on time, late clients after the announcement)
    def masked_input(i: int) -> np.ndarray:
        y = encoded[i].copy()
        if double_masking:
            y = (y + prg_field(seeds[i], d, label=b"self")) % MODULUS
        for j in range(n):
            if j != i:
                pad = prg_field(agree(keys[i][0], pks[j]), d, label=b"pair")
                y = (y + _sign(i, j) * pad) % MODULUS
        wire.up(i, y.astype(">u8").tobytes())
        return y

    masked = {i: masked_input(i) for i in alive}
    late_inputs = {k: masked_input(k) for k in late_l}

    # round 3: unmasking - one kind of share per client, never both
    survivors_msg = b"".join(i.to_bytes(ID_BYTES, "big") for i in alive)
    responses: dict[int, dict[int, tuple[int, int]]] = {}
    for j in alive:
        wire.down(j, survivors_msg)
        resp = {i: held[j][i][0] if i in masked else held[j][i][1] for i in range(n)}
        wire.up(j, b"".join(_share_bytes(*resp[i]) for i in range(n)))
        responses[j] = resp
    helpers = alive[:threshold]  # any threshold survivors will do
    lam = lagrange_coefficients([j + 1 for j in helpers], prime=SECRET_PRIME)

    def rebuild(i: int) -> int:
        return (
            sum(lj * responses[j][i][1] for lj, j in zip(lam, helpers, strict=True)) % SECRET_PRIME
        )

    self_seeds = {i: rebuild(i).to_bytes(32, "big") for i in alive}
    private_keys = {k: rebuild(k).to_bytes(32, "big") for k in drop}

    total = np.zeros(d, dtype=np.int64)
    for i in alive:
        total = (total + masked[i]) % MODULUS
        if double_masking:
            total = (total - prg_field(self_seeds[i], d, label=b"self")) % MODULUS
    for k in drop:  # pairwise masks that survivors shared with dropped clients do not cancel
        for i in alive:
            pad = prg_field(agree(private_keys[k], pks[i]), d, label=b"pair")
            total = (total - _sign(i, k) * pad) % MODULUS
    result = np.asarray(decode_fixed(total, frac_bits=frac_bits), dtype=float)

    info: dict[str, Any] = {
        "survivors": alive,
        "dropped": drop,
        "late": late_l,
        "rounds": ROUNDS,
        "messages": sum(wire.msgs_sent) + sum(wire.msgs_received),
        "bytes": sum(wire.sent) + sum(wire.received),
        "bytes_sent": list(wire.sent),
        "bytes_received": list(wire.received),
        "messages_per_client": wire.msgs_sent[alive[0]],
        "bytes_per_client": wire.sent[alive[0]],
        "plaintext_bytes_per_client": _ELEMENT * d,
        "frac_bits": frac_bits,
        "double_masking": double_masking,
        "server_view": {
            "masked": masked,
            "late_inputs": late_inputs,
            "public_keys": pks,
            "private_keys": private_keys,
            "self_seeds": self_seeds,
        },
    }
    return result, info


def secagg_cost(n_clients: int, dim: int, *, n_dropped: int = 0) -> dict[str, int | float]:
    """Messages and bytes of :func:`secure_aggregate` from the formulas (no simulation).

    With ``S`` = :data:`SHARE_BYTES` and ``u = n - n_dropped`` survivors, a surviving client
    sends 4 messages, ``32 + 2 (n - 1) S + 8 d + n S`` bytes, and receives 3 messages,
    ``32 n + 2 (n - 1) S + 4 u`` bytes. A client that drops after round 1 sends 2 and
    receives 2. Plain federated averaging would send ``8 d`` bytes.

    Examples
    --------
    >>> c = secagg_cost(100, 1000)
    >>> c["bytes_per_client"], c["messages_per_client"]
    (28892, 4)
    """
    n = check_int(n_clients, "n_clients", min_val=2)
    d = check_int(dim, "dim", min_val=1)
    n_dropped = check_int(n_dropped, "n_dropped", min_val=0, max_val=n - 2)
    u = n - n_dropped
    S = SHARE_BYTES
    keys_and_shares = KEY_BYTES + 2 * (n - 1) * S
    survivor_sent = keys_and_shares + _ELEMENT * d + n * S
    received_r01 = KEY_BYTES * n + 2 * (n - 1) * S
    survivor_received = received_r01 + ID_BYTES * u
    messages = u * (4 + 3) + n_dropped * (2 + 2)
    total = u * (survivor_sent + survivor_received) + n_dropped * (keys_and_shares + received_r01)
    return {
        "rounds": ROUNDS,
        "messages_per_client": 4,
        "bytes_per_client": survivor_sent,
        "bytes_received_per_client": survivor_received,
        "plaintext_bytes_per_client": _ELEMENT * d,
        "expansion": survivor_sent / (_ELEMENT * d),
        "messages": messages,
        "bytes": total,
    }


def strip_pairwise_masks(info: dict[str, Any], client: int) -> np.ndarray:
    """The server's attack on a client announced as dropped whose masked input arrived late.

    Having rebuilt that client's private key from the survivors' shares, the server recomputes
    all its pairwise masks and removes them from the late input. Without self masks
    (``double_masking=False``) this returns the client's update; with them it returns noise.

    Examples
    --------
    >>> U = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> _, info = secure_aggregate(U, dropped=[1], late=[1], threshold=2, rng=0, double_masking=False)
    >>> strip_pairwise_masks(info, 1).tolist()
    [3.0, 4.0]
    """
    view = info["server_view"]
    client = check_int(client, "client", min_val=0, max_val=len(view["public_keys"]) - 1)
    if client not in view["private_keys"]:
        raise ValueError(
            f"client {client} was not announced as dropped: the server never rebuilt its "
            "private key, so it cannot strip its pairwise masks"
        )
    y = view["late_inputs"].get(client, view["masked"].get(client))
    if y is None:
        raise ValueError(f"client {client}'s masked input never reached the server")
    sk, pks = view["private_keys"][client], view["public_keys"]
    out = np.array(y, dtype=np.int64)
    for j, pk in enumerate(pks):
        if j != client:
            pad = prg_field(agree(sk, pk), out.size, label=b"pair")
            out = (out - _sign(client, j) * pad) % MODULUS
    return np.asarray(decode_fixed(out, frac_bits=info["frac_bits"]), dtype=float)
