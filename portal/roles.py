"""Roles, and the one way to ask "may this user see this object?".

Roles are Django groups named after ``Role`` values. Coordinators (and ethics reviewers of a local
IRB) are scoped to sites; ``User.all_sites`` widens the scope to every site (central IRB, national
staff). The sites and their memberships belong to the enrollment app, which registers a
``SiteDirectory`` here when it is ready (``site_directory_register``): the portal asks it, and
imports no app.

Scoped models declare where their site and owner are, as ORM paths::

    class Participant(models.Model):
        scope_site_path = "site_id"
        scope_owner_path = "user_id"

Views, API and admin then call ``scope_queryset`` for lists and ``get_scoped_or_404`` for one
object. An object outside the user's scope answers 404 (never 403, so that existence does not
leak), and the attempt is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, Protocol, TypeVar

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from .audit import Action, audit_record
from .machine_clients import MachineClient
from .models import User

M = TypeVar("M", bound=models.Model)
AnyUser = User | AnonymousUser | MachineClient


class Role(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    COORDINATOR = "coordinator", _("Site coordinator")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager")
    ETHICS_REVIEWER = "ethics_reviewer", _("Ethics reviewer")
    DATA_STEWARD = "data_steward", _("Data steward")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset(
    {Role.COORDINATOR, Role.PROGRAMME_MANAGER, Role.ETHICS_REVIEWER, Role.DATA_STEWARD, Role.ADMIN}
)
# Roles whose view of participants is limited to sites (unless the user has all_sites).
SITE_SCOPED_ROLES = frozenset({Role.COORDINATOR, Role.ETHICS_REVIEWER})


class Data(models.TextChoices):
    """Kinds of data that identify a person, for the role x data table (docs/data-access.md)."""

    IDENTITY = "identity", _("Name, birth date, contact details, address, guardian")
    RECEIPT = "receipt", _("Consent receipt PDF (prints the signer's name)")
    CONSENT_ARTIFACT = "consent_artifact", _("Drawn signatures and scanned consent forms")


# The role x data table: which staff roles may see each kind of identifying data, always within
# their scope (sites). A participant sees their own, through their own pages, and nobody else's.
# docs/data-access.md shows the same table; a test keeps the two equal.
DATA_ACCESS: dict[Data, frozenset[Role]] = {
    Data.IDENTITY: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Data.RECEIPT: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Data.CONSENT_ARTIFACT: frozenset({Role.COORDINATOR, Role.ADMIN}),
}


def roles_of(user: AnyUser | None) -> frozenset[Role]:
    if not isinstance(user, User) or not user.is_authenticated:
        return frozenset()  # anonymous, or a machine client (no person, no role)
    cached: frozenset[Role] | None = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    roles = {Role(name) for name in names if name in Role.values}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    frozen = frozenset(roles)
    setattr(user, "_portal_roles", frozen)  # noqa: B010  (a per-request memo)
    return frozen


def has_role(user: AnyUser | None, *roles: Role) -> bool:
    return bool(roles_of(user).intersection(roles))


def is_staff_member(user: AnyUser | None) -> bool:
    """Staff in the portal's sense: any role but participant. Staff must use MFA."""
    return bool(roles_of(user) & STAFF_ROLES) or bool(
        isinstance(user, User) and user.is_authenticated and user.is_staff
    )


def grant_role(user: User, role: Role) -> None:
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    if hasattr(user, "_portal_roles"):
        del user._portal_roles


class SiteDirectory(Protocol):
    """What the portal needs to know about sites; the app that owns them answers."""

    def site_ids_of_member(self, user: User) -> frozenset[int]:
        """The sites ``user`` is a member of."""
        ...

    def site_ids_by_code(self, codes: Iterable[str]) -> dict[str, int]:
        """Site ids of the known codes among ``codes``."""
        ...

    def memberships_add(self, *, user: User, site_ids: Iterable[int]) -> None:
        """Make ``user`` a member of the sites ``site_ids``."""
        ...


_site_directory: SiteDirectory | None = None


def site_directory_register(directory: SiteDirectory) -> None:
    """Called once by the app owning the sites, from its ``AppConfig.ready``."""
    global _site_directory
    _site_directory = directory


def site_directory() -> SiteDirectory:
    if _site_directory is None:
        raise ImproperlyConfigured("no installed app registered the site directory")
    return _site_directory


