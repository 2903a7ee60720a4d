import pytest

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
