"""Reading the JSON documents RAM state is stored as, field by field.

A stored document may be old, hand-edited or corrupt, so every gap is a `ValueError` that
names the field (`Users[2].AccessKeys[0].Status: ...`), never a KeyError or TypeError from
deep inside. Unknown fields are refused too: silently dropping one could drop a permission.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar, overload

from palisade.auditor.model.ram.errors import RamError
from palisade.auditor.model.ram.names import NameRule, check_text

DOCUMENT_FORMAT = 1

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")
V = TypeVar("V")


def datetime_text(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class DocumentReader:
    """One JSON object of a stored document; `path` says where it is, for the errors."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise ValueError(f"{path or 'the document'} must be an object, not {_type_name(value)}")
        self._fields: dict[str, object] = value
        self.path = path
        self._read: set[str] = set()

    def has(self, key: str) -> bool:
        return key in self._fields

    def error(self, key: str, message: str) -> ValueError:
        return ValueError(f"{self._where(key)}: {message}")

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    @overload
    def _get(self, key: str, kind: type[T], expected: str) -> T: ...
    @overload
    def _get(self, key: str, kind: tuple[type, ...], expected: str) -> object: ...
    def _get(self, key: str, kind: type | tuple[type, ...], expected: str) -> object:
        self._read.add(key)
        if key not in self._fields:
            raise ValueError(f"{self._where(key)} is missing")
        value = self._fields[key]
        # bool is an int to Python, not to JSON.
        wrong_bool = isinstance(value, bool) and kind is not bool
        if wrong_bool or not isinstance(value, kind):
            raise self.error(key, f"must be {expected}, not {_type_name(value)}")
        return value

    def string(self, key: str) -> str:
        return self._get(key, str, "a string")

    def integer(self, key: str) -> int:
        return self._get(key, int, "an integer")

    def boolean(self, key: str) -> bool:
        return self._get(key, bool, "a boolean")

    def date_time(self, key: str) -> datetime:
        text = self.string(key)
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise self.error(key, f"{text!r} is not an ISO-8601 date and time") from None
        if moment.tzinfo is None:
            raise self.error(key, f"{text!r} has no UTC offset")
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00
            raise self.error(key, f"{text!r} is out of range in UTC") from None

    def choice(self, key: str, kind: type[E]) -> E:
        value = self.string(key)
        for member in kind:
            if member.value == value:
                return member
        allowed = ", ".join(repr(m.value) for m in kind)
        raise self.error(key, f"must be one of {allowed}, not {value!r}")

    def name(self, key: str, rule: NameRule) -> str:
        """A string that must also pass the RAM API's own rule for it."""
        return self.parsed(key, self.string(key), rule.check)

    def text(self, key: str, max_length: int) -> str:
        """Free text (Comments, Description) within the RAM API's length limit."""
        return self.parsed(key, self.string(key), lambda v: check_text(key, v, max_length))

    def parsed(self, key: str, value: V, parse: Callable[[V], T]) -> T:
        """`parse(value)`, for `value` read from `key`; a RamError it raises is a ValueError."""
        try:
            return parse(value)
        except RamError as exc:
            raise self.error(key, exc.message) from None

    def strings(self, key: str) -> list[str]:
        items = self._get(key, list, "an array")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValueError(
                    f"{self._where(key)}[{i}] must be a string, not {_type_name(item)}"
                )
        return items

    def objects(self, key: str) -> list[DocumentReader]:
        items = self._get(key, list, "an array")
        return [DocumentReader(item, f"{self._where(key)}[{i}]") for i, item in enumerate(items)]

    def optional_object(self, key: str) -> DocumentReader | None:
        value = self._get(key, (dict, type(None)), "an object or null")
        return None if value is None else DocumentReader(value, self._where(key))

    def done(self) -> None:
        """Refuse any field that was not read: it would otherwise be lost without a word."""
        unknown = sorted(str(key) for key in set(self._fields) - self._read)
        if unknown:
            raise ValueError(
                f"{self.path or 'the document'} has unknown field(s): {', '.join(unknown)}"
            )


def open_document(doc: object, what: str) -> DocumentReader:
    """The top of a stored `what` document, once its `format` is one this code reads."""
    reader = DocumentReader(doc, "")
    if not reader.has("format"):
        raise ValueError(f"not a stored {what}: the document has no 'format' field")
    version = reader.integer("format")
    if version != DOCUMENT_FORMAT:
        raise ValueError(
            f"stored {what} has format {version}; this version of Palisade reads only "
            f"format {DOCUMENT_FORMAT}"
        )
    return reader


def unique(reader: DocumentReader, key: str, values: list[str], what: str) -> None:
    """Refuse a `what` named twice in the list read from `key`."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise reader.error(key, f"{what} {value!r} appears more than once")
        seen.add(value)
