"""Credentials for the SDKs, from their own providers (alibabacloud-credentials):

- `--profile NAME`: the aliyun CLI's ~/.aliyun/config.json (CLIProfileCredentialsProvider);
- `--metadata URL`: the instance's RAM role from an instance metadata endpoint at URL (the
  Palisade agent serves one, agent/metadata.py): the role name is read from
  /latest/meta-data/ram/security-credentials/, then the SDK's URLCredentialsProvider fetches
  and refreshes the STS credentials of that role;
- neither: the SDKs' default chain (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN,
  the CLI profile, ~/.alibabacloud/credentials.ini, the ECS metadata service).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

ROLE_PATH = "/latest/meta-data/ram/security-credentials/"


class CredentialsError(Exception):
    pass


def metadata_role_uri(base: str, timeout: float = 5.0) -> str:
    """The credentials URI of the instance's role at the metadata endpoint `base`."""
    base = base.rstrip("/")
    if "://" not in base:
        base = "http://" + base
    try:
        with urllib.request.urlopen(base + ROLE_PATH, timeout=timeout) as answer:
            role = answer.read().decode("utf-8", "replace").strip().splitlines()
    except (OSError, urllib.error.URLError) as exc:
        raise CredentialsError(f"instance metadata at {base}: {exc}") from None
    if not role or not role[0]:
        raise CredentialsError(f"instance metadata at {base}: the instance has no RAM role")
    return base + ROLE_PATH + urllib.parse.quote(role[0].strip(), safe="")


def credential_client(profile: str | None = None, metadata: str | None = None):
    """An alibabacloud_credentials Client for the SDK configs (one of the sources above)."""
    from alibabacloud_credentials.client import Client
    from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider
    from alibabacloud_credentials.provider.default import DefaultCredentialsProvider
    from alibabacloud_credentials.provider.uri import URLCredentialsProvider

    try:
        if metadata:
            provider = URLCredentialsProvider(uri=metadata_role_uri(metadata))
        elif profile:
            provider = CLIProfileCredentialsProvider(profile_name=profile)
        else:
            provider = DefaultCredentialsProvider()
        client = Client(provider=provider)
        client.get_credential()  # fail here, clearly, rather than at the first call
    except CredentialsError:
        raise
    except Exception as exc:  # the providers raise CredentialException, ValueError, ...
        raise CredentialsError(_first_line(exc)) from None
    return client


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
