"""The plain-text AccessKey collector: what it finds in a built host root, and that the secret
never leaves it."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import access_keys
from palisade.agent.snapshot import collect_snapshot

KEY_ID = "LTAI5tQ9xYz8WkLmN3pR"
SECRET = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1"  # 30 alphanumerics
OTHER_ID = "LTAI4FzXrT2bC7dE9gH1"
OTHER_SECRET = "zY8xW6vU4tS2rQ0pO8nM6lK4jI2hG0"
assert len(SECRET) == len(OTHER_SECRET) == 30

PASSWD = """root:x:0:0:root:/root:/bin/bash
alice:x:1000:100::/home/alice:/bin/bash
bob:x:1001:100::/home/bob:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
"""


def put(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def host(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    put(root, "/etc/passwd", PASSWD)
    put(root, "/etc/group", "root:x:0:\nusers:x:100:\n")
    return root


def found(root: Path, **config) -> list[tuple[str, int, str, str]]:
    cfg = access_keys.ScanConfig(**config) if config else access_keys.DEFAULT_CONFIG
    return [
        (k.path, k.line, k.access_key_id, k.user)
        for k in access_keys.collect(str(root), config=cfg)
    ]


# ---- detection in text ------------------------------------------------------------------------


def ids(text: str) -> list[tuple[int, str]]:
    return [(k.line, k.access_key_id) for k in access_keys.find_access_keys(text)]


def test_an_id_with_a_secret_on_the_same_line():
    assert ids(f"export KEYS={KEY_ID}:{SECRET}\n") == [(1, KEY_ID)]
    assert ids(f"aliyun configure set --access-key-id {KEY_ID} --access-key-secret {SECRET}") == [
        (1, KEY_ID)
    ]


def test_an_id_with_a_secret_within_two_lines_either_side():
    assert ids(f"{SECRET}\n\n{KEY_ID}\n") == [(3, KEY_ID)]
    assert ids(f"{KEY_ID}\nx\ny\n{SECRET}\n") == []  # three lines away: unrelated
    assert ids(f"id = {KEY_ID}\nsecret = {SECRET}\n") == [(1, KEY_ID)]


def test_json_and_ini_secret_names_count_whatever_the_value_looks_like():
    config = {
        "current": "default",
        "profiles": [
            {
                "name": "default",
                "mode": "AK",
                "access_key_id": KEY_ID,
                "access_key_secret": "short-but-still-a-secret",
            }
        ],
    }
    text = json.dumps(config, indent=2)
    line = text.splitlines().index(f'      "access_key_id": "{KEY_ID}",') + 1
    assert ids(text) == [(line, KEY_ID)]
    assert ids(f'{{"AccessKeyId": "{KEY_ID}", "AccessKeySecret": "s3cr3t"}}') == [(1, KEY_ID)]
    ini = f"[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = s3cr3t\n"
    assert ids(ini) == [(2, KEY_ID)]
    env = f"ALIBABA_CLOUD_ACCESS_KEY_ID={KEY_ID}\nALIBABA_CLOUD_ACCESS_KEY_SECRET=s3cr3t\n"
    assert ids(env) == [(1, KEY_ID)]


def test_what_is_not_a_long_lived_key():
    assert ids(f"{KEY_ID}\n") == []  # an id alone: nothing to use
    assert ids(f"STS.{KEY_ID} {SECRET}") == []  # temporary
    assert ids(f"LTAI12345 {SECRET}") == []  # too short for an id
    assert ids(f"xLTAI5tQ9xYz8WkLmN3pR {SECRET}") == []  # part of a longer word
    assert ids(f"{KEY_ID} " + "a" * 31) == []  # 31 characters is not a secret
    assert ids(f'{KEY_ID} "AccessKeySecret": ""') == []  # an empty value
    # an id of 30 characters is not its own secret
    long_id = "LTAI" + "A" * 26
    assert ids(long_id) == []
    assert ids(f"{long_id} {SECRET}") == [(1, long_id)]


def test_every_id_on_a_line_once():
    text = f"{KEY_ID} {SECRET} {OTHER_ID} {OTHER_SECRET} {KEY_ID}\n"
    assert ids(text) == [(1, KEY_ID), (1, OTHER_ID)]


# ---- files of a host root ---------------------------------------------------------------------


def test_collects_from_homes_system_files_and_patterns(tmp_path):
    root = host(tmp_path)
    put(
        root,
        "/home/alice/.aliyun/config.json",
        json.dumps(
            {"profiles": [{"access_key_id": KEY_ID, "access_key_secret": SECRET}]}, indent=1
        ),
    )
    put(root, "/home/alice/.bash_history", f"ls\naliyun configure --ak {KEY_ID} --sk {SECRET}\n")
    put(
        root,
        "/home/bob/.ossutilconfig",
        f"[Credentials]\naccessKeyID={OTHER_ID}\naccessKeySecret={OTHER_SECRET}\n",
    )
    put(root, "/home/bob/app/prod.env", f"AK={OTHER_ID}\nSK={OTHER_SECRET}\n")
    put(root, "/home/bob/app/.env", f"AK={OTHER_ID}\nSK={OTHER_SECRET}\n")
    put(root, "/home/bob/deep/a/b/x.env", f"AK={OTHER_ID}\nSK={OTHER_SECRET}\n")  # too deep
    put(root, "/home/bob/.aws/credentials", f"[x]\nid={KEY_ID}\nsecret={SECRET}\n")
    put(root, "/etc/environment", f'PATH="/usr/bin"\nAK={KEY_ID}\nSK={SECRET}\n')
    put(root, "/home/alice/notes.txt", f"{KEY_ID} {SECRET}\n")  # not a configured file
    put(root, "/home/alice/.bashrc", "alias ll='ls -l'\n")
    out = found(root)
    owner = "root" if os.geteuid() == 0 else str(os.geteuid())
    assert sorted(out) == sorted(
        [
            ("/etc/environment", 2, KEY_ID, owner),
            ("/home/alice/.aliyun/config.json", 4, KEY_ID, "alice"),
            ("/home/alice/.bash_history", 2, KEY_ID, "alice"),
            ("/home/bob/.ossutilconfig", 2, OTHER_ID, "bob"),
            ("/home/bob/.aws/credentials", 2, KEY_ID, "bob"),
            ("/home/bob/app/prod.env", 1, OTHER_ID, "bob"),
            ("/home/bob/app/.env", 1, OTHER_ID, "bob"),
        ]
    )
    assert SECRET not in repr(out) and OTHER_SECRET not in repr(out)


def test_paths_and_patterns_are_configurable(tmp_path):
    root = host(tmp_path)
    put(root, "/home/alice/deploy/keys.txt", f"{KEY_ID}\n{SECRET}\n")
    put(root, "/opt/app/settings.ini", f"{OTHER_ID}={OTHER_SECRET}\n")
    put(root, "/home/alice/.bash_history", f"{KEY_ID} {SECRET}\n")
    out = found(
        root,
        home_files=(),
        home_patterns=("deploy/*.txt",),
        system_files=("/opt/app/settings.ini",),
    )
    assert sorted(p for p, *_ in out) == ["/home/alice/deploy/keys.txt", "/opt/app/settings.ini"]


def test_bounds_on_size_count_and_findings(tmp_path):
    root = host(tmp_path)
    put(root, "/home/alice/.bashrc", f"{KEY_ID} {SECRET}\n" + "#" * 2000)
    put(root, "/home/bob/.bashrc", f"{KEY_ID} {SECRET}\n")
    assert [p for p, *_ in found(root, max_file_bytes=1000)] == ["/home/bob/.bashrc"]
    (root / "home/bob/.bash_history").write_bytes(b"\0binary" + f" {KEY_ID} {SECRET}".encode())
    assert "/home/bob/.bash_history" not in {p for p, *_ in found(root)}
    many = "".join(f"{KEY_ID} {SECRET}\n" for _ in range(50))
    put(root, "/home/bob/.profile", many)
    assert len(found(root, max_findings=7)) == 7
    assert len(found(root, max_files=1, system_files=())) == 1  # alice's .bashrc only


def test_links_cannot_lead_out_of_the_host_root(tmp_path):
    root = host(tmp_path)
    outside = tmp_path / "outside.env"
    outside.write_text(f"{KEY_ID} {SECRET}\n")
    (root / "home/alice").mkdir(parents=True)
    (root / "home/alice/.bashrc").symlink_to(outside)  # absolute: resolved inside the root
    (root / "home/alice/loop.env").symlink_to("loop.env")
    assert found(root) == []
    put(root, str(outside), f"{OTHER_ID} {OTHER_SECRET}\n")  # the same path inside the root
    assert found(root) == [("/home/alice/.bashrc", 1, OTHER_ID, "alice")]


def test_unreadable_and_odd_files_are_skipped(tmp_path):
    root = host(tmp_path)
    (root / "home/alice/.bashrc").mkdir(parents=True)  # a directory
    put(root, "/home/bob/.profile", f"{KEY_ID} {SECRET}\n")
    os.chmod(root / "home/bob/.profile", 0)
    expected = [] if os.geteuid() != 0 else [("/home/bob/.profile", 1, KEY_ID, "bob")]
    assert found(root) == expected


def test_the_snapshot_carries_the_findings_and_no_secret(tmp_path, caplog):
    root = host(tmp_path)
    put(root, "/home/alice/.bash_history", f"aliyun configure --ak {KEY_ID} --sk {SECRET}\n")
    with caplog.at_level(logging.DEBUG):
        snap = collect_snapshot("i-test", str(root))
    assert [(k.path, k.access_key_id) for k in snap.plaintext_access_keys] == [
        ("/home/alice/.bash_history", KEY_ID)
    ]
    assert "access_keys" not in {e.collector for e in snap.errors}
    assert SECRET.encode() not in snap.SerializeToString()
    assert SECRET not in caplog.text


# ---- properties -------------------------------------------------------------------------------

# ids use upper case and digits, secrets lower case and digits: a secret can never be part of
# an id, so finding it anywhere in the output is a leak
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
key_ids = st.text(UPPER, min_size=12, max_size=30).map(lambda s: "LTAI" + s)
secrets_ = st.text(LOWER, min_size=30, max_size=30).filter(lambda s: not s.isdigit())
separators = st.sampled_from([" ", "=", ":", '"', "\n", "\n\n", ",", "\t", "\r\n", "'"])
noise = st.text(max_size=40)


@st.composite
def key_files(draw) -> tuple[str, list[str]]:
    parts: list[str] = []
    secrets: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["id", "secret", "named", "noise", "sep"]))
        if kind == "id":
            parts.append(draw(key_ids))
        elif kind == "secret":
            secrets.append(draw(secrets_))
            parts.append(secrets[-1])
        elif kind == "named":
            secrets.append(draw(secrets_))
            name = draw(st.sampled_from(["AccessKeySecret", "access_key_secret", "SK"]))
            parts.append(f'"{name}": "{secrets[-1]}"')
        elif kind == "noise":
            parts.append(draw(noise))
        else:
            parts.append(draw(separators))
    return "".join(parts), secrets


@settings(max_examples=300, deadline=None)
@given(key_files())
def test_no_secret_ever_reaches_the_output(case):
    text, secrets = case
    found_keys = access_keys.find_access_keys(text)
    out = repr(found_keys)
    for secret in secrets:
        assert secret not in out
    for k in found_keys:
        assert access_keys._ID.fullmatch(k.access_key_id)  # noqa: SLF001
        assert k.access_key_id in text.splitlines()[k.line - 1]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_never_crashes(text):
    for k in access_keys.find_access_keys(text):
        assert k.access_key_id.startswith("LTAI") and k.line >= 1


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_file_contents_never_crash_the_collector(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("h")
    put(root, "/etc/passwd", PASSWD)
    target = root / "home/alice/.bashrc"
    target.parent.mkdir(parents=True)
    target.write_bytes(data + f"\n{KEY_ID}\n{SECRET}\n".encode())
    out = access_keys.collect(str(root))
    assert SECRET not in repr(out)
    assert all(k.path == "/home/alice/.bashrc" for k in out)
