"""Running the fleet from the console, in Chromium, through the pages only (issue 16).

A real auditor process; the browser creates a VPC security group, adds, modifies and
revokes rules, changes its InnerAccessPolicy, clones it into another region's VPC; creates,
imports (a key made by the real ssh-keygen) and attaches key pairs; creates a RAM user with a
custom policy (after the policy editor showed the parser's error) and logs in as that user,
who sees only the pages the policy allows; creates an email channel and a subscription. A
brute force reported by an enrolled agent over gRPC turns the instance's shield orange and
the state filter finds it; the alert's page explains it and handles it. Every page is then
photographed in English and Chinese (build/screenshots/console/) with its glyphs checked.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest

from palisade.agent import transport
from palisade.shared.proto import agent_pb2, agent_pb2_grpc, facts_pb2
from tests.helpers.agent_enrollment import enroll_agent
from tests.helpers.browser import VIEWPORT, admin_password, login, shot
from tests.helpers.palisade_cli import ok
from tests.helpers.polling import wait_for
from tests.helpers.system import require_binary

pytestmark = [pytest.mark.integration, pytest.mark.browser]

R = "RegionId=cn-hangzhou"
ATTACKER = "203.0.113.50"


def _message(page) -> str:
    page.wait_for_selector("#message")
    return page.inner_text("#message")


def _submit(page, form: str, button: str = "button[type=submit]") -> str:
    page.click(f"{form} {button}")
    page.wait_for_load_state()
    return _message(page)


def _report_brute_force(auditor, state, instance_id: str) -> None:
    """What the agent on the instance sends: a snapshot, then ten failed password logins
    from one source within a minute (the brute-force check's default is 8 in 120 s)."""
    now = int(time.time() * 1000)
    snap = facts_pb2.Snapshot(
        snapshot_id=uuid.uuid4().hex,
        instance_id=instance_id,
        collected_at_ms=now,
        host=facts_pb2.HostInfo(
            hostname="web-1", os_family="linux", os_name="Debian", os_version="12"
        ),
    )
    messages = [agent_pb2.AgentMessage(message_id="s1", instance_id=instance_id, snapshot=snap)]
    for n in range(10):
        event = facts_pb2.Event(
            event_id=uuid.uuid4().hex,
            instance_id=instance_id,
            time_ms=now - (10 - n) * 1000,
            login=facts_pb2.LoginEvent(
                user="root", source_ip=ATTACKER, result="failure", method="password"
            ),
        )
        messages.append(
            agent_pb2.AgentMessage(message_id=f"e{n}", instance_id=instance_id, event=event)
        )
    with grpc.secure_channel(
        auditor.grpc, state.credentials(), options=transport.CHANNEL_OPTIONS
    ) as ch:
        acks = list(agent_pb2_grpc.IngestStub(ch).Report(iter(messages), timeout=30))
    assert len(acks) == len(messages)


def _ssh_public_key(tmp_path: Path) -> str:
    keygen = require_binary("ssh-keygen")
    key = tmp_path / "imported"
    subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "ops@example", "-f", str(key)],
        check=True,
        timeout=30,
    )
    return (tmp_path / "imported.pub").read_text().strip()


def _group_from_url(url: str) -> str:
    return url.split("/ui/security-groups/", 1)[1].split("?", 1)[0]


