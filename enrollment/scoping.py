"""Site scoping answered from the enrollment app's sites.

The portal scopes staff to sites (``portal.roles``) without knowing this app: ``EnrollmentConfig``
registers ``EnrollmentSites`` as the portal's site directory when the app is ready.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.models import User

from .models import Site, SiteMembership


class EnrollmentSites:
    """``portal.roles.SiteDirectory`` over ``Site`` and ``SiteMembership``."""

    def site_ids_of_member(self, user: User) -> frozenset[int]:
        return frozenset(SiteMembership.objects.filter(user=user).values_list("site_id", flat=True))

    def site_ids_by_code(self, codes: Iterable[str]) -> dict[str, int]:
        return dict(Site.objects.filter(code__in=list(codes)).values_list("code", "id"))

    def memberships_add(self, *, user: User, site_ids: Iterable[int]) -> None:
        for site_id in sorted(site_ids):
            SiteMembership.objects.create(user=user, site_id=site_id)
