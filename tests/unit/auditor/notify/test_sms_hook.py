"""Issue 18, defect 5 at send time: the SMS hook transport checks the URL again before each
send, connects only to the addresses it checked (the Host header still names the host), and
follows no redirect. A real HTTP receiver on loopback; DNS answers are faked."""

from __future__ import annotations

import socket
import threading

import pytest

from palisade.auditor.notify.messages import Delivery
from palisade.auditor.notify.models import Channel, NotifyEvent, SmsHookConfig
from palisade.auditor.notify.transports import PermanentDeliveryError
from palisade.auditor.notify.transports.sms_hook import SmsHookTransport
from tests.helpers.fake_dns import fake_dns
from tests.helpers.hook_receiver import HookReceiver

EVENT = NotifyEvent("1", "7", "i-1", "login.brute_force", "login", "serious", "Brute", "9 fails")


def delivery(url: str) -> Delivery:
    channel = Channel("nc-sms", "1", "sms", "sms_hook", SmsHookConfig(url, timeout_s=5))
    return Delivery("nt-1", channel, (EVENT,), (1,))


@pytest.fixture
def receiver():
    r = HookReceiver()
    yield r
    r.stop()


def test_a_loopback_hook_is_refused_at_send_time(receiver):
    with pytest.raises(PermanentDeliveryError, match="loopback"):
        SmsHookTransport().send(delivery(receiver.url()))
    assert receiver.requests == []


def test_a_name_resolving_to_the_metadata_address_is_refused_at_send_time(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["100.100.100.200"]})
    with pytest.raises(PermanentDeliveryError, match="metadata"):
        SmsHookTransport().send(delivery("http://hooks.example.com/sms"))


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(monkeypatch):
    """No second look-up between the check and the connection (DNS rebinding)."""
    looked_up = fake_dns(monkeypatch, {"hooks.example.com": ["93.184.215.14"]})
    connected: list[tuple] = []
    request = bytearray()

    real_create_connection, this_thread = socket.create_connection, threading.get_ident()

    def create_connection(address, timeout=None, *args, **kwargs):
        # Threads other tests left running (receivers, dispatchers) connect as usual: only
        # this test's own connection is faked and recorded.
        if threading.get_ident() != this_thread:
            return real_create_connection(address, timeout, *args, **kwargs)
        connected.append(address)
        ours, theirs = socket.socketpair()

        def answer():
            # Read the whole request (head and body) before answering, and keep our end open
            # until the client is done: closing early breaks the client's pipe mid-body.
            with theirs:
                while b"\r\n\r\n" not in request:
                    request.extend(theirs.recv(65536))
                head, _, body = bytes(request).partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(body) < length:
                    chunk = theirs.recv(65536)
                    request.extend(chunk)
                    body += chunk
                theirs.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                while theirs.recv(65536):
                    pass

        threading.Thread(target=answer, daemon=True).start()
        return ours

    monkeypatch.setattr(socket, "create_connection", create_connection)
    SmsHookTransport().send(delivery("http://hooks.example.com:8080/sms?to=ops"))
    assert connected == [("93.184.215.14", 8080)]
    assert looked_up == ["hooks.example.com"]  # once: the check's answer is used
    head = bytes(request).decode().split("\r\n")
    assert head[0] == "POST /sms?to=ops HTTP/1.1"
    assert "Host: hooks.example.com:8080" in head


def test_an_allowed_host_is_delivered_to(receiver):
    from palisade.auditor.notify.hook_targets import HookPolicy

    transport = SmsHookTransport(HookPolicy(allowed_hosts=frozenset({"127.0.0.1"})))
    transport.send(delivery(receiver.url(path="/sms?x=1")))
    [(path, headers, body)] = receiver.requests
    assert path == "/sms?x=1" and headers["x-palisade-delivery"] == "nt-1"
    assert headers["host"] == f"127.0.0.1:{receiver.port}" and b"Brute" in body


def test_a_redirect_is_not_followed(receiver):
    """A public-looking hook must not bounce the auditor to a private address."""
    from palisade.auditor.notify.hook_targets import HookPolicy

    bouncer = HookReceiver(redirect_to=receiver.url(path="/inside"))
    try:
        transport = SmsHookTransport(HookPolicy(allowed_hosts=frozenset({"localhost"})))
        with pytest.raises(PermanentDeliveryError, match="302"):
            transport.send(delivery(bouncer.url(host="localhost")))
    finally:
        bouncer.stop()
    assert len(bouncer.requests) == 1 and receiver.requests == []
