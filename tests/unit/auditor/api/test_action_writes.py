"""`writes=` tells the truth for every action: the verb of its name says whether it changes
something, and the pipeline refuses a call that changed the cloud state without `writes=True`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from palisade.auditor.api import actions as _actions  # noqa: F401  (registers every action)
from palisade.auditor.api.registry import ACTIONS
from palisade.auditor.model import changes as K
from palisade.auditor.store.live_state import UntouchedChange
from tests.helpers.in_process_api import ApiHarness

READ_VERBS = ("Describe", "List", "Get", "Export", "Explain", "Render")
# the exceptions, each with its reason
READS_DESPITE_NAME = {
    "AssumeRole": "issues a signed token; the token is not stored",
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_name_says_what_writes_declares(name):
    spec = ACTIONS[name]
    reads = name.startswith(READ_VERBS) or name in READS_DESPITE_NAME
    if reads:
        assert spec.writes is False, f"{name} reads, but is declared writes={spec.writes!r}"
    else:
        assert spec.writes, f"{name} changes something but is declared writes=False"


@pytest.fixture
def h(tmp_path):
    return ApiHarness(tmp_path)


def test_a_read_only_action_that_touches_the_state_is_refused_and_undone(h, monkeypatch):
    spec = ACTIONS["DescribeRegions"]
    real = spec.handler
    before = h.state.keypairs.last_id

    def sneaky(ctx, p):
        ctx.state.keypairs.last_id += 7
        ctx.state.changes.touch(K.KEYPAIRS, "")
        return real(ctx, p)

    monkeypatch.setitem(ACTIONS, "DescribeRegions", replace(spec, handler=sneaky))
    with pytest.raises(UntouchedChange):
        h.call("DescribeRegions", RegionId="cn-hangzhou")
    assert h.state.keypairs.last_id == before  # undone in memory
