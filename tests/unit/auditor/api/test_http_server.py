"""The HTTP server itself, in process on loopback with a fake route: graceful stop, the
body limit's error shape, the headers every reply carries."""

from __future__ import annotations

import http.client
import json
import threading
import time

from palisade.auditor.api.http import HttpApp, Reply, Request, start_http
from tests.helpers.raw_http import exchange


class SlowRoute:
    def __init__(self):
        self.started = threading.Event()
        self.finished = threading.Event()

    def __call__(self, request: Request) -> Reply:
        self.started.set()
        time.sleep(1.0)
        self.finished.set()
        return Reply(200, b"done", "text/plain", cookies=["a=b; HttpOnly"])


def _serve(route):
    app = HttpApp(api=None)  # type: ignore[arg-type]  # the fake route needs no API
    app.mount("/slow/", route)
    server = start_http(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_shutdown_lets_the_in_flight_request_finish():
    route = SlowRoute()
    server = _serve(route)
    answer: dict = {}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/slow/")
        resp = conn.getresponse()
        answer["status"], answer["body"] = resp.status, resp.read()
        answer["cookie"] = resp.getheader("Set-Cookie")

    t = threading.Thread(target=client)
    t.start()
    assert route.started.wait(5)
    server.shutdown()
    assert route.finished.is_set(), "shutdown returned before the in-flight request finished"
    t.join(5)
    assert answer == {"status": 200, "body": b"done", "cookie": "a=b; HttpOnly"}


def test_replies_carry_the_security_headers_and_errors_keep_their_shape():
    server = _serve(SlowRoute())
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/nowhere")
        resp = conn.getresponse()
        assert resp.status == 404
        assert resp.getheader("X-Content-Type-Options") == "nosniff"
        assert resp.getheader("Cache-Control") == "no-store"
        assert json.loads(resp.read()) == {"Code": "NotFound", "Message": "no such page"}
        received = exchange(
            ("127.0.0.1", server.server_port),
            b"POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n" + b"x" * (1024 * 1024 + 1),
        )
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.split()[1] == b"413", head
        assert b"\r\nContent-Type: application/json; charset=utf-8" in head
        assert json.loads(body)["Code"] == "RequestTooLarge"
    finally:
        server.shutdown()


def test_a_header_block_over_the_limit_and_head_requests():
    server = _serve(SlowRoute())
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("HEAD", "/healthz")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"")
        assert resp.getheader("Content-Length") == str(len(b'{"status": "ok"}\n'))
        assert resp.getheader("Server") == "palisade"
        received = exchange(
            ("127.0.0.1", server.server_port),
            b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * (70 * 1024) + b"\r\n\r\n",
        )
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.split()[1] == b"431", head
        assert json.loads(body)["Code"] == "RequestHeaderFieldsTooLarge"
    finally:
        server.shutdown()
