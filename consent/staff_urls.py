"""Staff pages of version activation and re-consent campaigns (namespace ``consent_staff``)."""

from django.urls import path

from .views import staff as staff_views

app_name = "consent_staff"

urlpatterns = [
    path("consent/activation/", staff_views.activation_list, name="activation_list"),
    path(
        "consent/activation/<int:version_id>/",
        staff_views.activation_preview,
        name="activation_preview",
    ),
    path("consent/campaigns/", staff_views.campaign_list, name="campaign_list"),
    path(
        "consent/campaigns/<int:campaign_id>/",
        staff_views.campaign_detail,
        name="campaign_detail",
    ),
    path(
        "consent/campaigns/<int:campaign_id>/steer/",
        staff_views.campaign_steer,
        name="campaign_steer",
    ),
]
