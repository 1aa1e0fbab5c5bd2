"""Reads for re-consent campaigns: progress overall and per site, in one grouped query each."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from enrollment.models import Site

from ..models import ConsentState, InvitationOutcome, ReconsentCampaign, ReconsentInvitation

__all__ = ["CampaignProgress", "SiteProgress", "campaign_progress", "campaigns_visible"]


@dataclass
class SiteProgress:
    site_id: int | None
    site_code: str = ""
    site_name: str = ""
    invited: int = 0
    sent: int = 0
    no_address: int = 0
    reminded: int = 0
    completed: int = 0
    withdrawn: int = 0

    @property
    def still_due(self) -> int:
        return self.invited - self.completed - self.withdrawn

    @property
    def completion_percent(self) -> float:
        return round(100.0 * self.completed / self.invited, 1) if self.invited else 0.0


@dataclass
class CampaignProgress:
    campaign: ReconsentCampaign
    total: SiteProgress
    per_site: list[SiteProgress] = field(default_factory=list)
    pending: int = 0

    @property
    def sent_percent(self) -> float:
        handled = self.total.invited - self.pending
        return round(100.0 * handled / self.total.invited, 1) if self.total.invited else 100.0


def campaigns_visible() -> QuerySet[ReconsentCampaign]:
    return ReconsentCampaign.objects.select_related("version__form", "started_by")


def campaign_progress(
    campaign: ReconsentCampaign, *, site_ids: frozenset[int] | None = None
) -> CampaignProgress:
    """Counts per site (the site at the time of the campaign). Completion is read live from the
    consent state: on the campaign's version and in force, or withdrawn."""
    invitations = ReconsentInvitation.objects.filter(campaign=campaign)
    if site_ids is not None:
        invitations = invitations.filter(site_id_at__in=site_ids)
    state = ConsentState.Status
    grouped = invitations.values("site_id_at").annotate(
        invited=Count("pk"),
        pending=Count("pk", filter=Q(outcome=InvitationOutcome.PENDING)),
        sent=Count("pk", filter=Q(outcome=InvitationOutcome.SENT)),
        no_address=Count("pk", filter=Q(outcome=InvitationOutcome.NO_ADDRESS)),
        reminded=Count("pk", filter=Q(reminder_count__gt=0)),
        completed=Count(
            "pk",
            filter=Q(
                participant__consent_state__version_id=campaign.version_id,
                participant__consent_state__status=state.ACTIVE,
            ),
        ),
        withdrawn=Count("pk", filter=Q(participant__consent_state__status=state.WITHDRAWN)),
    )
    rows = list(grouped)
    sites = {s.pk: s for s in Site.objects.filter(pk__in=[r["site_id_at"] for r in rows])}
    total = SiteProgress(site_id=None)
    per_site = []
    pending = 0
    for row in rows:
        site = sites.get(row["site_id_at"] or 0)
        entry = SiteProgress(
            site_id=row["site_id_at"],
            site_code=site.code if site else "",
            site_name=site.label if site else "",
            **{
                k: row[k]
                for k in ("invited", "sent", "no_address", "reminded", "completed", "withdrawn")
            },
        )
        per_site.append(entry)
        pending += row["pending"]
        for name in ("invited", "sent", "no_address", "reminded", "completed", "withdrawn"):
            setattr(total, name, getattr(total, name) + getattr(entry, name))
    per_site.sort(key=lambda e: (e.site_code == "", e.site_code))
    return CampaignProgress(campaign=campaign, total=total, per_site=per_site, pending=pending)
