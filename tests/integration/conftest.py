import pytest

from tests.helpers.auditor_process import start_auditor
from tests.helpers.browser import chromium_browser
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)


@pytest.fixture
def auditor(tmp_path):
    """A real `palisade serve` process on loopback, SQLite in a temporary data dir."""
    proc = start_auditor(tmp_path / "auditor")
    yield proc
    proc.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.needs_db)])
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


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module."""
    yield from chromium_browser()
