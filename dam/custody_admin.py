"""Admin views of custody records: read-only, since every change goes through a service (and
notes and fates are append-only in the database)."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    Manifest,
    ManifestLine,
    ReconciliationFinding,
    ReconciliationRun,
    ReidentificationRequest,
    SampleFate,
    SampleNote,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def get_readonly_fields(self, request: object, obj: object = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class ManifestLineInline(admin.TabularInline):
    model = ManifestLine
    fields = readonly_fields = ("sample", "state", "hold_code", "dam_status", "dam_received_at")
    raw_id_fields = ["sample"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    list_display = ["code", "site", "state", "shipped_at", "dam_checked_at"]
    list_filter = ["state", "site"]
    search_fields = ["code"]
    list_select_related = ["site"]
    inlines = [ManifestLineInline]


@admin.register(SampleNote)
class SampleNoteAdmin(ReadOnlyAdmin):
    list_display = ["sample", "kind", "at"]
    list_filter = ["kind"]
    search_fields = ["sample__barcode"]
    raw_id_fields = ["sample"]


@admin.register(SampleFate)
class SampleFateAdmin(ReadOnlyAdmin):
    list_display = ["sample", "fate", "done_at", "recorded_at"]
    list_filter = ["fate"]
    search_fields = ["sample__barcode"]


@admin.register(ReidentificationRequest)
class ReidentificationRequestAdmin(ReadOnlyAdmin):
    """Requests without the answer: who is behind a pseudonym is never stored or listed."""

    list_display = ["pk", "pseudonym", "state", "requested_at", "decided_at", "revealed_at"]
    list_filter = ["state"]


class FindingInline(admin.TabularInline):
    model = ReconciliationFinding
    fields = readonly_fields = ("kind", "subject", "manifest", "barcode", "expected", "reported")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "outcome", "subjects_checked", "manifests_checked"]
    list_filter = ["outcome"]
    inlines = [FindingInline]
