"""Serializers of the enrollment API: what a participant, a status step and a visit look like
(never personal data), and the query filters of the lists."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import (
    Participant,
    ParticipantKind,
    ParticipantStatus,
    StatusTransition,
    Visit,
    VisitStatus,
)


class ParticipantListSerializer(serializers.ModelSerializer[Participant]):
    site = serializers.CharField(source="site.code", allow_null=True, default=None)
    cohort = serializers.CharField(source="cohort.code")

    class Meta:
        model = Participant
        fields = ["code", "kind", "site", "cohort", "status", "registered_at", "status_changed_at"]
        read_only_fields = fields


class ParticipantDetailSerializer(ParticipantListSerializer):
    site_name = serializers.CharField(source="site.name", allow_null=True, default=None)
    cohort_group = serializers.CharField(source="cohort.group")

    class Meta(ParticipantListSerializer.Meta):
        fields = [
            *ParticipantListSerializer.Meta.fields,
            "site_name",
            "cohort_group",
            "birth_year",
            "sex",
            "is_minor",
        ]
        read_only_fields = fields


class TransitionSerializer(serializers.ModelSerializer[StatusTransition]):
    participant = serializers.CharField(source="participant.code")
    # "" for a participant's first step (there was no status before): part of the enum.
    from_status = serializers.ChoiceField(
        choices=ParticipantStatus.choices, allow_blank=True, read_only=True
    )
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = StatusTransition
        fields = ["id", "participant", "from_status", "to_status", "at", "actor", "reason"]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer[Visit]):
    participant = serializers.CharField(source="participant.code")
    site = serializers.CharField(source="site.code")

    class Meta:
        model = Visit
        fields = ["id", "participant", "site", "day", "status", "booked_at", "changed_at"]
        read_only_fields = fields


class ParticipantFilter(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=ParticipantStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=ParticipantKind.choices, required=False)
    site = serializers.SlugField(required=False, help_text="site code")
    cohort = serializers.SlugField(required=False, help_text="cohort code")


class TransitionFilter(serializers.Serializer[dict[str, Any]]):
    to_status = serializers.ChoiceField(choices=ParticipantStatus.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="only steps at or after this time")


class VisitFilter(serializers.Serializer[dict[str, Any]]):
    day = serializers.DateField(required=False)
    site = serializers.SlugField(required=False, help_text="site code")
    status = serializers.ChoiceField(choices=VisitStatus.choices, required=False)


class DashboardFilter(serializers.Serializer[dict[str, Any]]):
    phase = serializers.IntegerField(required=False, min_value=1)
    site = serializers.SlugField(required=False, help_text="site code, within your sites")


class ProgressSerializer(serializers.Serializer[dict[str, Any]]):
    """Enrolled against target for one slice (overall, a cohort group or a site)."""

    key = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    enrolled = serializers.IntegerField()
    target = serializers.IntegerField(allow_null=True)
