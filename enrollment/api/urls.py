"""Enrollment API routes, included by ``enrollment.urls`` under ``api/enrollment/`` (names
``enrollment:api_*``)."""

from django.urls import path

from . import views as api

urlpatterns = [
    path("participants/", api.ParticipantListApi.as_view(), name="api_participants"),
    path("participants/<str:code>/", api.ParticipantDetailApi.as_view(), name="api_participant"),
    path(
        "participants/<str:code>/transitions/",
        api.ParticipantTransitionsApi.as_view(),
        name="api_participant_transitions",
    ),
    path("transitions/", api.TransitionListApi.as_view(), name="api_transitions"),
    path("visits/", api.VisitListApi.as_view(), name="api_visits"),
    path("dashboard/", api.DashboardApi.as_view(), name="api_dashboard"),
]
