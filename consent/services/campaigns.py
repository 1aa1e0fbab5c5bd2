"""Re-consent campaigns: start, send in rate-limited batches, remind, pause, close.

Delivery is at-least-once and resumable, with the state in the database:

* ``campaign_start`` writes one invitation per participant who is due (one INSERT ... SELECT, unique
  per campaign and participant) and schedules the first batch after the commit.
* One live chain of batches per campaign for the first invitations and one for the reminders
  (``campaign_chains``: a token on the campaign that every scheduled batch must hold). Pausing,
  closing, resuming, the daily reminder start and the recovery sweep replace the token, so a
  batch task left over from before (a countdown still waiting, a killed worker's task delivered
  again) does nothing: the rate stays as set.
* ``campaign_send_batch`` sends up to ``batch_size`` e-mails. Each e-mail: claim one pending
  invitation in a short transaction (``SKIP LOCKED``, ``claimed_at``), hand the message to the
  mail server outside any transaction (behind a transaction pooler a transaction held open over
  the relay pins a server connection), then record ``sent_at``. A worker that dies between the
  hand-off and the record leaves the invitation pending; once its claim is old it is sent again,
  so that one participant gets the e-mail twice; nobody is ever skipped. The batch then schedules
  the next one so that batch starts are ``60 * batch_size / rate_per_minute`` seconds apart, and
  records when it is due (``next_batch_due_at``).
* ``campaigns_resume_stalled`` (beat, every few minutes) restarts the chains (invitations and
  reminders) whose next batch is overdue (due more than ``OVERDUE_GRACE`` ago), which covers a
  worker lost together with its scheduled task.
* ``campaign_send_reminders`` (a chain that beat starts daily, unless one is alive) reminds those
  who have not acted ``reminder_after_days`` after the last e-mail, at most ``max_reminders``
  times, the same way, once every first invitation is out (so that the two never add up).

Participants without an e-mail address are marked so, to be asked at their next site visit.
Participants who re-consent or withdraw before their e-mail goes out are not e-mailed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from enrollment.models import Participant
from portal.audit import audit_record
from portal.metrics import event_count
from portal.models import User

from ..audit import Action
from ..models import (
    CampaignStatus,
    ConsentState,
    ConsentVersion,
    InvitationOutcome,
    ReconsentCampaign,
    ReconsentInvitation,
)
from ..selectors.doors import contact_allowed
from .campaign_chains import (
    OVERDUE_GRACE,
    REMINDING,
    SENDING,
    batch_interval_seconds,
    chain_claim,
    chain_end,
    chain_is_mine,
    chain_is_overdue,
    chain_schedule,
    chains_restart_overdue,
)

logger = logging.getLogger(__name__)

__all__ = [
    "OVERDUE_GRACE",
    "batch_interval_seconds",
    "campaign_close",
    "campaign_pause",
    "campaign_resume",
    "campaign_send_batch",
    "campaign_send_reminders",
    "campaign_start",
    "campaigns_resume_stalled",
]


OPEN_STATUSES = (CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.SENT)


# An invitation claimed longer ago than this without being recorded was lost with its worker.
CLAIM_EXPIRES = dt.timedelta(minutes=10)


# --- starting and steering --------------------------------------------------------------------


@transaction.atomic
def campaign_start(*, version: ConsentVersion, by: User, name: str = "") -> ReconsentCampaign:
    """Invite everyone due to re-consent for ``version`` (which must be active)."""
    version = ConsentVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ConsentVersion.Status.ACTIVE:
        raise ValidationError(_("A campaign can only ask for the active version of a form."))
    if ReconsentCampaign.objects.filter(version=version, status__in=OPEN_STATUSES).exists():
        raise ValidationError(_("A campaign for this version is already open; close it first."))
    options = settings.CONSENT_CAMPAIGN
    campaign = ReconsentCampaign.objects.create(
        version=version,
        name=name or _("Re-consent to %(version)s") % {"version": str(version)},
        started_by=by,
        batch_size=options["BATCH_SIZE"],
        rate_per_minute=options["RATE_PER_MINUTE"],
        reminder_after_days=options["REMINDER_AFTER_DAYS"],
        max_reminders=options["MAX_REMINDERS"],
    )
    older = list(
        ConsentVersion.objects.filter(form_id=version.form_id, language=version.language)
        .exclude(pk=version.pk)
        .values_list("pk", flat=True)
    )
    invited = 0
    if older:
        invitation = ReconsentInvitation._meta.db_table
        state = ConsentState._meta.db_table
        participant = Participant._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {invitation}
                    (campaign_id, participant_id, site_id_at, outcome, created_at, reminder_count)
                SELECT %s, s.participant_id, p.site_id, %s, CURRENT_TIMESTAMP, 0
                FROM {state} s JOIN {participant} p ON p.id = s.participant_id
                WHERE s.status = %s AND s.version_id IN ({",".join(["%s"] * len(older))})
                ON CONFLICT (campaign_id, participant_id) DO NOTHING
                """,  # noqa: S608 (table names from the models; values are parameters)
                [
                    campaign.pk,
                    InvitationOutcome.PENDING,
                    ConsentState.Status.RECONSENT_DUE,
                    *older,
                ],
            )
            invited = cursor.rowcount
    campaign.invited_count = invited
    if invited == 0:
        campaign.status = CampaignStatus.SENT
    campaign.save(update_fields=["invited_count", "status"])
    audit_record(
        action=Action.CAMPAIGN_STARTED,
        actor=by,
        obj=campaign,
        details={"version": version.pk, "invited": invited},
    )
    if invited:
        chain_schedule(SENDING, campaign)
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: ReconsentCampaign, by: User) -> ReconsentCampaign:
    campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.RUNNING:
        raise ValidationError(_("Only a campaign that is sending can be paused."))
    campaign.status = CampaignStatus.PAUSED
    campaign.save(update_fields=["status", *chain_end(SENDING, campaign)])
    audit_record(action=Action.CAMPAIGN_PAUSED, actor=by, obj=campaign)
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: ReconsentCampaign, by: User) -> ReconsentCampaign:
    campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.PAUSED:
        raise ValidationError(_("Only a paused campaign can be resumed."))
    campaign.status = CampaignStatus.RUNNING
    campaign.save(update_fields=["status"])
    audit_record(action=Action.CAMPAIGN_RESUMED, actor=by, obj=campaign)
    chain_schedule(SENDING, campaign)
    return campaign


