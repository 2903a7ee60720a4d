"""Resource tags as ECS and VPC keep them: a key -> value map on each taggable resource.

The rules are the ECS API reference's (TagResources, RunInstances `Tag.N.*`): at most 20 tags
on a resource; a key is 1..128 characters, does not start with `aliyun` or `acs:` (the
platform's own prefixes) and contains no `http://` or `https://`; a value is 0..128
characters, does not start with `acs:` and contains no `http://` or `https://`. Setting a key
a resource already has replaces its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from palisade.auditor.model.errors import ModelError

MAX_TAGS_PER_RESOURCE = 20
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 128
_RESERVED_KEY_PREFIXES = ("aliyun", "acs:")
_URL_MARKERS = ("http://", "https://")


def check_key(key: str) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ModelError(
            "InvalidTagKey.Malformed",
            f"The tag key {str(key)[:40]!r} is not valid: it must be 1 to {MAX_KEY_LENGTH} "
            "characters.",
        )
    if key.lower().startswith(_RESERVED_KEY_PREFIXES):
        raise ModelError(
            "InvalidTagKey.Malformed",
            f"The tag key {key[:40]!r} is not valid: keys starting with 'aliyun' or 'acs:' are "
            "reserved for the platform.",
        )
    if any(m in key.lower() for m in _URL_MARKERS):
        raise ModelError(
            "InvalidTagKey.Malformed",
            f"The tag key {key[:40]!r} is not valid: it may not contain http:// or https://.",
        )


def check_value(value: str) -> None:
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        raise ModelError(
            "InvalidTagValue.Malformed",
            f"The tag value {str(value)[:40]!r} is not valid: it is at most {MAX_VALUE_LENGTH} "
            "characters.",
        )
    if value.lower().startswith("acs:") or any(m in value.lower() for m in _URL_MARKERS):
        raise ModelError(
            "InvalidTagValue.Malformed",
            f"The tag value {value[:40]!r} is not valid: it may not start with 'acs:' or contain "
            "http:// or https://.",
        )


def checked_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Tags a caller gives (in order) as a map: every key and value valid, no key twice, at
    most `MAX_TAGS_PER_RESOURCE`."""
    out: dict[str, str] = {}
    for key, value in pairs:
        check_key(key)
        check_value(value)
        if key in out:
            raise ModelError("Duplicate.TagKey", f"The tag key {key[:40]!r} is given twice.")
        out[key] = value
    if len(out) > MAX_TAGS_PER_RESOURCE:
        raise ModelError(
            "InvalidTagCount",
            f"{len(out)} tags given; a resource has at most {MAX_TAGS_PER_RESOURCE}.",
        )
    return out


def merged(current: Mapping[str, str], new: Mapping[str, str], resource_id: str) -> dict[str, str]:
    """`current` with `new` set on it (a key it has gets the new value); refused when the
    resource would carry more than `MAX_TAGS_PER_RESOURCE` tags."""
    out = {**current, **new}
    if len(out) > MAX_TAGS_PER_RESOURCE:
        raise ModelError(
            "OperationDenied.QuotaExceed",
            f"{resource_id} would carry {len(out)} tags; a resource has at most "
            f"{MAX_TAGS_PER_RESOURCE}. Remove some first (UntagResources).",
        )
    return out


def matches(tags: Mapping[str, str], wanted: Iterable[tuple[str, str | None]]) -> bool:
    """Whether a resource's tags have every wanted key, with the wanted value where one is
    given (the `Tag.N.Key` / `Tag.N.Value` filter of the Describe calls)."""
    return all(k in tags and (v is None or tags[k] == v) for k, v in wanted)
