"""The approval state machine (SPEC §6): which transitions exist, and the one writer of them.

`transition` checks an action against the table; `apply_transition` is the only code that
changes a release's approval state: in the caller's transaction it writes the target state with
the action's fields, the audit row and an event on the release's job, together.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from terrace.catalog.releases import Release, timeline_event
from terrace.db.pool import Connection
from terrace.db.queries import queries
from terrace.errors import Conflict
from terrace.observability.metrics import RELEASE_TRANSITIONS

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


def transition(release: Release, action: str) -> str:
    """The approval state `action` leads to from the release's state; Conflict if not allowed."""
    sources, target = TRANSITIONS[action]
    state = release.approval_state
    if state not in sources:
        raise Conflict(f"Cannot {action} release {release.release_id}: it is {state}.", REMEDIES[action])
    if action == "approve" and release.processing_status != "completed":
        raise Conflict(
            f"Cannot approve release {release.release_id}: processing is {release.processing_status}.",
            "Wait until processing has completed (status shows awaiting_approval).",
        )
    return target


def apply_transition(
    conn: Connection,
    release: Release,
    action: str,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    """Move the release by `action`: its `transition_{action}` statement writes the target state
    with `fields`; the audit row and the job event carry `details` (by default the fields)."""
    state = transition(release, action)
    release_id = release.release_id
    q = queries("releases")
    conn.execute(
        q[f"transition_{action}"],
        {"release_id": release_id, "state": state, "actor": actor, "reason": reason, **fields},
    )
    if details is None:
        details = {key: value for key, value in fields.items() if value is not None}
    conn.execute(
        q["audit"],
        {
            "release_id": release_id,
            "action": action,
            "actor": actor,
            "reason": reason,
            "details": Jsonb(details),
        },
    )
    timeline_event(conn, release, f"release_{state}", actor, reason, details)
    RELEASE_TRANSITIONS.labels(action).inc()
    return state
