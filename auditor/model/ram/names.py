"""Name rules of RAM entities, with the RAM API's error codes when a name breaks them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from palisade.auditor.model.ram.errors import RamError


@dataclass(frozen=True)
class NameRule:
    parameter: str  # the API parameter, e.g. UserName
    max_length: int
    pattern: re.Pattern[str]
    allowed: str  # for the error message

    def check(self, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise RamError(f"MissingParameter.{self.parameter}", f"{self.parameter} is required")
        if len(value) > self.max_length:
            raise RamError(
                f"InvalidParameter.{self.parameter}.Length",
                f"{self.parameter} must be 1 to {self.max_length} characters long",
            )
        if not self.pattern.fullmatch(value):
            raise RamError(
                f"InvalidParameter.{self.parameter}.InvalidChars",
                f"{self.parameter} {value!r} may contain only {self.allowed}",
            )
        return value


USER_NAME = NameRule(
    "UserName", 64, re.compile(r"[A-Za-z0-9._@-]+"), "letters, digits, '.', '_', '@' and '-'"
)
GROUP_NAME = NameRule("GroupName", 64, re.compile(r"[A-Za-z0-9.-]+"), "letters, digits, '.', '-'")
ROLE_NAME = NameRule("RoleName", 64, re.compile(r"[A-Za-z0-9.-]+"), "letters, digits, '.', '-'")
POLICY_NAME = NameRule("PolicyName", 128, re.compile(r"[A-Za-z0-9-]+"), "letters, digits, '-'")
# Display names may hold Chinese and spaces; only control characters are refused.
DISPLAY_NAME = NameRule(
    "DisplayName", 128, re.compile(r"[^\x00-\x1f\x7f]+"), "printable characters"
)


def check_text(parameter: str, value: str, max_length: int) -> str:
    """Free text (Comments, Description): only a length limit."""
    if len(value) > max_length:
        raise RamError(
            f"InvalidParameter.{parameter}.Length",
            f"{parameter} must be at most {max_length} characters long",
        )
    return value
