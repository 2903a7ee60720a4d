"""Baseline policy files are read through their schema: a misspelt key is an error naming the
key and its path (issue 18: `condtion: none` loaded as `condition: all`)."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from palisade.auditor.checks.baseline.engine import (
    BaselinePolicyError,
    load_policy_text,
    parse_policy,
)
from tests.helpers.documents import json_values, mutations

CHECK = (
    "policy: {id: p}\n"
    "checks:\n"
    " - {id: a, title: t, severity: remind, rationale: r, remediation: r,\n"
    "    %s: none, rules: [{fact: x, op: eq, value: 1}]}\n"
)


def test_a_misspelt_condition_is_an_error_naming_the_key_and_its_path():
    assert load_policy_text(CHECK % "condition").checks[0].condition == "none"
    with pytest.raises(BaselinePolicyError) as err:
        load_policy_text(CHECK % "condtion", "mine.yaml")
    assert str(err.value) == "mine.yaml: $.checks[0].condtion: unknown key 'condtion'"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("policy: {id: p, platfrom: linux}", "$.policy.platfrom: unknown key"),
        ("policy: {id: p}\nrequire: []", "$.require: unknown key"),
        ("policy: {id: p}\nrequires: [{fact: x, op: eq, valeu: 1}]", "$.requires[0].valeu"),
        ("policy: {id: p, platform: mac}", "$.policy.platform: 'mac' is not one of"),
        (CHECK.replace("op: eq", "op: between") % "condition", "between takes [low, high]"),
        (CHECK.replace("severity: remind", "severity: high") % "condition", "severity"),
        ("policy: {id: p}\nchecks: 5", "$.checks: expected a list"),
        ("policy: [unclosed", "not valid YAML"),
    ],
)
def test_bad_policies_say_where(text, where):
    with pytest.raises(BaselinePolicyError, match=r"^policy: .*") as err:
        load_policy_text(text)
    assert where in str(err.value)


def _packaged() -> list[dict]:
    folder = resources.files("palisade.auditor.checks.baseline") / "policies"
    return [yaml.safe_load(p.read_text()) for p in folder.iterdir() if p.name.endswith(".yaml")]


def _loads_or_says_where(document: object) -> None:
    try:
        parse_policy(document, "p")
    except BaselinePolicyError as err:
        assert str(err).startswith("p: ") and (": $" in str(err))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values(["policy", "checks", "requires", "id", "title", "rules", "fact", "op"]))
def test_any_document_loads_or_names_a_path(document):
    _loads_or_says_where(document)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations(_packaged()[0]) | mutations(_packaged()[-1]))
def test_mutated_packaged_policies_load_or_name_a_path(document):
    _loads_or_says_where(document)
