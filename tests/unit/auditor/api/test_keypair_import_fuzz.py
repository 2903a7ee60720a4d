"""ImportKeyPair through the whole API pipeline with arbitrary bodies: never a server error,
and a refused body leaves the stored state exactly as it was."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.store.cloud_state_repository import CloudStateRepository
from tests.helpers.in_process_api import ApiHarness

REAL = base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIHOIZLYJaeHEvSR6e1AKt4BOBDQjOUg3M/1wLOW6BJwP")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return ApiHarness(tmp_path_factory.mktemp("fuzz"))


bodies = st.one_of(
    st.text(max_size=200).filter(lambda t: t.strip() != ""),
    st.builds(
        lambda kind, cut, extra: f"{kind} {base64.b64encode(REAL[:cut] + extra).decode()}",
        st.sampled_from(["ssh-ed25519", "ssh-rsa", "ecdsa", "rsa", "ssh-dss"]),
        st.integers(0, len(REAL) - 1),
        st.binary(max_size=6),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies)
def test_import_never_fails_badly_and_a_refusal_changes_nothing(harness, body):
    version_before = CloudStateRepository(harness.store).version()
    response = harness.call(
        "ImportKeyPair", RegionId="cn-hangzhou", KeyPairName="fuzzed", PublicKeyBody=body
    )
    if response.status == 200:  # mutations can make a valid key (any 32 bytes are Ed25519)
        assert list(harness.state.keypairs.pairs) == [
            (harness.state.account_id, "cn-hangzhou", "fuzzed")
        ]
        harness.ok("DeleteKeyPairs", RegionId="cn-hangzhou", KeyPairNames='["fuzzed"]')
        return
    assert response.status == 400, response.body
    assert response.body["Code"].startswith(("InvalidPublicKeyBody.", "InvalidKeyPair."))
    assert CloudStateRepository(harness.store).version() == version_before
    assert harness.state.keypairs.pairs == {}
