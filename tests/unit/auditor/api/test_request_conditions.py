"""Condition keys the API puts in every request's context (`acs:AccessId`, page sizes), and the
lifetime setting of instance-role credentials (`palisade serve --sts-ttl`)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from palisade.auditor.api.instance_credentials import InstanceRoleCredentials
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import condition_values, lookup
from palisade.auditor.cli import main as cli
from palisade.auditor.model.cloud_state import DEFAULT_REGION
from tests.helpers.in_process_ram import add_instances, reader_role, user_with_key


def test_condition_values_of_a_request():
    values = condition_values(lookup("ListUsers"), Params({"MaxItems": "25"}), "LTAIabc")
    assert values == {"acs:AccessId": "LTAIabc", "ram:MaxItems": 25}
    assert condition_values(lookup("DescribeKeyPairs"), Params({"PageSize": "7"}), "k") == {
        "acs:AccessId": "k",
        "ecs:PageSize": 7,
    }
    # a malformed or absent size is no value (the handler refuses the malformed one)
    for raw in ({"MaxItems": "-1"}, {"MaxItems": "x"}, {"MaxItems": "9" * 12}, {}):
        assert condition_values(lookup("ListUsers"), Params(raw), "k") == {"acs:AccessId": "k"}
    # an action without paging never gets one, whatever it is sent
    assert "ram:MaxItems" not in condition_values(
        lookup("CreateUser"), Params({"MaxItems": "5"}), "k"
    )


def test_policies_see_the_access_key_and_the_page_size(h):
    doc = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "ram:ListUsers",
                "Resource": "*",
                "Condition": {
                    "NumericLessThanEquals": {"ram:MaxItems": 10},
                    "StringLike": {"acs:AccessId": "LTAI*"},
                },
            }
        ],
    }
    h.ok("CreatePolicy", PolicyName="small-lists", PolicyDocument=json.dumps(doc))
    user = user_with_key(h, "lister", ("Custom", "small-lists"))
    assert h.ok("ListUsers", user, MaxItems="10")
    assert h.error("ListUsers", user, MaxItems="11")[1] == "Forbidden.RAM"
    assert h.error("ListUsers", user)[1] == "Forbidden.RAM"  # no MaxItems: no value to compare


def test_instance_role_credentials_live_as_long_as_the_setting_says(h):
    add_instances(h)
    reader_role(h)
    h.ok(
        "AttachInstanceRamRole",
        RegionId=DEFAULT_REGION,
        InstanceIds='["i-vpc1"]',
        RamRoleName="reader",
    )
    _, creds = InstanceRoleCredentials(h.api, timedelta(seconds=15)).issue("i-vpc1")
    assert creds.expiration - creds.last_updated == timedelta(seconds=15)
    _, creds = InstanceRoleCredentials(h.api).issue("i-vpc1")
    assert creds.expiration - creds.last_updated == timedelta(hours=1)
    for bad in (timedelta(seconds=14), timedelta(hours=12, seconds=1)):
        with pytest.raises(ValueError, match="15 to 43200 seconds"):
            InstanceRoleCredentials(h.api, bad)


def test_serve_takes_the_sts_ttl_in_bounds(capsys):
    parser = cli.build_parser()
    assert parser.parse_args(["serve", "--sts-ttl", "15"]).sts_ttl == 15
    assert parser.parse_args(["serve"]).sts_ttl == 3600
    for bad in ("14", "43201", "1h", "-5"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--sts-ttl", bad])
    assert "15 to 43200 seconds" in capsys.readouterr().err
