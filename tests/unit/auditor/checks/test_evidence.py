"""Typed evidence (auditor/checks/base.py): a dataclass per check family; the shared fields
other layers read come back typed from any stored JSON."""

from __future__ import annotations

import importlib
import inspect
import json

from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.checks.base import Evidence
from palisade.auditor.checks.logins.check import BruteForceEvidence

FAMILIES = (
    "baseline",
    "ddos",
    "exposure",
    "keypairs",
    "logins",
    "ram",
    "secrets",
    "vulnerabilities",
)


def test_every_check_family_builds_its_findings_from_its_own_evidence_dataclasses():
    for family in FAMILIES:
        module = importlib.import_module(f"palisade.auditor.checks.{family}.check")
        own = [
            c
            for _, c in inspect.getmembers(module, inspect.isclass)
            if issubclass(c, Evidence) and c is not Evidence and c.__module__ == module.__name__
        ]
        assert own, f"{family} has no Evidence dataclass"


def test_evidence_is_json_with_its_field_names_and_the_shared_fields_only_when_set():
    ev = BruteForceEvidence(
        source_ip="203.0.113.7",
        last_ms=2000,
        failures_in_window=8,
        failures_total=9,
        first_ms=1000,
        users=("root", "admin"),
    )
    assert json.loads(json.dumps(ev.to_json())) == {
        "source_ip": "203.0.113.7",
        "last_ms": 2000,
        "failures_in_window": 8,
        "failures_total": 9,
        "first_ms": 1000,
        "users": ["root", "admin"],
    }
    back = Evidence.from_json(ev.to_json())
    assert (back.source_ip, back.last_ms, back.port, back.protocol) == (
        "203.0.113.7",
        2000,
        None,
        None,
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(["source_ip", "port", "protocol", "last_ms", "other"])
        | st.text(max_size=6),
        json_values,
        max_size=6,
    )
    | json_values
)
def test_stored_evidence_of_any_shape_reads_as_typed_or_absent(data):
    ev = Evidence.from_json(data)
    assert ev.source_ip is None or isinstance(ev.source_ip, str)
    assert ev.protocol is None or isinstance(ev.protocol, str)
    for number in (ev.port, ev.last_ms):
        assert number is None or (isinstance(number, int) and not isinstance(number, bool))
