"""The auditor's HTTP port: the ECS-style API at `/`, `/healthz`, and whatever the
dashboard mounts. A small WSGI app served by waitress: it reads every request in full on
its event loop before a worker thread sees it (slow clients hold no thread), closes idle
connections, bounds header and body sizes, and stops gracefully."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

import waitress
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.api.protocol import parse_form, read_request, render

__all__ = ["HttpApp", "HttpServer", "Reply", "Request", "parse_form", "start_http"]

log = logging.getLogger("palisade.http")

MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
DEFAULT_TIMEOUT_S = 30  # an idle or stalled connection is closed after this
WORKER_THREADS = 16  # requests handled at once; connections wait (buffered) for a worker
CONNECTION_LIMIT = 2000  # open connections; past it the server stops accepting for a while
SHUTDOWN_GRACE_S = 10.0


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_ip: str


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)  # Set-Cookie values

    @classmethod
    def json(cls, status: int, data: dict) -> Reply:
        return cls(status, (json.dumps(data, ensure_ascii=False) + "\n").encode())


Route = Callable[[Request], Reply]


class HttpApp:
    def __init__(self, api: ApiService):
        self.api = api
        self.routes: list[tuple[str, Route]] = []  # (path prefix, handler), longest first

    def mount(self, prefix: str, route: Route) -> None:
        self.routes.append((prefix, route))
        self.routes.sort(key=lambda r: -len(r[0]))

    def dispatch(self, request: Request) -> Reply:
        if request.path == "/healthz":
            return Reply.json(200, {"status": "ok"})
        if request.path == "/":
            if request.method == "GET" and not request.query and self.routes:
                # a browser at the root: the dashboard, not an API error
                return Reply(303, b"", "text/plain", {"Location": "/ui/"})
            return self.api_call(request)
        for prefix, route in self.routes:
            if request.path.startswith(prefix):
                return route(request)
        return Reply.json(404, {"Code": "NotFound", "Message": "no such page"})

    def api_call(self, request: Request) -> Reply:
        if request.method not in ("GET", "POST"):
            return Reply.json(405, {"Code": "MethodNotAllowed", "Message": "use GET or POST"})
        if request.method == "POST":
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in ("application/x-www-form-urlencoded", ""):
                return Reply.json(
                    415,
                    {
                        "Code": "UnsupportedMediaType",
                        "Message": "send the parameters form-urlencoded",
                    },
                )
        try:
            call = read_request(request.method, request.query, request.headers, request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            return Reply.json(400, {"Code": "InvalidParameter", "Message": str(exc)})
        response = self.api.handle(
            request.method, "/", call.params, request.client_ip, http=call.http
        )
        host = request.headers.get("host", "palisade")[:255]
        body, content_type = render(response.status, response.body, call.params, host)
        return Reply(response.status, body, content_type)


def _too_large() -> Reply:
    return Reply.json(
        413, {"Code": "RequestTooLarge", "Message": f"the body exceeds {MAX_BODY_BYTES} bytes"}
    )


def _headers(environ: dict) -> dict[str, str]:
    out = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            out[key.replace("_", "-").lower()] = environ[key]
    return out


def _reply_for(app: HttpApp, environ: dict) -> Reply:
    method = environ["REQUEST_METHOD"]
    if method not in ("GET", "POST", "HEAD"):
        return Reply.json(
            501, {"Code": "NotImplemented", "Message": f"unsupported method {method[:16]}"}
        )
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return Reply.json(400, {"Code": "InvalidParameter", "Message": "a bad Content-Length"})
    if length > MAX_BODY_BYTES:
        return _too_large()
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    request = Request(
        method,
        path,
        environ.get("QUERY_STRING", ""),
        _headers(environ),
        body,
        environ.get("REMOTE_ADDR", ""),
    )
    try:
        return app.dispatch(request)
    except Exception:
        log.exception("error serving %s %s", method, path)
        return Reply.json(
            500, {"Code": "InternalError", "Message": "the auditor failed; see its log"}
        )


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _response_headers(reply: Reply) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", reply.content_type),
        ("Content-Length", str(len(reply.body))),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if "Cache-Control" not in reply.headers:
        headers.append(("Cache-Control", "no-store"))
    headers += list(reply.headers.items())
    headers += [("Set-Cookie", cookie) for cookie in reply.cookies]
    return headers


def make_wsgi(app: HttpApp) -> Callable:
    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        reply = _reply_for(app, environ)
        headers = _response_headers(reply)
        if reply.status == 413:
            headers.append(("Connection", "close"))
        start_response(_status(reply.status), headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [reply.body]

    return wsgi


class EcsErrorTask(ErrorTask):
    """What waitress rejects itself (a body or header block over the limit, a malformed
    request) gets the API's error shape, not waitress's plain text."""

    def execute(self) -> None:
        error = self.request.error
        if error.code == 413:
            reply = _too_large()
        else:
            code = {431: "RequestHeaderFieldsTooLarge", 400: "BadRequest"}.get(
                error.code, "InternalError"
            )
            reply = Reply.json(error.code, {"Code": code, "Message": str(error.body)[:200]})
        self.status = _status(reply.status)
        self.response_headers.extend(_response_headers(reply))
        self.set_close_on_finish()
        self.content_length = len(reply.body)
        self.write(reply.body)


class EcsChannel(HTTPChannel):
    error_task_class = EcsErrorTask


class HttpServer:
    """waitress on one address: `serve_forever` runs its loop, `shutdown` stops accepting,
    lets the requests in flight finish (up to a grace period) and closes everything."""

    def __init__(self, app: HttpApp, host: str, port: int, timeout_s: int = DEFAULT_TIMEOUT_S):
        self.server = waitress.create_server(
            make_wsgi(app),
            host=host,
            port=port,
            threads=WORKER_THREADS,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=timeout_s,
            cleanup_interval=max(1, min(30, timeout_s // 2)),
            max_request_body_size=MAX_BODY_BYTES,
            max_request_header_size=MAX_HEADER_BYTES,
            clear_untrusted_proxy_headers=False,  # the headers reach the app as sent
            ident="palisade",
            expose_tracebacks=False,
        )
        self.server.channel_class = EcsChannel
        self.server_port = int(self.server.effective_port)
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        try:
            self.server.run()
        finally:
            self._stopped.set()

    def _busy(self) -> bool:
        for channel in list(self.server.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                return True
        return bool(self.server.task_dispatcher.active_count)

    def shutdown(self, grace_s: float = SHUTDOWN_GRACE_S) -> None:
        server = self.server

        def stop_accepting() -> None:
            server.accepting = False
            server.del_channel()
            server.socket.close()

        server.trigger.pull_trigger(stop_accepting)
        deadline = time.monotonic() + grace_s
        while self._busy() and time.monotonic() < deadline:
            time.sleep(0.02)

        def close_all() -> None:
            for channel in list(server._map.values()):  # noqa: SLF001  # waitress's socket map
                try:
                    channel.close()
                except OSError:
                    pass

        server.trigger.pull_trigger(close_all)
        self._stopped.wait(5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)


def start_http(
    app: HttpApp, host: str, port: int, timeout_s: int = DEFAULT_TIMEOUT_S
) -> HttpServer:
    return HttpServer(app, host, port, timeout_s)
