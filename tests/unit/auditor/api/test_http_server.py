"""The HTTP server itself, in process on loopback with a fake route: graceful stop, the
body limit's error shape, the headers every reply carries."""

from __future__ import annotations

import http.client
import json
import threading
import time

from palisade.auditor.api.http import HttpApp, Reply, Request, start_http


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
        conn.request("POST", "/", body=b"x" * (1024 * 1024 + 1))
        resp = conn.getresponse()
        assert resp.status == 413
        assert resp.getheader("Content-Type") == "application/json; charset=utf-8"
        assert json.loads(resp.read())["Code"] == "RequestTooLarge"
    finally:
        server.shutdown()
