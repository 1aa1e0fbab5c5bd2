from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "reports"

urlpatterns: list[URLPattern | URLResolver] = [
    path("reports/", views.index, name="index"),
    path("reports/consent-ledger.csv", views.ledger_export, name="ledger_csv"),
    path("reports/audit-trail/", views.audit_trail, name="audit_trail"),
    path("reports/programme/", views.programme, name="programme"),
    path("reports/jobs/<str:token>/", views.job, name="job"),
    path("reports/jobs/<str:token>/download", views.job_download, name="job_download"),
    path("reports/certificates/", views.certificates, name="certificates"),
]
