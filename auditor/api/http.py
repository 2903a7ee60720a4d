"""The auditor's HTTP port: the ECS-style API at `/`, `/healthz`, and whatever the
dashboard mounts. Stdlib http.server: no framework to keep patched."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from palisade.auditor.api.pipeline import ApiService

log = logging.getLogger("palisade.http")

MAX_BODY_BYTES = 1024 * 1024


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


def parse_form(text: str) -> dict[str, str]:
    """Query or urlencoded body -> params; a repeated name is an error, not a silent pick."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(
        text, keep_blank_values=True, strict_parsing=False, max_num_fields=2000
    ):
        if key in out:
            raise ValueError(f"the parameter {key[:64]} is given twice")
        out[key] = value
    return out


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
        try:
            if request.method == "GET":
                params = parse_form(request.query)
            elif request.method == "POST":
                ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if ctype not in ("application/x-www-form-urlencoded", ""):
                    return Reply.json(
                        415,
                        {
                            "Code": "UnsupportedMediaType",
                            "Message": "send the parameters form-urlencoded",
                        },
                    )
                params = parse_form(request.query)
                for key, value in parse_form(request.body.decode("utf-8")).items():
                    if key in params:
                        raise ValueError(f"the parameter {key[:64]} is given twice")
                    params[key] = value
            else:
                return Reply.json(405, {"Code": "MethodNotAllowed", "Message": "use GET or POST"})
        except (ValueError, UnicodeDecodeError) as exc:
            return Reply.json(400, {"Code": "InvalidParameter", "Message": str(exc)})
        response = self.api.handle(request.method, "/", params, request.client_ip)
        return Reply.json(response.status, response.body)


def make_handler(app: HttpApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "palisade"
        sys_version = ""

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                reply = Reply.json(
                    413,
                    {
                        "Code": "RequestTooLarge",
                        "Message": f"the body exceeds {MAX_BODY_BYTES} bytes",
                    },
                )
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length > 0 else b""
                request = Request(
                    self.command,
                    split.path,
                    split.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[0],
                )
                try:
                    reply = app.dispatch(request)
                except Exception:
                    log.exception("error serving %s %s", self.command, split.path)
                    reply = Reply.json(
                        500, {"Code": "InternalError", "Message": "the auditor failed; see its log"}
                    )
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            if "Cache-Control" not in reply.headers:
                self.send_header("Cache-Control", "no-store")
            for key, value in reply.headers.items():
                self.send_header(key, value)
            for cookie in reply.cookies:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_HEAD = _serve

        def log_message(self, fmt, *args):  # requests are logged by the API, without secrets
            pass

    return Handler


def start_http(app: HttpApp, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(app))
    server.daemon_threads = True
    return server
