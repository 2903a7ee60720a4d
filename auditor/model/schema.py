"""The one way Palisade reads a document a user hands in (a fleet file, ECS responses, the
rule fields of the API, a RAM policy, a baseline policy, an OSV record): a pydantic schema per
shape, validated here.

Every schema is a `Schema` (a model) or a TypedDict configured with `DOCUMENT` (plain dicts,
for large documents): unknown keys are errors; a number where text is expected is text (YAML
reads `ports: 443` as a number), but `true`, a list or a mapping is not. `validate` turns
pydantic's report into one `SchemaError` whose `where` is the JSON path of the first problem
(`$.checks[3].condtion`), so the command line and the API can say exactly what to fix.

The model layer may import pydantic and nothing else outside the model; this module lives
here so that the model's own schemas (`network.permission`, `ram.policy_language`) and every
other room share it.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

MAX_TEXT = 4096  # the longest text value a document may give


class SchemaError(ValueError):
    """A document is not of its schema: `where` is the JSON path of the problem."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class Schema(BaseModel):
    """A mapping of a document: unknown keys are errors, the model is read-only. Numbers
    where text is expected are text (YAML reads `ports: 443` and `id: 2001` as numbers);
    true/false, lists and mappings are not."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=False, coerce_numbers_to_str=True
    )


def kind_of(value: object) -> str:
    """What a value of a document is, in an error's words."""
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


# Text of a document, at most MAX_TEXT long (checked by pydantic-core itself: no Python call
# per value, which keeps a 10,000-instance fleet file as fast to read as the hand-written
# reader was).
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
# An identifier-like value: at most 256 characters.
ShortText = Annotated[str, StringConstraints(max_length=256)]


def json_path(loc: tuple[int | str, ...], root: str = "$") -> str:
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {str(error['loc'][-1])[:60]!r}"
    if kind == "missing":
        return f"missing {str(error['loc'][-1])!r}" if error["loc"] else "missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, not {kind_of(error.get('input'))}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, not {kind_of(error.get('input'))}"
    if kind == "string_type":
        return f"expected text, not {kind_of(error.get('input'))}"
    if kind == "string_too_long":
        return f"longer than {error.get('ctx', {}).get('max_length')} characters"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{str(error.get('input'))[:60]!r} is not one of {expected}"
    message = str(error.get("msg", "not valid"))
    return message.removeprefix("Value error, ")


def schema_error(exc: ValidationError, root: str = "$") -> SchemaError:
    """The first problem of a pydantic report as a SchemaError (the schemas use no unions of
    shapes, so every part of pydantic's location is a key or an index of the document)."""
    first = exc.errors(include_url=False)[0]
    return SchemaError(json_path(tuple(first["loc"]), root), _message(first))


# The configuration of a TypedDict schema (`__pydantic_config__ = DOCUMENT`): the same rules
# as `Schema`. A TypedDict validates to plain dicts, two to three times faster than models:
# the schemas of large documents (a fleet file, ECS responses) are TypedDicts.
DOCUMENT = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

M = TypeVar("M")


@cache
def _adapter(shape: Any) -> TypeAdapter:
    return TypeAdapter(shape)


def validate(shape: type[M], document: object, root: str = "$") -> M:
    """`document` (parsed YAML/JSON) as a `shape` (a Schema or a TypedDict), or a
    SchemaError naming the first problem."""
    try:
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            return shape.model_validate(document)
        adapter: TypeAdapter[M] = _adapter(cast(Any, shape))
        return adapter.validate_python(document)
    except ValidationError as exc:
        raise schema_error(exc, root) from None
    except RecursionError:
        raise SchemaError(root, "the document is nested too deeply") from None
