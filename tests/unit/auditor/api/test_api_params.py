"""Parameter parsing never fails with anything but ApiError, whatever the names and values;
and no RAM or instance-role action answers a malformed request with a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palisade.auditor.api.errors import ApiError
from palisade.auditor.api.params import Params
from palisade.auditor.api.registry import ACTIONS
from tests.helpers.in_process_api import ApiHarness

# What can arrive over HTTP: parse_qsl decodes with errors="replace", so no lone surrogates.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
names = st.one_of(
    text,
    st.sampled_from(
        ["Name", "Name.1", "Name.2", "Name.0", "Name.x", "Name.²", "Name.١", "Name.1.2"]
    ),
)
values = st.one_of(
    text,
    st.sampled_from(["[]", "[1]", '["a", "b"]', "[", "-5", "007", "true", "TRUE", "1e3", "١٢"]),
    st.integers().map(str),
    st.lists(text, max_size=5).map(json.dumps),
)
raw_params = st.dictionaries(names, values, max_size=8)


def _each_reader(p: Params, name: str) -> None:
    readers = [
        lambda: p.str(name),
        lambda: p.req(name),
        lambda: p.int(name, 1, minimum=0, maximum=100),
        lambda: p.int(name),
        lambda: p.bool(name),
        lambda: p.list(name),
        lambda: p.list(name, max_items=2),
        lambda: p.page(),
        lambda: p.unknown({name}),
    ]
    for read in readers:
        try:
            read()
        except ApiError:
            pass


@given(raw_params, names)
def test_params_raise_only_api_errors(raw, name):
    try:
        p = Params(raw)
    except ApiError:
        return
    _each_reader(p, name)
    _each_reader(p, "Name")


def test_deeply_nested_json_list_is_an_api_error():
    with pytest.raises(ApiError):
        Params({"Name": "[" * 50_000}).list("Name")


def test_non_ascii_digits_are_not_indexes_or_integers():
    with pytest.raises(ApiError):
        Params({"Name.²": "x"}).list("Name")
    with pytest.raises(ApiError):
        Params({"N": "١٢"}).int("N")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    return ApiHarness(tmp_path_factory.mktemp("fuzz"))


RAM_ACTIONS = sorted(n for n, spec in ACTIONS.items() if spec.service == "ram") + [
    "AttachInstanceRamRole",
    "DetachInstanceRamRole",
    "DescribeInstanceRamRole",
]
PARAM_NAMES = sorted({p for spec in ACTIONS.values() for p in spec.params} | {"RegionId"})
param_values = st.one_of(
    text,
    st.sampled_from(
        ["admin", "System", "Custom", "cn-hangzhou", '["i-1"]', "true", "0", "Active", "v1"]
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.sampled_from(RAM_ACTIONS),
    params=st.dictionaries(
        st.one_of(
            st.sampled_from(PARAM_NAMES), st.sampled_from(PARAM_NAMES).map(lambda n: n + ".1")
        ),
        param_values,
        max_size=5,
    ),
)
def test_ram_actions_answer_malformed_requests_with_an_error_code(harness, action, params):
    # Password values are kept out: scrypt makes every CreateLoginProfile slow on purpose.
    params.pop("Password", None)
    response = harness.call(action, **params)
    assert response.status in (200, 400, 403, 404), response.body
    if response.status != 200:
        assert set(response.body) == {"Code", "Message", "RequestId"}
