"""REST API of consent: a participant's own consent, staff views scoped to their sites, active
versions, purposes, the bulk consent check, and FHIR. HTTP in, one service or selector call, out.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.validators import slug_re
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollment.models import Participant
from portal.machine_clients import CONSENT_CHECK
from portal.models import User
from portal.roles import (
    HasRole,
    Role,
    deny,
    get_scoped_or_404,
    scope_queryset,
    site_ids_for,
)

from ..hooks import IdentifierRefused, identifiers_resolve
from ..models import (
    ConsentEvent,
    ConsentItem,
    ConsentReceipt,
    ConsentState,
    ConsentVersion,
    Purpose,
)
from ..selectors.checks import consent_allows_bulk
from ..selectors.fhir import active_items_for, consent_resource
from ..services.reads import consent_read_record
from ..services.sealed_files import receipt_read
from .serializers import (
    ActiveVersionSerializer,
    CheckInput,
    CheckOutput,
    EventSerializer,
    FhirConsent,
    PurposeSerializer,
    ReceiptSerializer,
    StateSerializer,
)

STAFF = (
    Role.COORDINATOR,
    Role.PROGRAMME_MANAGER,
    Role.ETHICS_REVIEWER,
    Role.DATA_STEWARD,
    Role.ADMIN,
)
CHECKERS = (Role.DATA_STEWARD, Role.PROGRAMME_MANAGER, Role.COORDINATOR, Role.ADMIN)


# --- helpers ------------------------------------------------------------------------------------


class FhirJsonRenderer(JSONRenderer):
    """Lets FHIR clients ask for ``Accept: application/fhir+json`` (else DRF answers 406)."""

    media_type = "application/fhir+json"
    format = "fhir"


# Plain JSON first: error answers stay application/json as documented, unless FHIR is asked for.
FHIR_RENDERERS = [JSONRenderer, FhirJsonRenderer]


class HistoryPagination(CursorPagination):
    ordering = "-sequence"
    page_size = 50


class StatePagination(CursorPagination):
    ordering = "participant_id"
    page_size = 100


def _own_participant(request: Request) -> Participant:
    user = request.user
    participant = (
        Participant.objects.filter(user_id=user.pk).first() if user.is_authenticated else None
    )
    if participant is None:
        raise Http404
    return participant


def _scoped_participant(request: Request, code: str, *, what: str) -> Participant:
    """The participant of the caller's sites (404 otherwise); the staff read is audited."""
    participant = get_scoped_or_404(request.user, Participant.objects.all(), code=code)
    consent_read_record(by=_actor(request), participant=participant, what=what)
    return participant


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _states() -> QuerySet[ConsentState]:
    return ConsentState.objects.select_related("participant", "version__form")


def _events() -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.select_related("version__form", "receipt")


def _fhir_for(participant: Participant) -> dict[str, Any]:
    state = (
        _states()
        .select_related("last_event")
        .prefetch_related("version__items")
        .filter(participant=participant)
        .first()
    )
    if state is None:
        raise Http404
    return consent_resource(state, active_items=active_items_for(state))


# --- the participant's own consent --------------------------------------------------------------


@extend_schema(tags=["my consent"], responses=StateSerializer)
class MyConsentApi(APIView):
    """The signed-in participant's current consent."""

    def get(self, request: Request) -> Response:
        participant = _own_participant(request)
        state = _states().filter(participant=participant).first()
        if state is None:
            raise Http404
        return Response(StateSerializer(state).data)


@extend_schema(tags=["my consent"])
class MyHistoryApi(generics.ListAPIView[ConsentEvent]):
    """Every event of the signed-in participant's consent ledger, newest first."""

    serializer_class = EventSerializer
    pagination_class = HistoryPagination

    def get_queryset(self) -> QuerySet[ConsentEvent]:
        return _events().filter(participant=_own_participant(self.request))


@extend_schema(tags=["my consent"])
class MyReceiptsApi(generics.ListAPIView[ConsentReceipt]):
    """The signed-in participant's receipts, with download links."""

    serializer_class = ReceiptSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ConsentReceipt]:
        return (
            ConsentReceipt.objects.filter(event__participant=_own_participant(self.request))
            .select_related("event")
            .order_by("-event__sequence")
        )


@extend_schema(tags=["my consent"], responses={(200, "application/pdf"): OpenApiTypes.BINARY})
class MyReceiptDownloadApi(APIView):
    """One receipt PDF of the signed-in participant."""

    def get(self, request: Request, receipt_id: int) -> FileResponse:
        participant = _own_participant(request)
        receipt = (
            ConsentReceipt.objects.filter(pk=receipt_id, event__participant=participant)
            .select_related("event")
            .first()
        )
        if receipt is None:
            # Someone else's receipt, or none: the same audited 404 either way.
            raise deny(
                request.user,
                object_type="consent.consentreceipt",
                object_id=receipt_id,
                reason="not own",
            )
        return FileResponse(
            io.BytesIO(receipt_read(receipt=receipt)),
            as_attachment=True,
            filename=f"consent-receipt-{receipt.event.verification_code}.pdf",
            content_type="application/pdf",
        )


@extend_schema(tags=["my consent"], responses={(200, "application/fhir+json"): FhirConsent})
class MyFhirApi(APIView):
    """The signed-in participant's current consent as a FHIR R4 Consent resource."""

    renderer_classes = FHIR_RENDERERS

    def get(self, request: Request) -> Response:
        return Response(_fhir_for(_own_participant(request)), content_type="application/fhir+json")


# --- reference data -----------------------------------------------------------------------------


