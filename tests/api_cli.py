"""`palisade ...` in-process against a real auditor (faster than a subprocess per call)."""

from __future__ import annotations

import contextlib
import io
import json
import os

from palisade.auditor import cli


def run(auditor, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    umask = os.umask(0o022)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out):
            rc = cli.main(["--data-dir", str(auditor.data_dir), *args])
    finally:
        os.umask(umask)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return rc, out.getvalue()


def api(auditor, action: str, *assignments: str, env: dict[str, str] | None = None):
    rc, text = run(auditor, "api", action, *assignments, env=env)
    return rc, json.loads(text)


def ok(auditor, action: str, *assignments: str, env: dict[str, str] | None = None) -> dict:
    rc, body = api(auditor, action, *assignments, env=env)
    assert rc == 0, body
    return body
