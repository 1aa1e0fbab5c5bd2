"""Consent API URLs, mounted under /api/consent/ by ``consent/urls.py`` (names ``consent:api_*``)."""

from django.urls import path

from . import views as api

urlpatterns = [
    path("me/", api.MyConsentApi.as_view(), name="api_me"),
    path("me/history/", api.MyHistoryApi.as_view(), name="api_me_history"),
    path("me/receipts/", api.MyReceiptsApi.as_view(), name="api_me_receipts"),
    path(
        "me/receipts/<int:receipt_id>/download/",
        api.MyReceiptDownloadApi.as_view(),
        name="api_me_receipt_download",
    ),
    path("me/fhir/", api.MyFhirApi.as_view(), name="api_me_fhir"),
    path("versions/active/", api.ActiveVersionsApi.as_view(), name="api_active_versions"),
    path("purposes/", api.PurposesApi.as_view(), name="api_purposes"),
    path("participants/", api.StaffStatesApi.as_view(), name="api_states"),
    path("participants/<str:code>/", api.StaffStateApi.as_view(), name="api_state"),
    path("participants/<str:code>/history/", api.StaffHistoryApi.as_view(), name="api_history"),
    path("participants/<str:code>/fhir/", api.StaffFhirApi.as_view(), name="api_fhir"),
    path("checks/", api.ConsentCheckApi.as_view(), name="api_checks"),
]
