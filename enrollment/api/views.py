"""Enrollment REST API under /api/enrollment/ (route names ``enrollment:api_*``; serializers
in ``enrollment.api.serializers``).

Every list is scoped like the pages (``portal.roles``): coordinators see their sites only, and a
participant outside the caller's sites answers 404 (audited). Lists carry no personal data (no
name, birth date, phone, e-mail): participants are named by their code. Lists use cursor
pagination, so page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.audit import audit_record
from portal.models import User
from portal.roles import HasRole, Role, get_scoped_or_404, scope_queryset, site_ids_for

from ..audit import Action
from ..models import (
    Participant,
    Site,
    StatusTransition,
    Visit,
)
from ..selectors.dashboards import dashboard_figures
from .serializers import (
    DashboardFilter,
    ParticipantDetailSerializer,
    ParticipantFilter,
    ParticipantListSerializer,
    ProgressSerializer,
    TransitionFilter,
    TransitionSerializer,
    VisitFilter,
    VisitSerializer,
)

BLANK_FILTER = serializers.CharField.default_error_messages["blank"]
STAFF = HasRole.of(Role.COORDINATOR, Role.PROGRAMME_MANAGER, Role.ADMIN)


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int | None:
        # DRF quietly ignores a page size that is not a number; the description says integer.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                int(raw)
            except ValueError:
                raise serializers.ValidationError(
                    {"page_size": [serializers.IntegerField.default_error_messages["invalid"]]}
                ) from None
        size: int | None = super().get_page_size(request)
        return size


def _read_audit(request: Request, participant: Participant, what: str) -> None:
    """Every staff read of one participant leaves one audit row (ids only)."""
    actor = request.user if isinstance(request.user, User) else None
    audit_record(
        action=Action.PARTICIPANT_VIEWED, actor=actor, obj=participant, details={"what": what}
    )


def _filters(
    serializer_class: type[serializers.Serializer[dict[str, Any]]], request: Request
) -> dict[str, Any]:
    data = serializer_class(data=request.query_params)
    # DRF reads a blank optional query value as "absent"; a filter that is present needs a value
    # (an empty ?status= is an error, not "any").
    blank = sorted(
        name for name, value in request.query_params.items() if not value and name in data.fields
    )
    if blank:
        raise serializers.ValidationError({name: [BLANK_FILTER] for name in blank})
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


# --- Views ---------------------------------------------------------------------------------------


@extend_schema(tags=["enrollment"], parameters=[ParticipantFilter])
class ParticipantListApi(generics.ListAPIView[Participant]):
    """Participants the caller may see, newest first. No personal data."""

    permission_classes = [STAFF]
    serializer_class = ParticipantListSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Participant]:
        f = _filters(ParticipantFilter, self.request)
        queryset = Participant.objects.select_related("site", "cohort")
        if "status" in f:
            queryset = queryset.filter(status=f["status"])
        if "kind" in f:
            queryset = queryset.filter(kind=f["kind"])
        if "site" in f:
            queryset = queryset.filter(site__code=f["site"])
        if "cohort" in f:
            queryset = queryset.filter(cohort__code=f["cohort"])
        return scope_queryset(self.request.user, queryset)


@extend_schema(tags=["enrollment"])
class ParticipantDetailApi(generics.RetrieveAPIView[Participant]):
    """One participant by code; 404 if unknown or outside the caller's sites."""

    permission_classes = [STAFF]
    serializer_class = ParticipantDetailSerializer

    def get_object(self) -> Participant:
        participant = get_scoped_or_404(
            self.request.user,
            Participant.objects.select_related("site", "cohort"),
            code=str(self.kwargs["code"]).strip().upper(),
        )
        _read_audit(self.request, participant, "detail")
        return participant


@extend_schema(tags=["enrollment"])
class ParticipantTransitionsApi(generics.ListAPIView[StatusTransition]):
    """The funnel steps of one participant, newest first."""

    permission_classes = [STAFF]
    serializer_class = TransitionSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[StatusTransition]:
        participant = get_scoped_or_404(
            self.request.user, Participant.objects.all(), code=str(self.kwargs["code"]).upper()
        )
        _read_audit(self.request, participant, "transitions")
        return StatusTransition.objects.filter(participant=participant).select_related(
            "participant"
        )


