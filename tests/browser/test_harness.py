"""The harness itself: it audits what the browser was served, and it catches what it should."""

from __future__ import annotations

import pytest
from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

pytestmark = pytest.mark.browser

_INACCESSIBLE = (
    '<!doctype html><html lang="en"><head><title>Bad page</title></head>'
    '<body><main><h1>Bad page</h1><img src="/static/portal/none.png">'
    '<form><input type="text" name="q"></form></main></body></html>'
)


def _inaccessible_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_INACCESSIBLE)


_EXTERNAL = (
    '<!doctype html><html lang="en"><head><title>x</title>'
    '<link rel="stylesheet" href="https://cdn.example.com/x.css"></head>'
    "<body><main><h1>x</h1></main></body></html>"
)


def _external_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_EXTERNAL)


@csp_exempt()
def _external_page_without_csp(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_EXTERNAL)


urlpatterns = [
    path("harness/inaccessible/", _inaccessible_page),
    path("harness/external/", _external_page),
    path("harness/external-no-csp/", _external_page_without_csp),
    path("", include("portal.urls")),
]


@pytest.fixture
def harness_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_pages_served_to_the_browser_are_recorded_and_pass(page, _browser_run):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert [doc.label for doc in _browser_run.served] == ["GET / (200)"]
    assert _browser_run.violations() == []


def test_axe_finds_serious_violations_on_a_served_page(page, _browser_run, harness_urls):
    page.goto("/harness/inaccessible/")
    page.goto("/")  # navigating on at once: the first page is still audited
    rules = {v.rule for v in _browser_run.violations()}
    assert {"image-alt", "label"} <= rules
    _browser_run.served.clear()  # the violations were the point; let teardown pass


def test_content_security_policy_blocks_other_origins_and_is_reported(
    page, _browser_run, harness_urls
):
    page.goto("/harness/external/")
    page.wait_for_function("() => document.readyState === 'complete'")
    assert any("cdn.example.com" in v for v in _browser_run.guards.csp_violations)
    _browser_run.guards.csp_violations.clear()


def test_requests_to_other_origins_are_blocked_even_without_a_policy(
    page, _browser_run, harness_urls
):
    page.goto("/harness/external-no-csp/")
    assert _browser_run.guards.external_requests == ["https://cdn.example.com/x.css"]
    _browser_run.guards.external_requests.clear()


def test_uncaught_script_errors_are_reported(page, _browser_run):
    page.goto("/")
    page.evaluate("() => setTimeout(() => { throw new Error('broken script') }, 0)")
    page.wait_for_timeout(200)
    assert any("broken script" in e for e in _browser_run.guards.script_errors)
    _browser_run.guards.script_errors.clear()
