"""Secrets: plaintext AccessKeys stored on the host, cross-checked with RAM."""
