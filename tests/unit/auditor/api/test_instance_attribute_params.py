"""ECS's password rules for ModifyInstanceAttribute (`password_problem`): property tests."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from palisade.auditor.api.actions.ecs.instance_attributes import (
    PASSWORD_SPECIALS,
    password_problem,
)

_ALLOWED = string.ascii_letters + string.digits + "".join(sorted(PASSWORD_SPECIALS))


def _kinds(password: str) -> int:
    return sum(
        any(test(c) for c in password)
        for test in (str.isupper, str.islower, str.isdigit, PASSWORD_SPECIALS.__contains__)
    )


@given(st.text(max_size=40))
def test_any_text_is_judged_without_raising(password):
    problem = password_problem(password, windows=False)
    assert problem is None or "password" in problem.lower()


@given(st.text(alphabet=_ALLOWED, min_size=1, max_size=40))
def test_accepted_exactly_when_ecs_rules_hold(password):
    expected = 8 <= len(password) <= 30 and _kinds(password) >= 3
    assert (password_problem(password, windows=False) is None) is expected


@given(st.text(max_size=30).filter(lambda t: any(c not in _ALLOWED for c in t)))
def test_characters_outside_ecs_set_are_refused(password):
    assert password_problem(password, windows=False) is not None


def test_windows_password_cannot_start_with_a_slash():
    assert password_problem("/Passw0rd1", windows=False) is None
    assert "slash" in (password_problem("/Passw0rd1", windows=True) or "")
