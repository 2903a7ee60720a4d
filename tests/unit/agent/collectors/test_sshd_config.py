"""Effective sshd settings (palisade.agent.collectors.sshd_config)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palisade.agent.collectors import sshd_config
from palisade.agent.collectors.sshd_config import ConnectionContext as Ctx


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ('a "b c" d', ["a", "b c", "d"]),
        ("'x y'\tz", ["x y", "z"]),
        (r"a\ b", ["a b"]),
        (r'"a\"b"', ['a"b']),
        (r"a\q", [r"a\q"]),
        ("a # comment", ["a"]),
        ("a#b", ["a#b"]),
    ],
)
def test_argv_split_follows_openssh(text, args):
    assert sshd_config.argv_split(text) == args


def test_argv_split_unterminated_quote_is_an_error():
    with pytest.raises(ValueError):
        sshd_config.argv_split('"open')


def test_keywords_case_insensitive_first_value_wins_and_equals_forms():
    config = sshd_config.parse(
        "passwordauthentication=no\n"
        "PasswordAuthentication yes\n"
        "  PermitRootLogin = no\n"
        "# PubkeyAuthentication no\n"
        "ChallengeResponseAuthentication no\n"
    )
    s = config.evaluate()
    assert s.get("PasswordAuthentication") == "no"
    assert s.get("permitrootlogin") == "no"
    assert s.get("pubkeyauthentication") == "yes"  # default
    assert s.get("kbdinteractiveauthentication") == "no"  # alias
    assert config.errors == []


def test_defaults_for_the_keys_that_matter():
    s = sshd_config.parse("").evaluate()
    assert s.authorized_keys_files() == (".ssh/authorized_keys", ".ssh/authorized_keys2")
    assert s.get("passwordauthentication") == "yes"
    assert s.get("pubkeyauthentication") == "yes"
    assert s.get("permitrootlogin") == "prohibit-password"


def test_authorized_keys_file_none_and_several_files():
    assert sshd_config.parse("AuthorizedKeysFile none").evaluate().authorized_keys_files() == ()
    s = sshd_config.parse('AuthorizedKeysFile a "b c" /d/%u\nAuthorizedKeysFile e').evaluate()
    assert s.authorized_keys_files() == ("a", "b c", "/d/%u")


def test_accumulating_keywords_add_up():
    s = sshd_config.parse("Port 22\nPort 2222\nAllowUsers a b\nAllowUsers c").evaluate()
    assert s.args("port") == ("22", "2222")
    assert s.args("allowusers") == ("a", "b", "c")


MATCH_CONFIG = """
PasswordAuthentication no
Match User alice,bob
    PasswordAuthentication yes
    AuthorizedKeysFile /etc/ssh/keys/%u
Match Group admins User *,!root
    PermitRootLogin yes
Match User !carol,c*
    X11Forwarding yes
Match Address 10.0.0.0/8,!10.1.0.0/16 LocalPort 2222
    AllowTcpForwarding no
Match Host *.EXAMPLE.com
    MaxAuthTries 2
Match All
    PasswordAuthentication maybe
    MaxAuthTries 3
