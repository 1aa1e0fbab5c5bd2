"""Admin of machine clients (other systems calling the API): list them, and revoke them.

New clients are made with ``manage.py create_machine_client`` (it prints the secret once), so the
admin neither adds nor edits them; revoking, by the action or by deleting, goes through the
service, which audits it and takes the client's tokens with it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from .models import User
from .services import machine_client_revoke


def _by(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class MachineClientAdmin(admin.ModelAdmin[Application]):
    list_display = ("name", "client_id", "authorization_grant_type", "created")
    search_fields = ("name", "client_id")
    fields = ("name", "client_id", "client_type", "authorization_grant_type", "created")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected machine clients (their tokens stop working)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        count = 0
        for application in queryset:
            machine_client_revoke(application=application, by=_by(request))
            count += 1
        self.message_user(
            request, _("%(count)d machine client(s) revoked.") % {"count": count}, messages.SUCCESS
        )

    def delete_model(self, request: HttpRequest, obj: Application) -> None:
        machine_client_revoke(application=obj, by=_by(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for application in queryset:
            machine_client_revoke(application=application, by=_by(request))
