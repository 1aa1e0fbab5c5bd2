from django.urls import path

from . import custody_views, delivery_views, shipment_views, steward_views, views

app_name = "dam"

urlpatterns = [
    path("dam/samples/", views.samples, name="samples"),
    path("dam/samples/<str:barcode>/", custody_views.sample_detail, name="sample"),
    path("dam/fates/", custody_views.fates_worklist, name="fates"),
    path("dam/me/samples-certificate/", custody_views.fate_certificate, name="fate_certificate"),
    path("dam/shipments/", shipment_views.shipments, name="shipments"),
    path("dam/shipments/<str:code>/", shipment_views.shipment, name="shipment"),
    path(
        "dam/shipments/<str:code>/lines/<int:line_id>/remove/",
        shipment_views.shipment_line_remove,
        name="shipment_line_remove",
    ),
    path(
        "dam/shipments/<str:code>/submit/",
        shipment_views.shipment_submit,
        name="shipment_submit",
    ),
    path("dam/steward/manifests/", steward_views.steward_manifests, name="steward_manifests"),
    path(
        "dam/steward/manifests/<str:code>/",
        steward_views.steward_manifest,
        name="steward_manifest",
    ),
    path(
        "dam/steward/manifests/<str:code>/check/",
        steward_views.steward_manifest_check,
        name="steward_manifest_check",
    ),
    path("dam/steward/reconciliation/", steward_views.reconciliation, name="reconciliation"),
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
    path("dam/delivery/", delivery_views.delivery_status, name="delivery_status"),
    path("dam/dead-letters/", delivery_views.dead_letter_list, name="dead_letters"),
    path(
        "dam/dead-letters/<uuid:message_id>/retry/",
        delivery_views.dead_letter_retry,
        name="dead_letter_retry",
    ),
]
