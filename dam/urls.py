from django.urls import path

from . import custody_views, steward_views, views

app_name = "dam"

urlpatterns = [
    path("dam/samples/", views.samples, name="samples"),
    path("dam/samples/<str:barcode>/", custody_views.sample_detail, name="sample"),
    path("dam/fates/", custody_views.fates_worklist, name="fates"),
    path("dam/me/samples-certificate/", custody_views.fate_certificate, name="fate_certificate"),
    path(
        "dam/steward/reidentification/",
        steward_views.reidentifications,
        name="reidentifications",
    ),
    path(
        "dam/steward/reidentification/<int:request_id>/decision/",
        steward_views.reidentification_decision,
        name="reidentification_decision",
    ),
    path(
        "dam/steward/reidentification/<int:request_id>/reveal/",
        steward_views.reidentification_reveal_view,
        name="reidentification_reveal",
    ),
]
