"""Consent API under /api/consent/ (namespace ``consent_api``)."""

from django.urls import path

from . import views as api

app_name = "consent_api"

urlpatterns = [
    path("me/", api.MyConsentApi.as_view(), name="me"),
    path("me/history/", api.MyHistoryApi.as_view(), name="me_history"),
    path("me/receipts/", api.MyReceiptsApi.as_view(), name="me_receipts"),
    path(
        "me/receipts/<int:receipt_id>/download/",
        api.MyReceiptDownloadApi.as_view(),
        name="me_receipt_download",
    ),
    path("me/fhir/", api.MyFhirApi.as_view(), name="me_fhir"),
    path("versions/active/", api.ActiveVersionsApi.as_view(), name="active_versions"),
    path("purposes/", api.PurposesApi.as_view(), name="purposes"),
    path("participants/", api.StaffStatesApi.as_view(), name="states"),
    path("participants/<str:code>/", api.StaffStateApi.as_view(), name="state"),
    path("participants/<str:code>/history/", api.StaffHistoryApi.as_view(), name="history"),
    path("participants/<str:code>/fhir/", api.StaffFhirApi.as_view(), name="fhir"),
    path("checks/", api.ConsentCheckApi.as_view(), name="checks"),
]
