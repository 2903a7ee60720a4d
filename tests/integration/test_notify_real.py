"""Notifications through real parts: an aiosmtpd SMTP server (STARTTLS + AUTH), a real
http.server receiving the SMS hook, a channel that is down for a while, and two
dispatchers sharing one PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from palisade.auditor.ingest.ca import CertificateAuthority
from palisade.auditor.notify import default_transports, outbox, settings_repository
from palisade.auditor.notify.dispatcher import Dispatcher
from palisade.auditor.notify.hook_targets import HookPolicy
from palisade.auditor.notify.models import (
    Channel,
    EmailConfig,
    NotifyEvent,
    SmsHookConfig,
    Subscription,
)
from palisade.auditor.notify.settings_repository import NotificationSettingsCache
from palisade.auditor.store import schema
from palisade.auditor.store.database import Database
from tests.helpers.polling import wait_for
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

pytestmark = pytest.mark.integration

ACCOUNT = "1000000000000002"
USER, PASSWORD = "palisade", "smtp-pass-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [m["Subject"] for m in self.messages]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class Smtp:
    """A real SMTP server on loopback, optionally with STARTTLS required and AUTH."""

    def __init__(self, tmp_path, tls: bool):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.tls = tls
        self.ca_pem = ""
        self.kwargs: dict = {}
        if tls:
            ca = CertificateAuthority.load_or_create(tmp_path / "ca")
            key_pem, chain_pem = ca.server_identity(tmp_path / "ca", dt.datetime.now(dt.UTC))
            (tmp_path / "smtp.key").write_bytes(key_pem)
            (tmp_path / "smtp.crt").write_bytes(chain_pem)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tmp_path / "smtp.crt", tmp_path / "smtp.key")
            self.ca_pem = ca.cert_pem.decode()
            self.kwargs = dict(
                tls_context=context,
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                authenticator=authenticator,
            )
        self.controller: Controller | None = None

    def start(self) -> Smtp:
        self.controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, **self.kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> EmailConfig:
        return EmailConfig(
            host="127.0.0.1",
            port=self.port,
            security="starttls" if self.tls else "none",
            username=USER if self.tls else "",
            password=PASSWORD if self.tls else "",
            sender="palisade@example.com",
            recipients=("ops@example.com",),
            ca_pem=self.ca_pem,
            timeout_s=5,
        )


class HookReceiver:
    """A real HTTP server that records the SMS hook's requests."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def configure(store: Database, channels: list[Channel]) -> None:
    with store.engine.begin() as conn:
        for c in channels:
            settings_repository.add_channel(conn, c, 0)
        settings_repository.add_subscription(
            conn,
            Subscription(
                "ns-all",
                ACCOUNT,
                "alerts",
                frozenset({"serious", "suspicious", "remind"}),
                tuple(c.channel_id for c in channels),
            ),
            0,
        )


def alert(n: int, title: str = "Brute force") -> NotifyEvent:
    return NotifyEvent(
        account_id=ACCOUNT,
        alert_id=str(n),
        instance_id=f"i-{n:04d}",
        check_id="login.brute_force",
        category="login",
        level="serious",
        title=title,
        message=f"9 failures from 203.0.113.{n % 250} in 120 s",
        count=1,
        last_seen_ms=1,
    )


def enqueue(store: Database, *events: NotifyEvent) -> None:
    with store.write_transaction() as conn:
        for e in events:
            outbox.enqueue(conn, e, dt.datetime.now(dt.UTC))


def dispatcher(store: Database, **kw) -> Dispatcher:
    kw.setdefault("retry_base_s", 0.05)
    kw.setdefault("retry_cap_s", 0.3)
    kw.setdefault("poll_s", 0.2)
    return Dispatcher(
        store,
        NotificationSettingsCache(store, ttl_s=0),
        # the hook receiver is on loopback: allowed by name, as --allow-hook-host does
        default_transports(store, HookPolicy(allowed_hosts=frozenset({"127.0.0.1"}))),
        **kw,
    )


