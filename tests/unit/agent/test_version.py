import tomllib
from pathlib import Path

from palisade.agent.version import AGENT_VERSION


def test_agent_version_is_the_distribution_version():
    project = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    assert AGENT_VERSION == project["project"]["version"]
