from django.urls import path

from .views import me as views
from .views import oversight as oversight_views
from .views import site as site_views

urlpatterns = [
    path(
        "staff/consent/ledger/",
        oversight_views.ledger_verifications,
        name="consent_ledger_verifications",
    ),
    path("consent/", views.consent_mine, name="consent_mine"),
    path("consent/sign/", views.consent_sign, name="consent_sign"),
    path("consent/change/", views.consent_change, name="consent_change"),
    path("consent/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("consent/receipts/<int:event_id>/", views.consent_receipt, name="consent_receipt"),
    path("site/consent/", site_views.worklist, name="consent_site_worklist"),
    path("site/consent/find/", site_views.participant_find_view, name="consent_site_find"),
    path(
        "site/consent/participants/<str:code>/",
        site_views.participant_consent,
        name="consent_site_participant",
    ),
    path(
        "site/consent/participants/<str:code>/record/<str:mode>/",
        site_views.record_in_person,
        name="consent_site_record",
    ),
    path(
        "site/consent/participants/<str:code>/withdraw/",
        site_views.withdraw_on_behalf,
        name="consent_site_withdraw",
    ),
    path(
        "site/consent/events/<int:event_id>/check/",
        site_views.quality_check,
        name="consent_site_qc",
    ),
    path(
        "site/consent/artifacts/<int:artifact_id>/",
        site_views.artifact_download,
        name="consent_site_artifact",
    ),
]
