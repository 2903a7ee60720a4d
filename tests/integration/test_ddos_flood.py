"""A real UDP flood between two network namespaces drives a modelled instance to scrubbing, then
to a black hole; explain then reports its public ingress dropped, and the ruleset RenderNftables
gives for it, loaded in the instance's namespace, drops a TCP connection the rules allowed
before.

    "net" ns  eth0 --- net0  "instance" ns
    198.51.100.7           198.18.0.10 (the instance's public IP; internet addresses for the
                                        model, documentation ranges in fact)

The instance's traffic is read by the agent's own collector (agent/collectors/traffic.py)
inside the instance's namespace, stored as its agent's snapshot, and the check runner moves its
DDoS state (server/ddos_states.py), as in the auditor. The figures are small so that a flood of
a few seconds on a busy machine crosses them: the scrubbing threshold is lowered to 10 Mbit/s
through ModifyDdosThreshold, and the black-hole level is a setting (500 Mbit/s here; the seed's
5 Gbit/s by default). The first flood is paced at 50 Mbit/s, the second as fast as it goes
(64 kB datagrams over a 65,000-byte MTU veth: far above 500 Mbit/s).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.checks import CheckSettings
from palisade.auditor.model.cloud_state import DEFAULT_REGION, CloudState
from palisade.auditor.model.network.security_group import RuleRequest
from palisade.auditor.server.check_runner import CheckRunner
from palisade.shared.proto import agent_pb2, facts_pb2
from tests.helpers.in_process_api import ApiHarness
from tests.helpers.network_namespaces import BLOCKED, PASSED, Lab, Probe
from tests.helpers.system import require_binary, require_root
from tests.helpers.udp_flood import Flood, measure

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]

PUBLIC_IP = "198.18.0.10"
PRIVATE_IP = "10.199.0.10"
ATTACKER = "198.51.100.7"
MTU = "65000"
SETTINGS = CheckSettings(ddos_black_hole_bps=500e6, ddos_black_hole_s=600)
D = {"DdosRegionId": DEFAULT_REGION}


@pytest.fixture
def lab():
    require_root()
    ip_bin = require_binary("ip")
    require_binary("nft")
    with Lab("ddos", ip_bin) as lab:
        net, instance = lab.namespace("net"), lab.namespace("instance")
        lab.link(net, "eth0", instance, "net0")
        for ns, ifname in ((net, "eth0"), (instance, "net0")):
            ns.ip("link", "set", ifname, "mtu", MTU)
        net.ip("addr", "add", f"{ATTACKER}/32", "dev", "eth0")
        net.ip("route", "add", f"{PUBLIC_IP}/32", "dev", "eth0")
        instance.ip("addr", "add", f"{PUBLIC_IP}/32", "dev", "net0")
        instance.ip("addr", "add", f"{PRIVATE_IP}/32", "dev", "net0")
        instance.ip("route", "add", f"{ATTACKER}/32", "dev", "net0")
        yield lab, net, instance


@pytest.fixture
def h(tmp_path):
    harness = ApiHarness(tmp_path / "auditor")
    harness.now = datetime.now(UTC)  # the agent's readings carry the wall clock

    def build(state: CloudState) -> None:
        cloud = state.cloud
        vpc = cloud.create_vpc(state.account_id, DEFAULT_REGION, "10.199.0.0/16", vpc_id="vpc-1")
        inst = cloud.create_instance(
            state.account_id,
            DEFAULT_REGION,
            created_at=harness.now,
            vpc_id=vpc.vpc_id,
            private_ips=[PRIVATE_IP],
            public_ip=PUBLIC_IP,
            instance_id="i-1",
        )  # the default instance type, from the seed's threshold table
        group = inst.primary_nic.security_group_ids[0]
        web = RuleRequest("ingress", "tcp", "80/80", peer_cidr="0.0.0.0/0")
        cloud.authorize(group, web, harness.now)

    harness.save(build)
    harness.store.record_enrolment("i-1", "i-1", 100, _ms(harness))
    yield harness
    harness.store.close()


def _ms(h: ApiHarness) -> int:
    return int(h.now.timestamp() * 1000)


def _report(h: ApiHarness, traffic: facts_pb2.Traffic) -> None:
    """The agent's report: a snapshot carrying the measured traffic, stored as ingest does."""
    h.now = datetime.now(UTC)
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex, instance_id="i-1", collected_at_ms=_ms(h), traffic=traffic
    )
    message = agent_pb2.AgentMessage(message_id=uuid.uuid4().hex, instance_id="i-1", snapshot=snap)
    h.store.apply(message, _ms(h))


