from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from oauth2_provider.views import TokenView

from . import handover, language, views
from .api_access import SignedInUser

# The admin signs in through allauth: same rate limits, same MFA.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Dam Portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/handover/return/", handover.handover_return, name="handover_return"),
    path("healthz", views.healthz_ready, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    path("metrics", views.metrics, name="metrics"),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    # Machine clients trade their client id and secret for a token here (client credentials).
    path("o/token/", TokenView.as_view(), name="oauth-token"),
    # The API's description is for signed-in people only: it maps every door of the portal.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[SignedInUser]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularRedocView.as_view(url_name="api-schema", permission_classes=[SignedInUser]),
        name="api-docs",
    ),
    path("", include("enrollment.urls")),
    path("", include("consent.urls")),
    path("", include("dam.urls")),
    path("", include("reports.urls")),
]

handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
