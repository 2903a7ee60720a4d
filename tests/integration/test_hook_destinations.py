"""Issue 18, defect 5 through a real `palisade serve`: an SMS hook channel to a loopback
receiver is refused (server-side request forgery) unless the auditor is started with
`--allow-hook-host 127.0.0.1`; then it is accepted and a real notification reaches the
receiver over a real socket."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from palisade.auditor import notify
from palisade.auditor.alerts.lifecycle import Scope
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from palisade.auditor.store.database import Database
from tests.helpers.alert_findings import Finding
from tests.helpers.auditor_process import start_auditor
from tests.helpers.hook_receiver import HookReceiver
from tests.helpers.palisade_cli import api, ok
from tests.helpers.polling import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    r = HookReceiver()
    yield r
    r.stop()


def create_hook(auditor, url: str) -> tuple[int, dict]:
    return api(
        auditor,
        "CreateNotificationChannel",
        "Kind=sms_hook",
        "Name=sms",
        f"Url={url}",
        "SecretHeaderName=X-Token",
        "SecretHeaderValue=hook-secret",
    )


def test_a_loopback_hook_is_refused_without_the_setting(tmp_path, receiver):
    auditor = start_auditor(tmp_path / "auditor")
    try:
        for url in (receiver.url(), receiver.url(host="localhost"), "http://169.254.169.254/"):
            rc, body = create_hook(auditor, url)
            assert rc != 0 and body["Code"] == "InvalidParameter.UrlDestination", body
        rc, body = create_hook(auditor, receiver.url().replace("http://", "http://u:p@"))
        assert rc != 0 and body["Code"] == "InvalidParameter.Url", body
    finally:
        auditor.stop()
    assert receiver.requests == []


def test_an_allowed_loopback_hook_gets_a_real_notification(tmp_path, receiver):
    auditor = start_auditor(tmp_path / "auditor", "--allow-hook-host", "127.0.0.1")
    store = Database(json.loads((auditor.data_dir / "auditor.json").read_text())["db"])
    try:
        rc, body = create_hook(auditor, receiver.url(host="localhost"))  # only the named host
        assert rc != 0 and body["Code"] == "InvalidParameter.UrlDestination", body
        rc, body = create_hook(auditor, receiver.url())
        assert rc == 0, body
        ok(
            auditor,
            "CreateSubscription",
            "Category=alerts",
            "Levels=serious",
            f"ChannelIds={body['ChannelId']}",
        )
        # The dispatcher reads channels through a 2 s cache and fails a row whose channel it
        # does not (yet) see as "deleted": let the cache expire before the alert is queued.
        time.sleep(2.5)
        loaded = CloudStateRepository(store).load()
        assert loaded is not None
        account = loaded[1]["account_id"]
        # an alert opened in the auditor's database, queued as its check runner queues it
        AlertRepository(store, on_opened=notify.enqueue).apply_findings(
            Scope(account, "i-web", frozenset({"login.brute_force"})),
            [Finding("login.brute_force", "i-web", "203.0.113.7", title="SSH brute force")],
            datetime.now(UTC),
        )
        wait_for(lambda: receiver.requests, 20, 0.05, what="the SMS hook")
    finally:
        store.close()
        auditor.stop()
    [(path, headers, body_bytes)] = receiver.requests
    assert path == "/sms" and headers["x-token"] == "hook-secret"
    assert headers["host"] == f"127.0.0.1:{receiver.port}"
    assert "SSH brute force" in body_bytes.decode()
