"""`palisade serve`: the auditor process (store, CA, gRPC ingest, the checks, the notification
dispatcher, the HTTP port with the API and the dashboard)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import logging
import signal
import threading
from pathlib import Path

from palisade.auditor import notify
from palisade.auditor.alerts.lifecycle import LifecycleSettings
from palisade.auditor.alerts.repository import AlertRepository
from palisade.auditor.api.client import CREDENTIALS_FILE
from palisade.auditor.api.http import DEFAULT_TIMEOUT_S, HttpApp, start_http
from palisade.auditor.api.instance_credentials import DEFAULT_TTL as DEFAULT_STS_TTL
from palisade.auditor.api.instance_credentials import InstanceRoleCredentials
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.checks import CheckSettings
from palisade.auditor.ingest import server as ingest
from palisade.auditor.notify.hook_targets import HookPolicy
from palisade.auditor.notify.settings_repository import NotificationSettingsCache
from palisade.auditor.server import key_activation, quota_settings
from palisade.auditor.server.check_runner import CheckRunner
from palisade.auditor.server.data_dir import DataDir
from palisade.auditor.web.app import PREFIX, Dashboard
from palisade.shared import tls

GC_THRESHOLD_0 = 50_000  # allocations between young-generation collections (default 700)

log = logging.getLogger("palisade.auditor")


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def default_enroll_address(grpc_address: str) -> str:
    """The enrolment port defaults to the ingest port + 1 (any free port when that is 0)."""
    host, port = _split(grpc_address)
    return f"{host}:{port + 1 if port else 0}"


async def serve(
    data_dir: Path,
    grpc_address: str,
    http_address: str,
    db: str | None = None,
    max_message_bytes: int = ingest.DEFAULT_MAX_MESSAGE_BYTES,
    enroll_address: str | None = None,
    sts_ttl: dt.timedelta = DEFAULT_STS_TTL,
    check_settings: CheckSettings | None = None,
    check_period_s: float = 60.0,
    allow_hook_hosts: frozenset[str] = frozenset(),
    http_timeout_s: int = DEFAULT_TIMEOUT_S,
    handled_reopen_after: dt.timedelta | None = None,
    limits: dict[str, int | None] | None = None,
) -> None:
    d = DataDir(Path(data_dir))
    d.path.mkdir(parents=True, exist_ok=True)
    store = d.store(db)
    ca = d.ca()
    key_pem, chain_pem = ca.server_identity(d.path / "ca", dt.datetime.now(dt.UTC))
    enroll_address = enroll_address or default_enroll_address(grpc_address)
    alerts = AlertRepository(
        store,
        LifecycleSettings(handled_reopen_after=handled_reopen_after),
        on_opened=notify.enqueue,
    )
    # which SMS hook hosts may be private (checked at the API and before every send)
    hook_policy = HookPolicy(allowed_hosts=allow_hook_hosts)
    check_settings = check_settings or CheckSettings()
    api = ApiService(
        store,
        services={"alerts": alerts, "hook_policy": hook_policy, "check_settings": check_settings},
    )
    admin = api.initialise()
    quota_settings.apply(api, **(limits or {}))  # the settings file's [limits], if any
    following = threading.Event()  # set at shutdown
    api.live.follow(following)  # other replicas' changes, as they commit
    dispatcher = notify.Dispatcher(
        store, NotificationSettingsCache(store), notify.default_transports(store, hook_policy)
    ).start()
    runner = CheckRunner(
        store,
        api,
        alerts,
        check_settings,
        after_commit=dispatcher.notify_new,
        period_s=check_period_s,
    )
    servers, grpc_port, enroll_port = await ingest.start_grpc(
        store,
        ca,
        key_pem,
        chain_pem,
        grpc_address,
        enroll_address,
        max_message_bytes,
        role_credentials=InstanceRoleCredentials(api, sts_ttl),
        on_committed=runner.instances_changed,
        on_restart=key_activation.restart_listener(api),
    )
    if admin is not None:
        tls.write_secret(
            d.path / CREDENTIALS_FILE,
            (
                json.dumps(
                    {
                        "UserName": admin.user_name,
                        "AccessKeyId": admin.access_key_id,
                        "AccessKeySecret": admin.access_key_secret,
                        "ConsolePassword": admin.console_password,
                    },
                    indent=2,
                )
                + "\n"
            ).encode(),
        )
        log.info(
            "created the first administrator %r; credentials in %s",
            admin.user_name,
            d.path / CREDENTIALS_FILE,
        )
    http_host, http_port = _split(http_address)
    app = HttpApp(api)
    app.mount(PREFIX, Dashboard(api, store, alerts=alerts))
    httpd = start_http(app, http_host, http_port, http_timeout_s)
    threading.Thread(target=httpd.serve_forever, name="http", daemon=True).start()
    grpc_host = _split(grpc_address)[0]
    state = {
        "grpc": f"{grpc_host}:{grpc_port}",
        "enroll": f"{_split(enroll_address)[0]}:{enroll_port}",
        "http": f"{http_host}:{httpd.server_port}",
        "db": store.url,
        "ca_pin": ca.pin,
    }
    d.write_state(state)
    log.info(
        "auditor listening: grpc %s, enrolment %s, http %s, store %s",
        state["grpc"],
        state["enroll"],
        state["http"],
        store.engine.url.render_as_string(hide_password=True),
    )
    print(json.dumps({k: state[k] for k in ("grpc", "enroll", "http")}), flush=True)
    # Ingest allocates (and frees) hundreds of thousands of small objects a second; with the
    # default thresholds the cyclic collector ran hundreds of times a second over them, under
    # the GIL. What start-up built is moved out of its sight; young objects are scanned less
    # often.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD_0, 20, 20)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner_task = asyncio.create_task(runner.run(stop), name="checks")
    await stop.wait()
    runner.request_stop()
    await runner_task
    dispatcher.stop()
    following.set()
    log.info("shutting down")
    await asyncio.to_thread(httpd.shutdown)  # the requests in flight finish first
    for server in servers:
        await server.stop(grace=5)
    store.close()
