import pytest

from tests.helpers import start_auditor


@pytest.fixture
def auditor(tmp_path):
    """A real `palisade serve` process on loopback, SQLite in a temporary data dir."""
    proc = start_auditor(tmp_path / "auditor")
    yield proc
    proc.stop()
