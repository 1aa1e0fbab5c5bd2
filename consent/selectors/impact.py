"""What activating a consent version would do, shown before anyone confirms it.

For the programme manager and the ethics reviewer: how many participants would have to re-consent
(per site), which items force it, which purposes of use would be held back for them until they do,
and how many samples and records those participants hold. Everything is counted in the database
with a handful of grouped queries, whatever the number of participants.

"Records" are the participant data records the portal holds (one per participant) plus their
consent events; "samples" are ``dam.Sample`` rows, counted when the dam app has that model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from enrollment.models import Site

from ..hooks import samples_by_site
from ..models import ConsentEvent, ConsentState, ConsentVersion, Purpose
from .activation import ItemChanges, older_versions_needing_reconsent

__all__ = ["SiteImpact", "VersionImpact", "version_impact"]


@dataclass
class SiteImpact:
    site_id: int | None
    site_code: str
    site_name: str
    participants: int = 0
    samples: int = 0


@dataclass
class VersionImpact:
    version: ConsentVersion
    changes_by_version: dict[str, ItemChanges]
    items_forcing_reconsent: list[str]
    purposes_held_back: list[Purpose]
    participants: int
    already_due: int
    samples: int | None  # None: the dam has no sample model yet
    consent_events: int
    per_site: list[SiteImpact] = field(default_factory=list)

    @property
    def samples_counted(self) -> bool:
        return self.samples is not None


def version_impact(
    *, version: ConsentVersion, site_ids: frozenset[int] | None = None
) -> VersionImpact:
    """The impact of activating ``version`` (limited to ``site_ids`` when given)."""
    older = older_versions_needing_reconsent(version)
    labels = dict(ConsentVersion.objects.filter(pk__in=list(older)).values_list("pk", "label"))
    forcing = sorted({code for changes in older.values() for code in changes.codes})
    added_or_changed = {
        code for changes in older.values() for code in changes.added + changes.changed
    }
    held_back = [
        purpose
        for purpose in Purpose.objects.filter(is_active=True)
        if added_or_changed.intersection(purpose.required_items)
    ]
    # Only newly added items really hold anything back (earlier choices stand for changed items);
    # purposes needing a changed item are listed too, as the board may want to look at them.
    states = ConsentState.objects.filter(
        version_id__in=list(older),
        status__in=[ConsentState.Status.ACTIVE, ConsentState.Status.RECONSENT_DUE],
    )
    if site_ids is not None:
        states = states.filter(participant__site_id__in=site_ids)
    totals = states.aggregate(
        participants=Count("pk"),
        already_due=Count("pk", filter=Q(status=ConsentState.Status.RECONSENT_DUE)),
    )
    consent_events = ConsentEvent.objects.filter(
        participant_id__in=states.values("participant_id")
    ).count()
    per_site_rows = states.values("participant__site_id").annotate(n=Count("pk"))
    sites = {
        s.pk: s
        for s in Site.objects.filter(pk__in=[r["participant__site_id"] for r in per_site_rows])
    }
    per_site: dict[int | None, SiteImpact] = {}
    for row in per_site_rows:
        site_id = row["participant__site_id"]
        site = sites.get(site_id)
        per_site[site_id] = SiteImpact(
            site_id=site_id,
            site_code=site.code if site else "",
            site_name=site.label if site else "",
            participants=row["n"],
        )
    samples: int | None = None
    # Samples are the dam's; it counts them through a hook (consent does not import the dam).
    sample_counts = samples_by_site(states.values("participant_id"))
    if sample_counts is not None:
        samples = 0
        for sample_site_id, n in sample_counts.items():
            samples += n
            entry = per_site.get(sample_site_id)
            if entry is not None:
                entry.samples = n
    return VersionImpact(
        version=version,
        changes_by_version={labels[pk]: changes for pk, changes in older.items()},
        items_forcing_reconsent=forcing,
        purposes_held_back=held_back,
        participants=totals["participants"],
        already_due=totals["already_due"],
        samples=samples,
        consent_events=consent_events,
        per_site=sorted(per_site.values(), key=lambda s: (s.site_code == "", s.site_code)),
    )
