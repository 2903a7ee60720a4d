"""Baseline facts from a host root: sshd settings, accounts, password aging, file modes."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import baseline

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
toor:x:0:0:backdoor:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000::/home/alice:/bin/bash
bob::1001:1001::/home/bob:/bin/bash
"""
GROUP = "root:x:0:\nalice:x:1000:\nbob:x:1001:\n"
SHADOW = """\
root:*:19800:0:99999:7:::
toor:$6$salt$hash:19801:1:90:14:30:20000:
daemon:*:19800:0:99999:7:::
alice::19900:::::
bob:!$y$j9T$abc:19901:0:60:7:::
"""
LOGIN_DEFS = """\
# /etc/login.defs
MAIL_DIR        /var/mail
PASS_MAX_DAYS   90
PASS_MIN_DAYS\t1
PASS_WARN_AGE   14
UMASK           022
ENCRYPT_METHOD  "YESCRYPT"
PASS_MAX_DAYS   60
"""


def _write(root: Path, path: str, text: str, mode: int = 0o644) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)
    return target


def _host(tmp_path: Path) -> Path:
    _write(tmp_path, "/etc/passwd", PASSWD)
    _write(tmp_path, "/etc/group", GROUP)
    _write(tmp_path, "/etc/shadow", SHADOW, 0o640)
    _write(tmp_path, "/etc/login.defs", LOGIN_DEFS)
    _write(
        tmp_path,
        "/etc/ssh/sshd_config",
        "PermitRootLogin yes\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
        "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u\n",
    )
    _write(tmp_path, "/etc/ssh/ssh_host_ed25519_key", "private", 0o640)
    _write(tmp_path, "/etc/ssh/ssh_host_ed25519_key.pub", "public", 0o644)
    _write(tmp_path, "/home/alice/.ssh/authorized_keys", "", 0o664)
    (tmp_path / "home/alice/.ssh").chmod(0o755)
    _write(tmp_path, "/etc/ssh/keys/bob", "", 0o600)
    return tmp_path


def test_effective_sshd_settings_are_every_keyword_with_their_source(tmp_path):
    msg = baseline.collect(str(_host(tmp_path)))
    config = {e.key: e.value for e in msg.sshd_config}
    assert msg.sshd_config_source == "parsed"  # not the live root: never `sshd -T`
    assert config["permitrootlogin"] == "yes"
    assert config["passwordauthentication"] == "yes"  # a default is reported too
    assert config["authorizedkeysfile"] == ".ssh/authorized_keys /etc/ssh/keys/%u"
    assert list(msg.errors) == []


def test_uid0_and_empty_passwords(tmp_path):
    accounts = baseline.collect(str(_host(tmp_path))).accounts
    assert list(accounts.uid0_accounts) == ["toor"]
    assert list(accounts.empty_password_accounts) == ["alice", "bob"]  # shadow, passwd
    assert accounts.shadow_readable


def test_password_aging_from_shadow(tmp_path):
    aging = {a.user: a for a in baseline.collect(str(_host(tmp_path))).accounts.password_aging}
    toor = aging["toor"]
    assert toor.password_state == "hash"
    assert (toor.last_change_days, toor.min_days, toor.max_days, toor.warn_days) == (
        19801,
        1,
        90,
        14,
    )
    assert (toor.inactive_days, toor.expire_days) == (30, 20000)
    assert aging["root"].password_state == "no_password"
    assert aging["bob"].password_state == "locked"
    alice = aging["alice"]
    assert alice.password_state == "empty"
    assert alice.HasField("last_change_days")
    for field in ("min_days", "max_days", "warn_days", "inactive_days", "expire_days"):
        assert not alice.HasField(field)  # empty in shadow: unset, not 0


