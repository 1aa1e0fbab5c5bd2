"""Helpers for browser tests: signing in (with TOTP), and reading the mail the portal sent."""

from __future__ import annotations

import re
import time

import pyotp
from django.core import mail
from django.core.mail import EmailMessage
from playwright.sync_api import Page

from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET

# ASCII URL characters only: Korean text may follow a link without a space.
_URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+")
# allauth refuses a TOTP code that was already used, for its whole period; remember what we sent.
_last_code_sent: dict[str, str] = {}


def totp_code(secret: str = TEST_TOTP_SECRET) -> str:
    """The current code an authenticator app on ``secret`` would show."""
    return pyotp.TOTP(secret).now()


def fresh_totp_code(key: str, secret: str = TEST_TOTP_SECRET) -> str:
    """A code not yet sent for ``key`` (waits for the next 30-second period if needed)."""
    code = totp_code(secret)
    if _last_code_sent.get(key) == code:
        time.sleep(30 - time.time() % 30 + 0.5)
        code = totp_code(secret)
    _last_code_sent[key] = code
    return code


def sign_in(
    page: Page,
    email: str,
    password: str = DEFAULT_PASSWORD,
    *,
    totp_secret: str = TEST_TOTP_SECRET,
    next_path: str = "",
) -> None:
    """Sign in through the real form; answer the two-factor step when the portal asks for it."""
    page.goto("/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("input[name=password]").press("Enter")
    if "/accounts/2fa/authenticate/" in page.url:
        enter_totp(page, email, totp_secret=totp_secret)


def enter_totp(page: Page, key: str, *, totp_secret: str = TEST_TOTP_SECRET) -> None:
    code = page.locator("input[name=code]")
    code.fill(fresh_totp_code(key, totp_secret))
    with page.expect_navigation():
        code.press("Enter")


def sent_emails(to: str | None = None) -> list[EmailMessage]:
    """Mail sent so far in this test (by the test or by the live server), optionally to one address."""
    outbox: list[EmailMessage] = getattr(mail, "outbox", [])
    return [m for m in outbox if to is None or to in m.to]


def link_in_email(message: EmailMessage, contains: str = "") -> str:
    """The first link in the message's text that contains ``contains``."""
    for url in _URL_RE.findall(str(message.body)):
        if contains in url:
            return url
    raise AssertionError(f"no link containing {contains!r} in: {message.body}")


def wait_for_email(to: str, *, timeout: float = 5.0) -> EmailMessage:
    """The latest mail to ``to``; the live server may still be sending it when the page returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sent_emails(to)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {to} within {timeout}s")
