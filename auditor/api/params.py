"""Reading ECS-style request parameters, with the ECS API's error codes.

Lists come as `Name.1`, `Name.2`, ... (the RPC style) or as a JSON array in `Name`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from palisade.auditor.api.errors import ApiError

# Parameters that authenticate a request rather than describe the action.
AUTH_PARAMS = frozenset(
    {
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "SecurityToken",
        "Action",
        "Version",
        "Format",
    }
)
# The envelope any SDK may send with any action (the RPC OpenAPI's common parameters):
# accepted everywhere. `ClientToken` is the idempotency key (the pipeline honours it);
# the owner fields name the account the caller already is, `ResourceGroupId` a resource
# group (Palisade has one per account), `SignatureType` the signer's kind (empty for
# AccessKeys).
ENVELOPE_PARAMS = frozenset(
    {
        "ClientToken",
        "OwnerId",
        "ResourceOwnerId",
        "ResourceOwnerAccount",
        "OwnerAccount",
        "ResourceGroupId",
        "SignatureType",
    }
)
# MaxResults/NextToken paging, taken wherever PageNumber/PageSize are
TOKEN_PAGING = frozenset({"MaxResults", "NextToken"})
MAX_VALUE_LENGTH = 64 * 1024
_ASCII_INDEX = re.compile(r"[0-9]{1,6}")  # str.isdigit() also takes "²", which int() refuses


def missing(name: str) -> ApiError:
    return ApiError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request is not '
        "supplied.",
    )


def invalid(name: str, why: str) -> ApiError:
    return ApiError(f"InvalidParameter.{name}", f"The parameter {name} is invalid: {why}")


class Params:
    def __init__(self, raw: Mapping[str, str]):
        for key, value in raw.items():
            if len(value) > MAX_VALUE_LENGTH:
                raise invalid(key, f"longer than {MAX_VALUE_LENGTH} characters")
        self.raw = dict(raw)
        # (page number, size) when the caller paged with MaxResults/NextToken: the pipeline
        # then answers the NextToken of the page after
        self.token_page: tuple[int, int] | None = None

    def str(self, name: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return default
        return value

    def req(self, name: str) -> str:
        value = self.str(name, required=True)
        assert value is not None
        return value

    def int(
        self,
        name: str,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        text = self.str(name, required=required)
        if text is None:
            return default
        if not re.fullmatch(r"-?[0-9]{1,18}", text):  # ASCII only: \d takes any script's digits
            raise invalid(name, f"{text[:40]!r} is not an integer")
        value = int(text)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise invalid(name, f"{value} is outside {minimum}..{maximum}")
        return value

    def bool(self, name: str, default: bool = False) -> bool:
        text = self.str(name)
        if text is None:
            return default
        if text.lower() not in ("true", "false"):
            raise invalid(name, f"{text[:40]!r} is not true or false")
        return text.lower() == "true"

    def list(self, name: str, max_items: int = 100) -> list[str]:
        """`Name.1`, `Name.2`, ... in index order, or a JSON array in `Name`."""
        if name in self.raw:
            text = self.raw[name]
            if text.startswith("["):
                try:
                    values = json.loads(text)
                except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested deep
                    raise invalid(name, "not a JSON array") from None
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise invalid(name, "must be a JSON array of strings")
            else:
                values = [text]
        else:
            indexed = []
            for key, value in self.raw.items():
                prefix, dot, index = key.rpartition(".")
                if dot and prefix == name:
                    if not _ASCII_INDEX.fullmatch(index) or not 1 <= int(index) <= max_items:
                        raise invalid(key, f"the index must be 1..{max_items}")
                    indexed.append((int(index), value))
            values = [v for _, v in sorted(indexed)]
        if len(values) > max_items:
            raise invalid(name, f"at most {max_items} values")
        return values

    def page(self, default_size: int = 10, max_size: int = 100) -> tuple[int, int]:
        """(page number, page size): from PageNumber/PageSize, or from MaxResults and the
        NextToken a previous page answered (not both kinds at once)."""
        if any(self.str(name) is not None for name in TOKEN_PAGING):
            if self.str("PageNumber") is not None:
                raise invalid("NextToken", "give PageNumber or NextToken, not both")
            size = self.int("MaxResults", None, minimum=1, maximum=max_size)
            if size is None:
                size = self.int("PageSize", default_size, minimum=1, maximum=max_size)
            token = self.str("NextToken")
            number = 1 if token is None else decode_next_token(token)
            assert size is not None
            self.token_page = (number, size)
            return number, size
        number = self.int("PageNumber", 1, minimum=1, maximum=10**6)
        size = self.int("PageSize", default_size, minimum=1, maximum=max_size)
        assert number is not None and size is not None  # both have a default
        return number, size

    def unknown(self, known: set[str]) -> list[str]:
        """Parameters the action does not take (reported, so typos are not silently ignored)."""
        if "PageNumber" in known:
            known = known | TOKEN_PAGING
        out = []
        for key in self.raw:
            base = key.split(".", 1)[0]
            if key in AUTH_PARAMS or key in ENVELOPE_PARAMS:
                continue
            if base not in known and key not in known:
                out.append(key)
        return out


_TOKEN_PREFIX = "pg"


def encode_next_token(number: int) -> str:
    """The NextToken of page `number` (opaque to callers; a page number underneath)."""
    return f"{_TOKEN_PREFIX}{number}"


def decode_next_token(token: str) -> int:
    digits = token[len(_TOKEN_PREFIX) :] if token.startswith(_TOKEN_PREFIX) else ""
    if not re.fullmatch(r"[1-9][0-9]{0,5}", digits):
        raise invalid("NextToken", "not a token a previous page answered")
    return int(digits)


def next_token_fields(p: Params, body: dict) -> dict:
    """NextToken/MaxResults for an answer to a MaxResults/NextToken call (empty otherwise,
    or when the answer has no TotalCount to tell whether a page follows)."""
    if p.token_page is None or "TotalCount" not in body:
        return {}
    number, size = p.token_page
    try:
        total = int(body["TotalCount"])
    except (TypeError, ValueError):
        return {}
    more = number * size < total
    return {"NextToken": encode_next_token(number + 1) if more else "", "MaxResults": size}


def paginate(items: list, number: int, size: int) -> list:
    start = (number - 1) * size
    return items[start : start + size]
