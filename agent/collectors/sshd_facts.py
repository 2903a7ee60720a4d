"""The sshd facts that matter for key pairs: may a password log in, may a key, which files hold
the keys, may root log in. Effective global settings (`sshd -T` when sshd runs here, else the
parsed sshd_config with its Include and Match rules)."""

from __future__ import annotations

from palisade.agent.collectors import sshd_config
from palisade.shared.proto import facts_pb2


def _yes(value: str | None) -> bool:
    return (value or "").lower() == "yes"


def from_config(config: sshd_config.SshdConfig) -> facts_pb2.SshdFacts:
    settings = config.settings_for(None)
    return facts_pb2.SshdFacts(
        password_authentication=_yes(settings.get("passwordauthentication")),
        pubkey_authentication=_yes(settings.get("pubkeyauthentication")),
        authorized_keys_file=list(settings.authorized_keys_files()),
        permit_root_login=(settings.get("permitrootlogin") or "").lower(),
        source="sshd -T" if settings.source == "sshd -T" else "parsed",
        kbd_interactive_authentication=_yes(settings.get("kbdinteractiveauthentication")),
        config_found=config.exists,
        errors=[f"{e.path}:{e.line}: {e.message}" for e in config.errors][:50],
    )


def collect(host_root: str = "/") -> facts_pb2.SshdFacts:
    return from_config(sshd_config.load(host_root))
