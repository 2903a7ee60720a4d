import random
from datetime import UTC, datetime

import pytest

from palisade.auditor.model.ram import RamAccount, RequestContext

NOW = datetime(2019, 9, 18, 8, 0, 0, tzinfo=UTC)
ACCOUNT_ID = "1234567890123456"


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def account() -> RamAccount:
    return RamAccount(ACCOUNT_ID, random_bytes=random.Random(7).randbytes)


@pytest.fixture
def office() -> RequestContext:
    return RequestContext(current_time=NOW, source_ip="42.120.74.10", secure_transport=True)
