"""Small file helpers of the grader: atomic writes that keep a file's mode, escaped file names,
size caps for stored messages, and content hashes.

Examples
--------
>>> cap("x" * 2_010, 2_000)[-25:]
'xxx... 10 more characters'
>>> escape_name("caf\\udce9.ipynb")
'caf\\\\xe9.ipynb'
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = [
    "MESSAGE_CHARS",
    "atomic_write_text",
    "cap",
    "escape_name",
    "sha256_bytes",
    "short_tempdir",
    "tree_hash",
]

#: Characters kept of any message stored in the gradebook or a feedback file.
MESSAGE_CHARS = 2_000


def cap(text: object, limit: int = MESSAGE_CHARS) -> str:
    """``str(text)`` cut to ``limit`` characters, with a ``"... N more characters"`` marker.

    Examples
    --------
    >>> cap("short")
    'short'
    >>> cap("abcdef", 3)
    'abc... 3 more characters'
    >>> cap("bad \\udce9")
    'bad \\\\udce9'
    """
    if not isinstance(text, str):
        try:
            text = str(text)
        except Exception:  # an object whose __str__ fails
            text = "<unprintable>"
    if len(text) > limit:
        text = f"{text[:limit]}... {len(text) - limit} more characters"
    # lone surrogates (undecodable bytes) cannot be printed or written as UTF-8: escape them
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def escape_name(name: str) -> str:
    """A file name as printable UTF-8: bytes that are not UTF-8 become ``\\xNN`` escapes.

    Python keeps undecodable bytes of a file name as lone surrogates (``os.fsdecode``); printing
    those raises ``UnicodeEncodeError``. The escaped form is safe to print, to store in a CSV and
    to use as a (different, valid) file name.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``.

    Examples
    --------
    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def tree_hash(folder: str | Path, pattern: str = "*.py") -> str:
    """First 16 hex digits of a SHA-256 over the relative names and contents of the files under
    ``folder`` matching ``pattern`` (``__pycache__`` ignored): a version stamp of that code."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(folder.rglob(pattern)):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def short_tempdir() -> str | None:
    """The temporary folder, or ``/tmp`` when its path is long: the kernels' Unix sockets live
    under it and a socket path is limited to about 100 bytes."""
    base = tempfile.gettempdir()
    return base if len(base) < 40 else ("/tmp" if os.path.isdir("/tmp") else None)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, ``fsync``, then
    ``os.replace``. An existing file keeps its permission bits; a new one gets the usual
    ``0o666 & ~umask`` (not the ``0o600`` of a temporary file). On any failure ``path`` is
    untouched and the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
