"""The page registry: `@page(METHOD, PATTERN)` registers a handler, `route` finds it."""

from __future__ import annotations

import re
from collections.abc import Callable

Handler = Callable[..., object]
_ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def page(method: str, pattern: str):
    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def route(method: str, path: str) -> tuple[Handler | None, tuple]:
    for m, rx, fn in _ROUTES:
        match = rx.match(path)
        if match and m == method:
            return fn, match.groups()
    return None, ()
