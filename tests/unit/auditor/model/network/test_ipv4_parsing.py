"""Address and CIDR text is read as the standard `ipaddress` module reads it (ASCII digits
only, no leading zeros, no shorthand), and the model stores the canonical text: two
spellings of one address are never two addresses (issue 18, defect 3)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.network import ipv4
from palisade.auditor.model.network.security_group import RuleRequest

from .conftest import NOW, REGION, Fleet

# ASCII, Arabic-Indic, Extended Arabic-Indic, Devanagari and fullwidth digits: `\d` takes
# them all and `int()` reads them all.
DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９"
OCTET = st.one_of(
    st.integers(0, 300).map(str),
    st.integers(0, 255).map(lambda n: f"0{n}"),
    st.text(alphabet=DIGITS, min_size=1, max_size=4),
    st.text(max_size=3),
)
DOTTED = st.lists(OCTET, min_size=3, max_size=5).map(".".join)
ADDRESS = st.one_of(DOTTED, st.text(max_size=24), DOTTED.map(lambda t: f" {t}\n"))
PREFIX = st.one_of(
    st.integers(0, 40).map(str),
    st.text(alphabet=DIGITS, min_size=1, max_size=3),
    st.sampled_from(["", "08", "00", "255.255.0.0", "0.0.0.255", "+8", " 8"]),
)
CIDR = st.one_of(st.tuples(DOTTED, PREFIX).map("/".join), ADDRESS)
UNICODE_TWIN = "1٧2.16.0.10"  # an Arabic-Indic seven: 172.16.0.10 to `int()`


def _reference(text: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(text))
    except ValueError:
        return None


@given(ADDRESS)
@example(UNICODE_TWIN)
@example("１.2.3.4")
@example("01.2.3.4")
@example("1.2.3")
def test_parse_ip_reads_as_ipaddress_does(text):
    assert ipv4.parse_ip(text) == _reference(text)


@given(CIDR)
@example("1٧2.16.0.0/12")
@example("172.16.0.0/١٢")
@example("10.0.0.0/255.0.0.0")
def test_parse_cidr_is_ipaddress_or_refuses(text):
    parsed = ipv4.parse_cidr(text)
    if parsed is not None:
        interface = ipaddress.IPv4Interface(text)
        assert parsed == (int(interface.ip), interface.network.prefixlen)


@given(ADDRESS)
@example(UNICODE_TWIN)
def test_stored_addresses_are_canonical(text):
    """Whatever create_instance accepts, it stores as str(ipaddress.ip_address(text))."""
    fleet = Fleet()
    fleet.account()
    vpc = fleet.model.create_vpc("1001", REGION, "172.16.0.0/12")
    try:
        instance = fleet.model.create_instance(
            "1001",
            REGION,
            created_at=NOW,
            vpc_id=vpc.vpc_id,
            private_ips=["172.16.0.1"],
            public_ip=text,
        )
    except ModelError as err:
        assert err.code == "InvalidIpAddress.Malformed"
        return
    if text == "":  # no public address, as before
        assert not instance.nics[0].public_ip
    else:
        assert instance.nics[0].public_ip == str(ipaddress.ip_address(text))


@given(CIDR)
@example("1٩2.168.0.0/16")
def test_stored_vpc_blocks_are_canonical(text):
    fleet = Fleet()
    fleet.account()
    try:
        vpc = fleet.model.create_vpc("1001", REGION, text)
    except ModelError as err:
        assert err.code == "InvalidCidrBlock.Malformed"
        return
    assert vpc.cidr == str(ipaddress.ip_network(text))


@pytest.mark.parametrize("twin", [UNICODE_TWIN, "172.16.0.10\n"])
def test_a_twin_spelling_is_not_a_second_nic_on_the_same_address(fleet, twin):
    vpc = fleet.vpc()
    gid = fleet.group(vpc_id=vpc)
    fleet.instance([gid], vpc_id=vpc, private_ip="172.16.0.10")
    with pytest.raises(ModelError) as err:
        fleet.instance([gid], vpc_id=vpc, private_ip=twin)
    assert err.value.code == "InvalidIpAddress.Malformed"
    assert [ip for i in fleet.model.instances.values() for ip in i.nics[0].private_ips] == [
        "172.16.0.10"
    ]


def test_a_bare_address_as_a_vpc_block_is_stored_as_a_cidr(fleet):
    fleet.account()
    assert fleet.model.create_vpc("1001", REGION, "10.1.2.3").cidr == "10.1.2.3/32"


def test_rule_cidrs_with_other_digits_are_refused(fleet):
    vpc = fleet.vpc()
    gid = fleet.group(vpc_id=vpc)
    for cidr, direction, code in (
        ("1٧2.16.0.0/12", "ingress", "InvalidSourceCidrIp.Malformed"),
        ("10.0.0.0/٨", "ingress", "InvalidSourceCidrIp.Malformed"),
        ("1.2.3.4,٨.8.8.8", "egress", "InvalidDestCidrIp.Malformed"),
    ):
        request = RuleRequest(
            direction=direction, ip_protocol="tcp", port_range="22/22", peer_cidr=cidr
        )
        with pytest.raises(ModelError) as err:
            fleet.model.authorize(gid, request, NOW)
        assert err.value.code == code
    assert fleet.model.groups[gid].rules == []
