from django.urls import path

from .web import me, sites

app_name = "enrollment"

urlpatterns = [
    # The participant's own pages.
    path("me/", me.me, name="me"),
    path("me/register/", me.register, name="me_register"),
    path("me/profile/", me.profile_edit, name="me_profile"),
    path("me/screening/", me.screening, name="me_screening"),
    path("me/visit/", me.visit, name="me_visit"),
    path("me/visit/cancel/", me.visit_cancel_view, name="me_visit_cancel"),
    path("me/claim/", me.claim, name="me_claim"),
    # Coordinators: participants are named by their code, never by personal data.
    path("sites/worklist/", sites.worklist, name="site_worklist"),
    path("sites/find/", sites.find, name="site_find"),
    path("sites/enroll/", sites.enroll, name="site_enroll"),
    path("sites/import/", sites.import_referrals, name="site_import"),
    path("sites/participants/<str:code>/", sites.participant_detail, name="site_participant"),
    path(
        "sites/participants/<str:code>/screening/",
        sites.participant_screening,
        name="site_participant_screening",
    ),
    path(
        "sites/participants/<str:code>/invitation/",
        sites.invitation_new,
        name="site_invitation_new",
    ),
    path("sites/visits/<int:visit_id>/outcome/", sites.visit_outcome, name="site_visit_outcome"),
    path(
        "sites/duplicates/<int:flag_id>/resolve/",
        sites.duplicate_resolve,
        name="site_duplicate_resolve",
    ),
]
