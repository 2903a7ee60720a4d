from __future__ import annotations

from datetime import datetime

import pytest

from palisade.auditor.model.fleet.cloud_model import CloudModel

NOW = datetime(2024, 1, 1, 12, 0, 0)
REGION = "cn-hangzhou"


class Fleet:
    """A small fleet builder for tests: accounts, one region, VPCs, groups, instances."""

    def __init__(self) -> None:
        self.model = CloudModel()
        self.model.add_region(REGION)
        self._ip = 10

    def account(self, account_id: str = "1001") -> str:
        if account_id not in self.model.accounts:
            self.model.add_account(account_id)
        return account_id

    def vpc(self, account_id: str = "1001", cidr: str = "172.16.0.0/12") -> str:
        self.account(account_id)
        return self.model.create_vpc(account_id, REGION, cidr).vpc_id

    def group(self, account_id: str = "1001", vpc_id: str | None = None, **kw) -> str:
        self.account(account_id)
        network = kw.pop("network_type", "vpc" if vpc_id else "classic")
        return self.model.create_security_group(
            account_id, REGION, now=NOW, vpc_id=vpc_id, network_type=network, **kw
        ).group_id

    def instance(
        self,
        groups: list[str],
        account_id: str = "1001",
        vpc_id: str | None = None,
        public_ip: str | None = None,
        private_ip: str | None = None,
        **kw,
    ) -> str:
        self._ip += 1
        ip = private_ip or f"172.16.0.{self._ip}"
        network = "vpc" if vpc_id else "classic"
        if network == "classic" and private_ip is None:
            ip = f"10.100.0.{self._ip}"
        kw.setdefault("created_at", NOW)
        return self.model.create_instance(
            account_id,
            REGION,
            vpc_id=vpc_id,
            network_type=network,
            private_ips=[ip],
            public_ip=public_ip,
            security_group_ids=groups,
            **kw,
        ).instance_id

    def ip(self, instance_id: str) -> str:
        return self.model.instances[instance_id].primary_nic.private_ips[0]


@pytest.fixture
def fleet() -> Fleet:
    return Fleet()
