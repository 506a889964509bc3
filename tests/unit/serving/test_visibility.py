"""The visibility rule in its Python and CQL2 renderings."""

from __future__ import annotations

import pytest
from cql2 import Expr

from terrace.auth import Principal, Role
from terrace.serving.visibility import ACCESS_PROPERTY, GRANTS_PROPERTY, Audience


def principal(role: Role) -> Principal:
    return Principal(key_id="k", name="test", role=role)


@pytest.mark.parametrize(
    ("who", "public", "ouo", "restricted_to_reviewer", "restricted_to_nobody"),
    [
        (None, True, False, False, False),
        (Role.reader, True, True, False, False),
        (Role.reviewer, True, True, True, False),
        (Role.admin, True, True, True, True),
    ],
)
def test_sees(
    who: Role | None, public: bool, ouo: bool, restricted_to_reviewer: bool, restricted_to_nobody: bool
) -> None:
    audience = Audience.of(principal(who) if who else None)
    assert audience.sees("public") is public
    assert audience.sees("ouo") is ouo
    assert audience.sees("restricted", ["reviewer"]) is restricted_to_reviewer
    assert audience.sees("restricted", []) is restricted_to_nobody
    assert audience.sees(None) is False


@pytest.mark.parametrize("who", [None, Role.reader, Role.reviewer, Role.admin])
def test_cql2_agrees_with_sees(who: Role | None) -> None:
    audience = Audience.of(principal(who) if who else None)
    expr = Expr(audience.cql2())
    expr.validate()
    for level, grants in [("public", []), ("ouo", []), ("restricted", ["reviewer"]), ("restricted", [])]:
        item = {"properties": {ACCESS_PROPERTY: level, GRANTS_PROPERTY: grants}}
        assert expr.matches(item) is audience.sees(level, grants), (who, level, grants)


def test_restrict_ands_the_rule_into_a_caller_filter() -> None:
    caller = {"op": "=", "args": [{"property": ACCESS_PROPERTY}, "ouo"]}
    narrowed = Audience.of(None).restrict(caller)
    assert narrowed == {"op": "and", "args": [caller, Audience.of(None).cql2()]}
