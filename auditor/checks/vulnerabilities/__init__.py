"""Vulnerabilities: installed packages against the OSV advisory feed."""
