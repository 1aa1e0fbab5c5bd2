"""A person's first minutes: register, verify the e-mail, sign in, choose a language; staff MFA."""

from __future__ import annotations

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator

from portal.audit import Action
from portal.models import AuditEvent, User
from portal.roles import Role
from tests import factories
from tests.browser.helpers import link_in_email, sign_in, wait_for_email

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-long-and-unusual-passphrase-77"


def test_volunteer_registers_verifies_the_email_and_signs_in(page):
    page.goto("/accounts/signup/")
    page.get_by_label("이메일").fill("new.volunteer@example.org")
    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/accounts/confirm-email/" in page.url
    user = User.objects.get(email="new.volunteer@example.org")
    assert not EmailAddress.objects.get(user=user).verified

    # Confirming the address from the mail signs the person in, and what greets them names them
    # by their e-mail address, never by an internal number.
    message = wait_for_email("new.volunteer@example.org")
    page.goto(link_in_email(message, "/accounts/confirm-email/"))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert EmailAddress.objects.get(user=user).verified
    assert page.get_by_role("button", name="로그아웃").is_visible()
    messages = page.locator("main .messages").inner_text()
    assert "new.volunteer@example.org" in messages
    assert "#" not in messages
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=user).exists()

    # Signing out and in again works with the password chosen at registration.
    with page.expect_navigation():
        page.get_by_role("button", name="로그아웃").click()
    sign_in(page, "new.volunteer@example.org", NEW_PASSWORD)
    assert page.locator("form[action='/accounts/logout/']").is_visible()


def test_language_switch_persists_across_pages_and_is_saved_for_the_account(page, new_page):
    user = factories.UserFactory(email="reader@example.org")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ko"
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "en"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["portal_language"] == "en"

    sign_in(page, user.email)
    assert page.locator("html").get_attribute("lang") == "en"
    user.refresh_from_db()
    assert user.preferred_language == "en"

    # Another device, no cookie yet: Korean until the account's choice applies at sign-in.
    other = new_page()
    other.goto("/")
    assert other.locator("html").get_attribute("lang") == "ko"
    sign_in(other, user.email)
    assert other.locator("html").get_attribute("lang") == "en"
    with other.expect_navigation():
        other.get_by_role("button", name="한국어").click()
    assert other.locator("html").get_attribute("lang") == "ko"
    user.refresh_from_db()
    assert user.preferred_language == "ko"


def test_staff_member_without_mfa_must_set_it_up_and_gets_recovery_codes(page):
    user = factories.staff_user(Role.COORDINATOR, sites=[factories.SiteFactory()])  # type: ignore[list-item]
    sign_in(page, user.email)
    assert page.url.endswith("/accounts/2fa/totp/activate/")

    page.goto("/staff/")  # any staff page sends them back
    assert page.url.endswith("/accounts/2fa/totp/activate/")

    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("인증 코드").fill(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="활성화").click()
    assert "/accounts/2fa/recovery-codes/" in page.url
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) == 10
    # Said in Korean as codes left, not (as the library's catalogue has it) accounts.
    assert page.get_by_text("복구 코드 10개 중 10개가 남아 있습니다.").is_visible()
    # The page says what the codes are for, and how to go on.
    assert "6자리 코드 대신" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="코드를 보관했습니다: 계속").click()
    page.wait_for_url("**/staff/")
    assert page.get_by_role("heading", name="내 업무").is_visible()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(action=Action.MFA_ACTIVATED, actor=user).exists()


def test_admin_signs_in_to_the_django_admin_through_allauth_with_totp(page):
    admin = factories.staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    page.goto("/admin/")
    assert "/accounts/login/" in page.url  # the admin's own login form is never shown
    sign_in(page, admin.email, next_path="/admin/")
    assert page.url.endswith("/admin/")
    assert page.locator("#site-name").is_visible()
