"""Admin registrations. The programme pages (/programmes/) are the managers' way in; the admin is
for administrators. Changes to programme structure made here are saved like any model edit."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.http import HttpRequest

from portal.web import current_user

from .models import Cohort, Phase, PhaseTarget, Programme, ScreeningQuestion, Site, SiteClosure
from .services import site_closure_add, site_closure_remove


class PhaseTargetInline(admin.TabularInline[PhaseTarget, Phase]):
    model = PhaseTarget
    extra = 0
    autocomplete_fields = ["site"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin[Programme]):
    list_display = ["code", "name", "name_en", "total_target"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin[Phase]):
    list_display = ["programme", "number", "name", "name_en", "starts_on", "ends_on"]
    list_filter = ["programme"]
    inlines = [PhaseTargetInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = [
        "code",
        "name",
        "name_en",
        "region",
        "region_en",
        "address",
        "opens_at",
        "closes_at",
        "is_active",
    ]
    list_filter = ["is_active", "region"]
    search_fields = ["code", "name", "name_en", "region", "region_en", "address", "address_en"]


@admin.register(SiteClosure)
class SiteClosureAdmin(admin.ModelAdmin[SiteClosure]):
    """Closures go through the service so that every change is audited."""

    list_display = ["site", "first_day", "last_day", "reason"]
    list_filter = ["site"]
    date_hierarchy = "first_day"
    fields = ["site", "first_day", "last_day", "reason"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SiteClosure, form: Any, change: bool) -> None:
        saved = site_closure_add(
            site=obj.site,
            first_day=obj.first_day,
            last_day=obj.last_day,
            reason=obj.reason,
            by=current_user(request),
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: SiteClosure) -> None:
        site_closure_remove(closure=obj, by=current_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for closure in queryset:
            site_closure_remove(closure=closure, by=current_user(request))


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin[Cohort]):
    list_display = ["code", "name", "name_en", "group", "min_age", "open_for_volunteers"]
    list_filter = ["group"]
    search_fields = ["code", "name"]


@admin.register(ScreeningQuestion)
class ScreeningQuestionAdmin(admin.ModelAdmin[ScreeningQuestion]):
    """A cohort's yes/no eligibility questions. Retire a question (inactive) rather than delete
    it: past screens refer to it by id."""

    list_display = ["cohort", "order", "text", "eligible_answer", "is_active"]
    list_filter = ["cohort", "is_active"]
    search_fields = ["text", "text_en"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# Two-factor devices: the admin lists them and can delete one (a lost phone), never shows the
# sealed secret or seed.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin[Authenticator]):
    raw_id_fields = ("user",)
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = ("user", "type", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Authenticator | None = None) -> bool:
        return False
