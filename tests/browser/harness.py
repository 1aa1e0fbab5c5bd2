"""Machinery behind the browser fixtures: HTML capture, the axe-core audit, and page guards.

Read ``tests/browser/conftest.py`` first; it explains how the pieces are used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from playwright.sync_api import Browser, BrowserContext, Page, Route

AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# Requests from the instrumented browser carry this header, so that only pages the browser was
# actually served are audited (not the Django test client's requests in the same process).
CAPTURE_HEADER = "X-Portal-Browser-Test"
FAILING_IMPACTS = ("serious", "critical")

# axe runs every rule except experimental ones; only serious and critical findings fail a test.
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations'], preload: false});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200)})),
  }));
}"""

# Installed in every page of the test's browser: report Content-Security-Policy violations (an
# inline script or style the policy blocks would otherwise fail silently in production too).
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  if (window.__portalCspViolation) {
    window.__portalCspViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline'));
  }
});
"""


def axe_source() -> str:
    if not AXE_PATH.exists():
        raise RuntimeError(
            f"{AXE_PATH} is missing: run `npm ci --prefix tests/browser` (make test does it)"
        )
    return AXE_PATH.read_text(encoding="utf-8")


@dataclass(frozen=True)
class ServedPage:
    """One HTML document the live server sent to the test's browser."""

    method: str
    url: str
    status: int
    html: str

    @property
    def label(self) -> str:
        return f"{self.method} {urlsplit(self.url).path} ({self.status})"


@dataclass
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    help_url: str
    nodes: list[dict[str, str]]

    def describe(self) -> str:
        lines = [
            f"  {self.page}: [{self.impact}] {self.rule}: {self.help}",
            f"      {self.help_url}",
        ]
        lines += [f"      at {n['target']}: {n['html']}" for n in self.nodes]
        return "\n".join(lines)


class HtmlCapture:
    """Records every HTML response the live server sends to the instrumented browser.

    The live server runs in a thread of this process, so wrapping ``BaseHandler.get_response``
    sees its responses. Each test gets its own ``token``; requests carrying it in
    ``CAPTURE_HEADER`` are recorded.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, list[ServedPage]] = {}
        self._original: Callable[..., HttpResponseBase] | None = None

    def install(self) -> None:
        original = BaseHandler.get_response
        self._original = original
        capture = self

        def get_response(handler: BaseHandler, request: HttpRequest) -> HttpResponseBase:
            response = original(handler, request)
            token = request.headers.get(CAPTURE_HEADER)
            if token:
                capture.record(token, request, response)
            return response

        BaseHandler.get_response = get_response

    def uninstall(self) -> None:
        if self._original is not None:
            BaseHandler.get_response = self._original
            self._original = None

    def record(self, token: str, request: HttpRequest, response: HttpResponseBase) -> None:
        content_type = response.get("Content-Type", "")
        if not content_type.startswith("text/html") or getattr(response, "streaming", False):
            return
        if 300 <= response.status_code < 400:
            return
        html = response.content.decode(response.charset or "utf-8", "replace")
        page = ServedPage(
            request.method or "GET", request.build_absolute_uri(), response.status_code, html
        )
        with self._lock:
            if token in self._pages:
                self._pages[token].append(page)

    @contextmanager
    def collecting(self, token: str) -> Iterator[list[ServedPage]]:
        with self._lock:
            self._pages[token] = []
        try:
            yield self._pages[token]
        finally:
            with self._lock:
                self._pages.pop(token, None)


class AxeAuditor:
    """Runs axe-core on HTML documents, in a separate page that has nothing else to do.

    A served document is replayed at its own URL (so its stylesheet loads from the live server and
    colour contrast is measured for real), then axe runs on it. Auditing the documents as served,
    rather than racing the test's own page, means a test that clicks on before a page settles still
    has that page checked.
    """

    def __init__(self, browser: Browser) -> None:
        self._context = browser.new_context()
        self._context.add_init_script(script=axe_source())
        self._page = self._context.new_page()
        self._page.set_default_timeout(15_000)
        self._replay: dict[str, str] = {}
        self._context.route("**/*", self._serve)

    def _serve(self, route: Route) -> None:
        request = route.request
        html = self._replay.get(request.url)
        if html is not None and request.is_navigation_request():
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.continue_()

    def audit_html(self, url: str, html: str, label: str) -> list[Violation]:
        self._replay = {url: html}
        try:
            self._page.goto(url, wait_until="load")
            found = self._page.evaluate(_AXE_RUN)
        finally:
            self._replay = {}
        return [_violation(label, v) for v in found]

    def close(self) -> None:
        self._context.close()


def audit_live_page(page: Page) -> list[Violation]:
    """axe on the page as it is now (after scripts and typing), if it is a portal page."""
    if not page.url.startswith("http") or page.is_closed():
        return []
    if not page.evaluate(
        "() => typeof axe !== 'undefined' && document.contentType === 'text/html'"
    ):
        return []
    found = page.evaluate(_AXE_RUN)
    return [_violation(f"{urlsplit(page.url).path} (as left by the test)", v) for v in found]


def _violation(label: str, raw: dict[str, Any]) -> Violation:
    return Violation(
        page=label,
        rule=raw["id"],
        impact=raw.get("impact") or "unknown",
        help=raw["help"],
        help_url=raw["helpUrl"],
        nodes=raw["nodes"],
    )


@dataclass
class PageGuards:
    """What the test's browser saw that must fail the test: outside requests, CSP blocks, and
    uncaught script errors."""

    live_origin: str
    external_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        live_host = urlsplit(self.live_origin).netloc

        def route(route: Route) -> None:
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in {"http", "https", "ws", "wss"} and parts.netloc != live_host:
                # No page may load anything from elsewhere (fonts, scripts, images, analytics).
                self.external_requests.append(url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", route)
        context.expose_function("__portalCspViolation", self._csp_violation)
        context.add_init_script(script=_CSP_LISTENER)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))

    def _csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def problems(self) -> list[str]:
        found = [f"  request to another origin (blocked): {u}" for u in self.external_requests]
        found += [f"  Content-Security-Policy: {v}" for v in self.csp_violations]
        found += [f"  uncaught script error on {e}" for e in self.script_errors]
        return found
