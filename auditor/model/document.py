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
    """`value` as JSON data: dataclasses as objects of their init fields, enums by value,
    dates in ISO-8601, sets sorted. One encoder per class, made at its first value (the
    checks a generic walk makes on every value, made once)."""
    cls = type(value)
    enc = _ENCODERS.get(cls)
    if enc is None:
        enc = _ENCODERS[cls] = _encoder_for(cls)
    return enc(value)


_ENCODERS: dict[type, typing.Callable[[typing.Any], object]] = {}


def _identity(value: object) -> object:
    return value


_PLAIN = frozenset(_SCALARS)


def _dataclass_encoder(cls: type, names: tuple[str, ...]) -> typing.Callable[[typing.Any], object]:
    """An encoder written out for the class's fields, as `dataclasses` writes its __init__:
    a field holding a plain value (most do) is taken as it is, without a call."""
    # (dataclasses refuses a field name that is no identifier or a keyword: each is `value.NAME`)
    lines = [f"    v{i} = value.{name}" for i, name in enumerate(names)]
    items = ", ".join(
        f"{name!r}: v{i} if type(v{i}) in plain else encode(v{i})" for i, name in enumerate(names)
    )
    source = "def encode_fields(value):\n" + "\n".join(lines) + f"\n    return {{{items}}}\n"
    scope: dict[str, object] = {"plain": _PLAIN, "encode": encode}
    exec(compile(source, f"<encoder of {cls.__qualname__}>", "exec"), scope)
    return typing.cast(typing.Callable[[typing.Any], object], scope["encode_fields"])


def _encoder_for(cls: type) -> typing.Callable[[typing.Any], object]:
    if cls in _SCALARS:
        return _identity
    names = _init_fields(cls)
    if names is not None:
        return _dataclass_encoder(cls, names)
    if issubclass(cls, enum.Enum):
        return lambda value: value.value
    if issubclass(cls, (bool, int, float, str)):
        return _identity
    if issubclass(cls, date):  # datetime too
        return lambda value: value.isoformat()
    if issubclass(cls, (list, tuple)):
        return lambda value: [encode(v) for v in value]
    if issubclass(cls, (set, frozenset)):
        return lambda value: sorted((encode(v) for v in value), key=repr)
    if issubclass(cls, dict):
        return lambda value: {str(k): encode(v) for k, v in value.items()}

    def cannot(value: object) -> object:
        raise DocumentError(f"cannot encode {cls.__name__}")

    return cannot


_T = typing.TypeVar("_T")


@typing.overload
def decode(tp: type[_T], data: object, where: str = "$") -> _T: ...
@typing.overload
def decode(tp: object, data: object, where: str = "$") -> object: ...
def decode(tp: object, data: object, where: str = "$") -> object:
    """`data` as a value of the type `tp` (a class: an instance of it)."""
    try:
        return _decoder(tp)(data)
    except _Bad as bad:
        raise DocumentError(bad.render(where)) from None


# -- decoders compiled per type --------------------------------------------------------------
#
# Hand-written rather than a schema library's: loading the cloud state (10,000 instances,
# 100,000 rules: 2.2 million values) spent 7 to 10 s in the generic walk (typing.get_origin,
# dataclasses.fields and a path string for every value); a decoder built once per type does
# the same checks with none of that. An error's path ("$.groups[3].rules[7].policy") is built
# only when there is one: each level that passes an error up adds its own part.


class _Bad(Exception):
    """A decoding error below some level: `render(where)` is its message for that level."""

    def __init__(self, render: typing.Callable[[str], str]):
        self.render = render


def _below(bad: _Bad, part: str) -> _Bad:
    inner = bad.render
    return _Bad(lambda where: inner(where + part))


def _fail(message: str) -> _Bad:
    return _Bad(lambda where: f"{where}: {message}")


Decoder = typing.Callable[[object], object]


@functools.cache
def _decoder(tp: object) -> Decoder:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(tp))
    if tp is typing.Any:
        return lambda data: data
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(tp) or (typing.Any,)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple(args)
        return _sequence(origin, args[0])
    if origin is dict:
        return _mapping(typing.get_args(tp)[1])
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return _dataclass(tp)
        if issubclass(tp, enum.Enum):
            return _enum(tp)
        if tp is datetime or tp is date:
            return _iso(tp)
        if tp in (str, int, bool, float):
            return _scalar(tp)

    def unsupported(data: object) -> object:
        raise _fail(f"unsupported type {tp!r}")

    return unsupported


