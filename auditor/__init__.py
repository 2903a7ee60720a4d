"""Palisade auditor: the cloud-side model, cross-checks, alerts and dashboard."""
