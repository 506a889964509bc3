"""The approval transition table (SPEC §6): which actions each state allows, and where they lead."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from terrace.catalog.states import TRANSITIONS, transition
from terrace.errors import Conflict

STATES = ("pending_review", "approved", "rejected", "revoked")
ALLOWED = {
    ("pending_review", "approve"): "approved",
    ("pending_review", "reject"): "rejected",
    ("approved", "revoke"): "revoked",
    ("pending_review", "resubmit"): "pending_review",
    ("rejected", "resubmit"): "pending_review",
}


def release(state: str, processing: str = "completed") -> Any:
    """What the table reads of a release."""
    return SimpleNamespace(release_id="r1", approval_state=state, processing_status=processing)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_state_allows_exactly_the_specified_actions(state: str, action: str) -> None:
    if (state, action) in ALLOWED:
        assert transition(release(state), action) == ALLOWED[(state, action)]
    else:
        with pytest.raises(Conflict, match=f"Cannot {action} release r1: it is {state}"):
            transition(release(state), action)


@pytest.mark.parametrize("processing", ["pending", "processing", "failed"])
def test_approval_needs_completed_processing(processing: str) -> None:
    with pytest.raises(Conflict, match=f"processing is {processing}") as raised:
        transition(release("pending_review", processing), "approve")
    assert "awaiting_approval" in raised.value.remediation


def test_a_rejected_release_is_not_approved_without_a_resubmission() -> None:
    with pytest.raises(Conflict):
        transition(release("rejected"), "approve")
