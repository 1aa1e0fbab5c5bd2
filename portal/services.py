"""Portal services: staff accounts and machine clients (commands, admin, demo seed and tests call
these)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import Action, audit_record
from .korean import particle_format
from .models import User
from .roles import SITE_SCOPED_ROLES, STAFF_ROLES, Role, grant_role, site_directory

if TYPE_CHECKING:
    from oauth2_provider.models import Application


@transaction.atomic
def staff_user_create(
    *,
    email: str,
    role: Role,
    password: str,
    site_codes: Iterable[str] = (),
    all_sites: bool = False,
    display_name: str = "",
    by: User | None = None,
) -> User:
    """Create a staff account with ``role``, its sites, and a verified e-mail address.

    The password must pass the portal's password rules. Site-scoped roles (coordinator, ethics
    reviewer) need at least one site or ``all_sites``. Staff set up two-factor authentication at
    their first sign-in; the portal does not let them in before.
    """
    from allauth.account.models import EmailAddress

    sites = site_directory()
    email = User.objects.normalize_email(email).strip().lower()
    if role not in STAFF_ROLES:
        raise ValidationError(particle_format(_("%(role)s is not a staff role."), {"role": role}))
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("An account with this e-mail address already exists."))
    codes = sorted(set(site_codes))
    site_ids = sites.site_ids_by_code(codes)
    unknown = sorted(set(codes) - set(site_ids))
    if unknown:
        raise ValidationError(_("Unknown site code(s): %(codes)s") % {"codes": ", ".join(unknown)})
    if role in SITE_SCOPED_ROLES and not site_ids and not all_sites:
        raise ValidationError(_("This role needs at least one site, or all sites."))

    user = User(email=email, display_name=display_name, all_sites=all_sites)
    validate_password(password, user)
    user.set_password(password)
    if role == Role.ADMIN:
        # Administrators also use the Django admin (behind the same sign-in and MFA).
        user.is_staff = True
        user.is_superuser = True
    user.save()
    grant_role(user, role)
    sites.memberships_add(user=user, site_ids=site_ids.values())
    # Created by an administrator for a known address: verified, so the first sign-in works.
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    audit_record(
        action=Action.STAFF_CREATED,
        actor=by,
        obj=user,
        details={"role": role.value, "sites": sorted(site_ids.values()), "all_sites": all_sites},
    )
    return user


@dataclass(frozen=True)
class CreatedClient:
    application: Application
    secret: str  # shown once: only its hash is stored


@transaction.atomic
def machine_client_create(*, name: str, by: User | None = None) -> CreatedClient:
    """Register another system as a machine client; its secret is returned once, never stored."""
    name = name.strip()
    if not name or len(name) > 255:
        raise ValidationError(_("A machine client needs a name of at most 255 characters."))
    from oauth2_provider.models import Application

    secret = secrets.token_urlsafe(48)
    application = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        redirect_uris="",
    )
    audit_record(
        action=Action.CLIENT_CREATED,
        actor=by,
        object_type="oauth2_provider.application",
        object_id=application.pk,
        details={"client_id": application.client_id, "client_name": name},
    )
    return CreatedClient(application=application, secret=secret)


@transaction.atomic
def machine_client_revoke(*, application: Application, by: User | None = None) -> None:
    """Revoke a machine client: it and its tokens are deleted, so its next request is refused."""
    from oauth2_provider.models import AccessToken

    details: dict[str, Any] = {
        "client_id": application.client_id,
        "client_name": application.name,
        "tokens": AccessToken.objects.filter(application=application).count(),
    }
    object_id = application.pk
    application.delete()  # its tokens go with it (foreign keys cascade)
    audit_record(
        action=Action.CLIENT_REVOKED,
        actor=by,
        object_type="oauth2_provider.application",
        object_id=object_id,
        details=details,
    )
