"""The hook URL check itself (auditor/notify/hook_targets.py): which addresses are refused,
how the allow setting is read, and that no text makes it crash."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.notify.hook_targets import (
    HookPolicy,
    HookUrlError,
    parse,
    parse_allowed,
    refusal,
)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "not a public address"),  # shared (carrier-grade NAT)
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("::7f00:1", "loopback"),  # IPv4-compatible 127.0.0.1
    ],
)
def test_refused_addresses(address, why):
    assert why in (refusal(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:2800:21f:cb07::1"])
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_parse_keeps_the_parts_the_request_needs():
    url = parse("HTTPS://Hooks.Example.COM.:8443/send?to=ops#frag")
    assert (url.scheme, url.host, url.port, url.target) == (
        "https",
        "hooks.example.com",
        8443,
        "/send?to=ops",
    )
    assert url.host_header == "hooks.example.com:8443"
    assert parse("http://[::1]/").host_header == "[::1]"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h/x",
        "file:///etc/passwd",
        "gopher://h/",
        "http:///x",
        "http://u:p@h/",
        "http://u@h/",
        "http://h:99999/",
        "http://h:port/",
        "http://h:0/",
        "http://a..b/",
        "http://h /",
        "http://h/\r\nX: y",
        "",
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(HookUrlError) as err:
        parse(url)
    assert err.value.field == "Url"


def test_allow_setting_is_normalised():
    assert parse_allowed(["LocalHost., [::1]", "", " 127.0.0.1 "]) == {
        "localhost",
        "::1",
        "127.0.0.1",
    }
    policy = HookPolicy(allowed_hosts=parse_allowed(["localhost"]))
    assert policy.check("http://LOCALHOST:9/x", require_resolution=True).host == "localhost"


def test_a_name_that_does_not_resolve():
    def nxdomain(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    policy = HookPolicy(resolve=nxdomain)
    assert policy.check("https://nowhere.example/", require_resolution=False).host == (
        "nowhere.example"
    )
    with pytest.raises(OSError):
        policy.check("https://nowhere.example/", require_resolution=True)


def _public(host, port):
    return ["93.184.215.14"]


def _loopback(host, port):
    return ["127.0.0.1"]


URLISH = st.builds(
    "{}://{}{}{}{}".format,
    st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript"]),
    st.sampled_from(["", "u@", "u:p@", ":@"]),
    st.one_of(
        st.text(max_size=30),
        st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
        st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
    ),
    st.sampled_from(["", ":", ":0", ":80", ":65536", ":-1", ":x"]),
    st.text(max_size=20),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(), URLISH))
def test_the_url_check_never_crashes(text):
    for resolve in (_public, _loopback):
        try:
            url = HookPolicy(resolve=resolve).check(text, require_resolution=True)
        except HookUrlError as exc:
            assert exc.field in ("Url", "UrlDestination") and exc.message
            continue
        assert url.scheme in ("http", "https") and url.host and 0 < url.port < 65536
        if resolve is _loopback:  # only a public address written in the URL gets through
            assert refusal(ipaddress.ip_address(url.host.split("%")[0])) is None
