"""The approval state machine (SPEC §6): the one place that says which transitions exist."""

from __future__ import annotations

from typing import Any

from terrace.errors import Conflict

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"pending_review"}), "approved"),
    "reject": (frozenset({"pending_review"}), "rejected"),
    "revoke": (frozenset({"approved"}), "revoked"),
    "resubmit": (frozenset({"pending_review", "rejected"}), "pending_review"),
}

REMEDIES = {
    "approve": "Only releases awaiting review can be approved; submit a new version instead.",
    "reject": "Only releases awaiting review can be rejected.",
    "revoke": "Only approved releases can be revoked.",
    "resubmit": "Approved releases are immutable: submit a new version instead.",
}


def transition(release: dict[str, Any], action: str) -> str:
    """The approval state `action` leads to from the release's state; Conflict if not allowed."""
    sources, target = TRANSITIONS[action]
    state = release["approval_state"]
    if state not in sources:
        raise Conflict(f"Cannot {action} release {release['release_id']}: it is {state}.", REMEDIES[action])
    if action == "approve" and release["processing_status"] != "completed":
        raise Conflict(
            f"Cannot approve release {release['release_id']}: processing is {release['processing_status']}.",
            "Wait until processing has completed (status shows awaiting_approval).",
        )
    return target
