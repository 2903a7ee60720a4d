"""Three auditor replicas on one PostgreSQL database, ten concurrent signed writers on each,
all adding and revoking rules on the same three security groups (issue 15).

Every answer must be a success or a real validation error, never a conflict, `Throttling`,
`ServiceUnavailable` or `SignatureNonceUsed`: a conflict between replicas is the server's to
retry, not the client's. Afterwards the rules of the groups, as each replica describes them,
must equal a serial replay of the successful calls in the order the server committed them.

The commit order is the audit log's: a change and its audit row are written in one
transaction, and the rows are read back ordered by id. The order is not taken on trust: for
each group, the rules a row records as "before" must be those the previous row recorded as
"after" (the group's changes form one chain), and every call is replayed, in that order, on a
fresh in-process model, where each must do again exactly what it did on the replicas.
Calls that changed nothing are in no chain: an authorisation of a rule the group already has
(ECS answers it with success and no rule id) and a revocation refused with
`InvalidPermission.NotFound`. Each of those must have been true of a state of the group in
effect at some moment between its request and its answer (bounded by when the changes were
sent and answered), or the replica answered from a stale copy of the group.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from palisade.auditor.api.client import Credentials, call
from palisade.auditor.store.database import Database
from tests.helpers.auditor_process import auditor_replicas
from tests.helpers.in_process_api import ApiHarness
from tests.helpers.polling import wait_for
from tests.helpers.postgres import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

pytestmark = [pytest.mark.integration, pytest.mark.needs_db]

REPLICAS = 3
WRITERS_PER_REPLICA = 10
GROUPS = 3
RULES = 6  # the pool of rules each group's writers add and revoke: duplicates and misses happen
DURATION_S = 30.0
R = "cn-hangzhou"
# what a write of these rules may rightly be refused with
VALIDATION_ERRORS = {"InvalidPermission.NotFound"}


def rule(k: int) -> dict[str, str]:
    """The k-th rule of the pool, as the API's flat parameters."""
    return {
        "IpProtocol": "tcp",
        "PortRange": f"{1000 + k}/{1000 + k}",
        "SourceCidrIp": f"198.51.100.{k + 1}/32",
        "Priority": "1",
    }


@dataclass
class Call:
    replica: int
    action: str  # AuthorizeSecurityGroup | RevokeSecurityGroup
    group: str
    k: int
    sent: float  # time.monotonic() before the request and after the answer (this process)
    answered: float
    status: int
    body: dict

    @property
    def code(self) -> str:
        return "" if self.status == 200 else str(self.body.get("Code"))

    @property
    def request_id(self) -> str:
        return str(self.body.get("RequestId", ""))

    @property
    def no_op(self) -> bool:
        """Answered success without changing the group (an authorisation of a rule the group
        has already)."""
        ids = self.body.get("SecurityGroupRuleIds", {}).get("SecurityGroupRuleId")
        return self.status == 200 and self.action == "AuthorizeSecurityGroup" and not ids


def _writer(n: int, replica: int, endpoint: str, key: Credentials, groups, until, out) -> None:
    """One signed client: random adds and revokes of the pool's rules until `until`."""
    client = Credentials(key.access_key_id, key.access_key_secret)
    rng = random.Random(n)
    while time.monotonic() < until:
        group, k = rng.choice(groups), rng.randrange(RULES)
        action = rng.choice(("AuthorizeSecurityGroup", "RevokeSecurityGroup"))
        sent = time.monotonic()
        try:
            status, body = call(
                endpoint, client, action, {"RegionId": R, "SecurityGroupId": group, **rule(k)}, 60
            )
        except OSError as err:  # no answer at all
            status, body = 0, {"Code": f"NoAnswer ({type(err).__name__})", "Message": str(err)}
        out.append(Call(replica, action, group, k, sent, time.monotonic(), status, body))


def _rules(view: dict) -> list[tuple]:
    """A group's rules as DescribeSecurityGroupAttribute (or an audit row) shows them, without
    what a replay cannot reproduce (rule ids, creation times); sorted."""
    return sorted(
        tuple(
            sorted(
                (k, str(v))
                for k, v in perm.items()
                if k not in ("SecurityGroupRuleId", "CreateTime")
            )
        )
        for perm in (view or {}).get("Permissions", {}).get("Permission", [])
    )


