from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("dashboards/national/", views.national, name="national"),
    path("dashboards/national/<slug:name>.csv", views.national_csv, name="national_csv"),
    path("dashboards/site/", views.site, name="site"),
    path("dashboards/site/<slug:name>.csv", views.site_csv, name="site_csv"),
]
