"""Logins: brute force, a success after failures, logins from a new source, at an unusual hour
or with an unusual account, from a source the security groups drop, and one source failing
across the fleet."""
