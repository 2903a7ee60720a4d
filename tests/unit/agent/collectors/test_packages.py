"""Installed packages: dpkg's status file parsed directly, rpm's query output, caching."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import packages

STATUS = Path(__file__).resolve().parents[3] / "data" / "packages" / "dpkg_status"


def _rows(pkgs):
    return [(p.name, p.version, p.arch, p.source, p.source_package) for p in pkgs]


def test_dpkg_status_lists_what_is_on_disk():
    assert _rows(packages.parse_dpkg_status(STATUS.read_bytes())) == [
        ("openssh-server", "1:9.2p1-2+deb12u3", "amd64", "dpkg", "openssh"),
        ("libssl3", "3.0.15-1~deb12u1", "amd64", "dpkg", "openssl"),
        ("tzdata", "2024a-0+deb12u1", "all", "dpkg", ""),
        ("libc-bin", "2.36-9+deb12u9+b1", "amd64", "dpkg", "glibc"),  # binNMU: "glibc (ver)"
        ("half-done", "0.1", "arm64", "dpkg", ""),  # files are there; config-files ones not
    ]


def _image(tmp_path: Path) -> Path:
    target = tmp_path / "var/lib/dpkg/status"
    target.parent.mkdir(parents=True)
    shutil.copy(STATUS, target)
    return target


def test_collect_reads_a_mounted_image_and_caches_until_the_file_changes(tmp_path, monkeypatch):
    status = _image(tmp_path)
    calls = []
    real = packages.parse_dpkg_status
    monkeypatch.setattr(packages, "parse_dpkg_status", lambda data: calls.append(1) or real(data))
    first = packages.collect(str(tmp_path))
    assert len(first) == 5 and len(calls) == 1
    assert _rows(packages.collect(str(tmp_path))) == _rows(first) and len(calls) == 1
    status.write_bytes(status.read_bytes().replace(b"3.0.15-1~deb12u1", b"3.0.16-1~deb12u1"))
    os.utime(status, ns=(1, 1))  # a different mtime even within the clock's resolution
    again = packages.collect(str(tmp_path))
    assert len(calls) == 2
    assert ("libssl3", "3.0.16-1~deb12u1") in [(p.name, p.version) for p in again]


def test_no_package_database_gives_nothing(tmp_path):
    assert packages.collect(str(tmp_path)) == []


def test_rpm_query_output():
    text = (
        "openssh-server\t8.7p1-38.el9\tx86_64\topenssh-8.7p1-38.el9.src.rpm\tRed Hat, Inc.\n"
        "bash\t5.1.8-9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\tRed Hat, Inc.\n"
        "shim-x64\t1:15.8-1.el9\tx86_64\tshim-15.8-1.el9.src.rpm\t(none)\n"
        "gpg-pubkey\tfd431d51-4ae0493b\t(none)\t(none)\t(none)\n"
        "garbage line\n"
    )
    rows = [
        (p.name, p.version, p.arch, p.source, p.source_package, p.vendor)
        for p in packages.parse_rpm_query(text)
    ]
    assert rows == [
        ("openssh-server", "8.7p1-38.el9", "x86_64", "rpm", "openssh", "Red Hat, Inc."),
        ("bash", "5.1.8-9.el9", "x86_64", "rpm", "bash", "Red Hat, Inc."),
        ("shim-x64", "1:15.8-1.el9", "x86_64", "rpm", "shim", ""),
    ]


@settings(max_examples=300, deadline=None)
@given(st.binary() | st.text().map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_parsers_never_raise(data):
    for pkg in packages.parse_dpkg_status(data):
        pkg.SerializeToString()
    packages.parse_rpm_query(data.decode("utf-8", "replace"))
