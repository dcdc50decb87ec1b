"""Unintended memorisation: a canary, a tiny character model, and the exposure metric.

Carlini et al. ("The Secret Sharer", USENIX Security 2019) insert a *canary* - a sentence with
a random secret, such as ``"my card number is 281265"`` - into the training text, train the
model, and then rank the true secret among **all** possible secrets of the same format by the
model's likelihood. The **exposure** of the canary is

    exposure = log2 |R| - log2 rank

where ``|R|`` is the number of possible secrets and ``rank`` is 1 for the most likely one. A
secret the model did not learn sits at a random rank (exposure about 1 bit on average); a
memorised one ranks first (exposure ``log2 |R|``, about 19.9 bits for six digits).

The model here is a character n-gram with add-alpha smoothing: it trains in milliseconds and
the log-probability of every one of the 10**6 six-digit candidates is computed exactly.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from ..validation import RNGLike, as_rng, check_int, check_positive

__all__ = ["CharNgram", "card_log", "insert_canary", "candidate_log_probs", "exposure"]

DIGITS = "0123456789"
_WHO = ("her", "his", "their", "our", "your", "the")
_FILLER = (
    "the order was shipped on monday",
    "please call back after five",
    "the invoice is attached",
    "payment received with thanks",
    "delivery was late again",
    "the account was closed last year",
    "a refund is on its way",
    "thanks for shopping with us",
)


class CharNgram:
    """Character n-gram language model with add-alpha smoothing.

    ``P(c | previous order-1 characters) = (count(context, c) + alpha) / (count(context) + alpha V)``
    with ``V`` the number of distinct characters seen in training.

    Parameters
    ----------
    order : int, default 4
        n of the n-gram (the context is ``order - 1`` characters), >= 1.
    alpha : float, default 1.0
        Smoothing pseudo-count, > 0.

    Examples
    --------
    >>> model = CharNgram(order=2, alpha=1.0).fit("abab")
    >>> round(float(np.exp(model.log_prob("b", context="a"))), 3)  # (2 + 1) / (2 + 3)
    0.6
    """

    def __init__(self, order: int = 4, alpha: float = 1.0) -> None:
        self.order = check_int(order, "order", min_val=1)
        self.alpha = check_positive(alpha, "alpha")
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.totals: Counter = Counter()
        self.vocab: set[str] = set()

    @property
    def pad(self) -> str:
        """Start-of-text padding (``order - 1`` newlines)."""
        return "\n" * (self.order - 1)

    def fit(self, text: str) -> CharNgram:
        """Count every (context, next character) pair of ``text``; returns self."""
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string")
        c = self.order - 1
        padded = self.pad + text
        self.vocab = set(padded)
        self.counts = defaultdict(Counter)
        self.totals = Counter()
        for i in range(c, len(padded)):
            ctx = padded[i - c : i]
            self.counts[ctx][padded[i]] += 1
            self.totals[ctx] += 1
        return self

    def _ctx(self, context: str) -> str:
        c = self.order - 1
        return (self.pad + context)[len(self.pad + context) - c :] if c else ""

    def log_prob(self, text: str, *, context: str = "") -> float:
        """Natural-log probability of ``text`` following ``context``.

        Examples
        --------
        >>> model = CharNgram(order=1).fit("aab")
        >>> round(float(model.log_prob("ab")), 4) == round(float(np.log(3 / 5) + np.log(2 / 5)), 4)
        True
        """
        if not self.vocab:
            raise ValueError("fit the model before asking for probabilities")
        v = len(self.vocab)
        total = 0.0
        history = context
        for ch in text:
            ctx = self._ctx(history)
            total += np.log(
                (self.counts[ctx][ch] + self.alpha) / (self.totals[ctx] + self.alpha * v)
            )
            history += ch
        return float(total)


def card_log(n_lines: int = 400, *, n_digits: int = 6, rng: RNGLike = 0) -> list[str]:
    """Synthetic customer-service notes: filler sentences and lines like
    ``"his card number is 503918"`` with random digits (the model must learn that such numbers
    are random, so a canary of the same shape has to be *memorised* to stand out).

    Examples
    --------
    >>> lines = card_log(4, rng=0)
    >>> len(lines), all(isinstance(s, str) for s in lines)
    (4, True)
    """
    n_lines = check_int(n_lines, "n_lines", min_val=1)
    n_digits = check_int(n_digits, "n_digits", min_val=1, max_val=7)
    rng = as_rng(rng)
    lines = []
    for _ in range(n_lines):
        if rng.random() < 0.5:
            secret = "".join(rng.choice(list(DIGITS), size=n_digits))
            lines.append(f"{rng.choice(_WHO)} card number is {secret}")
        else:
            lines.append(str(rng.choice(_FILLER)))
    return lines


def insert_canary(lines: Sequence[str], canary: str, n_insertions: int, *, rng: RNGLike = 0) -> str:
    """The training text: ``lines`` with ``canary`` inserted ``n_insertions`` times at random
    places, joined by newlines.

    Examples
    --------
    >>> insert_canary(["a", "b"], "SECRET", 2, rng=0).count("SECRET")
    2
    """
    n_insertions = check_int(n_insertions, "n_insertions", min_val=0)
    rng = as_rng(rng)
    out = list(lines)
    for _ in range(n_insertions):
        out.insert(int(rng.integers(0, len(out) + 1)), canary)
    return "\n".join(out) + "\n"


def candidate_log_probs(model: CharNgram, prefix: str, n_digits: int) -> np.ndarray:
    """Log-probability of every ``n_digits``-digit secret after ``prefix``, computed exactly.

    Entry ``j`` belongs to the secret ``f"{j:0{n_digits}d}"``. The n-gram's context only
    reaches back ``order - 1`` characters, so each position needs at most ``10**(order-1)``
    distinct next-digit distributions; the 10**n_digits totals are built level by level.

    Examples
    --------
    >>> model = CharNgram(order=2).fit("x=12\\nx=12\\nx=34\\n")
    >>> lp = candidate_log_probs(model, "x=", 2)
    >>> lp.shape, int(lp.argmax())
    ((100,), 12)
    """
    if not isinstance(model, CharNgram) or not model.vocab:
        raise ValueError("model must be a fitted CharNgram")
    n_digits = check_int(n_digits, "n_digits", min_val=1, max_val=7)
    c = model.order - 1
    scores = np.zeros(1)
    for i in range(int(n_digits)):
        m = min(i, c)
        table = np.empty((10**m, 10))
        for suffix in range(10**m):
            history = prefix + (f"{suffix:0{m}d}" if m else "")
            for d in range(10):
                table[suffix, d] = model.log_prob(DIGITS[d], context=history)
        scores = (scores[:, None] + table[np.arange(10**i) % (10**m)]).ravel()
    return scores


def exposure(log_probs: np.ndarray, canary_index: int) -> float:
    """Exposure of candidate ``canary_index`` among all candidates, in bits.

    ``log2(len(log_probs)) - log2(rank)``, where rank 1 is the most likely candidate and ties
    with the canary count in its favour (rank = 1 + number of strictly more likely candidates).

    Examples
    --------
    >>> exposure(np.array([0.1, 0.5, 0.3, 0.2]), 1)  # ranked first of 4: log2(4) = 2 bits
    2.0
    >>> exposure(np.array([0.1, 0.5, 0.3, 0.2]), 0)  # ranked last
    0.0
    """
    lp = np.asarray(log_probs, dtype=float)
    if lp.ndim != 1 or lp.size < 2:
        raise ValueError(
            f"log_probs must be 1-d with at least two candidates, got shape {lp.shape}"
        )
    if not 0 <= canary_index < lp.size:
        raise ValueError(f"canary_index must be in [0, {lp.size - 1}], got {canary_index}")
    rank = 1 + int((lp > lp[canary_index]).sum())
    return float(np.log2(lp.size) - np.log2(rank))
