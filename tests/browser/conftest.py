"""Browser tests: Debian's Chromium, driven by Playwright for Python, against the live server.

How to write one::

    import pytest
    from tests.browser.helpers import sign_in

    pytestmark = pytest.mark.browser

    def test_coordinator_sees_the_staff_home(page, staff_user_with_totp):
        user = staff_user_with_totp(Role.COORDINATOR)
        sign_in(page, user.email)            # password, then the TOTP code
        page.get_by_role("link", name="...").click()

What the fixtures give you
--------------------------
``page``
    A fresh browser context (own cookies, Korean locale, 1280x800) and page whose relative URLs
    go to pytest-django's ``live_server``: ``page.goto("/accounts/login/")``. Using ``page``
    makes the test transactional (the live server is another thread with its own database
    connection, so test data must be committed to be visible to it; pytest-django arranges that,
    and ``tests/conftest.py`` lets the flush between tests get past the append-only triggers).
``new_page(**context_options)``
    Another instrumented page in its own context, e.g. a phone:
    ``new_page(viewport={"width": 375, "height": 740})``, or a second person.
``live_url``
    The live server's base URL.
``staff_user_with_totp(role, sites=())``
    A staff member with a TOTP authenticator on ``tests.factories.TEST_TOTP_SECRET``.

Checks every browser test gets for free, reported at teardown
-------------------------------------------------------------
* **axe-core on every page the browser was served.** The live server runs in this process, so
  every HTML response it sends to the test's browser is recorded (``harness.HtmlCapture``, keyed
  by a header only the test's browser sends). At teardown each recorded document is replayed at
  its own URL in a separate audit page, with the portal's stylesheet, and axe-core
  (``node_modules/axe-core/axe.min.js``, installed by ``npm ci`` from package-lock.json, loaded
  from that local file) runs on it. The page as the test left it is checked too. Any *serious*
  or *critical* violation fails the test with a list of page, rule, help link and elements.
  ``axe_check(page)`` runs axe on the live page on demand, e.g. after a script changed it.
  Auditing served documents rather than racing the test's own page means a test that clicks on
  before a page has settled still has that page checked.
* **Nothing from elsewhere, nothing broken.** Any request to another origin is blocked and fails
  the test (no CDN, fonts, analytics); any Content-Security-Policy violation or uncaught script
  error fails it too.
* **Screenshots on failure** go to ``var/test-artifacts/<test>.png`` with the page's HTML next to it.

Mail and sign-in helpers are in ``tests/browser/helpers.py`` (``sign_in``, ``totp_code``,
``sent_emails``, ``link_in_email``). Mail: ``tests/conftest.py`` sets the locmem backend, and the
live server thread shares ``django.core.mail.outbox`` with the test, so mail the browser caused is
readable from the test.

Why ``DJANGO_ALLOW_ASYNC_UNSAFE``
---------------------------------
Playwright's sync API runs an asyncio event loop on the test's thread (it switches between it and
the test with greenlets). Django sees that running loop and refuses ORM calls from the test
("SynchronousOnlyOperation"), although the test code is plain synchronous code and never runs
inside the loop. The flag is set only while the browser is up (for the tests in this folder) and
restored afterwards; the live server thread has no event loop and is unaffected.

Mark browser tests with ``@pytest.mark.browser`` (``pytest -m "not browser"`` skips them).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, sync_playwright

from portal.roles import Role
from tests import factories
from tests.browser.harness import (
    CAPTURE_HEADER,
    FAILING_IMPACTS,
    AxeAuditor,
    HtmlCapture,
    PageGuards,
    ServedPage,
    Violation,
    audit_live_page,
    axe_source,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"
_CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    # Keep each phase's report on the item, so fixtures can tell at teardown whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the module docstring
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def _html_capture() -> Iterator[HtmlCapture]:
    capture = HtmlCapture()
    capture.install()
    yield capture
    capture.uninstall()


@pytest.fixture(scope="package")
def _axe_script() -> str:
    return axe_source()


@pytest.fixture(scope="package")
def _axe_auditor(browser: Browser) -> Iterator[AxeAuditor]:
    auditor = AxeAuditor(browser)
    yield auditor
    auditor.close()


@pytest.fixture
def live_url(live_server: Any) -> str:
    return str(live_server.url)


class _BrowserTestRun:
    """Everything one test's browser saw, checked at teardown."""

    def __init__(
        self, browser: Browser, auditor: AxeAuditor, live_url: str, axe_script: str, token: str
    ) -> None:
        self.browser = browser
        self.auditor = auditor
        self.live_url = live_url
        self.axe_script = axe_script
        self.token = token
        self.guards = PageGuards(live_url)
        self.pages: list[Page] = []
        self.extra_violations: list[Violation] = []
        self.served: list[ServedPage] = []

    def open(self, **context_options: Any) -> Page:
        options: dict[str, Any] = {
            "base_url": self.live_url,
            "locale": "ko-KR",
            "timezone_id": "Asia/Seoul",
            "viewport": {"width": 1280, "height": 800},
            "extra_http_headers": {CAPTURE_HEADER: self.token},
            **context_options,
        }
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_init_script(script=self.axe_script)
        self.guards.attach(context)
        page = context.new_page()
        self.guards.watch(page)
        self.pages.append(page)
        return page

    def violations(self) -> list[Violation]:
        found = list(self.extra_violations)
        for page in self.pages:
            if not page.is_closed():
                found += audit_live_page(page)
        seen: set[tuple[str, str, int, str]] = set()
        for doc in self.served:
            # The same page shown twice with the same content is checked once (CSRF tokens
            # differ on every render and do not count).
            key = (doc.method, doc.url, doc.status, _CSRF_TOKEN.sub("", doc.html))
            if key in seen:
                continue
            seen.add(key)
            found += self.auditor.audit_html(doc.url, doc.html, doc.label)
        return [v for v in found if v.impact in FAILING_IMPACTS]

    def save_artifacts(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for index, page in enumerate(self.pages):
            if page.is_closed():
                continue
            stem = name if index == 0 else f"{name}-{index}"
            try:
                page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
                (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                (ARTIFACTS / f"{stem}.txt").write_text(f"no screenshot: {exc}", encoding="utf-8")

    def close(self) -> None:
        for page in self.pages:
            page.context.close()


@pytest.fixture
def _browser_run(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_url: str,
    _html_capture: HtmlCapture,
    _axe_script: str,
    _axe_auditor: AxeAuditor,
) -> Iterator[_BrowserTestRun]:
    token = uuid.uuid4().hex
    run = _BrowserTestRun(browser, _axe_auditor, live_url, _axe_script, token)
    with _html_capture.collecting(token) as served:
        run.served = served
        try:
            yield run
            test_failed = bool(
                getattr(request.node, "rep_call", None) and request.node.rep_call.failed
            )
            if test_failed:
                run.save_artifacts(re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid))
                return
            problems = [v.describe() for v in run.violations()]
            if problems:
                problems.insert(0, "Accessibility violations (serious or critical):")
            guard_problems = run.guards.problems()
            if guard_problems:
                problems += ["Page guards:", *guard_problems]
            if problems:
                run.save_artifacts(re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid))
                pytest.fail("\n".join(problems), pytrace=False)
        finally:
            run.close()


@pytest.fixture
def page(_browser_run: _BrowserTestRun) -> Page:
    return _browser_run.open()


@pytest.fixture
def new_page(_browser_run: _BrowserTestRun) -> Callable[..., Page]:
    return _browser_run.open


@pytest.fixture
def axe_check(_browser_run: _BrowserTestRun) -> Callable[[Page], list[Violation]]:
    """Run axe on the live page now; serious/critical findings also fail the test at teardown."""

    def check(page: Page) -> list[Violation]:
        found = audit_live_page(page)
        _browser_run.extra_violations.extend(found)
        return found

    return check


@pytest.fixture
def staff_user_with_totp(transactional_db: None) -> Callable[..., Any]:
    def make(role: Role, *, sites: Any = (), **kwargs: Any) -> Any:
        return factories.staff_user(role, sites=sites, mfa=True, **kwargs)

    return make
