"""The tag rules (model/tags.py): lengths, reserved prefixes, 20 per resource, filters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.model import tags
from palisade.auditor.model.errors import ModelError


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("", "v", "InvalidTagKey.Malformed"),
        ("k" * 129, "v", "InvalidTagKey.Malformed"),
        ("aliyun", "v", "InvalidTagKey.Malformed"),
        ("AliyunX", "v", "InvalidTagKey.Malformed"),
        ("acs:team", "v", "InvalidTagKey.Malformed"),
        ("see http://x", "v", "InvalidTagKey.Malformed"),
        ("k", "v" * 129, "InvalidTagValue.Malformed"),
        ("k", "acs:x", "InvalidTagValue.Malformed"),
        ("k", "https://x", "InvalidTagValue.Malformed"),
    ],
)
def test_bad_keys_and_values_are_refused(key, value, code):
    with pytest.raises(ModelError) as err:
        tags.checked_tags([(key, value)])
    assert err.value.code == code


def test_limits_and_edges():
    assert tags.checked_tags([("k" * 128, "v" * 128), ("empty", "")]) == {
        "k" * 128: "v" * 128,
        "empty": "",
    }
    assert tags.checked_tags([("value-may-say-aliyun", "aliyun")])  # only keys reserve aliyun
    with pytest.raises(ModelError, match="twice"):
        tags.checked_tags([("a", "1"), ("a", "2")])
    with pytest.raises(ModelError) as err:
        tags.checked_tags([(f"k{i}", "") for i in range(21)])
    assert err.value.code == "InvalidTagCount"
    full = {f"k{i}": "" for i in range(20)}
    assert tags.merged(full, {"k0": "new"}, "i-1")["k0"] == "new"  # replacing is no new tag
    with pytest.raises(ModelError) as err:
        tags.merged(full, {"k20": ""}, "i-1")
    assert err.value.code == "OperationDenied.QuotaExceed"


def test_filters():
    have = {"env": "prod", "team": ""}
    assert tags.matches(have, [])
    assert tags.matches(have, [("env", None), ("team", "")])
    assert tags.matches(have, [("env", "prod")])
    assert not tags.matches(have, [("env", "test")])
    assert not tags.matches(have, [("owner", None)])


@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_is_accepted_or_refused_with_a_tag_code(key, value):
    try:
        out = tags.checked_tags([(key, value)])
    except ModelError as exc:
        assert exc.code in ("InvalidTagKey.Malformed", "InvalidTagValue.Malformed")
    else:
        assert out == {key: value}
        assert 1 <= len(key) <= 128 and len(value) <= 128
