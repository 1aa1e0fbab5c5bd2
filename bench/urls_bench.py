"""The portal's URLs plus the trivial view the consent benchmark compares against."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal.urls import handler403, handler404, handler500  # noqa: F401 (same error pages)
from portal.urls import urlpatterns as portal_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok" if request.user.is_authenticated else "anonymous")


urlpatterns = [path("bench/trivial", trivial), *portal_urlpatterns]
