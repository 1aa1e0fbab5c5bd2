"""Enrollment API under /api/enrollment/ (namespace ``enrollment_api``)."""

from django.urls import path

from . import api

app_name = "enrollment_api"

urlpatterns = [
    path("participants/", api.ParticipantListApi.as_view(), name="participants"),
    path("participants/<str:code>/", api.ParticipantDetailApi.as_view(), name="participant"),
    path(
        "participants/<str:code>/transitions/",
        api.ParticipantTransitionsApi.as_view(),
        name="participant_transitions",
    ),
    path("transitions/", api.TransitionListApi.as_view(), name="transitions"),
    path("visits/", api.VisitListApi.as_view(), name="visits"),
    path("dashboard/", api.DashboardApi.as_view(), name="dashboard"),
]