def test_operating_the_fleet_from_the_console(auditor, browser, tmp_path):
    ok(auditor, "AddRegion", "RegionId=cn-shanghai")
    vpc = ok(auditor, "CreateVpc", R, "CidrBlock=172.16.0.0/16")["VpcId"]
    far_vpc = ok(auditor, "CreateVpc", "RegionId=cn-shanghai", "CidrBlock=10.8.0.0/16")["VpcId"]
    base = f"http://{auditor.http}"
    admin = login(browser, auditor, "admin", admin_password(auditor))

    # a VPC security group, made on the page
    admin.goto(f"{base}/ui/security-groups")
    admin.select_option("#create-group select[name=vpc]", vpc)
    admin.fill("#create-group input[name=name]", "web")
    admin.fill("#create-group input[name=description]", "web tier")
    assert "created" in _submit(admin, "#create-group")
    group = _group_from_url(admin.url)
    assert vpc in admin.inner_text("main")

    # add two rules, modify one, revoke the other
    for port in ("22/22", "8080/8080"):
        admin.select_option("#add-rule select[name=protocol]", "tcp")
        admin.fill("#add-rule input[name=port_range]", port)
        admin.fill("#add-rule input[name=cidr]", "0.0.0.0/0")
        assert "Rule added" in _submit(admin, "#add-rule")
    admin.locator("#rules tr", has_text="22/22").locator("a.edit-rule").click()
    admin.fill("#add-rule input[name=cidr]", "198.51.100.0/24")
    assert "Rule modified" in _submit(admin, "#add-rule")
    assert "198.51.100.0/24" in admin.inner_text("#rules")
    admin.locator("#rules tr", has_text="8080/8080").locator("button.delete-rule").click()
    assert "Rule deleted" in _message(admin)
    assert "8080/8080" not in admin.inner_text("#rules")
    admin.select_option("#inner-policy select[name=inner_access_policy]", "Drop")
    assert "InnerAccessPolicy" in _submit(admin, "#inner-policy")
    assert "Drop" in admin.inner_text("#inner-access")

    # clone into another region: without a VPC there the API says so; with one it works
    admin.select_option("#clone select[name=region]", "cn-shanghai")
    admin.fill("#clone input[name=name]", "web-shanghai")
    assert "VpcId" in _submit(admin, "#clone")
    admin.select_option("#clone select[name=vpc]", far_vpc)
    assert "Cloned" in _submit(admin, "#clone")
    clone = _group_from_url(admin.url)
    assert clone != group and "cn-shanghai" in admin.inner_text("main")
    assert "198.51.100.0/24" in admin.inner_text("#rules")
    state = ok(auditor, "DescribeSecurityGroupAttribute", "RegionId=cn-shanghai",
               f"SecurityGroupId={clone}")  # fmt: skip
    assert state["VpcId"] == far_vpc

    # an instance in the group, for the key pair and the agent
    ok(auditor, "RunInstances", R, f"VpcId={vpc}", f"SecurityGroupIds={group}",
       "InstanceId=i-web", "PrivateIpAddress=172.16.0.10")  # fmt: skip

    # key pairs: create (the private key shown once), import, attach
    admin.goto(f"{base}/ui/key-pairs")
    admin.fill("#create-key input[name=name]", "console-made")
    admin.click("#create-key button[type=submit]")
    admin.wait_for_selector("#private-key")
    assert "PRIVATE KEY" in admin.input_value("#private-key")
    admin.fill("#import-key input[name=name]", "ops-key")
    admin.fill("#import-key textarea[name=public_key]", _ssh_public_key(tmp_path))
    assert "imported" in _submit(admin, "#import-key")
    admin.select_option("#bind-key select[name=name]", "ops-key")
    admin.fill("#bind-key input[name=instances]", "i-web")
    assert "attached" in _submit(admin, "#bind-key", "#attach-key")
    row = admin.locator("#key-pairs tr", has_text="ops-key")
    assert "i-web" in row.inner_text()
    shot(admin, "key-pairs-bound", "console")

    # RAM: the policy editor shows the parser's error where it is; then a user with it
    admin.goto(f"{base}/ui/ram")
    admin.fill("#create-policy input[name=name]", "Operators")
    admin.fill("#create-policy textarea[name=document]", '{"Version": "1",\n "Statement": [}')
    admin.click("#create-policy button[type=submit]")
    admin.wait_for_selector("#policy-error")
    assert "line 2 column" in admin.inner_text("#policy-error")
    shot(admin, "ram-policy-error", "console")
    document = {
        "Version": "1",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ecs:Describe*", "sas:DescribeAlert*", "sas:HandleAlert"],
                "Resource": "*",
            }
        ],
    }
    admin.fill("#create-policy textarea[name=document]", json.dumps(document, indent=2))
    assert "created" in _submit(admin, "#create-policy")
    admin.fill("#create-user input[name=name]", "operator")
    admin.fill("#create-user input[name=password]", "Operator-pass-2026")
    assert "created" in _submit(admin, "#create-user")
    admin.select_option("#attach-policy select[name=user]", "operator")
    admin.select_option("#attach-policy select[name=policy]", "Custom:Operators")
    assert "attached" in _submit(admin, "#attach-policy")
    assert "Operators" in admin.locator("#users tr", has_text="operator").inner_text()

    # notifications: an email channel and a subscription to serious alerts
    admin.goto(f"{base}/ui/notifications")
    admin.select_option("#create-channel select[name=kind]", "email")
    admin.fill("#create-channel input[name=name]", "ops mail")
    admin.fill("#create-channel input[name=recipients]", "ops@example.com")
    admin.fill("#create-channel input[name=sender]", "palisade@example.com")
    admin.fill("#create-channel input[name=smtp_host]", "127.0.0.1")
    admin.fill("#create-channel input[name=smtp_port]", "2525")
    admin.select_option("#create-channel select[name=security]", "none")
    assert "Channel created" in _submit(admin, "#create-channel")
    admin.select_option("#create-subscription select[name=category]", "alerts")
    admin.uncheck("#create-subscription input[name=level_remind]")
    mail = admin.locator("#create-subscription select[name=channel] option", has_text="ops mail")
    channel_id = mail.get_attribute("value")
    admin.select_option("#create-subscription select[name=channel]", channel_id)
    assert "Subscribed" in _submit(admin, "#create-subscription")
    assert "ops mail" in admin.inner_text("#channels")
    subscription = admin.locator("#subscriptions tr", has_text=channel_id).inner_text()
    assert "serious" in subscription and "remind" not in subscription

    # a brute force on i-web: its shield turns orange and the state filter finds it
    agent = enroll_agent(auditor, tmp_path / "agent", "i-web")
    _report_brute_force(auditor, agent, "i-web")
    wait_for(
        lambda: ok(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"]["Alert"],
        30,
        what="the brute-force alert",
    )
    admin.goto(f"{base}/ui/instances?state=orange")
    rows = admin.locator("#instances tr", has_text="i-web")
    assert rows.count() == 1
    assert rows.locator(".shield").get_attribute("data-shield") == "orange"
    admin.goto(f"{base}/ui/instances?state=green")
    assert admin.locator("#instances tr", has_text="i-web").count() == 0
    shot(admin, "instances-orange", "console")

    # the operator logs in: only the pages its policy opens are in the nav; it handles
    # the alert from the alert's own page (rationale and remediation shown)
    operator = login(browser, auditor, "operator", "Operator-pass-2026")
    nav = operator.inner_text("header nav")
    assert "Alerts" in nav and "Security groups" in nav
    assert "RAM" not in nav and "Notifications" not in nav and "Inbox" not in nav
    operator.goto(f"{base}/ui/ram")
    assert "not allowed" in operator.inner_text("main")
    operator.goto(f"{base}/ui/alerts")
    operator.locator("#alerts a.alert-link", has_text="Brute-force").first.click()
    operator.wait_for_selector("#remediation")
    assert "password" in operator.inner_text("#rationale").lower()
    assert ATTACKER in operator.inner_text("main")
    shot(operator, "alert-detail", "console")
    operator.fill("#handle input[name=comment]", "source blocked at the edge")
    operator.click("#handle button.handle")
    assert "handled" in _message(operator)
    assert "source blocked at the edge" in operator.inner_text("#history")
    alert = ok(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"]["Alert"][0]
    assert alert["Status"] == "handled"
    shot(operator, "operator-alerts", "console")

    _every_page_in_both_languages(browser, auditor, group, alert["AlertId"])


PAGES = (
    ("overview", "/ui/"),
    ("instances", "/ui/instances"),
    ("instance", "/ui/instances/i-web"),
    ("security-groups", "/ui/security-groups"),
    ("security-group", "/ui/security-groups/{group}"),
    ("key-pairs", "/ui/key-pairs"),
    ("alerts", "/ui/alerts"),
    ("alert", "/ui/alerts/{alert}"),
    ("notifications", "/ui/notifications"),
    ("inbox", "/ui/inbox"),
    ("ram", "/ui/ram"),
    ("ram-groups-roles", "/ui/ram/principals"),
)
ZH_TITLES = {
    "overview": "概览",
    "instances": "实例",
    "security-groups": "安全组",
    "key-pairs": "密钥对",
    "alerts": "告警",
    "notifications": "通知",
    "inbox": "站内信",
}


def _every_page_in_both_languages(browser, auditor, group: str, alert_id) -> None:
    for lang in ("en", "zh"):
        page = login(browser, auditor, "admin", admin_password(auditor), lang=lang)
        for name, path in PAGES:
            url = f"http://{auditor.http}" + path.format(group=group, alert=alert_id)
            response = page.goto(url)
            assert response is not None and response.status == 200, (name, response)
            if lang == "zh" and name in ZH_TITLES:
                assert page.inner_text("h1").startswith(ZH_TITLES[name]), name
            shot(page, f"{name}-{lang}", "console")  # which checks the width too
        page.goto(f"http://{auditor.http}/ui/alerts/{alert_id}")
        if lang == "zh":
            # the check's own words are translated too, not only the page's
            assert "暴力破解" in page.inner_text("#alert-title")
            assert "密码" in page.inner_text("#rationale")
            assert f"来自 {ATTACKER} 的登录失败 10 次" in page.inner_text("#alert-message")
        page.context.close()
    for lang in ("en", "zh"):  # the login page, before any session
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(f"http://{auditor.http}/ui/lang?set={lang}&back=/ui/login")
        page.wait_for_selector("#login")
        assert page.inner_text("h1") == ("登录" if lang == "zh" else "Log in")
        shot(page, f"login-{lang}", "console")
        context.close()
    # the glyphs are real: a CJK font is installed (Chromium draws boxes without one)
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font: run .ci/system-deps (fonts-noto-cjk)"
