"""`palisade api --help [ACTION]`: the actions and their parameters, read from the registry."""

from __future__ import annotations

import contextlib
import io
import json

from palisade.auditor.api.registry import ACTIONS
from palisade.auditor.cli import main as cli


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(["--data-dir", "/nonexistent-palisade-dir", *args])
    return rc, out.getvalue()


def test_help_lists_every_registered_action_with_its_ram_action():
    rc, text = _run("api", "--help")
    assert rc == 0
    assert ACTIONS, "importing the CLI's help registers the actions"
    for spec in ACTIONS.values():
        assert f"{spec.name} " in text and spec.ram_action in text


def test_help_for_one_action_names_its_parameters_and_what_it_does():
    for args in (
        ("api", "--help", "AuthorizeSecurityGroup"),
        ("api", "AuthorizeSecurityGroup", "-h"),
    ):
        rc, text = _run(*args)
        assert rc == 0
        assert "RAM action: ecs:AuthorizeSecurityGroup" in text
        assert "changes state: yes" in text
        for name in ("SecurityGroupId", "IpProtocol", "PortRange", "SourceCidrIp"):
            assert name in text


def test_help_for_an_unknown_action_is_an_error_with_a_code():
    rc, text = _run("api", "--help", "DescribeNothing")
    assert rc == 1
    assert json.loads(text)["Code"] == "InvalidAction.NotFound"


def test_api_without_an_action_lists_the_actions_instead_of_failing():
    rc, text = _run("api")
    assert rc == 0 and "AuthorizeSecurityGroup" in text


def test_get_picks_one_value_of_an_answer_by_its_dotted_path():
    import pytest

    from palisade.auditor.cli.api import pick

    body = {"VpcId": "vpc-1", "InstanceIdSets": {"InstanceIdSet": ["i-1", "i-2"]}}
    assert pick(body, "VpcId") == "vpc-1"
    assert pick(body, "InstanceIdSets.InstanceIdSet.1") == "i-2"
    for missing in ("Nope", "InstanceIdSets.InstanceIdSet.2", "VpcId.x", "InstanceIdSets.0"):
        with pytest.raises(KeyError):
            pick(body, missing)
