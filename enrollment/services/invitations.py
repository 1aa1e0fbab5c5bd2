"""Invitation codes: a site-enrolled patient claims an online account linked to their record.

The code is random, shown once (on the printed letter) and sent once (e-mail / text); only a
keyed digest is stored. Claiming needs the code *and* the birth date in the vault, from a signed-in
user with a verified e-mail, and failed attempts are rate-limited per account and per address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal import request_context
from portal.audit import audit_record
from portal.models import User
from portal.programme import programme_name
from portal.roles import Role, grant_role, is_staff_member

from .. import messaging, vault
from ..audit import Action
from ..models import Invitation, Participant, ParticipantStatus
from .doors import Door, door_refusal

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_TABLE = Invitation._meta.db_table
CODE_LENGTH = 12
ATTEMPT_WINDOW_SECONDS = 15 * 60


class InvitationClaimRefused(ValidationError):
    """The claim did not succeed; the message is safe to show (it never says which part was wrong)."""


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _digest(code: str) -> str:
    key = hashlib.sha256(b"dam-portal invitation|" + settings.BLIND_INDEX_KEY.encode()).digest()
    return hmac.new(key, _normalise_code(code).encode(), hashlib.sha256).hexdigest()


def _format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@transaction.atomic
def invitation_issue(
    *, participant: Participant, by: User, send: bool = True
) -> tuple[Invitation, str]:
    """Issue a new code for ``participant`` (earlier open codes are revoked); returns the code.

    The caller shows the code once (printable letter). With ``send`` the code also goes to the
    patient's e-mail and mobile phone, from tasks queued after the commit.
    """
    if participant.user_id is not None:
        raise ValidationError(
            _("This participant already has an online account."), code="already_claimed"
        )
    if participant.status == ParticipantStatus.WITHDRAWN:
        raise ValidationError(_("This participant has withdrawn."), code="withdrawn")
    if door_refusal(door=Door.CONTACT, participant=participant) is not None:
        raise ValidationError(
            _("This participant has asked not to be contacted; no invitation can be sent."),
            code="no_contact",
        )
    now = timezone.now()
    Invitation.objects.filter(
        participant=participant, claimed_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    invitation = Invitation.objects.create(
        participant=participant,
        code_digest=_digest(raw),
        issued_by=by,
        issued_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(action=Action.INVITATION_ISSUED, actor=by, obj=participant)
    code = _format_code(raw)
    if send:
        invitation_id = invitation.pk
        sealed = vault.secret_seal(code, table=CODE_TABLE, row_id=invitation_id, field="code")
        transaction.on_commit(lambda: _invitation_messages_queue(invitation_id, sealed))
    return invitation, code


def _invitation_messages_queue(invitation_id: int, sealed_code: str) -> None:
    from ..tasks import invitation_message_send

    for channel in messaging.CHANNELS:
        invitation_message_send.delay(invitation_id, channel, sealed_code)


def invitation_message_send(*, invitation_id: int, channel: str, sealed_code: str) -> bool:
    """Send an invitation's code by ``channel`` (``messaging.EMAIL`` or ``messaging.TEXT``) to the
    patient (or their guardian); False when there is nowhere to send it, or the code was claimed
    or replaced meanwhile. Called by the task the issuing queued after its commit."""
    invitation = Invitation.objects.select_related("participant__site").get(pk=invitation_id)
    if invitation.claimed_at is not None or invitation.revoked_at is not None:
        return False
    profile = vault.profile_for_participant(invitation.participant)
    if profile is None:
        return False
    code = vault.secret_open(sealed_code, table=CODE_TABLE, row_id=invitation_id, field="code")
    with translation.override("ko"):
        context = {
            "name": profile.guardian_name or profile.name,
            "site": invitation.participant.site,
            "invitation_code": code,
            "expires": date_format(timezone.localtime(invitation.expires_at).date(), "DATE_FORMAT"),
            "site_url": settings.SITE_URL,
        }
        if channel == messaging.EMAIL and profile.email:
            body = render_to_string("enrollment/messages/invitation.txt", context).strip()
            send_mail(
                str(
                    _("Your invitation code for the %(programme)s")
                    % {"programme": programme_name()}
                ),
                body,
                None,
                [profile.email],
            )
            return True
        if channel == messaging.TEXT and profile.contact_phone:
            text = render_to_string("enrollment/messages/invitation_text.txt", context).strip()
            messaging.text_send(to_phone=profile.contact_phone, body=text)
            return True
    return False


def _attempt_keys(user: User) -> list[str]:
    keys = [f"enrollment:claim:user:{user.pk}"]
    client_ip = request_context.current().client_ip
    if client_ip:
        keys.append(f"enrollment:claim:ip:{client_ip}")
    return keys


def _too_many_attempts(keys: list[str]) -> bool:
    limit = settings.INVITATION_CLAIM_ATTEMPTS
    return any((cache.get(key) or 0) >= limit for key in keys)


def _count_failure(keys: list[str]) -> None:
    for key in keys:
        if cache.add(key, 1, timeout=ATTEMPT_WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=ATTEMPT_WINDOW_SECONDS)


def invitation_claim(*, user: User, code: str, birth_date: dt.date) -> Participant:
    """Link ``user`` to the participant invited with ``code``, if the birth date matches.

    Staff accounts cannot become participants (a participant's own pages would show them data
    their role does not otherwise give)."""
    if is_staff_member(user):
        raise InvitationClaimRefused(
            _("Staff accounts cannot be linked to a participant record."), code="staff"
        )
    if not EmailAddress.objects.filter(user=user, verified=True).exists():
        raise InvitationClaimRefused(
            _("Confirm your e-mail address first, then enter the code."), code="unverified"
        )
    if Participant.objects.filter(user=user).exists():
        raise InvitationClaimRefused(
            _("Your account is already linked to a participant record."), code="linked"
        )
    keys = _attempt_keys(user)
    if _too_many_attempts(keys):
        raise InvitationClaimRefused(
            _("Too many attempts. Please wait 15 minutes and try again."), code="rate_limited"
        )
    participant = _claim(user=user, code=code, birth_date=birth_date)
    if participant is None:
        _count_failure(keys)
        audit_record(
            action=Action.INVITATION_CLAIM_FAILED, actor=user, outcome="denied", object_type="code"
        )
        raise InvitationClaimRefused(
            _(
                "The invitation code and birth date do not match an open invitation. Check the "
                "code on your letter (it may have expired or been replaced) and your birth date."
            ),
            code="mismatch",
        )
    return participant


@transaction.atomic
def _claim(*, user: User, code: str, birth_date: dt.date) -> Participant | None:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("participant")
        .filter(
            code_digest=_digest(code),
            claimed_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if invitation is None:
        return None
    participant = Participant.objects.select_for_update().get(pk=invitation.participant_id)
    profile = vault.profile_for_participant(participant)
    if participant.user_id is not None or profile is None or profile.birth_date != birth_date:
        return None
    participant.user = user
    participant.save(update_fields=["user"])
    invitation.claimed_at = timezone.now()
    invitation.claimed_by = user
    invitation.save(update_fields=["claimed_at", "claimed_by"])
    grant_role(user, Role.PARTICIPANT)
    audit_record(action=Action.INVITATION_CLAIMED, actor=user, obj=participant)
    return participant
