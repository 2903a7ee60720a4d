"""The settings file's [limits] go into the stored cloud state at start (every replica and
every action then uses them), audited, and only when they differ."""

from __future__ import annotations

from palisade.auditor.server import quota_settings
from tests.helpers.in_process_api import ApiHarness


def test_the_later_quotas_are_stored_once(h: ApiHarness):
    assert h.api.current().cloud.limits.rules_per_group == 100
    assert not quota_settings.apply(h.api, rules_per_group=None, rules_per_nic=None)
    assert quota_settings.apply(h.api, rules_per_group=200, rules_per_nic=1000)
    replica = h.replica()  # another auditor on the same database reads them
    limits = replica.current().cloud.limits
    assert (limits.rules_per_group, limits.rules_per_nic) == (200, 1000)
    assert not quota_settings.apply(h.api, rules_per_group=200, rules_per_nic=1000)
    (row,) = [r for r in h.audit() if r.action == quota_settings.CHANGE]
    assert row.actor == "system"
    # the actions use them: a group takes a 101st rule
    vpc = h.ok("CreateVpc", RegionId="cn-hangzhou", CidrBlock="172.16.0.0/16")["VpcId"]
    gid = h.ok("CreateSecurityGroup", RegionId="cn-hangzhou", VpcId=vpc)["SecurityGroupId"]
    for port in range(1, 102):
        h.ok("AuthorizeSecurityGroup", RegionId="cn-hangzhou", SecurityGroupId=gid,
             IpProtocol="tcp", PortRange=f"{port}/{port}", SourceCidrIp="10.0.0.0/8")  # fmt: skip
    assert len(h.api.current().cloud.groups[gid].rules) == 101
