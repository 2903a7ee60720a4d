"""The one error type of the model: an ECS-style code plus a message that says what to change."""

from __future__ import annotations


class ModelError(Exception):
    """A refused model operation. `code` is stable (ECS-style), `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
