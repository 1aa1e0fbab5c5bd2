from __future__ import annotations

from django.contrib import admin

from .models import Sample


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    """Read-only: samples are recorded through the coordinators' page (which moves the funnel)."""

    list_display = ["barcode", "sample_type", "site", "collected_at", "volume_ml"]
    list_filter = ["sample_type", "site"]
    search_fields = ["barcode"]
    list_select_related = ["site"]
    readonly_fields = [f.name for f in Sample._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


# Custody records (manifests, notes, fates, re-identification, reconciliation).
from . import custody_admin  # noqa: E402, F401
