"""STS (2015-04-01): AssumeRole and GetCallerIdentity."""

from palisade.auditor.api.actions.sts import sessions  # noqa: F401  (registration on import)
