from django.urls import path

from . import delivery_views, views

app_name = "dam"

urlpatterns = [
    path("dam/samples/", views.samples, name="samples"),
    path("dam/delivery/", delivery_views.delivery_status, name="delivery_status"),
    path("dam/dead-letters/", delivery_views.dead_letter_list, name="dead_letters"),
    path(
        "dam/dead-letters/<uuid:message_id>/retry/",
        delivery_views.dead_letter_retry,
        name="dead_letter_retry",
    ),
]
