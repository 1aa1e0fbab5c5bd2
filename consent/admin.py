"""Admin for consent configuration. Legal records (events, states) are never edited here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.web import current_user

from .models import (
    ComprehensionQuestion,
    ConsentEvent,
    ConsentForm,
    ConsentItem,
    ConsentVersion,
    Purpose,
    ReconsentCampaign,
)
from .models.purposes import validate_item_codes
from .services.reads import consent_read_record
from .services.versions import markdown_render, version_approve


class PurposeForm(forms.ModelForm[Purpose]):
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
class PurposeAdmin(admin.ModelAdmin[Purpose]):
    form = PurposeForm
    list_display = ["code", "name", "activity", "duo_code", "is_active"]
    list_filter = ["activity", "is_active"]
    search_fields = ["code", "name"]


@admin.register(ReconsentCampaign)
class ReconsentCampaignAdmin(admin.ModelAdmin[ReconsentCampaign]):
    """Read-only: campaigns are started and steered on their own pages (through the services)."""

    list_display = ["name", "version", "status", "invited_count", "started_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ReconsentCampaign._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- consent forms and versions ------------------------------------------------------------------
# Drafts are edited here; approval goes through ``version_approve`` (hash, freeze), activation through
# the activation pages. Once a version is not a draft, everything about it is read-only (the
# database refuses changes too).


@admin.register(ConsentForm)
class ConsentFormAdmin(admin.ModelAdmin[ConsentForm]):
    list_display = ["code", "title", "kind"]
    search_fields = ["code", "title"]


class _DraftOnlyInline(admin.TabularInline[Any, ConsentVersion]):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft


class ConsentItemInline(_DraftOnlyInline):
    model = ConsentItem
    fields = ["order", "code", "title", "text", "required", "duo_codes"]


class ComprehensionQuestionInline(_DraftOnlyInline):
    model = ComprehensionQuestion
    fields = ["order", "text", "choices", "correct_choice", "explanation"]


@admin.register(ConsentVersion)
class ConsentVersionAdmin(admin.ModelAdmin[ConsentVersion]):
    list_display = ["form", "label", "language", "status", "irb_approval_number", "effective_from"]
    list_filter = ["status", "language", "form"]
    inlines = [ConsentItemInline, ComprehensionQuestionInline]
    readonly_fields = ["status", "text_sha256", "approved_at", "approved_by", "activated_at"]
    actions = ["approve_drafts"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and not obj.is_draft:
            return [f.name for f in ConsentVersion._meta.fields]
        return list(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.is_draft

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The rendered body is always made from the Markdown by the sanitizer, never typed.
        obj.body_html = markdown_render(obj.body_markdown)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Approve the selected drafts (hash and freeze their text)"))
    def approve_drafts(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            try:
                version_approve(version=version, by=current_user(request))
            except ValidationError as exc:
                self.message_user(request, f"{version}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(version)s: approved") % {"version": version}, messages.SUCCESS
                )


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin[ConsentEvent]):
    """The ledger, read-only (legal record; the database refuses changes anyway)."""

    list_display = ["participant", "sequence", "kind", "channel", "signed_at", "recorded_at"]
    list_filter = ["kind", "channel"]
    search_fields = ["participant__code", "verification_code"]
    list_select_related = ["participant"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ConsentEvent._meta.fields]

    # Staff reads of the ledger leave a trace, like every other staff read of consent.
    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        count = len(changelist.result_list) if changelist is not None else 0
        consent_read_record(by=_user(request), what="admin ledger list", count=count)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        event = ConsentEvent.objects.filter(pk=object_id).select_related("participant").first()
        if event is not None:
            consent_read_record(
                by=_user(request), participant=event.participant, what="admin ledger event"
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None