def _received_mbit(traffic: facts_pb2.Traffic) -> float:
    (net0,) = [i for i in traffic.interfaces if i.name == "net0"]
    assert net0.has_rates
    return net0.rx_bits_per_second / 1e6


def _status(h: ApiHarness) -> str:
    answer = h.ok("DescribeInstanceDdosStatus", **D, **{"InstanceIds.1": "i-1"})
    return answer["InstanceStatusMap"]["i-1"]


def _explain(h: ApiHarness) -> dict:
    return h.ok(
        "ExplainSecurityGroupDecision",
        InstanceId="i-1",
        Source="internet",
        IpProtocol="tcp",
        Port="80",
    )


def _load_rendered_ruleset(h: ApiHarness, instance) -> str:
    ruleset = h.ok("RenderNftables", InstanceId="i-1")["Ruleset"]
    instance.run("nft", "-f", "-", input="flush ruleset\n" + ruleset)
    return ruleset


def test_a_flood_drives_scrubbing_then_black_hole(lab, h):
    lab_, net, instance = lab
    runner = CheckRunner(h.store, h.api, AlertRepository(h.store), SETTINGS, clock=lambda: h.now)
    lab_.agent(instance, tcp_ports=(80,))  # the web server
    client = lab_.agent(net)
    probe = Probe("tcp", ATTACKER, PUBLIC_IP, 80, 1000, 2.0)  # tag: the source port

    # before: normal, the web port open from the internet, in the model and in the kernel
    assert _status(h) == "normal" and _explain(h)["Reachable"]
    _load_rendered_ruleset(h, instance)
    assert client.probe([probe])[0] in PASSED

    view = h.ok("ModifyDdosThreshold", **D, InstanceId="i-1", Bps="10", Pps="100000")
    assert (view["Bps"], view["MaxBps"]) == (10, 1000)

    with Flood(net, PUBLIC_IP, mbit=50, seconds=4):
        paced = measure(instance, 1.0)
    assert 10 < _received_mbit(paced) < 500, _received_mbit(paced)
    _report(h, paced)
    runner.evaluate("i-1")
    assert _status(h) == "defense"
    assert _explain(h)["Reachable"]  # scrubbing lets the traffic through

    with Flood(net, PUBLIC_IP, mbit=0, seconds=4):
        flat_out = measure(instance, 1.0)
    assert _received_mbit(flat_out) > 500, _received_mbit(flat_out)
    _report(h, flat_out)
    runner.evaluate("i-1")
    assert _status(h) == "blackhole"
    print(f"received: paced {_received_mbit(paced):.0f} Mbit/s, flat out "
          f"{_received_mbit(flat_out):.0f} Mbit/s")  # fmt: skip
    (inst,) = h.ok("DescribeInstances", RegionId=DEFAULT_REGION)["Instances"]["Instance"]
    assert inst["DdosStatus"] == "blackhole"

    # explain: public ingress dropped by the black hole, whatever the rules say
    answer = _explain(h)
    assert not answer["Reachable"]
    kinds = {p["Ingress"]["Kind"] for p in answer["Paths"]["Path"]}
    assert kinds == {"ddos-black-hole"}, answer
    # render-nft: the kernel drops what the rules let in before
    ruleset = _load_rendered_ruleset(h, instance)
    assert "DDoS black hole" in ruleset
    assert client.probe([Probe("tcp", ATTACKER, PUBLIC_IP, 80, 1001, 2.0)])[0] in BLOCKED