def _ports(rules) -> list[str]:
    return sorted(dict(r)["PortRange"] for r in rules)


@pytest.fixture
def database():
    require_postgres()
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.mark.timeout(900)  # a fast server makes many calls; each is replayed afterwards
def test_replicas_retry_conflicts_and_agree_with_a_serial_replay(database, tmp_path):
    with auditor_replicas(tmp_path, database, REPLICAS) as replicas:
        key = Credentials.resolve(replicas[0].data_dir)

        def ok(replica: int, action: str, **params: str) -> dict:
            status, body = call(replicas[replica].http, key, action, {"RegionId": R, **params})
            assert status == 200, (action, body)
            return body

        vpc = ok(0, "CreateVpc", CidrBlock="10.0.0.0/16")["VpcId"]
        groups = [
            ok(0, "CreateSecurityGroup", VpcId=vpc, SecurityGroupName=f"shared-{g}")[
                "SecurityGroupId"
            ]
            for g in range(GROUPS)
        ]
        calls: list[Call] = []
        until = time.monotonic() + DURATION_S
        threads = [
            threading.Thread(
                target=_writer,
                args=(r * 100 + w, r, replicas[r].http, key, groups, until, calls),
                name=f"writer-{r}-{w}",
            )
            for r in range(REPLICAS)
            for w in range(WRITERS_PER_REPLICA)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DURATION_S + 120)
        assert not any(t.is_alive() for t in threads), "a writer is still waiting for an answer"

        problems: list[str] = []
        # 1. every answer is a success or a real validation error
        wrong = [c for c in calls if c.status != 200 and c.code not in VALIDATION_ERRORS]
        if wrong:
            counts = Counter((c.action, c.status, c.code) for c in wrong)
            problems.append(
                f"{len(wrong)} of {len(calls)} answers were neither a success nor a validation "
                f"error: {dict(counts)}; e.g. "
                f"{[(c.code, c.body.get('Message')) for c in wrong[:3]]}"
            )

        # 2. the commit order: the audit rows of the groups, by id
        with Database(database).engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, request_id, action, resource, before, after FROM audit_log ORDER BY id"
            ).all()
        by_request = {c.request_id: c for c in calls}
        group_of = {f"securitygroup/{g}": g for g in groups}
        committed: list[tuple[Call, dict, dict]] = []  # (call, before, after) in commit order
        for row in rows:
            group = next((g for tail, g in group_of.items() if row.resource.endswith(tail)), None)
            if group is None:
                continue
            c = by_request.get(row.request_id)
            if c is None:
                if row.action in ("AuthorizeSecurityGroup", "RevokeSecurityGroup"):
                    problems.append(f"audit row {row.id} is a change no writer was told of")
                continue
            if c.status != 200:
                problems.append(f"audit row {row.id}: a call answered {c.code} changed {group}")
                continue
            before = json.loads(row.before) if row.before else {}
            after = json.loads(row.after) if row.after else {}
            committed.append((c, before, after))
        in_log = {c.request_id for c, _, _ in committed}
        silent = [
            c for c in calls if c.status == 200 and not c.no_op and c.request_id not in in_log
        ]
        if silent:
            problems.append(f"{len(silent)} successful changes are not in the audit log")

        # 3. each group's audit rows form one chain: the order is the commit order
        last_after: dict[str, list] = {g: [] for g in groups}
        for c, before, after in committed:
            if _rules(before) != last_after[c.group]:
                problems.append(
                    f"{c.group}: the audit row of {c.action} {c.request_id} does not start from "
                    "the rules the previous row left (a lost update, or ids out of commit order)"
                )
                break
            last_after[c.group] = _rules(after)

        # 4. the serial replay, in commit order, on a fresh in-process model
        harness = ApiHarness(tmp_path / "replay")
        replay_vpc = harness.ok("CreateVpc", RegionId=R, CidrBlock="10.0.0.0/16")["VpcId"]
        twin = {
            g: harness.ok(
                "CreateSecurityGroup", RegionId=R, VpcId=replay_vpc, SecurityGroupName=f"shared-{n}"
            )["SecurityGroupId"]
            for n, g in enumerate(groups)
        }
        # each group's states in commit order, with when the change was sent and answered
        history: dict[str, list[tuple[float, float, frozenset[int]]]] = {
            g: [(-math.inf, -math.inf, frozenset())] for g in groups
        }
        undone = []
        for c, _before, _after in committed:
            answer = harness.call(c.action, RegionId=R, SecurityGroupId=twin[c.group], **rule(c.k))
            added = answer.body.get("SecurityGroupRuleIds", {}).get("SecurityGroupRuleId")
            if answer.status != 200 or (c.action == "AuthorizeSecurityGroup" and not added):
                undone.append((c, answer.body.get("Code") or "success, nothing added"))
            present = set(history[c.group][-1][2])
            if c.action == "AuthorizeSecurityGroup":
                present.add(c.k)
            else:
                present.discard(c.k)
            history[c.group].append((c.sent, c.answered, frozenset(present)))
        if undone:
            c, got = undone[0]
            problems.append(
                f"{len(undone)} changes do not replay in commit order; e.g. {c.action} of rule "
                f"{c.k} on {c.group} (a change on replica {c.replica}) replays as {got}"
            )

        # 5. what changed nothing was true of some state in effect between its request and its
        # answer. Commits are in time order, a change commits after it was sent and before it
        # was answered: state i was in effect at some moment of [sent, answered] unless a
        # later change was answered before `sent`, or every change up to i was sent after
        # `answered`.
        stale = []
        for g, states in history.items():
            later_answered = [math.inf] * len(states)  # min answered of the changes after i
            for i in range(len(states) - 2, -1, -1):
                later_answered[i] = min(later_answered[i + 1], states[i + 1][1])
            sent_by = list(itertools.accumulate((st[0] for st in states), max))
            for c in calls:
                refused = c.status != 200 and c.code == "InvalidPermission.NotFound"
                if c.group != g or not (c.no_op or refused):
                    continue
                first = bisect.bisect_right(later_answered, c.sent)
                end = bisect.bisect_right(sent_by, c.answered)
                window = [st[2] for st in states[first:end] if st[0] <= c.answered]
                if not any((c.k in rules) == c.no_op for rules in window):
                    stale.append(c)
        if stale:
            c = stale[0]
            problems.append(
                f"{len(stale)} answers that changed nothing agree with no committed state "
                f"between their request and their answer; e.g. replica {c.replica} answered "
                f"{c.action} of rule {c.k} on {c.group} with {c.code or 'success, nothing added'}"
            )

        # 6. every replica describes the rules the replay ends with
        expected = {
            g: _rules(harness.ok("DescribeSecurityGroupAttribute", RegionId=R, SecurityGroupId=t))
            for g, t in twin.items()
        }

        def described() -> dict[tuple[int, str], list]:
            return {
                (r, g): _rules(ok(r, "DescribeSecurityGroupAttribute", SecurityGroupId=g))
                for r in range(REPLICAS)
                for g in groups
            }

        try:
            wait_for(
                lambda: all(v == expected[g] for (_, g), v in described().items()),
                15,
                what="every replica describing the replayed rules",
            )
        except AssertionError:
            for (r, g), v in described().items():
                if v != expected[g]:
                    problems.append(
                        f"replica {r} describes {len(v)} rules on {g}; the replay has "
                        f"{len(expected[g])} (missing ports {_ports(set(expected[g]) - set(v))}, "
                        f"extra ports {_ports(set(v) - set(expected[g]))})"
                    )
        successes = sum(c.status == 200 and not c.no_op for c in calls)
        summary = (
            f"{len(calls)} calls in {DURATION_S:.0f} s from {len(threads)} writers: "
            f"{successes} changes, {sum(c.no_op for c in calls)} no-op successes, "
            f"{Counter(c.code for c in calls if c.status != 200)} refusals"
        )
        print(summary)
        assert not problems, summary + "\n" + "\n".join(problems[:20])
        assert successes >= GROUPS * RULES, summary  # the test exercised something
