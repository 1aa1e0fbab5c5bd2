"""Every consent URL, in one namespace (``consent:``): the participant's pages, the coordinators'
pages, version activation and campaigns, ledger oversight, and the API under ``/api/consent/``."""

from django.urls import include, path

from .views import handover, me, oversight, site, staff

app_name = "consent"

urlpatterns = [
    # The participant's own consent.
    path("consent/", me.consent_mine, name="mine"),
    path("consent/sign/", me.consent_sign, name="sign"),
    path("consent/change/", me.consent_change, name="change"),
    path("consent/withdraw/", me.consent_withdraw_view, name="withdraw"),
    path("consent/receipts/<int:event_id>/", me.consent_receipt, name="receipt"),
    # Coordinators at their sites.
    path("site/consent/", site.worklist, name="site_worklist"),
    path("site/consent/find/", site.participant_find_view, name="site_find"),
    path(
        "site/consent/participants/<str:code>/",
        site.participant_consent,
        name="site_participant",
    ),
    path(
        "site/consent/participants/<str:code>/record/<str:mode>/",
        site.record_in_person,
        name="site_record",
    ),
    path(
        "site/consent/participants/<str:code>/handover/<str:mode>/",
        handover.handover_check,
        name="site_handover",
    ),
    path(
        "site/consent/participants/<str:code>/withdraw/",
        site.withdraw_on_behalf,
        name="site_withdraw",
    ),
    path("site/consent/events/<int:event_id>/check/", site.quality_check, name="site_qc"),
    path(
        "site/consent/artifacts/<int:artifact_id>/",
        site.artifact_download,
        name="site_artifact",
    ),
    # Version activation and re-consent campaigns.
    path("consent/activation/", staff.activation_list, name="activation_list"),
    path(
        "consent/activation/<int:version_id>/",
        staff.activation_preview,
        name="activation_preview",
    ),
    path("consent/campaigns/", staff.campaign_list, name="campaign_list"),
    path("consent/campaigns/<int:campaign_id>/", staff.campaign_detail, name="campaign_detail"),
    path(
        "consent/campaigns/<int:campaign_id>/steer/",
        staff.campaign_steer,
        name="campaign_steer",
    ),
    # Oversight.
    path("staff/consent/ledger/", oversight.ledger_verifications, name="ledger_verifications"),
    # The API (names start with ``api_``).
    path("api/consent/", include("consent.api.urls")),
]