@extend_schema(tags=["enrollment"], parameters=[TransitionFilter])
class TransitionListApi(generics.ListAPIView[StatusTransition]):
    """Funnel steps of the participants the caller may see, newest first."""

    permission_classes = [STAFF]
    serializer_class = TransitionSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[StatusTransition]:
        f = _filters(TransitionFilter, self.request)
        queryset = StatusTransition.objects.select_related("participant")
        if "to_status" in f:
            queryset = queryset.filter(to_status=f["to_status"])
        if "since" in f:
            queryset = queryset.filter(at__gte=f["since"])
        site_ids = site_ids_for(self.request.user)
        if site_ids is not None:
            # The site at the time of the step is on the row: no join needed to scope.
            queryset = queryset.filter(site_id_at__in=site_ids)
        return queryset


@extend_schema(tags=["enrollment"], parameters=[VisitFilter])
class VisitListApi(generics.ListAPIView[Visit]):
    """Visits at the caller's sites, newest first."""

    permission_classes = [STAFF]
    serializer_class = VisitSerializer
    pagination_class = NewestFirst

    def get_queryset(self) -> QuerySet[Visit]:
        f = _filters(VisitFilter, self.request)
        queryset = Visit.objects.select_related("participant", "site")
        if "day" in f:
            queryset = queryset.filter(day=f["day"])
        if "site" in f:
            queryset = queryset.filter(site__code=f["site"])
        if "status" in f:
            queryset = queryset.filter(status=f["status"])
        return scope_queryset(self.request.user, queryset)


@extend_schema(
    tags=["enrollment"],
    parameters=[DashboardFilter],
    responses=inline_serializer(
        "DashboardFigures",
        {
            "phase": serializers.DictField(allow_null=True),
            "today": serializers.DateField(),
            "overall": ProgressSerializer(),
            "by_group": ProgressSerializer(many=True),
            "by_site": ProgressSerializer(many=True),
            "monthly": serializers.ListField(child=serializers.DictField()),
            "funnel": serializers.ListField(child=serializers.DictField()),
            "demographics": serializers.ListField(child=serializers.DictField()),
            "forecasts": serializers.ListField(child=serializers.DictField()),
        },
    ),
)
class DashboardApi(APIView):
    """The dashboard figures: national for managers, the caller's sites for coordinators."""

    permission_classes = [STAFF]

    def get(self, request: Request) -> Response:
        f = _filters(DashboardFilter, request)
        site_ids = site_ids_for(request.user)
        if "site" in f:
            site = Site.objects.filter(code=f["site"]).only("id").first()
            if site is None or (site_ids is not None and site.pk not in site_ids):
                raise serializers.ValidationError({"site": ["No such site among yours."]})
            site_ids = frozenset({site.pk})
        figures = dashboard_figures(site_ids=site_ids, phase_id=f.get("phase"))
        if "phase" in f and figures.phase is None:
            raise serializers.ValidationError({"phase": ["No such phase."]})
        return Response(_figures_json(figures))


def _progress_json(p: Any) -> dict[str, Any]:
    return {"key": p.key, "label": p.label, "enrolled": p.enrolled, "target": p.target}


def _figures_json(f: Any) -> dict[str, Any]:
    phase = f.phase
    return {
        "phase": None
        if phase is None
        else {
            "id": phase.pk,
            "programme": phase.programme.code,
            "name": phase.name,
            "starts_on": phase.starts_on,
            "ends_on": phase.ends_on,
        },
        "today": f.today,
        "overall": _progress_json(f.overall),
        "by_group": [_progress_json(p) for p in f.by_group],
        "by_site": [_progress_json(p) for p in f.by_site],
        "monthly": [{"month": m.strftime("%Y-%m"), "enrollments": n} for m, n in f.monthly],
        "funnel": [{"status": code, "label": label, "count": n} for code, label, n in f.funnel],
        "demographics": [
            {"age_band": band, **{css.removeprefix("bar-"): v[i] for _l, css, v in f.by_sex}}
            for i, band in enumerate(f.age_bands)
        ],
        "forecasts": [
            {
                "label": fc.label,
                "enrolled": fc.enrolled,
                "target": fc.target,
                "ends_on": fc.ends_on,
                "recent_consents": fc.recent,
                "recent_per_day": round(fc.rate_per_day, 4),
                "projected": fc.projected,
                "needed_per_day": None
                if fc.needed_per_day is None
                else round(fc.needed_per_day, 2),
                "on_track": fc.on_track,
            }
            for fc in f.forecasts
        ],
    }


__all__ = [
    "DashboardApi",
    "ParticipantDetailApi",
    "ParticipantListApi",
    "ParticipantTransitionsApi",
    "TransitionListApi",
    "VisitListApi",
]
