from django.urls import path

from . import views

app_name = "programmes"

urlpatterns = [
    path("programmes/", views.index, name="index"),
    path("programmes/new/", views.programme_edit, name="programme_new"),
    path("programmes/<int:pk>/edit/", views.programme_edit, name="programme_edit"),
    path("programmes/<int:programme_pk>/phases/new/", views.phase_edit, name="phase_new"),
    path("programmes/phases/<int:pk>/edit/", views.phase_edit, name="phase_edit"),
    path("programmes/phases/<int:pk>/targets/", views.phase_targets, name="phase_targets"),
    path("programmes/sites/new/", views.site_edit, name="site_new"),
    path("programmes/sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("programmes/cohorts/new/", views.cohort_edit, name="cohort_new"),
    path("programmes/cohorts/<int:pk>/edit/", views.cohort_edit, name="cohort_edit"),
]
