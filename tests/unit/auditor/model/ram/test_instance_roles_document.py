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
            {"InstanceId": "i-bp1", "RoleName": "EcsOss"},
            {"InstanceId": "i-bp2", "RoleName": "EcsOss"},
            {"InstanceId": "i-bp3", "RoleName": "EcsOss"},
        ],
    }
    back = InstanceRamRoles.from_document(json.loads(json.dumps(doc)))
    assert back == roles
    assert back.describe() == roles.describe()
    credentials = back.issue_credentials(
        restored(account), "i-bp2", "EcsOss", NOW, 3600, signing_key=STS_KEY
    )
    assert credentials.access_key_id


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
    ],
)
def test_a_bad_instance_roles_document_is_a_value_error(doc):
    with pytest.raises(ValueError):
        InstanceRamRoles.from_document(doc)
