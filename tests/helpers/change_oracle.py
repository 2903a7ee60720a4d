"""The oracle for `model.changes`: the units a change really changed (found by comparing the
whole state document before and after) must all have been touched. A unit changed but not
touched is a change the row store would lose."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from palisade.auditor.model.units import units_from_document

T = TypeVar("T")


def changed_units(before: dict, after: dict) -> set[tuple[str, str]]:
    """The units whose body differs between two state documents (added and removed ones too)."""
    a, b = units_from_document(before), units_from_document(after)
    return {u for u in a.keys() | b.keys() if a.get(u) != b.get(u)}


def untouched_changes(state, change: Callable[[], T]) -> tuple[T | None, set[tuple[str, str]]]:
    """Runs `change()` on `state` (a CloudState) and returns its result (None when it raised)
    and the units it changed without touching them (an empty set is right)."""
    before = state.to_document()
    state.changes.take()
    result = None
    try:
        result = change()
    finally:
        touched = set(state.changes.take())
        missing = changed_units(before, state.to_document()) - touched
    return result, missing


def assert_touched(state, change: Callable[[], T]) -> T | None:
    result, missing = untouched_changes(state, change)
    assert not missing, f"changed but not touched: {sorted(missing)}"
    return result
