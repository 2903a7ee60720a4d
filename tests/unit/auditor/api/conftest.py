import pytest

from tests.helpers.in_process_api import ApiHarness


@pytest.fixture
def h(tmp_path) -> ApiHarness:
    """The API in-process on a fresh SQLite file; calls are signed as the account owner."""
    return ApiHarness(tmp_path / "auditor")