def site_ids_for(user: AnyUser | None) -> frozenset[int] | None:
    """The sites whose participants ``user`` may see; ``None`` means every site."""
    if isinstance(user, MachineClient):
        # A national system (the dam, the analysis platform); it reaches only its scope's views.
        return None
    if user is None or not user.is_authenticated:
        return frozenset()
    roles = roles_of(user)
    if Role.ADMIN in roles or Role.PROGRAMME_MANAGER in roles or Role.DATA_STEWARD in roles:
        return None
    if user.all_sites and roles & SITE_SCOPED_ROLES:
        return None
    if roles & SITE_SCOPED_ROLES:
        return site_directory().site_ids_of_member(user)
    return frozenset()


def _scope_filter(user: AnyUser | None, model: type[models.Model]) -> Q | None:
    """A filter limiting ``model`` to what ``user`` may see, or ``None`` for no limit."""
    site_ids = site_ids_for(user)
    if site_ids is None:
        return None
    condition = Q(pk__in=[])
    site_path = getattr(model, "scope_site_path", None)
    owner_path = getattr(model, "scope_owner_path", None)
    if site_path and site_ids:
        condition |= Q(**{f"{site_path}__in": site_ids})
    if owner_path and isinstance(user, User) and user.is_authenticated:
        condition |= Q(**{owner_path: user.pk})
    return condition


def scope_queryset(user: AnyUser | None, queryset: QuerySet[M]) -> QuerySet[M]:
    condition = _scope_filter(user, queryset.model)
    return queryset if condition is None else queryset.filter(condition)


def can_view(user: AnyUser | None, obj: models.Model) -> bool:
    return scope_queryset(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def deny(user: AnyUser | None, *, object_type: str, object_id: Any, reason: str = "") -> Http404:
    """Audit a refused access and return the 404 to raise."""
    audit_record(
        action=Action.PERMISSION_DENIED,
        actor=user if isinstance(user, User) else None,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason,
        outcome="denied",
    )
    return Http404()


def may_access(user: AnyUser | None, data: Data) -> bool:
    """Whether ``user``'s roles may see ``data`` of participants in their scope (DATA_ACCESS)."""
    return bool(roles_of(user) & DATA_ACCESS[data])


def require_access(user: AnyUser | None, data: Data, *, object_type: str, object_id: Any) -> None:
    """The one check of the role x data table: refuse with an audited 404 when not allowed."""
    if not may_access(user, data):
        raise deny(user, object_type=object_type, object_id=object_id, reason=f"role: {data}")


def get_scoped_or_404(user: AnyUser | None, queryset: QuerySet[M], **lookup: Any) -> M:
    """One object the user may see; otherwise an audited 404 (the same whether it exists or not)."""
    try:
        return scope_queryset(user, queryset).get(**lookup)
    except (ObjectDoesNotExist, ValueError) as exc:
        label = queryset.model._meta.label_lower
        raise deny(
            user, object_type=label, object_id=_lookup_repr(lookup), reason="out of scope"
        ) from exc


def _lookup_repr(lookup: dict[str, Any]) -> str:
    # Lookups are internal ids or codes by convention; keep only the first value, truncated.
    return str(next(iter(lookup.values()), ""))[:64]


ViewFunc = Callable[..., HttpResponseBase]


def role_required(*roles: Role) -> Callable[[ViewFunc], ViewFunc]:
    """Allow the view only to signed-in users holding one of ``roles``; others get an audited 404."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise deny(request.user, object_type="view", object_id=view.__name__, reason="role")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasRole(BasePermission):
    """DRF permission: ``permission_classes = [HasRole.of(Role.COORDINATOR, Role.ADMIN)]``.

    ``client_scope`` also admits machine clients (other systems) whose token has that scope;
    without it, a view is for people only.
    """

    roles: Iterable[Role] = ()
    client_scope: str = ""

    @classmethod
    def of(cls, *roles: Role, client_scope: str = "") -> type[HasRole]:
        return type("HasRole", (cls,), {"roles": tuple(roles), "client_scope": client_scope})

    def has_permission(self, request: Any, view: Any) -> bool:
        if isinstance(request.user, MachineClient):
            allowed = bool(self.client_scope) and request.user.has_scope(self.client_scope)
        else:
            allowed = has_role(request.user, *self.roles)
        if not allowed and request.user.is_authenticated:
            audit_record(
                action=Action.PERMISSION_DENIED,
                actor=request.user if isinstance(request.user, User) else None,
                object_type="api",
                object_id=type(view).__name__,
                reason="role",
                outcome="denied",
            )
        return allowed
