"""The audit log: one call records who did what, to which object, why, and from where.

Objects are named by type and internal id, never by personal data. The table is append-only in the
database, so an audit row, once written, stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.db import models

from . import request_context
from .models import AuditEvent, User

# Keys that would carry personal data; an audit row's details must never hold them.
_FORBIDDEN_DETAIL_KEYS = frozenset(
    {"name", "email", "e_mail", "phone", "mobile", "birth_date", "address", "password", "rrn"}
)


class Action(StrEnum):
    """The portal's own audited actions; each app names its own in ``<app>/audit.py``."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    MFA_ACTIVATED = "mfa.activated"
    MFA_DEACTIVATED = "mfa.deactivated"
    MFA_RECOVERY_CODES_GENERATED = "mfa.recovery_codes_generated"
    MFA_AUTHENTICATED = "mfa.authenticated"
    AUDIT_CHAIN_VERIFIED = "audit.chain_verified"
    PERMISSION_DENIED = "access.denied"
    PERSONAL_DATA_VIEWED = "pii.viewed"
    STAFF_CREATED = "staff.created"
    # A staff device handed to a patient (the consent tablet) and taken back.
    HANDOVER_STARTED = "handover.started"
    HANDOVER_RETURNED = "handover.returned"
    # Downloads of tables and reports (CSV, PDF) by any app, with the reason given.
    EXPORTED = "export.downloaded"
    # Machine clients (other systems calling the API with client credentials).
    CLIENT_CREATED = "client.created"
    CLIENT_REVOKED = "client.revoked"


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    reason: str = "",
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row. ``obj`` (or ``object_type`` + ``object_id``) names the object."""
    details = dict(details or {})
    leaked = _FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in details)
    if leaked:
        raise ValueError(f"audit details must not carry personal data: {sorted(leaked)}")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if obj.pk is not None else ""
    context = request_context.current()
    if context.client_id:
        # A machine client's request: the row names the client (it has no user account).
        details.setdefault("client", context.client_id)
        details.setdefault("client_name", context.client_name)
    if not isinstance(actor, User) or not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason[:255],
        request_id=context.request_id,
        client_ip=context.client_ip,
        outcome=outcome,
        details=details,
    )
