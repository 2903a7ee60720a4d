"""What a page raises when it cannot answer; the dashboard turns each into an error page."""

from __future__ import annotations


class Forbidden(Exception):
    """RAM refuses the action the page shows (403)."""


class NotFound(Exception):
    """The page's subject (an instance, a security group) does not exist (404)."""