def inbox_count(store: Database) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.inbox)).scalar()


@pytest.fixture
def store(tmp_path):
    s = Database(f"sqlite:///{tmp_path / 'notify.db'}")
    yield s
    s.close()


def test_email_over_starttls_with_auth_sms_hook_and_inbox(tmp_path, store):
    smtp = Smtp(tmp_path, tls=True).start()
    hook = HookReceiver()
    configure(
        store,
        [
            Channel("nc-mail", ACCOUNT, "mail", "email", smtp.config()),
            Channel(
                "nc-sms",
                ACCOUNT,
                "sms",
                "sms_hook",
                SmsHookConfig(
                    hook.url,
                    secret_header="X-Hook-Token",
                    secret_value="t0ken",
                    body_template='{"text": "[{level}] {title} on {instance_id}", "n": {count}}',
                ),
            ),
        ],
    )
    d = dispatcher(store).start()
    try:
        enqueue(store, alert(1, title='Brute force "root" \\ ssh'))
        d.notify_new()
        wait_for(lambda: smtp.mailbox.messages and hook.requests, 5, 0.02, what="the email+hook")
        wait_for(lambda: inbox_count(store) == 1, 5, 0.02, what="the inbox message")
    finally:
        d.stop()
        smtp.stop()
        hook.stop()
    [msg] = smtp.mailbox.messages
    assert msg["Subject"] == '[Palisade][serious] Brute force "root" \\ ssh on i-0001'
    assert msg["Message-ID"].startswith("<nt-") and msg["To"] == "ops@example.com"
    assert "9 failures from 203.0.113.1" in msg.get_payload()
    [(headers, body)] = hook.requests
    assert headers["x-hook-token"] == "t0ken"
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"text": '[serious] Brute force "root" \\ ssh on i-0001', "n": 1}


def test_wrong_smtp_credentials_are_retried_not_lost(tmp_path, store):
    smtp = Smtp(tmp_path, tls=True).start()
    from dataclasses import replace

    configure(
        store,
        [
            Channel(
                "nc-mail",
                ACCOUNT,
                "mail",
                "email",
                replace(smtp.config(), password="wrong", timeout_s=2),
            )
        ],
    )
    d = dispatcher(store)
    enqueue(store, alert(1))
    try:
        d.run_once()
    finally:
        smtp.stop()
    with store.engine.connect() as conn:
        o = schema.notify_outbox
        row = conn.execute(select(o).where(o.c.channel_id == "nc-mail")).one()
    assert row.state == "queued" and row.attempts == 1 and row.last_error
    assert "wrong" not in row.last_error  # the password is never recorded
    assert smtp.mailbox.messages == []


def test_a_channel_that_is_down_gets_every_message_once_it_is_back(tmp_path, store):
    smtp = Smtp(tmp_path, tls=False)  # not started: the server is down
    configure(store, [Channel("nc-mail", ACCOUNT, "mail", "email", smtp.config())])
    d = dispatcher(store).start()
    try:
        enqueue(store, *[alert(n) for n in range(1, 11)])
        d.notify_new()

        def retried():
            with store.engine.connect() as conn:
                o = schema.notify_outbox
                return (
                    conn.execute(
                        select(func.min(o.c.attempts)).where(o.c.channel_id == "nc-mail")
                    ).scalar()
                    >= 3
                )

        wait_for(retried, 10, 0.05, what="three failed tries of every message")
        smtp.start()
        wait_for(lambda: len(smtp.mailbox.messages) >= 10, 10, 0.05, what="every message")
        d.run_once()  # anything still due would go now
    finally:
        d.stop()
        smtp.stop()
    subjects = sorted(smtp.mailbox.subjects())
    assert subjects == sorted(f"[Palisade][serious] Brute force on i-{n:04d}" for n in range(1, 11))
    with store.engine.connect() as conn:
        o = schema.notify_outbox
        states = conn.execute(select(o.c.state).where(o.c.channel_id == "nc-mail")).scalars()
        assert set(states) == {"sent"}


