"""The decoders compiled per type (model/document.py) against the generic walk they replaced
(tests/helpers/document_reference.py, the oracle): on any JSON-like value and any of the
model's kinds of type, the same value back, or the same error message with the same path; and
the encoders made per class write what the old walk wrote."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.auditor.model.document import DocumentError, decode, encode
from tests.helpers.document_reference import reference, reference_encode


class Color(enum.Enum):
    RED = "red"
    ONE = 1


class Loose(enum.Enum):  # an enum with its own lookup (case-insensitive)
    TCP = "tcp"

    @classmethod
    def _missing_(cls, value):
        return cls.TCP if isinstance(value, str) and value.lower() == "tcp" else None


@dataclasses.dataclass
class Leaf:
    name: str
    size: int = 0
    when: datetime | None = None


@dataclasses.dataclass
class Node:
    leaf: Leaf
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    children: list[Node] = dataclasses.field(default_factory=list)
    color: Color | None = None
    pair: tuple[int, str] | None = None
    ids: frozenset[str] = frozenset()
    either: int | str | None = None
    day: date | None = None
    weight: float = 0.0
    loose: Loose = Loose.TCP
    anything: typing.Any = None
    hidden: int = dataclasses.field(default=0, init=False)


TYPES = [
    str, int, bool, float, Color, Loose, datetime, date, Leaf, Node,
    list[int], tuple[int, ...], tuple[str, int], set[str], dict[str, Leaf],
    int | None, int | str, Leaf | None, list[Leaf | None], typing.Any,
    dict[str, list[Node]],
]  # fmt: skip


# -- values: JSON, biased towards what the types above accept -----------------------------------

KEYS = st.sampled_from(
    ["name", "size", "when", "leaf", "tags", "children", "color", "pair", "ids", "either",
     "day", "weight", "loose", "anything", "hidden", "x"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(["red", "tcp", "TCP", "blue", "2024-01-02", "2024-01-02T03:04:05", "x"]),
    st.text(max_size=4),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=30,
)


ISO = ["2024-01-02", "2024-01-02T03:04:05", "2024-01-02T03:04:05+00:00"]


def valid(tp: object) -> st.SearchStrategy:
    """Documents the type accepts (deep ones too: the generic JSON rarely makes a Node)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(st.none() if a is type(None) else valid(a) for a in typing.get_args(tp)))
    if tp is typing.Any:
        return JSON
    if origin in (list, set, frozenset):
        return st.lists(valid(typing.get_args(tp)[0]), max_size=3)
    if origin is tuple:
        args = typing.get_args(tp)
        if args[-1] is Ellipsis:
            return st.lists(valid(args[0]), max_size=3)
        return st.tuples(*(valid(a) for a in args)).map(list)
    if origin is dict:
        return st.dictionaries(st.text(max_size=3), valid(typing.get_args(tp)[1]), max_size=3)
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = [f for f in dataclasses.fields(tp) if f.init]
        needed = {
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        each = {f.name: st.deferred(lambda h=hints[f.name]: valid(h)) for f in fields}
        required = {k: v for k, v in each.items() if k in needed}
        optional = {k: v for k, v in each.items() if k not in needed}
        return st.fixed_dictionaries(required, optional=optional)
    return {
        str: st.text(max_size=3),
        int: st.integers(-5, 5),
        bool: st.booleans(),
        float: st.one_of(st.integers(-5, 5), st.floats(allow_nan=False, width=32)),
        Color: st.sampled_from(["red", 1]),
        Loose: st.sampled_from(["tcp", "TCP", "Tcp"]),
        datetime: st.sampled_from(ISO),
        date: st.just("2024-01-02"),
    }[tp]


def mutated(data: object, rnd, junk: object) -> object:
    """`data` with one value somewhere in it replaced by `junk`."""
    if isinstance(data, list) and data and rnd.random() < 0.8:
        i = rnd.randrange(len(data))
        return [mutated(v, rnd, junk) if n == i else v for n, v in enumerate(data)]
    if isinstance(data, dict) and data and rnd.random() < 0.8:
        k = rnd.choice(sorted(data))
        return {key: mutated(v, rnd, junk) if key == k else v for key, v in data.items()}
    return junk


def outcome(fn, tp, data):
    try:
        return ("ok", fn(tp, data, "$"))
    except DocumentError as exc:
        return ("error", str(exc))


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(TYPES), JSON)
def test_compiled_decoders_agree_with_the_generic_walk(tp, data):
    assert outcome(decode, tp, data) == outcome(reference, tp, data)


def test_a_deep_error_names_its_path():
    doc = {"leaf": {"name": "a"}, "children": [{"leaf": {"name": "b"}}, {"leaf": {"name": 7}}]}
    try:
        decode(Node, doc)
    except DocumentError as exc:
        assert str(exc) == "$.children[1].leaf.name: expected str, got int"
    else:
        raise AssertionError("decoded a bad document")
    assert decode(Node, {"leaf": {"name": "a"}, "loose": "TCP"}).loose is Loose.TCP


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_on_documents_of_the_type_and_one_value_off(data):
    tp = data.draw(st.sampled_from(TYPES))
    doc = data.draw(valid(tp))
    assert outcome(decode, tp, doc) == outcome(reference, tp, doc)
    assert outcome(decode, tp, doc)[0] == "ok"
    wrong = mutated(doc, data.draw(st.randoms(use_true_random=False)), data.draw(SCALARS))
    assert outcome(decode, tp, wrong) == outcome(reference, tp, wrong)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_encoders_write_what_the_old_walk_wrote(data):
    tp = data.draw(st.sampled_from(TYPES))
    value = decode(tp, data.draw(valid(tp)))
    assert encode(value) == reference_encode(value)
    assert repr(encode(value)) == repr(reference_encode(value))  # same key order, same types
