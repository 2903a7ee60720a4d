import pytest

from tests.helpers.auditor_process import start_auditor


@pytest.fixture(scope="package")
def auditor(tmp_path_factory):
    """One auditor for the RAM tests here; each test makes users, groups and roles of its own
    names. (A module that needs its own settings defines its own `auditor`.)"""
    proc = start_auditor(tmp_path_factory.mktemp("ram") / "auditor")
    yield proc
    proc.stop()
