"""The agent's version, reported in every snapshot.

A constant rather than importlib.metadata: that module pulls in email, csv and zipfile,
megabytes of resident memory for one string. tests/unit/test_version.py keeps it equal to
pyproject.toml's version.
"""

AGENT_VERSION = "0.1.0"
