"""The dashboard: server-rendered pages on the auditor's HTTP port, under /ui/.

Every page and form is authorised by the same RAM policies as the API: a page
names the RAM action it shows (e.g. ecs:DescribeSecurityGroupAttribute) and is
refused without it; a form runs the very API action (ApiService.handle_as), so
its authorisation, validation, audit and persistence are the API's. Sessions are
server-side with a CSRF token on every form; templates escape every value.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from palisade.auditor.api.http import Reply, Request, parse_form
from palisade.auditor.api.pipeline import ApiService
from palisade.auditor.model.errors import ModelError
from palisade.auditor.model.ram import Caller, RequestContext
from palisade.auditor.notify.models import LEVEL_RANK
from palisade.auditor.store.database import Database
from palisade.auditor.store.events import HOUR_MS, hour_of
from palisade.auditor.web import pages
from palisade.auditor.web.errors import Forbidden, NotFound
from palisade.auditor.web.i18n import LANGUAGES, alert_message, pick_language, translator
from palisade.auditor.web.sessions import DashboardSessions, Session

log = logging.getLogger("palisade.web")

PREFIX = "/ui"
SESSION_COOKIE = "palisade_session"
LANG_COOKIE = "palisade_lang"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

# The nav: each page with the RAM action (and resource) its handler requires; a user sees
# only the pages it may open.
NAV = (
    ("Overview", "/", "ecs:DescribeInstances", "ecs", "instance/*"),
    ("Instances", "/instances", "ecs:DescribeInstances", "ecs", "instance/*"),
    ("Security groups", "/security-groups", "ecs:DescribeSecurityGroups", "ecs", "securitygroup/*"),
    ("Key pairs", "/key-pairs", "ecs:DescribeKeyPairs", "ecs", "keypair/*"),
    ("Alerts", "/alerts", "sas:DescribeAlerts", "sas", "alert/*"),
    (
        "Notifications",
        "/notifications",
        "sas:DescribeNotificationChannels",
        "sas",
        "notification-channel/*",
    ),
    ("Inbox", "/inbox", "sas:DescribeInbox", "sas", "inbox/*"),
    ("RAM", "/ram", "ram:ListUsers", "ram", "user/*"),
)


@dataclass
class Page:
    """What a page handler gets: the request, who is asking, and helpers."""

    request: Request
    session: Session
    caller: Caller
    params: dict[str, str]
    form: dict[str, str]
    lang: str
    app: Dashboard

    _state: object = None

    @property
    def state(self):
        """The cloud state as of this request (read once: each read checks the database's
        version); an action this page runs drops it, so what follows sees the change."""
        if self._state is None:
            self._state = self.app.api.current()
        return self._state

    @property
    def store(self) -> Database:
        return self.app.store

    def can(self, action: str, resource: str) -> bool:
        state = self.state
        context = RequestContext(
            current_time=self.app.api.clock(),
            source_ip=self.request.client_ip,
            secure_transport=False,
            mfa_present=False,
        )
        return state.ram.authorize(self.caller, action, resource, context).allowed

    def require(self, action: str, resource: str) -> None:
        if not self.can(action, resource):
            raise Forbidden(f"{action} on {resource}")

    def nav(self) -> list[tuple[str, str]]:
        """(label, path) of the pages this user may open."""
        return [
            (label, path)
            for label, path, action, service, resource in NAV
            if self.can(action, self.arn(service, "*", resource))
        ]

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"acs:{service}:{region or '*'}:{self.state.account_id}:{resource}"

    def call(self, action: str, **params: str) -> tuple[bool, dict]:
        """Runs an API action as this user: (ok, response body)."""
        raw = {"Action": action, **{k: v for k, v in params.items() if v is not None}}
        response = self.app.api.handle_as(self.caller, raw, self.request.client_ip)
        self._state = None
        return response.status == 200, response.body


class Dashboard:
    def __init__(
        self,
        api: ApiService,
        store: Database,
        sessions: DashboardSessions | None = None,
        alerts=None,
        inbox=None,
    ):
        self.api = api
        self.store = store
        self.alerts = alerts  # the alert service, when the auditor runs checks
        self.inbox = inbox
        self.sessions = sessions or DashboardSessions(store)
        self.env = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["ms"] = format_ms
        self.env.filters["q"] = lambda v: quote(str(v), safe="")

    # -- data the pages share ----------------------------------------------------------------

    def alert_counts_by_instance(self) -> dict[str, dict[str, int]]:
        if self.alerts is None:
            return {}
        return self.alerts.open_counts_by_instance()

    def alert_counts_by_level(self) -> dict[str, int]:
        if self.alerts is None:
            return {}
        return self.alerts.counts().open_by_level

    def alerts_for(self, instance_id: str) -> list:
        if self.alerts is None:
            return []
        from palisade.auditor.alerts.repository import AlertFilter

        found = self.alerts.list_alerts(AlertFilter(instance_id=instance_id), limit=100)[1]
        # open ones first, serious first; the latest first within (the list's own order)
        return sorted(
            found,
            key=lambda a: (
                a.status not in ("pending", "handling"),
                LEVEL_RANK.get(a.severity, len(LEVEL_RANK)),
            ),
        )

    def instance_logins_per_hour(self, instance_id: str, now_ms: int) -> tuple[list, list]:
        """An instance's (failed, successful) logins per hour over the last 24 h (the instance
        page's timeline)."""
        return self.store.instance_logins_per_hour(instance_id, _day_start(now_ms), now_ms)

    def exposures_by_service(self) -> list[tuple[str, int]]:
        """Open exposure alerts per service, by the service's name (`Redis (tcp/6379)`), most
        first; a rule's finding counts once for each service it opens."""
        if self.alerts is None:
            return []
        from palisade.auditor.alerts.repository import AlertFilter

        counts: dict[str, int] = {}
        for alert in self.alerts.open_findings(AlertFilter(category="exposure")):
            for name in exposure_services(alert.subject, alert.details or {}):
                counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]

    def hour_labels(self, now_ms: int) -> list[str]:
        """The 24 clock hours the charts show (UTC), the oldest first: `08:00`."""
        start = _day_start(now_ms)
        return [format_ms(start + i * HOUR_MS)[11:16] for i in range(24)]

    def alerts_opened_per_hour(self, now_ms: int) -> list[int]:
        """Alerts opened per clock hour over the last 24 (the overview's chart)."""
        hours = [0] * 24
        if self.alerts is not None:
            since = _day_start(now_ms)
            for first_seen in self.alerts.opened_since(since):
                hours[min(23, max(0, (first_seen - since) // HOUR_MS))] += 1
        return hours

    def baseline_results(self, instance_id: str) -> list:
        return [a for a in self.alerts_for(instance_id) if getattr(a, "category", "") == "baseline"]

    def failed_logins_per_hour(self, now_ms: int) -> list[int]:
        """Failed logins per hour over the last 24 h (the overview's chart)."""
        return self.store.failed_logins_per_hour(_day_start(now_ms), now_ms)

    def top_failed_sources(self, now_ms: int) -> list[tuple[str, int]]:
        return self.store.top_failed_sources(_day_start(now_ms), 10)

    # -- plumbing -----------------------------------------------------------------------------

    def render(
        self, name: str, page: Page | None, lang: str, http_status: int = 200, **context
    ) -> Reply:
        t = translator(lang)
        html = self.env.get_template(name).render(
            t=t,
            msg=alert_message(lang),
            lang=lang,
            languages=LANGUAGES,
            page=page,
            prefix=PREFIX,
            user=page.session.user_name if page else None,
            csrf=page.session.csrf_token if page else "",
            **context,
        )
        return Reply(http_status, html.encode(), "text/html; charset=utf-8", dict(SECURITY_HEADERS))

    @staticmethod
    def redirect(location: str, cookies: list[str] | None = None) -> Reply:
        headers = {"Location": location, **SECURITY_HEADERS}
        reply = Reply(303, b"", "text/plain", headers)
        reply.cookies = cookies or []
        return reply

    @staticmethod
    def _cookies(request: Request) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(request.headers.get("cookie", ""))
        except CookieError:
            return {}
        return {k: m.value for k, m in jar.items()}

    @staticmethod
    def _cookie(name: str, value: str, max_age: int | None = None) -> str:
        # Secure: browsers keep it on http://localhost too (a secure context); behind TLS it
        # never travels in clear. HttpOnly: no script reads it. SameSite=Strict: no CSRF ride.
        parts = [f"{name}={value}", "Path=/ui", "HttpOnly", "Secure", "SameSite=Strict"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        return "; ".join(parts)

    def __call__(self, request: Request) -> Reply:
        cookies = self._cookies(request)
        lang = pick_language(cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        path = request.path[len(PREFIX) :] or "/"
        try:
            params = parse_form(request.query)
            form = parse_form(request.body.decode("utf-8")) if request.method == "POST" else {}
        except (ValueError, UnicodeDecodeError):
            return self.render("error.html", None, lang, 400, message="Malformed request.")
        if path == "/static/palisade.css":
            css = (Path(__file__).parent / "static" / "palisade.css").read_bytes()
            return Reply(200, css, "text/css; charset=utf-8", {"Cache-Control": "max-age=3600"})
        if path == "/lang":
            choice = params.get("set", "en")
            choice = choice if choice in LANGUAGES else "en"
            back = params.get("back", PREFIX + "/")
            if not back.startswith(PREFIX + "/") or "//" in back or "\\" in back:
                back = PREFIX + "/"  # never an open redirect
            return self.redirect(back, [self._cookie(LANG_COOKIE, choice, 365 * 86400)])
        if path == "/login":
            return self.login(request, form, lang)
        now_ms = int(time.time() * 1000)
        token = cookies.get(SESSION_COOKIE)
        session = self.sessions.get(token, now_ms)
        if session is not None and not self.sessions.still_signed_in(
            session, self.api.current().ram.console_credential(session.user_name)
        ):  # revoked: the user, its login profile or its password changed since sign-in
            self.sessions.end(token)
            log.info(
                "dashboard session of %s ended: its console credential changed", session.user_name
            )
            session = None
        if session is None:
            return self.redirect(f"{PREFIX}/login?{urlencode({'next': request.path})}")
        if request.method == "POST" and not self.sessions.csrf_ok(session, form.get("csrf")):
            return self.render(
                "error.html",
                None,
                lang,
                403,
                message="The form expired; reload the page and try again.",
            )
        if path == "/logout" and request.method == "POST":
            self.sessions.end(token)
            return self.redirect(f"{PREFIX}/login", [self._cookie(SESSION_COOKIE, "", 0)])
        page = Page(request, session, Caller.user(session.user_name), params, form, lang, self)
        handler, args = pages.route(request.method, path)
        if handler is None:
            return self.render("error.html", page, lang, 404, message="No such page.")
        try:
            return handler(page, *args)
        except Forbidden as exc:
            return self.render(
                "error.html",
                page,
                lang,
                403,
                message="You are not allowed to do this.",
                detail=str(exc),
            )
        except NotFound as exc:
            return self.render("error.html", page, lang, 404, message=str(exc))
        except ModelError as exc:
            return self.render("error.html", page, lang, 400, message=exc.message)

    def login(self, request: Request, form: dict[str, str], lang: str) -> Reply:
        next_url = parse_form(request.query).get("next", PREFIX + "/")
        if not next_url.startswith(PREFIX + "/") or "//" in next_url or "\\" in next_url:
            next_url = PREFIX + "/"
        if request.method != "POST":
            return self.render("login.html", None, lang, next_url=next_url, error=None)
        user = form.get("user", "")[:64]
        password = form.get("password", "")[:256]
        ip = request.client_ip
        if self.sessions.throttled(user, ip):
            return self.render(
                "login.html",
                None,
                lang,
                429,
                next_url=next_url,
                error="Too many failed attempts; wait 15 minutes.",
            )
        state = self.api.current()
        if not user or not state.ram.check_console_password(user, password):
            self.sessions.failed(user, ip)
            log.warning("dashboard login failed for %r from %s", user, ip)
            return self.render(
                "login.html",
                None,
                lang,
                401,
                next_url=next_url,
                error="The user name or password is wrong.",
            )
        self.sessions.succeeded(user, ip)
        credential = state.ram.console_credential(user) or ""  # there is one: it was checked
        token, _ = self.sessions.create(user, int(time.time() * 1000), credential)
        log.info("dashboard login: %s from %s", user, ip)
        return self.redirect(next_url, [self._cookie(SESSION_COOKIE, token)])


def exposure_services(subject: str, details: dict) -> list[str]:
    """The services an exposure finding is about, by name: the listener's service, the
    high-risk services a rule opens, or the catalogue's name for `proto/port`; a rule that
    opens ports where nothing listens is counted as such (its subject is a rule id)."""
    from palisade.shared import ports

    if details.get("service"):
        return [f"{details['service']} ({subject})"]
    if details.get("services"):
        return [str(label) for label in details["services"]]
    proto, _, port = subject.partition("/")
    if port.isdigit():
        known = ports.lookup(proto, int(port))
        return [f"{known.service} ({subject})" if known else f"{subject} (unrecognised)"]
    return ["open ports, nothing listening"]


def format_ms(ms: int | None) -> str:
    """A time in milliseconds as the pages show it (UTC); a dash for none."""
    if not ms:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _day_start(now_ms: int) -> int:
    """The start of the clock hour 23 hours before the current one: login charts show the
    last 24 clock hours, the current one last (logins are counted per clock hour)."""
    return hour_of(now_ms) - 23 * HOUR_MS
