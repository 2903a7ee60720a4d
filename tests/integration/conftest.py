import pytest

from tests.helpers import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
    start_auditor,
)


@pytest.fixture
def auditor(tmp_path):
    """A real `palisade serve` process on loopback, SQLite in a temporary data dir."""
    proc = start_auditor(tmp_path / "auditor")
    yield proc
    proc.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty store database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    require_postgres()
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_auditor(request, tmp_path):
    """A real auditor process on each backend (for the ingest tests)."""
    extra: tuple[str, ...] = ()
    url = None
    if request.param == "postgresql":
        require_postgres()
        url = create_postgres_database()
        extra = ("--db", url)
    proc = start_auditor(tmp_path / "auditor", *extra)
    yield proc
    proc.stop()
    if url:
        drop_postgres_database(url)
