"""The menu per role. Apps add their entries here rather than editing base.html."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .roles import Role, has_role


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url_name: str
    roles: tuple[Role, ...]


NAV: list[NavEntry] = [
    NavEntry(_("Staff home"), "staff_home", tuple(r for r in Role if r != Role.PARTICIPANT)),
    NavEntry(
        _("National dashboard"),
        "enrollment:dashboard_national",
        (Role.PROGRAMME_MANAGER, Role.ADMIN),
    ),
    NavEntry(_("Site dashboard"), "enrollment:dashboard_site", (Role.COORDINATOR,)),
    NavEntry(
        _("Programmes and sites"), "enrollment:programmes", (Role.PROGRAMME_MANAGER, Role.ADMIN)
    ),
    NavEntry(_("Samples"), "dam:samples", (Role.COORDINATOR, Role.ADMIN)),
    NavEntry(_("Sample fates"), "dam:fates", (Role.COORDINATOR, Role.DATA_STEWARD, Role.ADMIN)),
    NavEntry(_("Shipments"), "dam:shipments", (Role.COORDINATOR, Role.ADMIN)),
    NavEntry(
        _("Manifests and acknowledgements"),
        "dam:steward_manifests",
        (Role.DATA_STEWARD, Role.ADMIN),
    ),
    NavEntry(_("Reconciliation"), "dam:reconciliation", (Role.DATA_STEWARD, Role.ADMIN)),
    NavEntry(_("Re-identification"), "dam:reidentifications", (Role.DATA_STEWARD,)),
    NavEntry(_("Dam delivery"), "dam:delivery_status", (Role.DATA_STEWARD, Role.ADMIN)),
    NavEntry(_("Dead letters"), "dam:dead_letters", (Role.DATA_STEWARD, Role.ADMIN)),
    NavEntry(_("My participation"), "enrollment:me", (Role.PARTICIPANT,)),
    NavEntry(_("My consent"), "consent:mine", (Role.PARTICIPANT,)),
    NavEntry(_("Consent worklist"), "consent:site_worklist", (Role.COORDINATOR, Role.ADMIN)),
    NavEntry(
        _("Ledger verification"),
        "consent:ledger_verifications",
        (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN),
    ),
    NavEntry(_("Enrollment worklist"), "enrollment:site_worklist", (Role.COORDINATOR, Role.ADMIN)),
    NavEntry(_("Enroll a patient"), "enrollment:site_enroll", (Role.COORDINATOR, Role.ADMIN)),
    NavEntry(
        _("Version activation"),
        "consent:activation_list",
        (Role.PROGRAMME_MANAGER, Role.ETHICS_REVIEWER, Role.ADMIN),
    ),
    NavEntry(
        _("Re-consent campaigns"),
        "consent:campaign_list",
        (Role.PROGRAMME_MANAGER, Role.ADMIN, Role.COORDINATOR, Role.ETHICS_REVIEWER),
    ),
]


def menu_for(request: HttpRequest) -> list[dict[str, str]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for entry in NAV:
        if not has_role(user, *entry.roles):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": str(entry.label), "url": url, "active": str(request.path == url)})
    return items
