"""RAM policy documents through their schemas (issue 18): mutations of valid permission and
trust policies (a key dropped or misspelt, a value of another kind) either parse or raise a
PolicyError whose position is a path into the document; an unknown key is named."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from palisade.auditor.model.ram import PolicyError, parse_policy, parse_trust_policy
from tests.helpers.documents import mutations
from tests.helpers.ram_policies import ECS_TRUST

PERMISSION = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ecs:Describe*", "ecs:StartInstance"],
            "Resource": "acs:ecs:*:*:instance/*",
            "Condition": {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}},
        },
        {"Effect": "Deny", "NotAction": "ram:*", "NotResource": ["*"]},
    ],
}


def test_a_misspelt_key_is_named_at_its_path():
    doc = json.loads(json.dumps(PERMISSION))
    doc["Statement"][1]["Efect"] = doc["Statement"][1].pop("Effect")
    with pytest.raises(PolicyError) as err:
        parse_policy(json.dumps(doc))
    assert err.value.position == "Statement[1].Efect"
    assert "unknown key 'Efect'" in err.value.reason


def _top_key(position: str) -> str:
    return position.split(".")[0].split("[")[0]


def _parses_or_names_a_path(parse, document: object) -> None:
    try:
        parse(json.dumps(document))
    except PolicyError as err:
        assert err.code == "MalformedPolicyDocument"
        assert (
            err.position == ""
            or _top_key(err.position) in ("Version", "Statement")
            or (isinstance(document, dict) and _top_key(err.position) in document)
        )


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(mutations(PERMISSION))
def test_mutated_permission_policies_parse_or_name_a_path(document):
    _parses_or_names_a_path(parse_policy, document)


@SETTINGS
@given(mutations(json.loads(ECS_TRUST)))
def test_mutated_trust_policies_parse_or_name_a_path(document):
    _parses_or_names_a_path(parse_trust_policy, document)
