"""The one `Permission` schema (model/network/permission.py): the readers build the same
rule, and any permission document reads or names a path (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.limits import Limits
from palisade.auditor.model.network.permission import Permission
from palisade.auditor.model.schema import SchemaError
from tests.helpers.documents import json_values, mutations
from tests.unit.auditor.api.test_permission_readers import DESCRIBED, _imported


def test_the_three_readers_build_the_same_rule():
    perm = Permission.read(DESCRIBED)
    request = perm.request(perm.direction())
    params = {k: str(v) for k, v in DESCRIBED.items() if k in ("IpProtocol", "PortRange",
              "SourceCidrIp", "Policy", "Priority", "NicType")}  # fmt: skip
    from_api = Permission.from_params(params, tuple(params)).request(perm.direction())
    assert request == from_api
    (rule,), _ = _imported()
    assert (rule.protocol, rule.ports, rule.cidr, rule.priority) == ("TCP", "443/443",
            "0.0.0.0/0", "1")  # fmt: skip


def _reads_or_says_where(document: object) -> None:
    try:
        perm = Permission.read(document)
    except SchemaError as err:
        assert err.where.startswith("$") and err.message
        return
    try:
        direction = perm.direction()
        perm.unsupported(direction)
        perm.field_error(direction, Limits())
        perm.request(direction)
    except ModelError as err:
        assert err.code and err.message


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(json_values(list(DESCRIBED)) | mutations(DESCRIBED))
def test_any_permission_reads_or_names_a_path(document):
    _reads_or_says_where(document)
