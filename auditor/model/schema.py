"""The one way Palisade reads a document a user hands in (a fleet file, ECS responses, a
baseline policy, an OSV record, a settings file): a pydantic model per shape, validated here.

Every schema derives from `Schema` (unknown keys are errors, values are not coerced across
kinds: `true` is not text, `"5"` is not a list). `validate` turns pydantic's report into one
`SchemaError` whose `where` is the JSON path of the first problem (`$.checks[3].condtion`), so
the command line and the API can say exactly what to fix.

The model layer may import pydantic and nothing else outside the model; this module lives
here so that the model's own schemas (`network.permission`) and every other room share it.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

MAX_TEXT = 4096  # the longest text value a document may give


class SchemaError(ValueError):
    """A document is not of its schema: `where` is the JSON path of the problem."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class Schema(BaseModel):
    """A mapping of a document: unknown keys are errors, the model is read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def kind_of(value: object) -> str:
    """What a value of a document is, in an error's words."""
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _text(limit: int):
    def check(value: object) -> object:
        # YAML reads `ports: 443` and `id: 2001` as numbers: those are text here. Booleans and
        # anything else are refused (no silent str() of a list or a mapping).
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"expected text, not {kind_of(value)}")
        text = str(value)
        if len(text) > limit:
            raise ValueError(f"longer than {limit} characters")
        return text

    return check


# Text of a document: a string (or a whole number, as YAML reads `443`), at most MAX_TEXT long.
Text = Annotated[str, BeforeValidator(_text(MAX_TEXT))]
# An identifier-like value: at most 256 characters.
ShortText = Annotated[str, BeforeValidator(_text(256))]


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


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], document: object, root: str = "$") -> M:
    """`document` (parsed YAML/JSON) as a `model`, or a SchemaError naming the first problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise schema_error(exc, root) from None
    except RecursionError:
        raise SchemaError(root, "the document is nested too deeply") from None
