"""The official Alibaba Cloud SDKs pointed at a real auditor, unchanged but for endpoint and
protocol: tea-openapi's Config (V3, or V2 with signature_algorithm="v2") and
aliyun-python-sdk-core's AcsClient with CommonRequest."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from alibabacloud_tea_openapi import models as openapi_models
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from palisade.auditor.api.client import Credentials

REGION = "cn-hangzhou"


def tea_config(
    cloud,
    signature: str,
    *,
    key: tuple[str, str] | None = None,
    credentials: Credentials | None = None,
) -> openapi_models.Config:
    """A tea-openapi Config for `cloud` signing with `signature` ("v3" or "v2"), as the account
    owner, `credentials` (with an STS token) or the AccessKey pair `key`."""
    creds = credentials or Credentials.resolve(cloud.data_dir)
    key_id, secret = key or (creds.access_key_id, creds.access_key_secret)
    return openapi_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=None if key else creds.security_token,
        endpoint=cloud.http,
        protocol="http",
        region_id=REGION,
        signature_algorithm="v2" if signature == "v2" else None,
    )


class CoreSdk:
    """aliyun-python-sdk-core's AcsClient, each request pointed at the auditor over HTTP."""

    def __init__(self, cloud, key: tuple[str, str] | None = None):
        creds = Credentials.resolve(cloud.data_dir)
        key_id, secret = key or (creds.access_key_id, creds.access_key_secret)
        self.client = AcsClient(key_id, secret, REGION)
        self.endpoint = cloud.http

    def __call__(self, request, method: str = "POST") -> dict:
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        request.set_method(method)
        return json.loads(self.client.do_action_with_exception(request))


def common_request(action: str, version: str, **params: str) -> CommonRequest:
    """aliyun-python-sdk-core's request for any action, parameters in the query."""
    request = CommonRequest(version=version, action_name=action)
    for name, value in params.items():
        request.add_query_param(name, value)
    return request


def unsigned_post(cloud, params: dict[str, str]) -> tuple[int, dict]:
    """An unsigned form POST of `params` to the auditor: (HTTP status, error body)."""
    request = urllib.request.Request(
        f"http://{cloud.http}/",
        data=urllib.parse.urlencode(params).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
    raise AssertionError(f"an unsigned request was answered 200: {params}")