@extend_schema(tags=["consent versions"])
class ActiveVersionsApi(generics.ListAPIView[ConsentVersion]):
    """The consent versions in force, per form and language, with their items."""

    serializer_class = ActiveVersionSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ConsentVersion]:
        return (
            ConsentVersion.objects.filter(status=ConsentVersion.Status.ACTIVE)
            .select_related("form")
            .prefetch_related(Prefetch("items", ConsentItem.objects.order_by("order", "id")))
            .order_by("form__code", "language")
        )


@extend_schema(tags=["consent checks"])
class PurposesApi(generics.ListAPIView[Purpose]):
    """Purposes of use and the consent items each needs."""

    serializer_class = PurposeSerializer
    pagination_class = None
    queryset = Purpose.objects.filter(is_active=True).order_by("code")


# --- staff views, scoped to their sites ---------------------------------------------------------


@extend_schema(
    tags=["consent (staff)"],
    parameters=[
        OpenApiParameter("status", str, enum=list(ConsentState.Status.values)),
        OpenApiParameter("site", str, description="Site code", pattern="^[-a-zA-Z0-9_]+$"),
    ],
)
class StaffStatesApi(generics.ListAPIView[ConsentState]):
    """Current consent of the participants of the caller's sites (all sites for national roles)."""

    serializer_class = StateSerializer
    pagination_class = StatePagination
    permission_classes = [HasRole.of(*STAFF)]

    def get_queryset(self) -> QuerySet[ConsentState]:
        states = scope_queryset(self.request.user, _states())
        status = self.request.query_params.get("status")
        if status is not None:
            # Present means one of the statuses: an empty ?status= is an error, not "any".
            if status not in ConsentState.Status.values:
                raise serializers.ValidationError({"status": f"Unknown status {status!r}."})
            states = states.filter(status=status)
        site = self.request.query_params.get("site")
        if site is not None:
            if not slug_re.match(site):  # a site code, as documented (an empty one too)
                raise serializers.ValidationError(
                    {"site": [serializers.SlugField.default_error_messages["invalid"]]}
                )
            states = states.filter(participant__site__code=site)
        return states

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        results = response.data.get("results", []) if isinstance(response.data, dict) else []
        consent_read_record(by=_actor(request), what="states", count=len(results))
        return response


@extend_schema(tags=["consent (staff)"], responses=StateSerializer)
class StaffStateApi(APIView):
    permission_classes = [HasRole.of(*STAFF)]

    def get(self, request: Request, code: str) -> Response:
        participant = _scoped_participant(request, code, what="state")
        state = _states().filter(participant=participant).first()
        if state is None:
            raise Http404
        return Response(StateSerializer(state).data)


@extend_schema(tags=["consent (staff)"])
class StaffHistoryApi(generics.ListAPIView[ConsentEvent]):
    serializer_class = EventSerializer
    pagination_class = HistoryPagination
    permission_classes = [HasRole.of(*STAFF)]

    def get_queryset(self) -> QuerySet[ConsentEvent]:
        participant = _scoped_participant(self.request, self.kwargs["code"], what="history")
        return _events().filter(participant=participant)


@extend_schema(tags=["consent (staff)"], responses={(200, "application/fhir+json"): FhirConsent})
class StaffFhirApi(APIView):
    permission_classes = [HasRole.of(*STAFF)]
    renderer_classes = FHIR_RENDERERS

    def get(self, request: Request, code: str) -> Response:
        participant = _scoped_participant(request, code, what="fhir")
        return Response(_fhir_for(participant), content_type="application/fhir+json")


# --- the consent check --------------------------------------------------------------------------


@extend_schema(tags=["consent checks"], request=CheckInput, responses=CheckOutput)
class ConsentCheckApi(APIView):
    """May these participants' data be used for this purpose (now, or as of ``at``)?

    Up to 10,000 participant codes per call; dam subject pseudonyms are accepted as well (a
    mistyped one is answered with its own error, caught by the check character). Codes outside
    the caller's sites answer "unknown participant", exactly like codes that do not exist.
    """

    # Other systems (the dam, the analysis platform) ask too, as machine clients of this scope.
    permission_classes = [HasRole.of(*CHECKERS, client_scope=CONSENT_CHECK)]
    # JSON only: 10,000 codes as form fields would pass Django's limit on the number of fields.
    parser_classes = [JSONParser]

    def post(self, request: Request) -> Response:
        data = CheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        purpose: Purpose = data.validated_data["purpose"]
        at = data.validated_data.get("at")
        identifiers: list[str] = data.validated_data["participants"]
        # Participant codes, and whatever other apps resolve (the dam's subject pseudonyms).
        resolved = identifiers_resolve(identifiers)
        codes = [code for code in resolved.values() if isinstance(code, str)]
        decisions = consent_allows_bulk(
            codes=codes, purpose=purpose, at=at, site_ids=site_ids_for(request.user)
        )
        consent_read_record(
            by=_actor(request), what="check", count=len(decisions), purpose=purpose.code
        )
        results = []
        allowed = 0
        for identifier in dict.fromkeys(identifiers):
            target = resolved[identifier]
            if isinstance(target, IdentifierRefused):
                results.append(
                    {
                        "participant": identifier,
                        "allowed": False,
                        "reason": target.reason,
                        "code": target.code,
                    }
                )
                continue
            decision = decisions[target]
            allowed += decision.allowed
            results.append({"participant": identifier, **decision.as_dict()})
        return Response(
            {
                "purpose": purpose.code,
                "at": at,
                "allowed": allowed,
                "refused": len(results) - allowed,
                "results": results,
            }
        )