"""


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        (None, {"passwordauthentication": "no", "maxauthtries": "6"}),
        (Ctx("alice"), {"passwordauthentication": "yes", "authorizedkeysfile": "/etc/ssh/keys/%u"}),
        (Ctx("dave"), {"passwordauthentication": "maybe", "authorizedkeysfile": None}),
        (Ctx("dave", groups=("users", "admins")), {"permitrootlogin": "yes"}),
        (Ctx("root", groups=("admins",)), {"permitrootlogin": "prohibit-password"}),
        (Ctx("carl"), {"x11forwarding": "yes"}),
        (Ctx("carol"), {"x11forwarding": "no"}),
        (Ctx("x", address="10.2.3.4", local_port=2222), {"allowtcpforwarding": "no"}),
        (Ctx("x", address="10.1.3.4", local_port=2222), {"allowtcpforwarding": "yes"}),
        (Ctx("x", address="10.2.3.4", local_port=22), {"allowtcpforwarding": "yes"}),
        (Ctx("x", address="10.2.3.4"), {"allowtcpforwarding": "yes"}),
        (Ctx("x", host="web.example.COM"), {"maxauthtries": "2"}),
        (Ctx("x"), {"maxauthtries": "3"}),
    ],
)
def test_match_blocks(ctx, expected):
    s = sshd_config.parse(MATCH_CONFIG).evaluate(ctx)
    for key, value in expected.items():
        if key == "authorizedkeysfile" and value is None:
            assert s.authorized_keys_files() == sshd_config.DEFAULTS["authorizedkeysfile"]
        else:
            assert s.get(key) == value, key


def test_invalid_match_lines_are_errors_and_never_match():
    config = sshd_config.parse(
        "Match Colour blue\n  PasswordAuthentication no\n"
        "Match User\n  PermitRootLogin yes\n"
        "Match All User x\n  MaxAuthTries 1\n"
        "Match LocalPort http\n  MaxSessions 1\n"
    )
    assert len(config.errors) == 4
    s = config.evaluate(Ctx("x", local_port=80))
    assert s.get("passwordauthentication") == "yes"
    assert s.get("permitrootlogin") == "prohibit-password"
    assert s.get("maxauthtries") == "6"


def test_address_patterns_cidr_wildcards_and_bad_masks():
    assert sshd_config.addr_match_list("192.168.1.5", "192.168.1.*") == 1
    assert sshd_config.addr_match_list("192.168.1.5", "10.0.0.0/8,!192.168.0.0/16") == -1
    assert sshd_config.addr_match_list("::1", "::1/128") == 1
    assert sshd_config.addr_match_list("10.0.0.1", "10.0.0.1/8") == 0  # host bits set


def test_wildcard_match_has_no_exponential_backtracking():
    assert not sshd_config.wildcard_match("a" * 5000, "*a" * 2000 + "b")
    assert sshd_config.wildcard_match("abc", "a?c") and sshd_config.wildcard_match("", "*")


def test_include_globs_relative_to_etc_ssh_inside_the_host_root(tmp_path):
    _write(tmp_path, "/etc/ssh/sshd_config.d/20-b.conf", "PasswordAuthentication second\n")
    _write(tmp_path, "/etc/ssh/sshd_config.d/10-a.conf", "PasswordAuthentication no\n")
    _write(tmp_path, "/etc/ssh/sshd_config.d/ignored.txt", "PasswordAuthentication x\n")
    _write(tmp_path, "/etc/ssh/extra", "PermitRootLogin no\n")
    _write(
        tmp_path,
        "/etc/ssh/sshd_config",
        "Include sshd_config.d/*.conf /etc/ssh/extra /etc/ssh/missing*\n"
        "PasswordAuthentication yes\n",
    )
    config = sshd_config.load(str(tmp_path), use_sshd=False)
    s = config.evaluate()
    assert s.get("passwordauthentication") == "no"
    assert s.get("permitrootlogin") == "no"
    assert config.errors == []
    assert [d.path for d in config.directives] == [
        "/etc/ssh/sshd_config.d/10-a.conf",
        "/etc/ssh/sshd_config.d/20-b.conf",
        "/etc/ssh/extra",
        "/etc/ssh/sshd_config",
    ]


def test_include_symlink_outside_root_stays_inside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.conf").write_text("PermitRootLogin yes\n")
    root = tmp_path / "root"
    _write(root, "/etc/ssh/sshd_config", "Include /etc/ssh/conf.d/*.conf\n")
    os.symlink(str(outside), root / "etc/ssh/conf.d")
    s = sshd_config.load(str(root), use_sshd=False).evaluate()
    assert s.get("permitrootlogin") == "prohibit-password"


def test_match_in_an_included_file_ends_with_that_file(tmp_path):
    _write(tmp_path, "/etc/ssh/inc.conf", "Match User bob\nPermitRootLogin yes\n")
    _write(
        tmp_path,
        "/etc/ssh/sshd_config",
        "Include inc.conf\nPasswordAuthentication no\n"
        "Match User alice\nInclude /etc/ssh/alice.conf\n",
    )
    _write(tmp_path, "/etc/ssh/alice.conf", "X11Forwarding yes\nMatch User bob\nMaxSessions 1\n")
    config = sshd_config.load(str(tmp_path), use_sshd=False)
    assert config.evaluate().get("passwordauthentication") == "no"  # global after the Include
    bob = config.evaluate(Ctx("bob"))
    assert bob.get("permitrootlogin") == "yes"
    assert bob.get("passwordauthentication") == "no"
    assert bob.get("maxsessions") == "10"  # alice.conf is included only inside Match alice
    assert config.evaluate(Ctx("alice")).get("x11forwarding") == "yes"


def test_recursive_include_stops_at_the_depth_limit(tmp_path):
    _write(tmp_path, "/etc/ssh/sshd_config", "Include sshd_config\nPort 22\n")
    config = sshd_config.load(str(tmp_path), use_sshd=False)
    assert any("too many recursive includes" in e.message for e in config.errors)
    assert len(config.evaluate().args("port")) == sshd_config.MAX_INCLUDE_DEPTH + 1


def test_missing_config_gives_defaults_and_an_error(tmp_path):
    config = sshd_config.load(str(tmp_path), use_sshd=False)
    assert not config.exists and config.errors
    assert config.settings_for(Ctx("root")).get("pubkeyauthentication") == "yes"


def _fake_sshd(tmp_path: Path, body: str) -> str:
    script = tmp_path / "sshd"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


def test_sshd_t_output_is_preferred_and_gets_the_connection_spec(tmp_path):
    args_file = tmp_path / "args"
    binary = _fake_sshd(
        tmp_path,
        f'echo "$@" > {args_file}\n'
        "echo 'port 22'\necho 'port 2222'\n"
        "echo 'authorizedkeysfile .ssh/a /etc/k/%u'\necho 'permitrootlogin no'\n",
    )
    config = sshd_config.parse("PermitRootLogin yes")
    config.sshd_binary = binary
    s = config.settings_for(Ctx("alice", address="10.0.0.1"))
    assert s.source == "sshd -T"
    assert s.args("port") == ("22", "2222")
    assert s.authorized_keys_files() == (".ssh/a", "/etc/k/%u")
    assert s.get("permitrootlogin") == "no"
    assert args_file.read_text().split() == [
        "-T",
        "-f",
        "/etc/ssh/sshd_config",
        "-C",
        "user=alice,addr=10.0.0.1",
    ]


def test_failing_sshd_t_falls_back_to_parsing(tmp_path):
    config = sshd_config.parse("PermitRootLogin yes")
    config.sshd_binary = _fake_sshd(tmp_path, "echo 'no hostkeys available' >&2\nexit 1\n")
    s = config.settings_for(Ctx("root"))
    assert s.source == "/etc/ssh/sshd_config"
    assert s.get("permitrootlogin") == "yes"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(max_size=20), st.lists(st.text(max_size=10), max_size=3))
def test_parsing_and_evaluating_arbitrary_text_never_raises(text, user, groups):
    config = sshd_config.parse(text)
    config.evaluate()
    config.evaluate(Ctx(user, tuple(groups), host=user, address="10.0.0.1", local_port=22))


_lines = st.lists(
    st.tuples(
        st.sampled_from(["Match", "Include", "AuthorizedKeysFile", "Port", "match", "#"]),
        st.text(st.sampled_from(list("ab*?!,/ \"'\\=#Ux0123456789.")), max_size=20),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(_lines)
def test_config_shaped_arbitrary_text_never_raises(tmp_path_factory, lines):
    root = tmp_path_factory.getbasetemp()
    text = "\n".join(f"{k} {v}" for k, v in lines)
    config = sshd_config.parse(text, host_root=str(root))
    config.evaluate(Ctx("a", ("b",), host="a", address="::1", local_port=1))
