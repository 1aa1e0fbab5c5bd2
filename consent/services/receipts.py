"""PDF receipts of consent events: made after the commit, stored, mailed, downloadable any time.

The receipt shows what the signature means, who signed (printed name from the vault), when (with
the UTC offset), the version with its text hash, every item and the choice made, the consent text
itself (the same sanitized HTML the screen showed), the event's hash and a short verification code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.pdf import render_pdf

from ..models import (
    ConsentEvent,
    ConsentReceipt,
    EventKind,
    SignerKind,
)
from ..tasks import consent_receipt_issue
from .artifacts import event_files_read
from .sealed_files import (
    receipt_label,
    receipt_read,
    sealed_file_write,
)

RECEIPT_TEMPLATE = "consent/receipt.html"
# A page that finds no receipt queues its task again at most this often per event.
RECEIPT_REQUEST_INTERVAL_SECONDS = 300
RECEIPT_KINDS = frozenset(
    {EventKind.GRANT, EventKind.RECONSENT, EventKind.UPDATE, EventKind.WITHDRAW}
)


@dataclass(frozen=True)
class ItemLine:
    code: str
    title: str
    text: str
    required: bool
    choice: bool


def _printed_name(event: ConsentEvent) -> str:
    from enrollment.vault import profile_for_participant

    profile = profile_for_participant(event.participant)
    if profile is None:
        return ""
    if event.signer_kind == SignerKind.LEGAL_REPRESENTATIVE:
        return profile.guardian_name
    return profile.name


def _meaning(event: ConsentEvent) -> str:
    if event.kind in (EventKind.GRANT, EventKind.RECONSENT):
        if event.signer_kind == SignerKind.LEGAL_REPRESENTATIVE:
            return _(
                "By this signature the legal representative confirms that they read the consent "
                "form named below (or had it explained), could ask questions, and agree on the "
                "participant's behalf to take part with the choices listed. Consent can be "
                "withdrawn at any time."
            )
        return _(
            "By this signature the participant confirms that they read the consent form named "
            "below, could ask questions, and agree of their own free will to take part with the "
            "choices listed. Consent can be withdrawn at any time without giving a reason."
        )
    if event.kind == EventKind.UPDATE:
        return _(
            "The participant changed their choices; from the time below the choices listed apply."
        )
    return _(
        "The participant withdrew from the programme at the level below. "
        "From the time below nothing beyond that level is done with their samples and data."
    )


def local_time_text(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """``2026-03-02 14:05:09 (UTC+09:00)``: local time with its offset, never ambiguous."""
    local = timezone.localtime(moment, tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def receipt_context(event: ConsentEvent) -> dict[str, Any]:
    version = event.version
    lines: list[ItemLine] = []
    if version is not None:
        lines = [
            ItemLine(i.code, i.title, i.text, i.required, bool(event.choices.get(i.code, False)))
            for i in version.items.order_by("order", "id")
        ]
    stored = event_files_read(event)
    tz = timezone.get_default_timezone()
    return {
        "event": event,
        "version": version,
        "participant": event.participant,
        "printed_name": _printed_name(event),
        "meaning": _meaning(event),
        "items": lines,
        "signed_at_text": local_time_text(event.signed_at, tz),
        "recorded_at_text": local_time_text(event.recorded_at, tz),
        "signature_png": stored.signature_png,
        "witness_name": stored.witness_name,
        "witness_signature_png": stored.witness_signature_png,
        "relationship_note": stored.relationship_note,
        "withdrawal_note": stored.withdrawal_note,
        "staff_name": str(event.staff) if event.staff_id else "",
        "countersigner_name": str(event.countersigned_by) if event.countersigned_by_id else "",
    }


def receipt_language(event: ConsentEvent) -> str:
    if event.version is not None:
        return event.version.language
    user = event.participant.user
    return getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE


def receipt_render(event: ConsentEvent) -> bytes:
    """The receipt PDF of ``event`` (no side effects)."""
    return render_pdf(RECEIPT_TEMPLATE, receipt_context(event), language=receipt_language(event))


def _recipient(event: ConsentEvent) -> str:
    from enrollment.vault import profile_for_participant

    profile = profile_for_participant(event.participant)
    if profile is not None and profile.email:
        return profile.email
    user = event.participant.user
    return user.email if user is not None else ""


# A mailing claimed longer ago than this and not recorded was lost with its worker.
MAIL_CLAIM_EXPIRES = dt.timedelta(minutes=10)
# The re-issue sweep looks this far back; older events were handled or need a person.
REISSUE_WINDOW = dt.timedelta(days=7)
REISSUE_BATCH = 500


def _receipt_made(event: ConsentEvent) -> ConsentReceipt:
    """The receipt row with its file: claimed first, rendered and stored once under its lock."""
    ConsentReceipt.objects.get_or_create(event=event, defaults={"sha256": ""})
    with transaction.atomic():
        receipt = ConsentReceipt.objects.select_for_update().get(event_id=event.pk)
        if not receipt.file:
            pdf = receipt_render(event)
            receipt.sha256 = hashlib.sha256(pdf).hexdigest()
            sealed_file_write(
                field=receipt.file,
                name="receipt.pdf",
                data=pdf,
                label=receipt_label(event_id=event.pk),
            )
            try:
                receipt.save(update_fields=["sha256", "file"])
            except Exception:
                receipt.file.delete(save=False)  # no orphan file when the row is not written
                raise
        return receipt


def receipt_request(*, event: ConsentEvent) -> bool:
    """Ask for the receipt of an event that has none stored yet (someone asked to download it).

    Queues the task that makes, stores and mails it, after the commit and at most once per event
    every few minutes; renders and mails nothing itself, so a page may call it on a GET. Returns
    whether the event has a receipt to wait for at all (a void has none).
    """
    if event.kind not in RECEIPT_KINDS:
        return False
    key = f"consent:receipt-requested:{event.pk}"
    if cache.add(key, True, timeout=RECEIPT_REQUEST_INTERVAL_SECONDS):
        event_id = event.pk
        transaction.on_commit(lambda: consent_receipt_issue.delay(event_id))
    return True


def receipt_issue(*, event_id: int) -> ConsentReceipt | None:
    """Make, store and mail the receipt of one event; safe to run twice or at once.

    The worker's task and a participant's download may race: the row is claimed first, the PDF
    made once under the row's lock, and the mailing claimed before it is sent.
    """
    event = (
        ConsentEvent.objects.select_related("participant__user", "version__form")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.kind not in RECEIPT_KINDS:
        return None
    receipt = _receipt_made(event)
    if receipt.emailed_at is None:
        now = timezone.now()
        claimed = (
            ConsentReceipt.objects.filter(pk=receipt.pk, emailed_at__isnull=True)
            .filter(
                Q(mail_claimed_at__isnull=True) | Q(mail_claimed_at__lt=now - MAIL_CLAIM_EXPIRES)
            )
            .update(mail_claimed_at=now)
        )
        if claimed:
            try:
                _mail(event, receipt)
            except Exception:
                ConsentReceipt.objects.filter(pk=receipt.pk).update(mail_claimed_at=None)
                raise
    return receipt


def receipts_reissue_missing(*, now: dt.datetime | None = None) -> list[int]:
    """Events of the last days whose receipt was never made or never mailed (a lost task, a file
    that was missing): the ids whose receipt task is sent again (beat)."""
    now = now or timezone.now()
    recent = ConsentEvent.objects.filter(
        kind__in=RECEIPT_KINDS,
        recorded_at__gte=now - REISSUE_WINDOW,
        recorded_at__lt=now - MAIL_CLAIM_EXPIRES,
    )
    unmade = recent.filter(Q(receipt__isnull=True) | Q(receipt__file=""))
    unmailed = recent.filter(receipt__emailed_at__isnull=True, receipt__isnull=False).filter(
        Q(receipt__mail_claimed_at__isnull=True)
        | Q(receipt__mail_claimed_at__lt=now - MAIL_CLAIM_EXPIRES)
    )
    ids = sorted(
        set(unmade.values_list("pk", flat=True)[:REISSUE_BATCH])
        | set(unmailed.values_list("pk", flat=True)[:REISSUE_BATCH])
    )
    for event_id in ids:
        consent_receipt_issue.delay(event_id)
    return ids


def _mail(event: ConsentEvent, receipt: ConsentReceipt) -> None:
    to = _recipient(event)
    if not to:
        return
    language = receipt_language(event)
    context = {"event": event, "participant": event.participant}
    with translation.override(language):
        subject = render_to_string("consent/email/receipt_subject.txt", context).strip()
        body = render_to_string("consent/email/receipt_body.txt", context)
    message = EmailMessage(subject=subject, body=body, to=[to])
    message.attach(
        f"consent-receipt-{event.verification_code}.pdf",
        receipt_read(receipt=receipt),
        "application/pdf",
    )
    message.send()
    ConsentReceipt.objects.filter(pk=receipt.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
