"""The generic walks model/document.py encoded and decoded documents with before its encoders and
decoders were made per class, verbatim (type hints and fields cached per class, as it did): the
oracle of tests/unit/auditor/model/test_document_decoder.py and the baseline of
benchmarks/state_load.py."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime

from palisade.auditor.model.document import _SCALARS, DocumentError, _hints, _init_fields


def reference(tp: object, data: object, where: str = "$") -> object:
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
                return reference(arg, data, where)
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
                reference(a, v, f"{where}[{i}]")
                for i, (a, v) in enumerate(zip(args, data, strict=True))
            )
        items = [reference(args[0], v, f"{where}[{i}]") for i, v in enumerate(data)]
        return items if origin is list else origin(items)
    if origin is dict:
        if not isinstance(data, dict):
            raise DocumentError(f"{where}: expected an object")
        _, vt = typing.get_args(tp)
        return {k: reference(vt, v, f"{where}.{k}") for k, v in data.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            if not isinstance(data, dict):
                raise DocumentError(f"{where}: expected an object for {tp.__name__}")
            hints = _hints(tp)
            kwargs = {}
            for f in dataclasses.fields(tp):
                if not f.init:
                    continue
                if f.name in data:
                    kwargs[f.name] = reference(hints[f.name], data[f.name], f"{where}.{f.name}")
                elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise DocumentError(f"{where}: {tp.__name__} needs {f.name}")
            return tp(**kwargs)
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


def reference_encode(value: object) -> object:
    cls = type(value)
    if cls in _SCALARS:
        return value
    names = _init_fields(cls)  # type: ignore[arg-type]
    if names is not None:
        return {name: reference_encode(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [reference_encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((reference_encode(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): reference_encode(v) for k, v in value.items()}
    raise DocumentError(f"cannot encode {type(value).__name__}")
