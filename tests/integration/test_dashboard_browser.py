"""The dashboard in a real browser: Playwright driving Debian's Chromium.

Log in, see a brute-force alert produced by a real attack on a real sshd, open the
instance, mark the alert handled; add a rule in the security group page and see the
exposure change; a read-only user cannot change anything; hostile names are shown as
text. Screenshots of each page go to build/screenshots/dashboard/ (or $PALISADE_ARTIFACTS).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest

from palisade.agent import enrolment, transport
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.browser import admin_password, login, shot
from tests.helpers.palisade_cli import ok
from tests.helpers.polling import wait_for
from tests.helpers.sshd import SyslogRelay, ssh_client, ssh_server
from tests.helpers.system import BIN

pytestmark = [pytest.mark.integration, pytest.mark.needs_root, pytest.mark.browser]
paramiko = pytest.importorskip("paramiko")

R = "RegionId=cn-hangzhou"
HOSTILE = '<script>alert("x")</script>"\'&<b>ü漢字' + "🙂" * 40


def _report_hostile(auditor, tmp_path: Path) -> None:
    """An instance whose hostname, listener process and login user name are hostile."""
    state = enrolment.enroll(
        tmp_path / "hostile",
        [auditor.grpc],
        auditor.token("i-hostile"),
        enroll_address=auditor.enroll,
    )
    snap = facts_pb2.Snapshot(
        snapshot_id="h1",
        instance_id="i-hostile",
        collected_at_ms=int(time.time() * 1000),
        host=facts_pb2.HostInfo(hostname=HOSTILE, os_family="linux", os_name=HOSTILE),
    )
    snap.listeners.add(
        protocol="tcp",
        family="ipv4",
        address="0.0.0.0",
        port=9999,
        process_name=HOSTILE,
        user=HOSTILE,
    )
    event = facts_pb2.Event(
        event_id=uuid.uuid4().hex,
        instance_id="i-hostile",
        time_ms=int(time.time() * 1000),
        login=facts_pb2.LoginEvent(
            user=HOSTILE, source_ip="203.0.113.9", result="failure", method="password"
        ),
    )
    messages = [
        agent_pb2.AgentMessage(message_id="h1", instance_id="i-hostile", snapshot=snap),
        agent_pb2.AgentMessage(message_id="h2", instance_id="i-hostile", event=event),
    ]
    with grpc.secure_channel(
        auditor.grpc, state.credentials(), options=transport.CHANNEL_OPTIONS
    ) as ch:
        list(agent_pb2_grpc.IngestStub(ch).Report(iter(messages), timeout=30))


def test_dashboard_end_to_end_in_chromium(auditor, browser, tmp_path):
    # the cloud: a VPC, a group, and this host as instance i-web with a public IP
    vpc = ok(auditor, "CreateVpc", R, "CidrBlock=172.16.0.0/16")["VpcId"]
    group = ok(
        auditor,
        "CreateSecurityGroup",
        R,
        f"VpcId={vpc}",
        "SecurityGroupName=web",
        f"Description={HOSTILE[:200]}",
    )["SecurityGroupId"]
    ok(
        auditor,
        "RunInstances",
        R,
        f"VpcId={vpc}",
        f"SecurityGroupIds={group}",
        "InstanceId=i-web",
        "PrivateIpAddress=172.16.0.10",
        "PublicIpAddress=47.100.0.10",
    )
    # a read-only user with a console password
    ok(auditor, "CreateUser", "UserName=viewer")
    ok(auditor, "CreateLoginProfile", "UserName=viewer", "Password=Viewer-pass-1234")
    policy = (
        '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ecs:Describe*",'
        '"sas:Describe*"],"Resource":"*"}]}'
    )
    ok(auditor, "CreatePolicy", "PolicyName=Viewers", f"PolicyDocument={policy}")
    ok(auditor, "AttachPolicyToUser", "PolicyType=Custom", "PolicyName=Viewers", "UserName=viewer")

    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    port = listener.getsockname()[1]
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-web")
    auth_log = tmp_path / "auth.log"
    auth_log.touch()
    agent = subprocess.Popen(
        [
            str(BIN / "palisade-agent"),
            "run",
            "--state-dir",
            str(state_dir),
            "--interval",
            "2",
            "--event-interval",
            "0.2",
            "--login-log",
            str(auth_log),
            "--metadata-address",
            "none",
        ],
        stdout=open(tmp_path / "agent.log", "ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        with ssh_server(
            password_authentication=True, extra_config="MaxAuthTries 10\nMaxStartups 100\n"
        ) as server:
            relay = SyslogRelay(server.log_path, auth_log, server.proc.pid)
            relay.start()
            for attempt in range(8):
                with pytest.raises(paramiko.AuthenticationException):
                    ssh_client(server, server.user, password=f"wrong-{attempt}")
            wait_for(
                lambda: ok(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"][
                    "Alert"
                ],
                20,
                what="the brute-force alert",
            )
            relay.stop.set()
            relay.join(10)
        _report_hostile(auditor, tmp_path)

        admin = login(browser, auditor, "admin", admin_password(auditor))
        shot(admin, "overview")
        admin.goto(f"http://{auditor.http}/ui/alerts")
        assert "Brute-force login attempts" in admin.inner_text("#alerts")
        shot(admin, "alerts")
        admin.click("#alerts a[href='/ui/instances/i-web']")
        admin.wait_for_selector("#instance-id")
        assert admin.inner_text("#instance-id") == "i-web"
        assert admin.locator("#login-timeline rect.failed").count() == 24
        shot(admin, "instance")
        row = admin.locator("#alerts tr", has_text="Brute-force login attempts")
        row.locator("button.handle").click()
        admin.wait_for_load_state()
        if os.environ.get("DEBUG_DASH"):
            print("URL", admin.url, admin.content()[:2500])
        admin.wait_for_selector("#message")
        assert "handled" in admin.inner_text("#message")
        row = admin.locator("#alerts tr", has_text="Brute-force login attempts")
        assert row.locator(".status").inner_text() == "handled"

        # exposure before and after adding a rule on the group page
        def exposure_of_port() -> str:
            admin.goto(f"http://{auditor.http}/ui/instances/i-web")
            cells = admin.locator("#listeners tr", has_text=f"{port}").first
            return cells.inner_text() if cells.count() else ""

        wait_for(lambda: str(port) in exposure_of_port(), 20, what="the listener reported")
        assert "not reachable from the internet" in exposure_of_port()
        admin.goto(f"http://{auditor.http}/ui/security-groups/{group}")
        shot(admin, "security-group")
        admin.select_option("#add-rule select[name=protocol]", "tcp")
        admin.fill("#add-rule input[name=port_range]", f"{port}/{port}")
        admin.fill("#add-rule input[name=cidr]", "0.0.0.0/0")
        admin.fill("#add-rule input[name=description]", "open the test port")
        admin.click("#add-rule button[type=submit]")
        admin.wait_for_selector("#message")
        assert "Rule added" in admin.inner_text("#message")
        text = exposure_of_port()
        assert "reachable from the internet" in text and "not reachable" not in text
        # modify that rule: narrow it to one address, and the exposure stays (a /32 is still
        # internet) but the rule shows the new source
        admin.goto(f"http://{auditor.http}/ui/security-groups/{group}")
        admin.locator("#rules a.edit-rule").first.click()
        admin.fill("#add-rule input[name=cidr]", "198.51.100.7/32")
        admin.click("#add-rule button[type=submit]")
        admin.wait_for_selector("#message")
        assert "Rule modified" in admin.inner_text("#message")
        assert "198.51.100.7/32" in admin.inner_text("#rules")
        assert "reachable from the internet" in exposure_of_port()  # the instance page again
        assert "scrubbing threshold" in admin.inner_text("#ddos")
        assert "DDoS protection: normal" in admin.inner_text("#ddos-status")
        shot(admin, "instance-exposed")

        # restore with the green/red preview, then export
        other = ok(
            auditor,
            "CreateSecurityGroup",
            R,
            f"VpcId={vpc}",
            "SecurityGroupName=db",
            "Description=database tier",
        )["SecurityGroupId"]
        ok(
            auditor,
            "AuthorizeSecurityGroup",
            R,
            f"SecurityGroupId={other}",
            "IpProtocol=tcp",
            "PortRange=5432/5432",
            "SourceCidrIp=172.16.0.0/16",
        )
        admin.goto(f"http://{auditor.http}/ui/security-groups/{group}")
        admin.select_option("#restore-preview select[name=restore_from]", other)
        admin.click("#restore-preview button")
        admin.wait_for_selector("#restore-result")
        assert "5432/5432" in admin.inner_text("#restore-result li.added")
        assert f"{port}/{port}" in admin.inner_text("#restore-result li.removed")
        shot(admin, "restore-preview")
        admin.click("#restore-apply")
        admin.wait_for_selector("#message")
        assert "Restored" in admin.inner_text("#message")
        assert "5432/5432" in admin.inner_text("#rules")
        assert f"{port}/{port}" not in admin.inner_text("#rules")
        admin.select_option("#explain select[name=instance]", "i-web")
        admin.fill("#explain input[name=port]", "22")
        admin.click("#explain button")
        admin.wait_for_selector("#explain-result")
        assert "dropped" in admin.inner_text("#explain-result")
        exported = admin.request.get(f"http://{auditor.http}/ui/security-groups/{group}/export")
        assert (
            exported.ok
            and f"ecs_cn-hangzhou_{group}.json" in exported.headers["content-disposition"]
        )
        assert "5432/5432" in exported.text()
        # import it into a new group: a per-rule preview, then the import
        empty = ok(
            auditor,
            "CreateSecurityGroup",
            R,
            f"VpcId={vpc}",
            "SecurityGroupName=copy",
            "Description=copy of db",
        )["SecurityGroupId"]
        admin.goto(f"http://{auditor.http}/ui/security-groups/{empty}")
        admin.fill("#import textarea[name=document]", exported.text())
        admin.click("#import button")
        admin.wait_for_selector("#import-results")
        assert "added" in admin.inner_text("#import-results")
        shot(admin, "import-preview")
        admin.click("#import-apply")
        admin.wait_for_selector("#message")
        assert "5432/5432" in admin.inner_text("#rules")
        for name, path in (
            ("instances", "/ui/instances"),
            ("groups", "/ui/security-groups"),
            ("key-pairs", "/ui/key-pairs"),
            ("notifications", "/ui/notifications"),
            ("inbox", "/ui/inbox"),
            ("hostile", "/ui/instances/i-hostile"),
        ):
            admin.goto(f"http://{auditor.http}{path}")
            shot(admin, name)
        admin.goto(f"http://{auditor.http}/ui/")
        assert admin.locator("#exposures").count() == 1
        # silence a pending alert from the alerts page
        admin.goto(f"http://{auditor.http}/ui/alerts?status=pending")
        if admin.locator("button.silence").count():
            admin.locator("button.silence").first.click()
            admin.wait_for_selector("#message")
            assert "Silenced" in admin.inner_text("#message")
        # hostile text is text: visible as written, never markup
        admin.goto(f"http://{auditor.http}/ui/instances/i-hostile")
        assert HOSTILE in admin.inner_text("#listeners")
        assert HOSTILE in admin.inner_text("#logins")
        assert admin.locator("script").count() == 0
        admin.goto(f"http://{auditor.http}/ui/instances")
        assert HOSTILE in admin.inner_text("#instances")
        admin.goto(f"http://{auditor.http}/ui/security-groups")
        assert HOSTILE[:200] in admin.inner_text("#groups")
        admin.goto(f"http://{auditor.http}/ui/lang?set=zh&back=/ui/instances")
        assert admin.inner_text("h1") == "实例"
        shot(admin, "instances-zh")

        # the read-only user sees no modify buttons, and is refused if it posts anyway
        viewer = login(browser, auditor, "viewer", "Viewer-pass-1234")
        viewer.goto(f"http://{auditor.http}/ui/security-groups/{group}")
        assert viewer.locator("#add-rule").count() == 0
        assert viewer.locator("button.delete-rule").count() == 0
        rules_before = viewer.inner_text("#rules")
        csrf = viewer.locator("input[name=csrf]").first.get_attribute("value")
        response = viewer.request.post(
            f"http://{auditor.http}/ui/security-groups/{group}/rules",
            form={
                "csrf": csrf,
                "direction": "ingress",
                "policy": "accept",
                "protocol": "tcp",
                "port_range": "22/22",
                "cidr": "0.0.0.0/0",
                "priority": "1",
            },
        )
        assert "Forbidden.RAM" in response.text()
        viewer.goto(f"http://{auditor.http}/ui/security-groups/{group}")
        assert viewer.inner_text("#rules") == rules_before
        viewer.goto(f"http://{auditor.http}/ui/alerts")
        shot(viewer, "viewer-alerts")
        alert_id = ok(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"]["Alert"][0]
        response = viewer.request.post(
            f"http://{auditor.http}/ui/alerts/{alert_id['AlertId']}/status",
            form={"csrf": csrf, "status": "ignored"},
        )
        assert "Forbidden" in response.text()
        after = ok(auditor, "DescribeAlert", f"AlertId={alert_id['AlertId']}")["Alert"]
        assert after["Status"] == "handled"
    finally:
        agent.terminate()
        agent.wait(timeout=15)
        listener.close()