@pytest.mark.needs_db
def test_two_dispatchers_on_one_postgresql_send_each_message_once(tmp_path):
    require_postgres()
    url = create_postgres_database()
    smtp = Smtp(tmp_path, tls=False).start()
    a_store, b_store = Database(url), Database(url)
    try:
        configure(a_store, [Channel("nc-mail", ACCOUNT, "mail", "email", smtp.config())])
        a = dispatcher(a_store, owner="replica-a").start()
        b = dispatcher(b_store, owner="replica-b").start()
        try:
            for batch in range(10):
                enqueue(a_store, *[alert(batch * 20 + n) for n in range(20)])
                a.notify_new()
                b.notify_new()
            wait_for(lambda: len(smtp.mailbox.messages) >= 200, 30, 0.05, what="200 emails")
            wait_for(lambda: inbox_count(a_store) >= 200, 30, 0.05, what="200 inbox rows")
            a.run_once()
            b.run_once()
        finally:
            a.stop()
            b.stop()
        ids = [m["X-Palisade-Alert-Ids"] for m in smtp.mailbox.messages]
        assert len(ids) == 200 and len(set(ids)) == 200
        assert inbox_count(a_store) == 200
        with a_store.engine.connect() as conn:
            o = schema.notify_outbox
            owners = conn.execute(
                select(o.c.lease_owner, o.c.state).where(o.c.channel_id == "nc-mail")
            ).all()
        assert {state for _, state in owners} == {"sent"}
    finally:
        smtp.stop()
        a_store.close()
        b_store.close()
        drop_postgres_database(url)


def test_an_alert_silenced_while_the_window_holds_it_is_left_out_of_the_emailed_digest(
    tmp_path, store
):
    """Issue 17: the stages are judged again when the window opens; the digest that a real
    SMTP server receives omits the silenced alert and says why."""
    from palisade.auditor.alerts.lifecycle import Scope, Silence, to_ms
    from palisade.auditor.alerts.repository import AlertRepository
    from palisade.auditor.notify.models import NotificationWindow
    from tests.helpers.alert_findings import Finding

    smtp = Smtp(tmp_path, tls=False).start()
    configure(store, [Channel("nc-mail", ACCOUNT, "mail", "email", smtp.config())])
    with store.engine.begin() as conn:
        window = NotificationWindow("08:00", "22:00", "Asia/Shanghai")
        settings_repository.save_window(conn, ACCOUNT, window, 0)
    alerts = AlertRepository(store, on_opened=outbox.enqueue, event_checks=frozenset())
    night = dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai
    ports = [
        Finding("exposure.port", "i-db", f"tcp/{p}", category="exposure",
                title=f"Port {p} open to the internet", details={"port": p, "protocol": "tcp"})
        for p in (6379, 5432)
    ]  # fmt: skip
    opened = alerts.apply_findings(
        Scope(ACCOUNT, "i-db", frozenset({"exposure.port"})), ports, night
    )
    ids = {e.alert.subject: e.alert.id for e in opened}
    d = dispatcher(store)
    try:
        d.run_once(night)
        assert smtp.mailbox.messages == []  # held: the window is closed
        later = night + dt.timedelta(hours=1)
        alerts.create_silence(
            Silence(
                None,
                ACCOUNT,
                to_ms(later),
                to_ms(later + dt.timedelta(days=1)),
                "user/alice",
                "redis maintenance",
                subject="tcp/6379",
            )  # fmt: skip
        )
        d.run_once(dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC))  # 08:00 in Shanghai
        wait_for(lambda: smtp.mailbox.messages, 5, 0.02, what="the digest")
    finally:
        smtp.stop()
    [msg] = smtp.mailbox.messages
    body = msg.get_payload(decode=True).decode()
    assert msg["X-Palisade-Alert-Ids"] == str(ids["tcp/5432"])
    assert "Port 5432 open to the internet" in body
    assert "Not sent on their own" in body
    assert f"Port 6379 open to the internet on i-db (alert {ids['tcp/6379']}): silenced by" in body
    assert "redis maintenance" in body
