import pytest

from tests.helpers.in_process_api import ApiHarness
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_db)])
def db_url(request, tmp_path):
    """A fresh, empty store database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    require_postgres()
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def h(tmp_path) -> ApiHarness:
    """The API in-process on a fresh SQLite file; calls are signed as the account owner
    (the API and dashboard tests)."""
    return ApiHarness(tmp_path / "auditor")
