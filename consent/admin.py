"""Admin for consent configuration. Legal records (events, states) are never edited here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import Purpose, ReconsentCampaign
from .models.purposes import validate_item_codes


class PurposeForm(forms.ModelForm):
    required_items = forms.CharField(
        help_text=Purpose._meta.get_field("required_items").help_text,
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Purpose
        fields = [
            "code",
            "name",
            "description",
            "required_items",
            "duo_code",
            "activity",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["required_items"] = ", ".join(self.instance.required_items)

    def clean_required_items(self) -> list[str]:
        """Typed as "data_sharing, genomic_analysis"; stored as a list."""
        raw = self.cleaned_data["required_items"]
        codes = [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]
        validate_item_codes(codes)
        return codes


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    form = PurposeForm
    list_display = ["code", "name", "activity", "duo_code", "is_active"]
    list_filter = ["activity", "is_active"]
    search_fields = ["code", "name"]


@admin.register(ReconsentCampaign)
class ReconsentCampaignAdmin(admin.ModelAdmin):
    """Read-only: campaigns are started and steered on their own pages (through the services)."""

    list_display = ["name", "version", "status", "invited_count", "started_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ReconsentCampaign._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
