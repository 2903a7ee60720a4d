"""The auditor's HTTP port under slow clients and oversized bodies, on a real `palisade serve`:
slow or silent connections must not keep the API from answering, idle ones are closed, and
a body over the limit gets an ECS-style error."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.helpers import palisade_cli
from tests.helpers.auditor_process import start_auditor
from tests.helpers.polling import wait_for
from tests.helpers.raw_http import exchange

pytestmark = pytest.mark.integration

SLOW_CLIENTS = 200
PARTIAL = [
    b"",  # connects and says nothing
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # headers never finished
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4096\r\n\r\nAction=",  # body never
]


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    proc = start_auditor(tmp_path_factory.mktemp("http") / "auditor", "--http-timeout", "3")
    yield proc
    proc.stop()


def _address(auditor) -> tuple[str, int]:
    host, port = auditor.http.rsplit(":", 1)
    return host, int(port)


def _raw(auditor, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send `data`, read the whole answer (the server closes); status, headers, body."""
    with socket.create_connection(_address(auditor), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_api_answers_within_1s_while_200_slow_clients_hold_connections(auditor):
    palisade_cli.ok(auditor, "DescribeRegions")  # warm: the CLI's imports, the first login
    slow: list[socket.socket] = []
    try:
        for i in range(SLOW_CLIENTS):
            s = socket.create_connection(_address(auditor), timeout=5)
            s.sendall(PARTIAL[i % len(PARTIAL)])
            slow.append(s)
        time.sleep(0.5)  # every slow connection is accepted and waiting
        started = time.monotonic()
        body = palisade_cli.ok(auditor, "DescribeRegions")
        took = time.monotonic() - started
    finally:
        for s in slow:
            s.close()
    assert "Regions" in body
    assert took < 1.0, f"a signed request took {took:.2f} s behind {SLOW_CLIENTS} slow clients"


def test_an_idle_connection_is_closed_after_the_timeout(auditor):
    with socket.create_connection(_address(auditor), timeout=15) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
        started = time.monotonic()
        closed = s.recv(1024) == b""  # the server hangs up
        took = time.monotonic() - started
    assert closed
    assert took < 10, f"the idle connection was held {took:.1f} s (timeout 3 s)"


def test_a_declared_body_over_the_limit_gets_an_ecs_error(auditor):
    status, headers, body = _raw(
        auditor,
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: 2097152\r\n\r\nAction=DescribeRegions",
    )
    assert status == 413
    assert headers["content-type"] == "application/json; charset=utf-8"
    error = json.loads(body)
    assert error["Code"] == "RequestTooLarge"
    assert "1048576" in error["Message"]


def test_a_chunked_body_over_the_limit_gets_an_ecs_error(auditor):
    chunk = b"a" * 65536
    data = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    data += b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    data += (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 20 + b"0\r\n\r\n"  # 1.25 MiB
    head, _, body = exchange(_address(auditor), data).partition(b"\r\n\r\n")
    assert head.split()[1] == b"413", head
    assert json.loads(body)["Code"] == "RequestTooLarge"


def test_the_api_still_answers_after_the_slow_clients_left(auditor):
    wait_for(lambda: palisade_cli.ok(auditor, "DescribeRegions"), 5, what="API answers")
