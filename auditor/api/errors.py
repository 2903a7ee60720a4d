"""ECS-style API errors: a stable `Code`, a `Message` that says what to change, an HTTP status."""

from __future__ import annotations

from palisade.auditor.model.errors import ModelError


class ApiError(ModelError):
    def __init__(self, code: str, message: str, status: int = 400, fields: dict | None = None):
        super().__init__(code, message)
        self.status = status
        self.fields = fields or {}  # more of the error body, e.g. AccessDeniedDetail


def http_status(error: ModelError) -> int:
    """The HTTP status the ECS API uses for a code."""
    if isinstance(error, ApiError):
        return error.status
    code = error.code
    if code.startswith("Forbidden") or code in ("NoPermission", "NotAuthorized"):
        return 403
    if code.endswith((".NotFound", "NotFound")) or code.startswith("EntityNotExist"):
        return 404
    return 400
