"""Issue 7, end to end with real parts: a real sshd on loopback is brute-forced with
paramiko; within 5 s (group wait 0) a real SMTP server (aiosmtpd) receives exactly one
email for it, a real HTTP receiver gets the SMS hook, and the inbox has the message.
Repeating the attack raises the alert's count, not a second email.

Issue 17: brute-forced and then logged into successfully: exactly one email, naming both
(the success, and the brute force it inhibited), within the group wait plus 5 s."""

from __future__ import annotations

import email
import email.policy
import json
import os
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from palisade.auditor.store.database import Database, sqlite_url
from tests.helpers.agent_enrollment import enroll_agent, start_agent
from tests.helpers.auditor_process import start_auditor
from tests.helpers.palisade_cli import ok
from tests.helpers.polling import wait_for
from tests.helpers.sshd import SyslogRelay, free_port, ssh_client, ssh_server

pytestmark = [pytest.mark.integration, pytest.mark.needs_root]
paramiko = pytest.importorskip("paramiko")

HOOK_SECRET = "hook-secret-42"


class Mailbox:
    def __init__(self):
        self.messages: list[tuple[float, str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((time.monotonic(), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def brute_force(self) -> list[str]:
        return [m for _, m in self.messages if "Brute-force login attempts" in m]


class HookReceiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        HookReceiver.received.append(
            ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
        )
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def auditor(tmp_path):
    """A real auditor that lets SMS hooks reach the loopback receiver (by name)."""
    proc = start_auditor(tmp_path / "auditor", "--allow-hook-host", "127.0.0.1")
    yield proc
    proc.stop()


def api(auditor, action: str, *assignments: str) -> dict:
    return ok(auditor, action, *assignments)


@pytest.fixture
def receivers():
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    HookReceiver.received = []
    hook = ThreadingHTTPServer(("127.0.0.1", 0), HookReceiver)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    yield mailbox, smtp.port, hook.server_address[1]
    hook.shutdown()
    smtp.stop()


def mail_channel(auditor, smtp_port: int) -> str:
    return api(
        auditor,
        "CreateNotificationChannel",
        "Kind=email",
        "Name=soc",
        "SmtpHost=127.0.0.1",
        f"SmtpPort={smtp_port}",
        "Security=none",
        "From=palisade@example.com",
        "To=soc@example.com",
    )["ChannelId"]


@contextmanager
def attacked_sshd(auditor, tmp_path):
    """A real sshd whose log an enrolled `palisade-agent run` (instance i-victim) reads; yields
    (server, attack): attack(n) makes n failed paramiko logins and waits for sshd to log them,
    returning when it did (time.monotonic())."""
    state_dir = tmp_path / "agent"
    enroll_agent(auditor, state_dir, "i-victim")
    auth_log = tmp_path / "auth.log"
    auth_log.touch()
    agent = start_agent(
        state_dir, auth_log, "--metadata-address", "none", output=tmp_path / "agent.log"
    )
    relay = None
    try:
        with ssh_server(
            password_authentication=True, extra_config="MaxAuthTries 10\nMaxStartups 100\n"
        ) as server:
            relay = SyslogRelay(server.log_path, auth_log, server.proc.pid)
            relay.start()

            def attack(n: int) -> float:
                relay.lines.clear()
                for attempt in range(n):
                    with pytest.raises(paramiko.AuthenticationException):
                        ssh_client(server, server.user, password=f"wrong-{attempt}")
                wait_for(
                    lambda: sum("Failed password" in line for line in relay.lines) >= n,
                    10,
                    what="sshd to log the failures",
                )
                return time.monotonic()

            try:
                yield server, attack, relay
            finally:
                relay.stop.set()
                relay.join(10)
    finally:
        agent.terminate()
        agent.wait(timeout=15)
    assert os.path.exists(auth_log)


def test_brute_force_on_a_real_sshd_notifies_once_on_every_channel(auditor, receivers, tmp_path):
    mailbox, smtp_port, hook_port = receivers
    api(auditor, "ModifyNotificationGrouping", "GroupWait=0")  # this test times one alert
    mail = mail_channel(auditor, smtp_port)
    hook = api(
        auditor,
        "CreateNotificationChannel",
        "Kind=sms_hook",
        "Name=sms",
        f"Url=http://127.0.0.1:{hook_port}/hook",
        "SecretHeaderName=X-Token",
        f"SecretHeaderValue={HOOK_SECRET}",
    )["ChannelId"]
    api(
        auditor,
        "CreateSubscription",
        "Category=alerts",
        "Levels=serious,suspicious",
        f"ChannelIds={mail},{hook}",
    )

    with attacked_sshd(auditor, tmp_path) as (_server, attack, _relay):
        done = attack(8)
        wait_for(lambda: mailbox.brute_force(), 15, what="the brute-force email")
        received_at = min(t for t, m in mailbox.messages if "Brute-force" in m)
        assert received_at - done <= 5.0, f"email after {received_at - done:.1f} s"
        wait_for(lambda: HookReceiver.received, 10, what="the SMS hook")
        inbox = api(auditor, "DescribeInbox")
        assert any("Brute-force" in json.dumps(m) for m in inbox["Messages"]["Message"])
        alerts = api(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"]["Alert"]
        assert len(alerts) == 1 and alerts[0]["InstanceId"] == "i-victim"
        first_count = alerts[0]["Count"]

        attack(8)  # the same source again

        def counted() -> bool:
            body = api(auditor, "DescribeAlerts", "CheckId=login.brute_force")
            return body["Alerts"]["Alert"][0]["Count"] > first_count

        wait_for(counted, 15, what="the alert's count to rise")
        time.sleep(3)  # a second email, if any, would have arrived by now
    assert len(mailbox.brute_force()) == 1
    assert len(api(auditor, "DescribeAlerts", "CheckId=login.brute_force")["Alerts"]["Alert"]) == 1
    # the dashboard's chart counts the 16 failed passwords: attempts, not sshd's log lines
    store = Database(sqlite_url(auditor.data_dir))
    try:
        now_ms = int(time.time() * 1000)
        failed, _ok = store.instance_logins_per_hour("i-victim", now_ms - 3_600_000, now_ms)
        assert sum(failed) == 16, failed
    finally:
        store.close()
    headers, body = HookReceiver.received[0]
    assert headers["x-token"] == HOOK_SECRET
    assert "i-victim" in json.dumps(body)
    assert len([1 for _, b in HookReceiver.received if "Brute" in json.dumps(b)]) == 1


GROUP_WAIT_S = 10


def test_a_brute_force_then_its_success_is_exactly_one_email_naming_both(
    auditor, receivers, tmp_path
):
    mailbox, smtp_port, _hook_port = receivers
    api(auditor, "ModifyNotificationGrouping", f"GroupWait={GROUP_WAIT_S}", "GroupInterval=300")
    mail = mail_channel(auditor, smtp_port)
    api(auditor, "CreateSubscription", "Category=alerts", "Levels=serious,suspicious",
        f"ChannelIds={mail}")  # fmt: skip
    with attacked_sshd(auditor, tmp_path) as (server, attack, relay):
        attack(8)
        ssh_client(server, server.user, password=server.password)  # the guessed password
        logged_in = time.monotonic()
        wait_for(lambda: any("Accepted password" in line for line in relay.lines), 10,
                 what="sshd to log the success")  # fmt: skip
        wait_for(lambda: mailbox.messages, GROUP_WAIT_S + 15, what="the email")
        received_at = mailbox.messages[0][0]
        time.sleep(5)  # a second email, if any, would be on its way by now
    assert len(mailbox.messages) == 1, [m for _, m in mailbox.messages]
    assert received_at - logged_in <= GROUP_WAIT_S + 5, f"after {received_at - logged_in:.1f} s"
    message = email.message_from_string(mailbox.messages[0][1], policy=email.policy.default)
    text = message["Subject"] + "\n" + message.get_content()
    assert "Successful login after repeated failures" in text
    assert "Brute-force login attempts" in text and "inhibited by" in text
    alerts = api(auditor, "DescribeAlerts", "InstanceId=i-victim")["Alerts"]["Alert"]
    assert {a["CheckId"] for a in alerts} >= {"login.brute_force", "login.brute_force_success"}
