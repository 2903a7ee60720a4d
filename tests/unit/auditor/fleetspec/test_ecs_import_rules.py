"""`palisade import-ecs` (and `palisade sync`, which reads rules the same way) imports a rule
exactly or not at all (issue 19): `SourcePortRange` and an IPv6 peer are kept, a port-list or
prefix-list rule is left out with a note that names what was not imported, and no rule
document, however odd, becomes an accept rule wider than itself in the model. Instances keep
the vSwitch a DescribeVSwitches answer gives, and otherwise a note says it was not imported.
Each import is applied through `palisade apply`'s plan (`apply_fleet` on `local_api`) and the
rules are read back as DescribeSecurityGroupAttribute answers them."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.fleetspec.apply import ApiCallError, apply_fleet, local_api
from palisade.auditor.fleetspec.ecs_import import parse_ecs
from palisade.auditor.fleetspec.spec import SpecError
from palisade.auditor.model.cloud_state import CloudState
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network.security_group import (
    PORTED_PROTOCOLS,
    parse_port_range,
    parse_protocol,
    parse_source_port_range,
)

NOW = datetime(2024, 1, 1, tzinfo=UTC)
REGION = "cn-hangzhou"
GROUP, PEER, VPC = "sg-bp1web", "sg-bp1peer", "vpc-bp1prod"
LISTED = {
    "RegionId": REGION,
    "SecurityGroups": {
        "SecurityGroup": [
            {"SecurityGroupId": GROUP, "VpcId": VPC, "SecurityGroupName": "web"},
            {"SecurityGroupId": PEER, "VpcId": VPC, "SecurityGroupName": "peer"},
        ]
    },
}


_EMPTY = CloudState.create(NOW)[0].to_document()  # an account, made once (a slow password hash)


def _state() -> CloudState:
    return CloudState.from_document(_EMPTY)


def _attribute(*permissions: dict) -> dict:
    return {
        "RegionId": REGION,
        "SecurityGroupId": GROUP,
        "VpcId": VPC,
        "Permissions": {"Permission": list(permissions)},
    }


def _import(*permissions: dict) -> tuple[list[dict], list[str], list]:
    """The group's rules in the model after importing `permissions` (as answered), the notes,
    and the changes a second import would make."""
    spec = parse_ecs([LISTED, _attribute(*permissions)])
    state = _state()
    api = local_api(state, NOW)
    apply_fleet(spec, api, state.account_id)
    answer = api("DescribeSecurityGroupAttribute", {"RegionId": REGION, "SecurityGroupId": GROUP})
    again = apply_fleet(spec, api, state.account_id).changes
    return answer["Permissions"]["Permission"], list(spec.warnings), again


def _fields(rule: dict) -> tuple:
    return (
        rule["Direction"],
        rule["IpProtocol"],
        rule["PortRange"],
        rule["SourcePortRange"],
        rule["SourceCidrIp"],
        rule["Ipv6SourceCidrIp"],
        rule["DestCidrIp"],
        rule["Ipv6DestCidrIp"],
    )


def test_a_source_port_range_is_imported_not_widened():
    rules, notes, again = _import(
        {"IpProtocol": "TCP", "PortRange": "22/22", "SourcePortRange": "1000/2000",
         "SourceCidrIp": "10.0.0.0/8", "Policy": "Accept"},
        {"IpProtocol": "UDP", "PortRange": "53/53", "SourcePortRange": "-1/-1",
         "SourceCidrIp": "10.0.0.0/8"},
    )  # fmt: skip
    assert sorted(_fields(r) for r in rules) == [
        ("ingress", "TCP", "22/22", "1000/2000", "10.0.0.0/8", "", "", ""),
        ("ingress", "UDP", "53/53", "", "10.0.0.0/8", "", "", ""),
    ]
    assert notes == [] and again == []


def test_ipv6_rules_are_imported_both_ways():
    rules, notes, again = _import(
        {"IpProtocol": "TCP", "PortRange": "443/443", "Ipv6SourceCidrIp": "2001:DB8::/32",
         "SourceCidrIp": ""},
        {"Direction": "egress", "IpProtocol": "ALL", "PortRange": "-1/-1",
         "Ipv6DestCidrIp": "2400:3200::1", "Policy": "Drop", "Priority": "5"},
    )  # fmt: skip
    assert sorted(_fields(r) for r in rules) == [
        ("egress", "ALL", "-1/-1", "", "", "", "", "2400:3200::1/128"),
        ("ingress", "TCP", "443/443", "", "", "2001:db8::/32", "", ""),
    ]
    assert notes == [] and again == []  # canonical text: the second import changes nothing


def test_what_cannot_be_modelled_is_left_out_and_named():
    rules, notes, _ = _import(
        {"IpProtocol": "TCP", "PortRange": "-1/-1", "PortRangeListId": "prl-web",
         "SourceCidrIp": "0.0.0.0/0"},
        {"IpProtocol": "TCP", "PortRange": "22/22", "SourcePrefixListId": "pl-office"},
        {"IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0"},
    )  # fmt: skip
    assert [_fields(r)[:3] for r in rules] == [("ingress", "TCP", "80/80")]
    assert len(notes) == 2
    assert "left out a port-list rule" in notes[0] and "PortRangeListId 'prl-web'" in notes[0]
    assert "Permission[0]" in notes[0]
    assert "left out a prefix-list rule" in notes[1] and "pl-office" in notes[1]


def test_instances_keep_the_vswitch_the_answers_give():
    doc = {
        "Instances": {
            "Instance": [
                {
                    "InstanceId": "i-1",
                    "RegionId": REGION,
                    "VpcAttributes": {
                        "VpcId": "vpc-1",
                        "VSwitchId": "vsw-1",
                        "PrivateIpAddress": {"IpAddress": ["10.0.0.5"]},
                    },
                }
            ]
        }
    }
    spec = parse_ecs([doc])
    assert spec.instances[0].vswitch is None
    assert any("vSwitch vsw-1 not imported" in w for w in spec.warnings)
    vswitch = {"VSwitchId": "vsw-1", "VpcId": "vpc-1", "ZoneId": "cn-hangzhou-h",
               "CidrBlock": "10.0.0.0/24", "VSwitchName": "web", "Status": "Available"}  # fmt: skip
    answer = {"VSwitches": {"VSwitch": [vswitch]}, "RegionId": REGION, "TotalCount": 1}
    spec = parse_ecs([doc, answer])
    assert spec.instances[0].vswitch == "vsw-1" and spec.warnings == ()
    assert [(s.vswitch_id, s.zone, s.cidr) for s in spec.vswitches] == [
        ("vsw-1", "cn-hangzhou-h", "10.0.0.0/24")
    ]
    # the VPC's block is the private block its vSwitches and instances are in
    assert [(v.vpc_id, v.cidr) for v in spec.vpcs] == [("vpc-1", "10.0.0.0/8")]


# -- arbitrary rule documents -----------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


def _field(*values: str):
    """Mostly the documented kinds of value (so that many rules get into the model), now and
    then any text."""
    known = st.sampled_from(values)
    return st.integers(0, 9).flatmap(lambda n: TEXT if n == 0 else known)


CIDRS = ("0.0.0.0/0", "10.0.0.0/8", "1.2.3.4", "10.0.0.1/8", "192.168.0.0/16", "")
IPV6 = ("::/0", "2001:db8::/32", "2001:db8::1", "2001:db8::1/32", "fe80::1", "")


ODD_FIELDS = {
    "Direction": _field("ingress", "egress", "", "Egress"),
    "IpProtocol": _field("TCP", "UDP", "ICMP", "ALL", "GRE", "ICMPv6", ""),
    "PortRange": _field("22/22", "1000/2000", "1/65535", "-1/-1", "80", "5/3", ""),
    "SourcePortRange": _field("1000/2000", "1/1", "", "-1/-1", "9/2", "x"),
    "PortRangeListId": _field("prl-1", ""),
    "Policy": _field("Accept", "accept", "Drop", ""),
    "Priority": _field("1", "100", "", "110"),
    "NicType": _field("intranet", "internet", ""),
    "SourceCidrIp": _field(*CIDRS),
    "DestCidrIp": _field(*CIDRS),
    "Ipv6SourceCidrIp": _field(*IPV6),
    "Ipv6DestCidrIp": _field(*IPV6),
    "SourceGroupId": _field(PEER, "sg-missing", ""),
    "DestGroupId": _field(PEER, ""),
    "SourcePrefixListId": _field("pl-1", ""),
    "DestPrefixListId": _field("pl-2", ""),
}


@st.composite
def permissions(draw) -> dict:
    """A plausible rule (TCP/UDP with ports and source ports, or another protocol; one peer of
    some kind on its side), then up to three fields set to odd values: documented ones,
    conflicting ones, any text."""
    direction = draw(st.sampled_from(["ingress", "egress", ""]))
    side = "Dest" if direction == "egress" else "Source"
    ported = draw(st.booleans())
    doc: dict = {"Direction": direction} if direction else {}
    if ported:
        doc["IpProtocol"] = draw(st.sampled_from(["TCP", "UDP", "tcp"]))
        doc["PortRange"] = draw(st.sampled_from(["22/22", "1000/2000", "1/65535", "53/53"]))
        sport = draw(st.sampled_from(["1000/2000", "1024/65535", "1/1", "", "-1/-1", None]))
        if sport is not None:
            doc["SourcePortRange"] = sport
    else:
        doc["IpProtocol"] = draw(st.sampled_from(["ALL", "ICMP", "GRE", "ICMPv6"]))
        doc["PortRange"] = "-1/-1"
    kind = draw(st.sampled_from(["Cidr", "Ipv6", "Group"]))
    if kind == "Cidr":
        doc[f"{side}CidrIp"] = draw(st.sampled_from(CIDRS[:-1]))
    elif kind == "Ipv6":
        doc[f"Ipv6{side}CidrIp"] = draw(st.sampled_from(IPV6[:-1]))
    else:
        doc[f"{side}GroupId"] = PEER
    doc["Policy"] = draw(st.sampled_from(["Accept", "accept", "Drop"]))
    for name in draw(st.lists(st.sampled_from(sorted(ODD_FIELDS)), max_size=3, unique=True)):
        doc[name] = draw(ODD_FIELDS[name])
    return doc


PERMISSION = permissions()


def _ports(text: str | None, protocol) -> tuple[int, int]:
    """A rule's ports; none given is every port for a protocol without ports (ECS's -1/-1)."""
    default = "" if protocol in PORTED_PROTOCOLS else "-1/-1"
    return parse_port_range(text or default, protocol).interval()


def _source_ports(text: str | None, protocol) -> tuple[int, int]:
    parsed = parse_source_port_range(text or "", protocol)
    return (0, 65535) if parsed is None else parsed.interval()


def _within(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _net(text: str | None):
    return ipaddress.ip_network(text.strip(), strict=False) if text and text.strip() else None


def _assert_not_wider(stored: dict, given: dict) -> None:
    """`stored` (a rule as answered) lets through no flow `given` (the document) does not."""
    direction = (given.get("Direction") or "ingress").lower()
    assert stored["Direction"] == direction
    side = "Source" if direction == "ingress" else "Dest"
    protocol = parse_protocol(given.get("IpProtocol") or "")
    assert parse_protocol(stored["IpProtocol"]) == protocol
    assert _within(_ports(stored["PortRange"], protocol), _ports(given.get("PortRange"), protocol))
    assert _within(
        _source_ports(stored["SourcePortRange"], protocol),
        _source_ports(given.get("SourcePortRange"), protocol),
    )
    peers = {
        "cidr": _net(given.get(f"{side}CidrIp")),
        "v6": _net(given.get(f"Ipv6{side}CidrIp")),
        "group": given.get(f"{side}GroupId") or None,
    }
    if stored[f"{side}GroupId"]:
        assert stored[f"{side}GroupId"] == peers["group"]
    elif stored[f"Ipv6{side}CidrIp"]:
        assert peers["v6"] is not None
        assert _net(stored[f"Ipv6{side}CidrIp"]).subnet_of(peers["v6"])
    else:
        assert peers["cidr"] is not None, (stored, given)  # never "anywhere" from no peer
        assert _net(stored[f"{side}CidrIp"]).subnet_of(peers["cidr"])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(permission=PERMISSION)
def test_an_imported_accept_rule_is_never_wider_than_the_document(permission):
    try:
        spec = parse_ecs([LISTED, _attribute(permission)])
    except SpecError as err:
        assert err.where.startswith("$") and err.message
        return
    (group,) = [g for g in spec.groups if g.group_id == GROUP]
    if not group.rules:
        assert any("Permission[0]" in w or GROUP in w for w in spec.warnings), spec.warnings
        return
    state = _state()
    api = local_api(state, NOW)
    try:
        apply_fleet(spec, api, state.account_id)
    except ApiCallError as err:  # refused by the model, with the action's error: not imported
        assert err.code and err.message
        return
    answer = api("DescribeSecurityGroupAttribute", {"RegionId": REGION, "SecurityGroupId": GROUP})
    stored = answer["Permissions"]["Permission"]
    assert len(stored) == 1
    if stored[0]["Policy"].lower() != "accept":
        assert (permission.get("Policy") or "accept").lower() == "drop"
        return
    try:
        _assert_not_wider(stored[0], permission)
    except ModelError as err:  # the document's own field is not one the model reads
        raise AssertionError(f"stored {stored[0]} from an unreadable {permission}: {err}") from None