@transaction.atomic
def campaign_close(*, campaign: ReconsentCampaign, by: User) -> ReconsentCampaign:
    """Stop sending and reminding. Invitations stay as the record of what was sent."""
    campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.CLOSED:
        raise ValidationError(_("This campaign is already closed."))
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    ended = [*chain_end(SENDING, campaign), *chain_end(REMINDING, campaign)]
    campaign.save(update_fields=["status", "closed_at", *ended])
    audit_record(action=Action.CAMPAIGN_CLOSED, actor=by, obj=campaign)
    return campaign


# --- sending ----------------------------------------------------------------------------------


def consent_page_url() -> str:
    return settings.SITE_URL + reverse("consent:mine")


def _email_address(participant: Participant) -> str:
    """The participant's own address: their account's, else the one in the vault."""
    if participant.user_id and participant.user and participant.user.email:
        return participant.user.email
    from enrollment.vault import profile_for_participant

    profile = profile_for_participant(participant)
    return profile.email if profile else ""


def _mail(*, to: str, campaign: ReconsentCampaign, template: str) -> None:
    language = campaign.version.language
    with translation.override(language):
        context = {"campaign": campaign, "version": campaign.version, "url": consent_page_url()}
        subject = render_to_string(f"consent/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"consent/email/{template}.txt", context)
    EmailMessage(subject=subject, body=body, to=[to]).send()


def _is_still_due(participant_id: int) -> bool:
    return ConsentState.objects.filter(
        participant_id=participant_id, status=ConsentState.Status.RECONSENT_DUE
    ).exists()


def _send_one(
    campaign: ReconsentCampaign,
    pick: Callable[[], ReconsentInvitation | None],
    on_sent: Callable[[ReconsentInvitation, dt.datetime], list[str]],
    template: str,
) -> bool:
    """Claim one invitation chosen by ``pick``, e-mail it, record it; False when none is left."""
    with transaction.atomic():
        invitation = pick()
        if invitation is None:
            return False
        if not _is_still_due(invitation.participant_id) or not (
            contact_allowed(participant=invitation.participant).allowed
        ):
            # Acted already, or withdrew (any level closes the door to campaigns).
            invitation.outcome = InvitationOutcome.NOT_NEEDED
            invitation.save(update_fields=["outcome"])
            return True
        address = _email_address(invitation.participant)
        if not address:
            invitation.outcome = InvitationOutcome.NO_ADDRESS
            invitation.save(update_fields=["outcome"])
            return True
        invitation.claimed_at = timezone.now()
        invitation.save(update_fields=["claimed_at"])
    # The hand-off happens outside any transaction; a crash before the record below re-sends
    # this one e-mail once the claim expires, never skips it.
    try:
        _mail(to=address, campaign=campaign, template=template)
    except Exception:
        # The relay refused or failed: release the claim so that the next batch tries again.
        ReconsentInvitation.objects.filter(pk=invitation.pk).update(claimed_at=None)
        raise
    event_count("campaign_send")
    invitation.claimed_at = None
    invitation.save(update_fields=[*on_sent(invitation, timezone.now()), "claimed_at"])
    return True


def _locked(queryset: QuerySet[ReconsentInvitation]) -> ReconsentInvitation | None:
    unclaimed = Q(claimed_at__isnull=True) | Q(claimed_at__lt=timezone.now() - CLAIM_EXPIRES)
    return (
        queryset.filter(unclaimed)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("participant__user")
        .order_by("pk")
        .first()
    )


def campaign_send_batch(*, campaign_id: int, chain_token: str | None = None) -> int:
    """Send the next batch of first invitations; returns how many invitations were handled.

    Scheduled batches pass their chain token; a batch whose token is no longer the campaign's
    (paused, closed, or replaced by a newer chain) sends nothing.
    """
    started = time.monotonic()
    mine = chain_claim(SENDING, campaign_id, chain_token)
    if mine is None:
        return 0
    campaign = ReconsentCampaign.objects.select_related("version").get(pk=campaign_id)
    pending = ReconsentInvitation.objects.filter(
        campaign_id=campaign.pk, outcome=InvitationOutcome.PENDING
    )

    def mark_sent(invitation: ReconsentInvitation, now: dt.datetime) -> list[str]:
        invitation.outcome = InvitationOutcome.SENT
        invitation.sent_at = now
        return ["outcome", "sent_at"]

    handled = 0
    while handled < campaign.batch_size and chain_is_mine(SENDING, campaign.pk, mine):
        if not _send_one(campaign, lambda: _locked(pending), mark_sent, "reconsent_invitation"):
            break
        handled += 1
    with transaction.atomic():
        campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.chain_token != mine:
            return handled  # paused, closed or superseded meanwhile: the chain ends here
        campaign.last_batch_at = timezone.now()
        update = ["last_batch_at"]
        more = pending.exists()
        if not more and campaign.status == CampaignStatus.RUNNING:
            campaign.status = CampaignStatus.SENT
            update += ["status", *chain_end(SENDING, campaign)]
        campaign.save(update_fields=update)
        if more and campaign.status == CampaignStatus.RUNNING:
            elapsed = time.monotonic() - started
            chain_schedule(
                SENDING, campaign, countdown=max(0.0, batch_interval_seconds(campaign) - elapsed)
            )
    return handled


def _reminders_due(campaign: ReconsentCampaign, now: dt.datetime) -> QuerySet[ReconsentInvitation]:
    cutoff = now - dt.timedelta(days=campaign.reminder_after_days)
    return ReconsentInvitation.objects.filter(
        campaign_id=campaign.pk,
        outcome=InvitationOutcome.SENT,
        reminder_count__lt=campaign.max_reminders,
        sent_at__lte=cutoff,
    ).filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=cutoff))


