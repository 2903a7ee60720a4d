"""Errors raised by the RAM core, carrying the RAM/ECS API's own error codes."""

from __future__ import annotations

from palisade.auditor.model.errors import ModelError


class RamError(ModelError):
    """A refused RAM operation; `code` is the RAM/ECS API's `Code` (e.g. `EntityNotExist.User`).

    A ModelError, so the API layer reports it like any other model refusal.
    """


class PolicyError(RamError):
    """A policy document that RAM would refuse.

    `position` locates the error: `line L column C` for JSON syntax errors (with `line` and
    `column` set), otherwise a JSON path such as
    `Statement[1].Condition.IpAddress.acs:SourceIp[0]` (empty for the document as a whole).
    """

    def __init__(
        self,
        code: str,
        message: str,
        position: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        located = f"{message} (at {position})" if position else message
        super().__init__(code, located)
        self.reason = message
        self.position = position
        self.line = line
        self.column = column