def test_login_defs_defaults_last_value_wins(tmp_path):
    defs = baseline.collect(str(_host(tmp_path))).accounts.login_defs
    assert defs.exists
    assert defs.pass_max_days == 60  # getdef.c keeps the last line
    assert defs.pass_min_days == 1 and defs.pass_warn_age == 14
    assert not defs.HasField("pass_min_len")
    assert defs.encrypt_method == "YESCRYPT"
    assert ("UMASK", "022") in [(e.key, e.value) for e in defs.settings]


def test_file_owner_group_and_mode(tmp_path):
    host = _host(tmp_path)
    files = {(f.role, f.path): f for f in baseline.collect(str(host)).files}
    config = files[("sshd_config", "/etc/ssh/sshd_config")]
    assert config.exists and config.file_type == "file" and config.mode == 0o644
    st = os.stat(host / "etc/ssh/sshd_config")
    names = {0: "root", 1000: "alice", 1001: "bob"}  # the host's own passwd and group
    assert config.owner == names.get(st.st_uid, str(st.st_uid))
    assert config.group == names.get(st.st_gid, str(st.st_gid))
    assert files[("host_key", "/etc/ssh/ssh_host_ed25519_key")].mode == 0o640
    assert files[("host_key_public", "/etc/ssh/ssh_host_ed25519_key.pub")].mode == 0o644
    ssh_dir = files[("ssh_dir", "/home/alice/.ssh")]
    assert ssh_dir.file_type == "directory" and ssh_dir.mode == 0o755 and ssh_dir.user == "alice"
    assert files[("authorized_keys", "/home/alice/.ssh/authorized_keys")].mode == 0o664
    assert files[("authorized_keys", "/etc/ssh/keys/bob")].user == "bob"
    assert ("ssh_dir", "/home/bob/.ssh") not in files  # missing ones are not listed


def test_default_host_keys_when_the_config_names_none(tmp_path):
    _write(tmp_path, "/etc/ssh/sshd_config", "PermitRootLogin no\n")
    files = baseline.collect(str(tmp_path)).files
    keys = [f.path for f in files if f.role == "host_key"]
    assert keys == list(baseline.DEFAULT_HOST_KEYS)
    assert not any(f.exists for f in files if f.role == "host_key")


def test_unreadable_shadow_is_an_error_not_a_crash(tmp_path):
    _write(tmp_path, "/etc/passwd", PASSWD)
    msg = baseline.collect(str(tmp_path))
    assert not msg.accounts.shadow_readable
    assert [e.collector for e in msg.errors] == ["shadow"]
    assert list(msg.accounts.uid0_accounts) == ["toor"]
    assert not msg.accounts.login_defs.exists
    assert msg.sshd_config_source == "" and list(msg.sshd_config) == []  # no sshd here


def test_login_defs_numbers_read_like_strtol():
    assert (
        baseline.login_defs_message("PASS_MAX_DAYS 0x10\nPASS_MIN_DAYS 010\n").pass_max_days == 16
    )
    assert baseline.login_defs_message("PASS_MIN_DAYS 010\n").pass_min_days == 8
    assert baseline.login_defs_message("PASS_MAX_DAYS -1\n").pass_max_days == -1
    assert not baseline.login_defs_message("PASS_MAX_DAYS soon\n").HasField("pass_max_days")


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_shadow_parser_never_raises(text):
    for entry in baseline.parse_shadow(text):
        assert entry.user and entry.password_state in ("hash", "empty", "locked", "no_password")
    baseline.accounts_message(
        baseline.accounts_collector.Accounts(), text, text, text
    ).SerializeToString()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('PASS_MAXDYIN \t"#\n0123456789xX-+:'))) | st.text())
def test_login_defs_parser_never_raises(text):
    baseline.login_defs_message(text).SerializeToString()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\n\r:"), max_size=12), max_size=12
    )
)
def test_shadow_fields_of_any_content(fields):
    baseline.parse_shadow(":".join(fields))
    msg = baseline.accounts_message(
        baseline.accounts_collector.Accounts(), ":".join(["u", *fields]), "", None
    )
    msg.SerializeToString()
