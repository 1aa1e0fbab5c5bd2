"""Checks on the audit log shared by the tests of every app."""

from __future__ import annotations

from typing import Any

from portal.audit import Action
from portal.models import AuditEvent


def assert_access_denied(*, actor: Any, object_type: str, object_id: Any, reason: str) -> None:
    """The refusal the design promises: one ``access.denied`` row naming who, what and why."""
    rows = AuditEvent.objects.filter(
        action=Action.PERMISSION_DENIED,
        outcome="denied",
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
    )
    assert rows.count() == 1, list(
        AuditEvent.objects.values_list("action", "actor_id", "object_type", "object_id", "reason")
    )
