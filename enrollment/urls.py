"""Every enrollment route, one namespace (``enrollment:``); the API's routes come from
``enrollment.api.urls`` under ``api/enrollment/`` with names prefixed ``api_``."""

from django.urls import include, path

from .views import closures, dashboards, me, pages, programmes, sites

app_name = "enrollment"

urlpatterns = [
    # The participant's own pages.
    path("me/", me.me, name="me"),
    path("me/register/", me.register, name="me_register"),
    path("me/profile/", me.profile_edit, name="me_profile"),
    path("me/screening/", me.screening, name="me_screening"),
    path("me/visit/", me.visit, name="me_visit"),
    path("me/visit/cancel/", me.visit_cancel_view, name="me_visit_cancel"),
    path("me/visit/calendar.ics", me.visit_calendar_download, name="me_visit_calendar"),
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
    path("sites/closures/", closures.closures, name="site_closures"),
    path(
        "sites/closures/<int:closure_id>/remove/",
        closures.closure_remove,
        name="site_closure_remove",
    ),
    path(
        "sites/duplicates/<int:flag_id>/resolve/",
        sites.duplicate_resolve,
        name="site_duplicate_resolve",
    ),
    path(
        "sites/duplicates/cross-site/",
        sites.duplicates_cross_site,
        name="duplicates_cross_site",
    ),
    # Dashboards (national for programme managers, per site for coordinators).
    path("dashboards/national/", dashboards.national, name="dashboard_national"),
    path(
        "dashboards/national/<slug:name>.csv",
        dashboards.national_csv,
        name="dashboard_national_csv",
    ),
    path("dashboards/site/", dashboards.site, name="dashboard_site"),
    path("dashboards/site/<slug:name>.csv", dashboards.site_csv, name="dashboard_site_csv"),
    # Programmes, phases, targets, sites and cohorts (programme managers).
    path("programmes/", programmes.index, name="programmes"),
    path("programmes/new/", programmes.programme_edit, name="programme_new"),
    path("programmes/<int:pk>/edit/", programmes.programme_edit, name="programme_edit"),
    path("programmes/<int:programme_pk>/phases/new/", programmes.phase_edit, name="phase_new"),
    path("programmes/phases/<int:pk>/edit/", programmes.phase_edit, name="phase_edit"),
    path("programmes/phases/<int:pk>/targets/", programmes.phase_targets, name="phase_targets"),
    path("programmes/sites/new/", programmes.site_edit, name="programme_site_new"),
    path("programmes/sites/<int:pk>/edit/", programmes.site_edit, name="programme_site_edit"),
    path("programmes/cohorts/new/", programmes.cohort_edit, name="cohort_new"),
    path("programmes/cohorts/<int:pk>/edit/", programmes.cohort_edit, name="cohort_edit"),
    # The public information pages, and their editing by programme managers.
    path("info/<slug:topic>/", pages.information_page, name="information"),
    path("programmes/information/", pages.information_manage, name="information_manage"),
    path(
        "programmes/information/<slug:topic>/",
        pages.information_edit,
        name="information_edit",
    ),
    # The REST API.
    path("api/enrollment/", include("enrollment.api.urls")),
]
