"""The security-group page shows the group's rule advice, as the rule-advice checks raise it,
in both languages."""

from __future__ import annotations

from tests.helpers.in_process_dashboard import DashboardHarness

R = {"RegionId": "cn-hangzhou"}


def _advice(dash, gid: str) -> str:
    page = dash.text(dash.get(f"/ui/security-groups/{gid}"))
    return page.split('id="rule-advice"', 1)[1].split("</table>", 1)[0]


def test_the_group_page_lists_its_rule_advice(tmp_path):
    dash = DashboardHarness(tmp_path / "dash")
    vpc = dash.call("CreateVpc", **R, CidrBlock="172.16.0.0/16")["VpcId"]
    gid = dash.call("CreateSecurityGroup", **R, VpcId=vpc)["SecurityGroupId"]
    assert "No advice" in _advice(dash, gid)
    dash.call("AuthorizeSecurityGroup", **R, SecurityGroupId=gid, IpProtocol="tcp",
              PortRange="1/65535", SourceCidrIp="0.0.0.0/0")  # fmt: skip
    dash.call("AuthorizeSecurityGroup", **R, SecurityGroupId=gid, IpProtocol="tcp",
              PortRange="22/22", SourceCidrIp="10.0.0.0/8", Priority="5")  # fmt: skip
    table = _advice(dash, gid)
    assert "A rule accepts a port range or every protocol from the whole internet" in table
    assert "A security group rule never decides" in table
    assert "level-suspicious" in table and "level-remind" in table
    dash.lang = "zh"
    table = _advice(dash, gid)
    assert "规则向整个公网开放端口范围或所有协议" in table and "安全组规则永远不会生效" in table
    dash.store.close()
