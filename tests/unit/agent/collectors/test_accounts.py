"""Local accounts from a host root's passwd and group files."""

from __future__ import annotations

from palisade.agent.collectors import accounts
from palisade.agent.collectors.accounts import Account, Group

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
+nisuser::::::
broken line
alice:x:1000:100:Alice,,,:/home/alice:/bin/bash
toor:x:0:0::/root:/bin/sh
alice:x:2000:100::/elsewhere:/bin/sh
bad:x:abc:1::/:/bin/sh
"""

GROUP = """root:x:0:
users:x:100:bob
admins:x:50:alice,bob
-nis
broken
"""


def test_passwd_parsing_skips_malformed_nis_and_duplicate_names():
    assert accounts.parse_passwd(PASSWD) == [
        Account("root", 0, 0, "/root", "/bin/bash"),
        Account("daemon", 1, 1, "/usr/sbin", "/usr/sbin/nologin"),
        Account("alice", 1000, 100, "/home/alice", "/bin/bash"),
        Account("toor", 0, 0, "/root", "/bin/sh"),
    ]


def test_group_parsing_and_membership():
    groups = accounts.parse_group(GROUP)
    assert groups == [
        Group("root", 0, ()),
        Group("users", 100, ("bob",)),
        Group("admins", 50, ("alice", "bob")),
    ]
    found = accounts.Accounts(accounts.parse_passwd(PASSWD), groups)
    alice = found.users[2]
    assert found.groups_of(alice) == ("users", "admins")
    assert found.uid_names() == {0: "root", 1: "daemon", 1000: "alice"}  # first name per uid
    assert found.gid_names() == {0: "root", 100: "users", 50: "admins"}


def test_collect_reads_the_host_root_not_this_machine(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_bytes(b"zed:x:7:7:\xff:/home/zed:/bin/zsh\n")
    (tmp_path / "etc/group").write_text("zed:x:7:\n")
    found = accounts.collect(str(tmp_path))
    assert found.users == [Account("zed", 7, 7, "/home/zed", "/bin/zsh")]
    assert found.groups_of(found.users[0]) == ("zed",)


def test_collect_without_files_is_empty(tmp_path):
    assert accounts.collect(str(tmp_path)) == accounts.Accounts()


def test_collect_live_host_has_root():
    assert any(u.uid == 0 for u in accounts.collect("/").users)
