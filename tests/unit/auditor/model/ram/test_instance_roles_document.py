"""Instance RAM roles as a JSON document."""

import json

import pytest

from palisade.auditor.model.ram import Caller, InstanceRamRoles, InstanceRef
from tests.helpers.ram_account_documents import CONTEXTS, NOW, STS_KEY, restored, rich_account


def test_instance_roles_round_trip():
    account, _ = rich_account()
    roles = InstanceRamRoles()
    for instance_id in ("i-bp1", "i-bp2", "i-bp3"):
        roles.attach(
            account, Caller.root(), InstanceRef(instance_id, "cn-hangzhou"), "EcsOss", CONTEXTS[0]
        )
    doc = roles.to_document()
    assert doc == {
        "format": 1,
        "Bindings": [
            {"InstanceId": "i-bp1", "RoleName": "EcsOss", "Generation": 1},
            {"InstanceId": "i-bp2", "RoleName": "EcsOss", "Generation": 2},
            {"InstanceId": "i-bp3", "RoleName": "EcsOss", "Generation": 3},
        ],
        "NextGeneration": 4,
    }
    back = InstanceRamRoles.from_document(json.loads(json.dumps(doc)))
    assert back == roles
    assert back.describe() == roles.describe()
    credentials = back.issue_credentials(
        restored(account), "i-bp2", "EcsOss", NOW, 3600, signing_key=STS_KEY
    )
    assert credentials.access_key_id


def test_a_document_stored_before_generations_loads_as_generation_zero():
    # the stored form before revocation: no Generation, no NextGeneration
    old = {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "EcsOss"}]}
    roles = InstanceRamRoles.from_document(old)
    assert roles.generation_of("i-bp1") == 0 and roles.generation_of("i-bp2") is None
    assert roles.next_generation == 1


def test_a_generation_is_never_handed_out_twice_even_if_the_counter_is_behind():
    doc = {
        "format": 1,
        "Bindings": [{"InstanceId": "i-bp1", "RoleName": "EcsOss", "Generation": 9}],
        "NextGeneration": 3,
    }
    assert InstanceRamRoles.from_document(doc).next_generation == 10


def test_empty_instance_roles_round_trip():
    assert InstanceRamRoles.from_document(InstanceRamRoles().to_document()) == InstanceRamRoles()


@pytest.mark.parametrize(
    "doc",
    [
        {"format": 2, "Bindings": []},
        {"Bindings": []},
        {"format": 1},
        {"format": 1, "Bindings": {"i-bp1": "EcsOss"}},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1"}]},
        {"format": 1, "Bindings": [{"InstanceId": "", "RoleName": "EcsOss"}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": 5}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "bad role"}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "A", "Extra": 1}]},
        {
            "format": 1,
            "Bindings": [
                {"InstanceId": "i-bp1", "RoleName": "A"},
                {"InstanceId": "i-bp1", "RoleName": "B"},
            ],
        },
        {"format": 1, "Bindings": [], "Other": []},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "A", "Generation": -1}]},
        {"format": 1, "Bindings": [{"InstanceId": "i-bp1", "RoleName": "A", "Generation": "1"}]},
        {"format": 1, "Bindings": [], "NextGeneration": 0},
        {"format": 1, "Bindings": [], "NextGeneration": True},
    ],
)
def test_a_bad_instance_roles_document_is_a_value_error(doc):
    with pytest.raises(ValueError):
        InstanceRamRoles.from_document(doc)
