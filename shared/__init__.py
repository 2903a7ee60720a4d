"""Code both the agent and the auditor import."""
