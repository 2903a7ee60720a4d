import pytest

from tests.helpers.auditor_process import start_auditor


@pytest.fixture(scope="module")
def auditor(tmp_path_factory):
    """One auditor per test module; each test works in its own VPC or region."""
    proc = start_auditor(tmp_path_factory.mktemp("sg") / "auditor")
    yield proc
    proc.stop()
