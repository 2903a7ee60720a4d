"""The sshd facts for key pairs (palisade.agent.collectors.sshd_facts), from a mounted root."""

from __future__ import annotations

from pathlib import Path

from palisade.agent.collectors import sshd_config, sshd_facts


def _root(tmp_path: Path, files: dict[str, str]) -> str:
    for path, text in files.items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(tmp_path)


def test_global_settings_from_the_config_and_its_includes(tmp_path):
    root = _root(
        tmp_path,
        {
            "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\n"
            "PasswordAuthentication yes\n"
            "Match User deploy\n"
            "  PasswordAuthentication yes\n",
            "/etc/ssh/sshd_config.d/10-cloud.conf": "PasswordAuthentication no\n"
            "PermitRootLogin without-password\n"
            "AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keys/%u\n",
        },
    )
    facts = sshd_facts.from_config(sshd_config.load(root, use_sshd=False))
    assert facts.source == "parsed" and facts.config_found
    assert facts.password_authentication is False  # the include came first: it wins
    assert facts.pubkey_authentication is True  # sshd's default
    assert facts.permit_root_login == "without-password"
    assert list(facts.authorized_keys_file) == [".ssh/authorized_keys", "/etc/ssh/keys/%u"]
    assert list(facts.errors) == []


def test_no_config_reports_sshds_defaults_and_says_so(tmp_path):
    facts = sshd_facts.from_config(sshd_config.load(str(tmp_path), use_sshd=False))
    assert facts.config_found is False and facts.errors
    assert facts.password_authentication is True
    assert list(facts.authorized_keys_file) == [".ssh/authorized_keys", ".ssh/authorized_keys2"]


def test_authorized_keys_file_none_is_empty(tmp_path):
    root = _root(tmp_path, {"/etc/ssh/sshd_config": "AuthorizedKeysFile none\n"})
    facts = sshd_facts.from_config(sshd_config.load(root, use_sshd=False))
    assert list(facts.authorized_keys_file) == []
