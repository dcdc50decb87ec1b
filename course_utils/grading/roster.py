"""The class roster (``--roster FILE``): who is in the class, and the ids each LMS knows them by.

Three CSV layouts are read (UTF-8, a spreadsheet's byte-order mark is fine):

* **the course's own**: a header with ``id`` (required: your student id), ``name`` and ``email``,
  and optionally ``canvas_id`` (Canvas's user id), ``sis_user_id`` (default: ``id``),
  ``sis_login_id`` (or ``login``/``username``), ``section``, ``first_name``, ``last_name``;
  column names are matched without regard to case, spaces or underscores;
* **a Canvas gradebook export** (Grades > Export): ``Student, ID, SIS User ID, SIS Login ID,
  Section, ...``. The ``Points Possible`` line and Canvas's "Student, Test" are skipped; ``id``
  is the SIS User ID, else the SIS Login ID, else the Canvas ID;
* **a Moodle grades export** (Export > Plain text file): ``First name, Last name, ID number,
  ..., Email address, ...``; ``id`` is the ID number, else the email address.

A student is then found from what a submission's file name says (:mod:`.identity`): an id,
login, email or its local part, a Canvas user id, or a name written the way Canvas (``turingalan``)
or Moodle (``Alan Turing``) writes it. Only a unique match counts.

Examples
--------
>>> r = Roster.from_text("id,name,email\\nS1,Ada Lovelace,ada@uni.edu\\nS2,Alan Turing,alan@uni.edu\\n")
>>> [s.id for s in r], r.find_token("ada").name, r.find_token("alan@uni.edu").id
(['S1', 'S2'], 'Ada Lovelace', 'S2')
>>> r.find_name("turingalan", sortable=True).id
'S2'
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Roster", "Student", "name_key"]


def name_key(text: str) -> str:
    """A name reduced to its letters and digits, lower case, accents dropped: how names are
    compared (``"Lovelace, Ada"`` and ``"lovelaceada"`` meet).

    Examples
    --------
    >>> name_key("Zoë O'Brien-Smith"), name_key("Lovelace, Ada")
    ('zoeobriensmith', 'lovelaceada')
    """
    text = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c)).casefold()


def _col(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lstrip("\ufeff")).casefold()


_ALIASES = {
    "id": ("id", "studentid", "student", "studentnumber"),
    "name": ("name", "fullname", "studentname"),
    "email": ("email", "emailaddress", "mail"),
    "canvas_id": ("canvasid", "canvasuserid"),
    "sis_user_id": ("sisuserid",),
    "sis_login_id": ("sisloginid", "login", "username", "loginid"),
    "section": ("section",),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
}


@dataclass(frozen=True)
class Student:
    """One student of the roster (empty strings where unknown)."""

    id: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    first_name: str = ""
    last_name: str = ""
    canvas_name: str = ""  # Canvas's "Last, First" when the roster came from Canvas

    @property
    def given_family(self) -> tuple[str, str]:
        """``(first name, last name)``: the roster's, else the name split at its last space."""
        if self.first_name or self.last_name:
            return self.first_name, self.last_name
        head, _, tail = self.name.strip().rpartition(" ")
        return (head, tail) if head else (tail, "")

    def name_keys(self) -> set[str]:
        """The name as Moodle writes it (first last) and in both orders."""
        first, last = self.given_family
        keys = {name_key(self.name), name_key(f"{first} {last}"), name_key(f"{last} {first}")}
        if self.canvas_name:
            keys.add(name_key(self.canvas_name))
        return keys - {""}


