"""Admin registrations. The programme pages (/programmes/) are the managers' way in; the admin is
for administrators. Changes to programme structure made here are saved like any model edit."""

from __future__ import annotations

from django.contrib import admin

from .models import Cohort, Phase, PhaseTarget, Programme, Site


class PhaseTargetInline(admin.TabularInline):
    model = PhaseTarget
    extra = 0
    autocomplete_fields = ["site"]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "total_target"]
    search_fields = ["code", "name"]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["programme", "number", "name", "starts_on", "ends_on"]
    list_filter = ["programme"]
    inlines = [PhaseTargetInline]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "daily_capacity", "is_active"]
    list_filter = ["is_active", "region"]
    search_fields = ["code", "name", "region"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "group", "min_age", "open_for_volunteers"]
    list_filter = ["group"]
    search_fields = ["code", "name"]