def campaign_send_reminders(
    *, campaign_id: int, chain_token: str | None = None, now: dt.datetime | None = None
) -> int:
    """Remind, in one batch, those who were e-mailed and have not acted; schedules the next batch.

    Scheduled batches pass their reminder chain's token; a stale one sends nothing.
    """
    started = time.monotonic()
    mine = chain_claim(REMINDING, campaign_id, chain_token)
    if mine is None:
        return 0
    campaign = ReconsentCampaign.objects.select_related("version").get(pk=campaign_id)
    now = now or timezone.now()
    due = _reminders_due(campaign, now)

    def mark_reminded(invitation: ReconsentInvitation, sent: dt.datetime) -> list[str]:
        invitation.reminder_count += 1
        invitation.last_reminded_at = sent
        return ["reminder_count", "last_reminded_at"]

    handled = 0
    while handled < campaign.batch_size and chain_is_mine(REMINDING, campaign.pk, mine):
        if not _send_one(campaign, lambda: _locked(due), mark_reminded, "reconsent_reminder"):
            break
        handled += 1
    with transaction.atomic():
        campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.reminder_chain_token != mine:
            return handled  # paused, closed or superseded meanwhile: the chain ends here
        if handled == campaign.batch_size and due.exists():
            elapsed = time.monotonic() - started
            chain_schedule(
                REMINDING, campaign, countdown=max(0.0, batch_interval_seconds(campaign) - elapsed)
            )
        else:
            campaign.save(update_fields=chain_end(REMINDING, campaign))
    return handled


def campaigns_remind_all(*, now: dt.datetime | None = None) -> int:
    """Start a reminder chain for every open campaign that has none alive (the daily beat task);
    how many were started. Run twice, it starts nothing the second time."""
    now = now or timezone.now()
    started = 0
    ids = ReconsentCampaign.objects.filter(status__in=REMINDING.statuses).values_list(
        "pk", flat=True
    )
    for campaign_id in list(ids):
        with transaction.atomic():
            campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign_id)
            alive = campaign.reminder_chain_token and not chain_is_overdue(REMINDING, campaign, now)
            if campaign.status not in REMINDING.statuses or alive:
                continue
            chain_schedule(REMINDING, campaign)
        started += 1
    return started


def campaigns_resume_stalled(*, now: dt.datetime | None = None) -> list[int]:
    """Restart the chains (invitations, reminders) whose next batch is overdue (a lost worker or
    task); the campaigns' ids.

    Overdue means due more than ``OVERDUE_GRACE`` ago. The restart replaces the chain token, so if
    the old chain was only late it stops at its next e-mail.
    """
    now = now or timezone.now()
    sending = chains_restart_overdue(SENDING, now=now, live_only=False)
    reminding = chains_restart_overdue(REMINDING, now=now, live_only=True)
    resumed = [*sending, *(pk for pk in reminding if pk not in sending)]
    if resumed:
        logger.info("re-consent campaigns resumed", extra={"campaigns": resumed})
    return resumed
