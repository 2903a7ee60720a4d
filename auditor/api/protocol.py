"""The wire form of Alibaba Cloud's RPC OpenAPI: how a request's parameters are read and how
an answer is written, as the official SDKs send and expect them.

Reading: the parameters are the URL query and the form body together (a name given twice is
refused). A V3-signed request (tea-openapi's default) names its action and version in the
`x-acs-action` / `x-acs-version` headers, not in the query; they become `Action` and
`Version` here. The signature itself is checked by the pipeline (authenticate first).

Writing: JSON, or XML for `Format=XML` (the root element is `<Action>Response`, an error is
`<Error>`; a list is its element repeated, as the cloud's XML answers are). An error body
carries `Code`, `Message`, `RequestId`, `HostId` and `Recommend`; the HTTP status is the
one the SDKs turn into exceptions (4xx: ClientException, 5xx: ServerException).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from palisade.auditor.model.ram.signing import HttpRequest

# characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/FFFF):
# an XML answer shows U+FFFD in their place, so it is always well-formed
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
RECOMMEND = "Check Code and Message; the README's API section lists the actions and parameters."


def parse_form(text: str) -> dict[str, str]:
    """Query or urlencoded body -> params; a repeated name is an error, not a silent pick."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(
        text, keep_blank_values=True, strict_parsing=False, max_num_fields=2000
    ):
        if key in out:
            raise ValueError(f"the parameter {key[:64]} is given twice")
        out[key] = value
    return out


@dataclass(frozen=True)
class ApiRequest:
    params: dict[str, str]  # query and form body together, Action/Version included
    http: HttpRequest  # what a V3 signature covers


def read_request(method: str, query: str, headers: Mapping[str, str], body: bytes) -> ApiRequest:
    """The parameters of an API call; ValueError/UnicodeDecodeError for a malformed one."""
    url_params = parse_form(query)
    params = dict(url_params)
    if method == "POST" and body:
        for key, value in parse_form(body.decode("utf-8")).items():
            if key in params:
                raise ValueError(f"the parameter {key[:64]} is given twice")
            params[key] = value
    for header, name in (("x-acs-action", "Action"), ("x-acs-version", "Version")):
        value = headers.get(header)
        if value and "authorization" in headers:  # a V3 request: the signed header names it
            if params.setdefault(name, value) != value:
                raise ValueError(f"the parameter {name} and the header {header} disagree")
    http = HttpRequest(method, "/", url_params, dict(headers), body)
    return ApiRequest(params, http)


def wants_xml(params: Mapping[str, str]) -> bool:
    return params.get("Format", "JSON").upper() == "XML"


def error_body(body: dict, host: str) -> dict:
    """The error fields every SDK reads, in the cloud's order."""
    return {
        "RequestId": body.get("RequestId", ""),
        "HostId": host,
        "Code": body.get("Code", ""),
        "Message": body.get("Message", ""),
        "Recommend": RECOMMEND,
        **{k: v for k, v in body.items() if k not in ("RequestId", "Code", "Message")},
    }


def _xml_text(text: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", text))


def _xml_value(name: str, value: object, out: list[str]) -> None:
    tag = _xml_text(name)
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, item in value.items():
            _xml_value(str(key), item, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        for item in value:  # a list is its element repeated
            _xml_value(name, item, out)
    elif value is None:
        out.append(f"<{tag}/>")
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(f"<{tag}>{_xml_text(text)}</{tag}>")


def to_xml(root: str, body: dict) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _xml_value(root, body, out)
    return ("".join(out) + "\n").encode()


def render(status: int, body: dict, params: Mapping[str, str], host: str) -> tuple[bytes, str]:
    """The answer's bytes and content type, in the format the request asked for."""
    if status >= 400:
        body = error_body(body, host)
    if wants_xml(params):
        action = params.get("Action", "")
        root = "Error" if status >= 400 else f"{action}Response" if action.isalnum() else "Response"
        # tea-openapi parses an error as XML only under exactly this content type
        return to_xml(root, body), "text/xml;charset=utf-8"
    return (json.dumps(body, ensure_ascii=False) + "\n").encode(), "application/json; charset=utf-8"
