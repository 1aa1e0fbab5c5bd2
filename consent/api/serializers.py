"""Serializers of the consent API (``consent.api``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from ..models import (
    ConsentEvent,
    ConsentItem,
    ConsentReceipt,
    ConsentState,
    ConsentVersion,
    Purpose,
)
from ..selectors.checks import BULK_LIMIT


class VersionRefSerializer(serializers.ModelSerializer[ConsentVersion]):
    form = serializers.CharField(source="form.code")

    class Meta:
        model = ConsentVersion
        fields = ["id", "form", "label", "language", "status", "text_sha256"]


class ItemSerializer(serializers.ModelSerializer[ConsentItem]):
    class Meta:
        model = ConsentItem
        fields = ["code", "order", "title", "text", "required", "duo_codes"]


class ActiveVersionSerializer(serializers.ModelSerializer[ConsentVersion]):
    form = serializers.CharField(source="form.code")
    form_kind = serializers.CharField(source="form.kind")
    items = ItemSerializer(many=True)

    class Meta:
        model = ConsentVersion
        fields = [
            "id",
            "form",
            "form_kind",
            "label",
            "language",
            "title",
            "text_sha256",
            "irb_approval_number",
            "irb_approved_on",
            "effective_from",
            "items",
        ]


class StateSerializer(serializers.ModelSerializer[ConsentState]):
    participant = serializers.CharField(source="participant.code")
    version = VersionRefSerializer(allow_null=True)
    choices = serializers.DictField(child=serializers.BooleanField())
    first_granted_at = serializers.DictField(child=serializers.CharField())

    class Meta:
        model = ConsentState
        fields = [
            "participant",
            "status",
            "version",
            "choices",
            "first_granted_at",
            "signed_at",
            "withdrawal_level",
            "samples_fate",
            "event_count",
            "updated_at",
        ]


class EventSerializer(serializers.ModelSerializer[ConsentEvent]):
    version = VersionRefSerializer(allow_null=True)
    choices = serializers.DictField(child=serializers.BooleanField())
    # The voided event's id on a void, null on every other event (the schema says so too).
    voids: serializers.PrimaryKeyRelatedField[ConsentEvent] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )
    receipt = serializers.SerializerMethodField()
    # For people: the label of the relationship code (the typed text of events recorded before
    # the codes); the code itself is ``representative_relation``.
    representative_relationship = serializers.CharField(source="relationship_label", read_only=True)
    witnessed = serializers.BooleanField(source="has_witness", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = [
            "id",
            "sequence",
            "kind",
            "version",
            "choices",
            "signed_at",
            "recorded_at",
            "signer_kind",
            "representative_relationship",
            "representative_relation",
            "withdrawal_reason",
            "witnessed",
            "method",
            "channel",
            "withdrawal_level",
            "samples_fate",
            "voids",
            "hash",
            "prev_hash",
            "verification_code",
            "receipt",
        ]

    def get_receipt(self, event: ConsentEvent) -> int | None:
        receipt = getattr(event, "receipt", None)
        return receipt.pk if receipt is not None else None


class ReceiptSerializer(serializers.ModelSerializer[ConsentReceipt]):
    event = serializers.IntegerField(source="event_id")
    kind = serializers.CharField(source="event.kind")
    signed_at = serializers.DateTimeField(source="event.signed_at")
    verification_code = serializers.CharField(source="event.verification_code")
    download = serializers.SerializerMethodField()

    class Meta:
        model = ConsentReceipt
        fields = ["id", "event", "kind", "signed_at", "verification_code", "sha256", "download"]

    def get_download(self, receipt: ConsentReceipt) -> str:
        request = self.context.get("request")
        path = reverse("consent:api_me_receipt_download", args=[receipt.pk])
        return request.build_absolute_uri(path) if request is not None else path


class PurposeSerializer(serializers.ModelSerializer[Purpose]):
    class Meta:
        model = Purpose
        fields = ["code", "name", "description", "required_items", "duo_code", "activity"]


class CheckInput(serializers.Serializer[Any]):
    purpose = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Purpose.objects.filter(is_active=True),
        help_text="The code of an active purpose (GET /api/consent/purposes/); others are refused.",
    )
    participants = serializers.ListField(
        # min_length: an empty code is refused, and the schema says so.
        child=serializers.CharField(min_length=1, max_length=32),
        min_length=1,
        max_length=BULK_LIMIT,
        help_text=f"Participant codes or dam subject pseudonyms, at most {BULK_LIMIT:,}.",
    )
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Answer as of this time (by signed-at time of consent events); default now.",
    )

    def validate_at(self, value: Any) -> Any:
        if value is not None and value > timezone.now():
            raise serializers.ValidationError("Cannot answer for a time in the future.")
        return value


CheckOutput = inline_serializer(
    "ConsentCheckOutput",
    fields={
        "purpose": serializers.CharField(),
        "at": serializers.DateTimeField(allow_null=True),
        "allowed": serializers.IntegerField(),
        "refused": serializers.IntegerField(),
        "results": inline_serializer(
            "ConsentCheckResult",
            fields={
                "participant": serializers.CharField(),
                "allowed": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "code": serializers.CharField(),
            },
            many=True,
        ),
    },
)
FhirConsent = inline_serializer(
    "FhirConsent",
    fields={"resourceType": serializers.CharField(), "status": serializers.CharField()},
)
