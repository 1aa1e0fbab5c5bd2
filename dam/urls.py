from django.urls import path

from . import views

app_name = "dam"

urlpatterns = [
    path("dam/samples/", views.samples, name="samples"),
]