def _union(args: tuple) -> Decoder:
    optional = type(None) in args
    arms = [_decoder(a) for a in args if a is not type(None)]

    if len(arms) == 1:  # `X | None`, the common case
        (arm,) = arms

        def optional_dec(data: object) -> object:
            if data is None and optional:
                return None
            try:
                return arm(data)
            except _Bad as bad:
                inner = bad.render
                raise _Bad(lambda where: f"{where}: {inner(where)}") from None

        return optional_dec

    def dec(data: object) -> object:
        if data is None and optional:
            return None
        renders = []
        for each in arms:
            try:
                return each(data)
            except _Bad as bad:
                renders.append(bad.render)
        raise _Bad(lambda where: f"{where}: {'; '.join(r(where) for r in renders)}")

    return dec


def _at_index(item: Decoder, data: list, bad: _Bad) -> _Bad:
    """The failing item's error, with its index (the items are decoded again to find it)."""
    for i, v in enumerate(data):
        try:
            item(v)
        except _Bad as first:
            return _below(first, f"[{i}]")
    return bad


def _sequence(origin: type, item_type: object) -> Decoder:
    item = _decoder(item_type)

    def dec(data: object) -> object:
        if not isinstance(data, list):
            raise _fail("expected a list")
        try:
            items = [item(v) for v in data]
        except _Bad as bad:
            raise _at_index(item, data, bad) from None
        return items if origin is list else origin(items)

    return dec


def _fixed_tuple(args: tuple) -> Decoder:
    items = [_decoder(a) for a in args]

    def dec(data: object) -> object:
        if not isinstance(data, list):
            raise _fail("expected a list")
        if len(args) != len(data):
            raise _fail(f"expected {len(args)} items")
        out = []
        for i, (item, v) in enumerate(zip(items, data, strict=True)):
            try:
                out.append(item(v))
            except _Bad as bad:
                raise _below(bad, f"[{i}]") from None
        return tuple(out)

    return dec


def _mapping(value_type: object) -> Decoder:
    value = _decoder(value_type)

    def dec(data: object) -> object:
        if not isinstance(data, dict):
            raise _fail("expected an object")
        out = {}
        for k, v in data.items():
            try:
                out[k] = value(v)
            except _Bad as bad:
                raise _below(bad, f".{k}") from None
        return out

    return dec


def _dataclass(cls: type) -> Decoder:
    # the field table is made at the first call: a dataclass may name itself (or a class
    # defined after it) in its hints
    made: list[list[tuple[str, Decoder, bool]]] = []

    def fields() -> list[tuple[str, Decoder, bool]]:
        if not made:  # two threads may both make it: the same table, either one is kept
            hints = _hints(cls)
            made.append(
                [
                    (f.name, _decoder(hints[f.name]), _required(f))
                    for f in dataclasses.fields(cls)
                    if f.init
                ]
            )
        return made[0]

    def dec(data: object) -> object:
        if not isinstance(data, dict):
            raise _fail(f"expected an object for {cls.__name__}")
        kwargs = {}
        for name, field, required in made[0] if made else fields():
            if name in data:
                try:
                    kwargs[name] = field(data[name])
                except _Bad as bad:
                    raise _below(bad, f".{name}") from None
            elif required:
                raise _fail(f"{cls.__name__} needs {name}")
        return cls(**kwargs)

    return dec


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _enum(cls: type[enum.Enum]) -> Decoder:
    members = cls._value2member_map_  # what Enum's own lookup tries first

    def dec(data: object) -> object:
        try:
            return members[data]
        except (KeyError, TypeError):  # not a value as stored (or unhashable): Enum decides
            try:
                return cls(data)
            except ValueError:
                raise _fail(f"{data!r} is not a {cls.__name__}") from None

    return dec


def _iso(tp: type) -> Decoder:
    def dec(data: object) -> object:
        if not isinstance(data, str):
            raise _fail("expected an ISO-8601 string")
        try:
            return tp.fromisoformat(data)  # type: ignore[attr-defined]
        except ValueError:
            raise _fail(f"{data!r} is not ISO-8601") from None

    return dec


def _scalar(tp: type) -> Decoder:
    def dec(data: object) -> object:
        if type(data) is not tp:
            if tp is float and isinstance(data, int) and not isinstance(data, bool):
                return float(data)
            raise _fail(f"expected {tp.__name__}, got {type(data).__name__}")
        return data

    return dec
