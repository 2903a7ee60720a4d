"""Baseline configuration: the host's settings (sshd, accounts, file modes, Windows policies)
against the hardening policies in policies/ (CIS benchmark items)."""