class Roster:
    """The students of a class, looked up by id, login, email or name."""

    def __init__(self, students: list[Student], source: str = "") -> None:
        self.students = list(students)
        self.source = source
        seen: set[str] = set()
        for s in self.students:
            if not s.id:
                raise ValueError(f"roster {source}: a student without an id ({s.name or s.email})")
            if s.id in seen:
                raise ValueError(f"roster {source}: the id {s.id!r} appears twice")
            seen.add(s.id)
        self.by_id = {s.id: s for s in self.students}

    def __iter__(self) -> Iterator[Student]:
        return iter(self.students)

    def __len__(self) -> int:
        return len(self.students)

    # ------------------------------------------------------------------ reading
    @classmethod
    def read(cls, path: str | Path) -> Roster:
        """Read a roster CSV (any of the three layouts); ``ValueError`` saying what is wrong."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read the roster {path}: {exc}") from None
        return cls.from_text(text, source=str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "roster") -> Roster:
        """A roster from the text of a CSV file."""
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"roster {source} is empty") from None
        cols = [_col(h) for h in header]
        rows = [r for r in reader if any(c.strip() for c in r)]

        def get(row: list[str], *names: str) -> str:
            for n in names:
                if n in cols and cols.index(n) < len(row):
                    value = row[cols.index(n)].strip()
                    if value:
                        return value
            return ""

        students = []
        if {"student", "id"} <= set(cols) and ("sisuserid" in cols or "sisloginid" in cols):
            for row in rows:  # a Canvas gradebook export
                who = get(row, "student")
                if who.lower() in ("points possible", "student, test") or not who:
                    continue
                last, _, first = who.partition(",")
                sis, login, cid = (get(row, c) for c in ("sisuserid", "sisloginid", "id"))
                students.append(
                    Student(
                        id=sis or login or cid,
                        name=f"{first.strip()} {last.strip()}".strip(),
                        canvas_id=cid,
                        sis_user_id=sis,
                        sis_login_id=login,
                        section=get(row, "section"),
                        first_name=first.strip(),
                        last_name=last.strip(),
                        canvas_name=who,
                    )
                )
            return cls(students, source)
        if {"firstname", "lastname"} <= set(cols) and (
            "idnumber" in cols or "emailaddress" in cols
        ):
            for row in rows:  # a Moodle export
                first, last = get(row, "firstname"), get(row, "lastname")
                email = get(row, "emailaddress")
                students.append(
                    Student(
                        id=get(row, "idnumber") or email,
                        name=f"{first} {last}".strip(),
                        email=email,
                        sis_login_id=get(row, "username"),
                        first_name=first,
                        last_name=last,
                    )
                )
            return cls(students, source)
        found = {
            field: next((a for a in aliases if a in cols), None)
            for field, aliases in _ALIASES.items()
        }
        if found["id"] is None:
            raise ValueError(
                f"roster {source} needs an 'id' column (and ideally 'name' and 'email'); it has "
                f"{', '.join(header) or 'no columns'} (a Canvas or Moodle grades export also works)"
            )
        for row in rows:
            values = {f: get(row, col) if col else "" for f, col in found.items()}
            values["sis_user_id"] = values["sis_user_id"] or values["id"]
            students.append(Student(**values))
        return cls(students, source)

    # ------------------------------------------------------------------ finding
    @staticmethod
    def _unique(hits: list[Student]) -> Student | None:
        ids = {s.id for s in hits}
        return hits[0] if len(ids) == 1 else None

    def find_token(self, token: str) -> Student | None:
        """The one student whose id, Canvas id, login, email, email local part or name is
        ``token`` (compared without case; names by :func:`name_key`)."""
        t = str(token).strip().casefold()
        if not t:
            return None
        for fields in (
            ("id",),
            ("sis_login_id", "email", "canvas_id", "sis_user_id"),
        ):
            hits = [s for s in self for f in fields if getattr(s, f).casefold() == t]
            if hits:
                return self._unique(hits)
        hits = [s for s in self if s.email and s.email.casefold().split("@")[0] == t]
        if hits:
            return self._unique(hits)
        return self.find_name(token)

    def find_name(self, name: str, *, sortable: bool = False) -> Student | None:
        """The one student called ``name``. ``sortable``: Canvas's download form, "last first"
        run together in lower case (``turingalan``)."""
        key = name_key(name)
        if not key:
            return None
        if sortable:
            hits = [
                s
                for s in self
                if key in {name_key(s.canvas_name)} | {name_key(" ".join(s.given_family[::-1]))}
            ]
        else:
            hits = [s for s in self if key in s.name_keys()]
        return self._unique(hits)
