"""Documents for the schema tests: arbitrary YAML/JSON-like values, and mutations of a valid
document (a key dropped, a key misspelt, a value of the wrong kind) at any depth."""

from __future__ import annotations

import copy

from hypothesis import strategies as st

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)


def json_values(keys: list[str] | None = None, max_leaves: int = 25) -> st.SearchStrategy:
    """Any YAML/JSON-ish value; mappings use `keys` (a schema's own words) or any text."""
    key = st.sampled_from(keys) | st.text(max_size=8) if keys else st.text(max_size=8)
    return st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(key, children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


def _paths(doc: object, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*here, i))
    return out


def _typo(key: str) -> str:
    if len(key) < 2:
        return key + "x"
    return key[:1] + key[2:1:-1] + key[1] + key[3:] if len(key) > 3 else key[::-1]


@st.composite
def mutations(draw, valid: object) -> object:
    """`valid` with one to three changes: a key dropped or misspelt, or a value replaced by
    a value of another kind."""
    doc = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["drop", "typo", "replace"]))
        if not path:
            doc = draw(SCALARS | st.lists(SCALARS, max_size=2))
            continue
        last = path[-1]
        if how == "drop" and isinstance(parent, dict):
            del parent[last]
        elif how == "typo" and isinstance(parent, dict) and isinstance(last, str):
            parent[_typo(last)] = parent.pop(last)
        else:
            parent[last] = draw(SCALARS | st.lists(SCALARS, max_size=2) | st.just({"x": 1}))
    return doc
