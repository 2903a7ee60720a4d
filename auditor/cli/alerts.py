"""`palisade alerts|alert|findings|silence|whitelist`: the alert actions
(auditor/api/actions/sas/alerts.py) called through the API client, like `palisade api`, so RAM
authorises them and the audit log records them. Errors print the API's JSON error and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from palisade.auditor.checks.taxonomy import USER_STATUSES
from palisade.auditor.server.data_dir import DataDir

PAGE_SIZE = 100


class _CallFailed(Exception):
    def __init__(self, body: dict):
        super().__init__(body.get("Code", "Error"))
        self.body = body


def _call(d: DataDir, action: str, params: dict[str, str]) -> dict:
    from palisade.auditor.api.client import Credentials, call

    endpoint = d.state().get("http")
    if not endpoint:
        raise _CallFailed(
            {
                "Code": "AuditorNotFound",
                "Message": f"no auditor has written {d.state_file}: is `palisade serve` "
                "running with this --data-dir?",
            }
        )
    try:
        credentials = Credentials.resolve(d.path)
    except LookupError as exc:
        raise _CallFailed({"Code": "MissingCredentials", "Message": str(exc)}) from None
    try:
        status, body = call(endpoint, credentials, action, params)
    except OSError as exc:
        raise _CallFailed(
            {"Code": "AuditorUnreachable", "Message": f"cannot reach {endpoint}: {exc}"}
        ) from None
    if status != 200:
        raise _CallFailed(body)
    return body


def _all_pages(d: DataDir, action: str, params: dict[str, str], outer: str, inner: str) -> list:
    items: list = []
    page = 1
    while True:
        body = _call(d, action, {**params, "PageNumber": str(page), "PageSize": str(PAGE_SIZE)})
        batch = body[outer][inner]
        items.extend(batch)
        if not batch or len(items) >= body["TotalCount"]:
            return items
        page += 1


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _short(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


# -- commands -------------------------------------------------------------------------------------


def cmd_alerts(d: DataDir, args) -> None:
    alerts = _all_pages(
        d,
        "DescribeAlerts",
        _params(
            Status=args.status,
            Levels=args.level,
            InstanceId=args.instance,
            CheckId=args.check,
            Category=args.category,
        ),
        "Alerts",
        "Alert",
    )
    if args.json:
        _print_json(alerts)
        return
    print(
        f"{'ID':>6} {'STATUS':<14} {'LEVEL':<10} {'COUNT':>5} {'INSTANCE':<22} "
        f"{'CHECK':<28} {'SUBJECT':<22} LAST SEEN"
    )
    for a in alerts:
        print(
            f"{a['AlertId']:>6} {a['Status']:<14} {a['Level']:<10} {a['Count']:>5} "
            f"{_short(a['InstanceId'] or '-', 22):<22} {_short(a['CheckId'], 28):<28} "
            f"{_short(a['Subject'], 22):<22} {a['LastSeen']}"
        )


def cmd_alert_show(d: DataDir, args) -> None:
    alert = _call(d, "DescribeAlert", {"AlertId": str(args.alert_id)})["Alert"]
    if args.json:
        _print_json(alert)
        return
    print(f"alert {alert['AlertId']}: {alert['Title']}")
    for label, key in (
        ("status", "Status"),
        ("level", "Level"),
        ("category", "Category"),
        ("instance", "InstanceId"),
        ("check", "CheckId"),
        ("subject", "Subject"),
        ("count", "Count"),
        ("first seen", "FirstSeen"),
        ("last seen", "LastSeen"),
    ):
        print(f"  {label:<11} {alert[key]}")
    print(f"  {'message':<11} {alert['Message']}")
    print("  history:")
    for h in alert["History"]:
        comment = f": {h['Comment']}" if h["Comment"] else ""
        print(f"    {h['Time']} {h['Status']:<14} by {h['Actor']}{comment}")


def cmd_alert_handle(d: DataDir, args) -> None:
    body = _call(
        d,
        "HandleAlert",
        _params(
            AlertId=str(args.alert_id),
            Status=args.status,
            Comment=args.comment,
            EndTime=args.end,
            Duration=args.duration,
        ),
    )
    _print_json(body["Alert"])


def cmd_findings(d: DataDir, args) -> None:
    findings = _all_pages(
        d,
        "DescribeFindings",
        _params(
            Levels=args.level, InstanceId=args.instance, CheckId=args.check, Category=args.category
        ),
        "Findings",
        "Finding",
    )
    if args.json:
        _print_json(findings)
        return
    print(f"{'LEVEL':<10} {'INSTANCE':<22} {'CHECK':<28} {'SUBJECT':<22} TITLE")
    for f in findings:
        print(
            f"{f['Level']:<10} {_short(f['InstanceId'] or '-', 22):<22} "
            f"{_short(f['CheckId'], 28):<28} {_short(f['Subject'], 22):<22} {f['Title']}"
        )


def cmd_silence_list(d: DataDir, args) -> None:
    params = {"Active": "true"} if args.active else {}
    silences = _all_pages(d, "DescribeSilences", params, "Silences", "Silence")
    if args.json:
        _print_json(silences)
        return
    for s in silences:
        match = " ".join(
            f"{k}={s[k]}"
            for k in ("CheckId", "InstanceId", "Subject", "Category", "Level")
            if s[k] is not None
        )
        print(f"{s['SilenceId']:>5} {s['StartTime']} .. {s['EndTime']}  {match}  # {s['Comment']}")


def cmd_silence_create(d: DataDir, args) -> None:
    body = _call(
        d,
        "CreateSilence",
        _params(
            CheckId=args.check,
            InstanceId=args.instance,
            Subject=args.subject,
            Category=args.category,
            Level=args.level,
            StartTime=args.start,
            EndTime=args.end,
            Duration=args.duration,
            Comment=args.comment,
        ),
    )
    _print_json(body["Silence"])


def cmd_silence_delete(d: DataDir, args) -> None:
    _call(d, "DeleteSilence", {"SilenceId": str(args.silence_id)})


def cmd_whitelist_list(d: DataDir, args) -> None:
    params = {"Active": "true"} if args.active else {}
    entries = _all_pages(d, "DescribeWhitelist", params, "WhitelistEntries", "WhitelistEntry")
    if args.json:
        _print_json(entries)
        return
    for w in entries:
        scope = " ".join(
            f"{k}={w[k]}" for k in ("CheckId", "InstanceId", "Category") if w[k] is not None
        )
        until = w["EndTime"] or "forever"
        print(f"{w['WhitelistEntryId']:>5} {w['Kind']}={w['Value']} {scope} until {until}")


def cmd_whitelist_add(d: DataDir, args) -> None:
    kind, value = next(
        (k, v) for k, v in (("ip", args.ip), ("port", args.port), ("subject", args.subject)) if v
    )
    body = _call(
        d,
        "CreateWhitelistEntry",
        _params(
            Kind=kind,
            Value=value,
            CheckId=args.check,
            InstanceId=args.instance,
            Category=args.category,
            EndTime=args.end,
            Duration=args.duration,
            Comment=args.comment,
        ),
    )
    _print_json(body["WhitelistEntry"])


def cmd_whitelist_delete(d: DataDir, args) -> None:
    _call(d, "DeleteWhitelistEntry", {"WhitelistEntryId": str(args.entry_id)})


# -- wiring ---------------------------------------------------------------------------------------


def add_commands(sub, data_dir: Callable[[argparse.Namespace], DataDir]) -> None:
    def run(command):
        def func(args) -> int:
            try:
                command(data_dir(args), args)
            except _CallFailed as exc:
                print(json.dumps(exc.body, indent=2, ensure_ascii=False), file=sys.stdout)
                return 1
            return 0

        return func

    def parser(parent, name: str, help_text: str, command):
        p = parent.add_parser(name, help=help_text)
        p.add_argument("--data-dir", default=argparse.SUPPRESS)
        p.set_defaults(func=run(command))
        return p

    def filters(p, statuses: bool) -> None:
        if statuses:
            p.add_argument("--status", help="pending, handling, handled, ignored, ... (a,b)")
        p.add_argument("--level", help="serious, suspicious, remind (comma-separated)")
        p.add_argument("--instance", help="only this instance")
        p.add_argument("--check", help="only this check id")
        p.add_argument("--category", help="only this category")
        p.add_argument("--json", action="store_true")

    filters(parser(sub, "alerts", "list the alerts", cmd_alerts), statuses=True)
    filters(parser(sub, "findings", "the current findings (open alerts)", cmd_findings), False)

    alert = sub.add_parser("alert", help="one alert: show, handle")
    asub = alert.add_subparsers(dest="alert_command", required=True)
    show = parser(asub, "show", "an alert with its history", cmd_alert_show)
    show.add_argument("alert_id", type=int)
    show.add_argument("--json", action="store_true")
    handle = parser(asub, "handle", "change an alert's status", cmd_alert_handle)
    handle.add_argument("alert_id", type=int)
    handle.add_argument("--status", required=True, choices=USER_STATUSES)
    handle.add_argument("--comment", help="why (accepted_risk needs one)")

    def until(p) -> None:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--duration", help="how long, e.g. 2h or 7d")
        g.add_argument("--end", help="until, e.g. 2026-12-01T08:00:00Z")

    until(handle)  # accepted_risk: until when the risk is accepted

    silence = sub.add_parser("silence", help="silences: list, create, delete")
    ssub = silence.add_subparsers(dest="silence_command", required=True)
    sl = parser(ssub, "list", "the silences", cmd_silence_list)
    sl.add_argument("--active", action="store_true", help="only those in force now")
    sl.add_argument("--json", action="store_true")
    sc = parser(
        ssub, "create", "mute notifications of matching alerts for a time", cmd_silence_create
    )
    for flag, help_text in (
        ("--check", "check id pattern, e.g. login.*"),
        ("--instance", "instance id"),
        ("--subject", "subject pattern, e.g. 203.0.113.*"),
        ("--category", "category"),
        ("--level", "serious, suspicious or remind"),
        ("--start", "from (default now)"),
    ):
        sc.add_argument(flag, help=help_text)
    until(sc)
    sc.add_argument("--comment", required=True)
    sd = parser(ssub, "delete", "end a silence", cmd_silence_delete)
    sd.add_argument("silence_id", type=int)

    wl = sub.add_parser("whitelist", help="whitelist entries: list, add, delete")
    wsub = wl.add_subparsers(dest="whitelist_command", required=True)
    wls = parser(wsub, "list", "the whitelist", cmd_whitelist_list)
    wls.add_argument("--active", action="store_true", help="only those in force now")
    wls.add_argument("--json", action="store_true")
    wa = parser(wsub, "add", "raise no alert for what an entry matches", cmd_whitelist_add)
    what = wa.add_mutually_exclusive_group(required=True)
    what.add_argument("--ip", help="a source address or CIDR block (login checks)")
    what.add_argument("--port", help="a port, e.g. 443 or tcp/443 (exposure checks)")
    what.add_argument("--subject", help="a subject pattern")
    wa.add_argument("--check", help="only for this check id pattern")
    wa.add_argument("--instance", help="only for this instance")
    wa.add_argument("--category", help="only for this category")
    until(wa)
    wa.add_argument("--comment", required=True)
    wd = parser(wsub, "delete", "remove a whitelist entry", cmd_whitelist_delete)
    wd.add_argument("entry_id", type=int)
