"""The cloud's products as its OpenAPI routes them: one endpoint, the product chosen by the
`Version` a request names (what the official SDKs send: each product SDK pins its version).

An action's product is the RAM service it declares (`@action(service=...)`): `ecs`, `vpc`,
`ram`, `sts`, `sas` (the security center, under the version of its official SDK,
alibabacloud-sas20181203) and `yundun-ddos` (Anti-DDoS Basic, the antiddos-public product:
alibabacloud-antiddos-public20170518).
"""

from __future__ import annotations

from palisade.auditor.api.errors import ApiError

# RAM service -> the API version of the product that serves it
VERSIONS = {
    "ecs": "2014-05-26",
    "vpc": "2016-04-28",
    "ram": "2015-05-01",
    "sts": "2015-04-01",
    "sas": "2018-12-03",
    "yundun-ddos": "2017-05-18",
}
SERVICES = {version: service for service, version in VERSIONS.items()}


def service_of_version(version: str) -> str:
    service = SERVICES.get(version)
    if service is None:
        raise ApiError(
            "InvalidVersion",
            f"Specified parameter Version {version[:32]!r} is not valid; this endpoint serves "
            + ", ".join(f"{s.upper()} {v}" for s, v in VERSIONS.items()),
        )
    return service
