"""JSON documents from the model's dataclasses and back, driven by their type hints.

Handles what the model uses: str/int/bool/None, Enum, datetime, date, nested
dataclasses, list/tuple/set/frozenset, dict with str keys, and `X | None`.
A field missing from a stored document takes its default, so adding a field with
a default keeps old documents loadable.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from datetime import date, datetime


class DocumentError(ValueError):
    pass


@functools.cache
def _hints(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The init fields of a dataclass (what is encoded), None for any other type. Cached per
    class: a write encodes the units it changed (a group with its rules) on every request,
    and `dataclasses.fields` per object was most of that cost."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


_SCALARS = (bool, int, float, str, type(None))


def encode(value: object) -> object:
    cls = type(value)
    if cls in _SCALARS:
        return value
    names = _init_fields(cls)  # type: ignore[arg-type]
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((encode(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    raise DocumentError(f"cannot encode {type(value).__name__}")


_T = typing.TypeVar("_T")


@typing.overload
def decode(tp: type[_T], data: object, where: str = "$") -> _T: ...
@typing.overload
def decode(tp: object, data: object, where: str = "$") -> object: ...
def decode(tp: object, data: object, where: str = "$") -> object:
    """`data` as a value of the type `tp` (a class: an instance of it)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return decode(arg, data, where)
            except DocumentError as exc:
                errors.append(str(exc))
        raise DocumentError(f"{where}: {'; '.join(errors)}")
    if tp is typing.Any:
        return data
    if origin in (list, tuple, set, frozenset):
        if not isinstance(data, list):
            raise DocumentError(f"{where}: expected a list")
        args = typing.get_args(tp) or (typing.Any,)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(data):
                raise DocumentError(f"{where}: expected {len(args)} items")
            return tuple(
                decode(a, v, f"{where}[{i}]")
                for i, (a, v) in enumerate(zip(args, data, strict=True))
            )
        items = [decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data)]
        return items if origin is list else origin(items)
    if origin is dict:
        if not isinstance(data, dict):
            raise DocumentError(f"{where}: expected an object")
        _, vt = typing.get_args(tp)
        return {k: decode(vt, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return decode_dataclass(tp, data, where)
        if issubclass(tp, enum.Enum):
            try:
                return tp(data)
            except ValueError:
                raise DocumentError(f"{where}: {data!r} is not a {tp.__name__}") from None
        if tp is datetime or tp is date:
            if not isinstance(data, str):
                raise DocumentError(f"{where}: expected an ISO-8601 string")
            try:
                return tp.fromisoformat(data)
            except ValueError:
                raise DocumentError(f"{where}: {data!r} is not ISO-8601") from None
        if tp is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if tp in (str, int, bool, float):
            if type(data) is not tp:
                raise DocumentError(f"{where}: expected {tp.__name__}, got {type(data).__name__}")
            return data
    raise DocumentError(f"{where}: unsupported type {tp!r}")


def decode_dataclass(cls: type, data: object, where: str = "$"):
    if not isinstance(data, dict):
        raise DocumentError(f"{where}: expected an object for {cls.__name__}")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in data:
            kwargs[f.name] = decode(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise DocumentError(f"{where}: {cls.__name__} needs {f.name}")
    return cls(**kwargs)
