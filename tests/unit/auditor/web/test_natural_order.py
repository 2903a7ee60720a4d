"""Natural order for names the user typed: numbers by value, case ignored, any text sortable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.web.pages.common import natural_key


def test_numbers_sort_by_value():
    names = ["key-10", "Key-2", "key-1", "key-1a", "a", "key-01"]
    assert sorted(names, key=natural_key) == ["a", "key-1", "key-01", "key-1a", "Key-2", "key-10"]


@given(st.lists(st.text(max_size=30), max_size=30))
def test_any_names_sort_and_the_order_is_stable(names):
    once = sorted(names, key=natural_key)
    assert sorted(once, key=natural_key) == once
    for a, b in zip(once, once[1:], strict=False):
        assert not natural_key(b) < natural_key(a)
