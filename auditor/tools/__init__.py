"""Operator tools around key pairs: reading private key files as users hold them, and logging
in to an instance over SSH as its owner would."""
