"""The agent's version, reported in every snapshot."""

from importlib.metadata import PackageNotFoundError, version

try:
    AGENT_VERSION = version("palisade")
except PackageNotFoundError:  # running from a source tree that is not installed
    AGENT_VERSION = "0.0.0+source"
