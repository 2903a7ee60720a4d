"""A small HTTP client for dashboard tests that keeps the session cookie.

The dashboard's cookies are `Secure`: browsers send them to http://127.0.0.1 (a secure
context), Python's cookie jar does not, so this client keeps them itself.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Page:
    status: int
    url: str
    body: str
    headers: dict

    def csrf(self) -> str:
        m = re.search(r'name="csrf" value="([^"]+)"', self.body)
        assert m, "no CSRF token on the page"
        return m.group(1)


@dataclass
class DashboardClient:
    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def _open(self, method: str, path: str, data: dict | None = None) -> Page:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            resp = opener.open(req, timeout=30)
            status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, headers, raw = err.code, err.headers, err.read()
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        page = Page(status, path, raw.decode("utf-8", "replace"), dict(headers))
        if status in (301, 302, 303) and "Location" in headers:
            return self._open("GET", headers["Location"])
        return page

    def get(self, path: str) -> Page:
        return self._open("GET", path)

    def post(self, path: str, data: dict) -> Page:
        return self._open("POST", path, data)

    def login(self, user: str, password: str) -> Page:
        return self.post("/ui/login?next=/ui/", {"user": user, "password": password})
