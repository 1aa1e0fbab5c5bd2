"""Builders for the volunteer journeys in the browser: an account linked to an eligible
participant, and moving through a page with the keyboard alone."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from playwright.sync_api import Page

from enrollment.models import Participant
from portal.models import User
from portal.roles import Role, grant_role
from tests.consent import signing_builders as ca
from tests.factories import UserFactory

PHONE = {"width": 375, "height": 740}


def volunteer(email: str = "haneul@example.org", **overrides: Any) -> tuple[User, Participant]:
    """A verified participant account linked to an eligible participant (name ``ca.NAME``)."""
    user = UserFactory(email=email)
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    grant_role(user, Role.PARTICIPANT)
    participant = ca.eligible_participant(email=email, **overrides)
    participant.user = user
    participant.save(update_fields=["user"])
    return user, participant


def _tab_until(page: Page, check: str, arg: str, *, limit: int, missing: str) -> None:
    """Press Tab (as a person moving through the page by keyboard does) until the JavaScript
    ``check`` holds for the focused element; fails with ``missing`` after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check, arg):
            return
    raise AssertionError(missing)


def tab_to(page: Page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the focused element matches ``selector``."""
    _tab_until(
        page,
        "s => document.activeElement?.matches(s) ?? false",
        selector,
        limit=limit,
        missing=f"{selector} was not reached with the Tab key",
    )


def tab_to_link(page: Page, name: str, *, limit: int = 120) -> None:
    """Press Tab until the focus is on the link that reads ``name``."""
    _tab_until(
        page,
        "n => { const e = document.activeElement;"
        " return e?.tagName === 'A' && e.innerText.trim() === n; }",
        name,
        limit=limit,
        missing=f"no link {name!r} was reached with the Tab key",
    )


def focus_is_visible(page: Page) -> None:
    """The focused element is shown inside the window with a focus ring a sighted keyboard user
    can see."""
    focused = page.locator(":focus")
    assert focused.count() == 1 and focused.is_visible()
    box = focused.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], "focus off screen"
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], "focus off screen"
    ring = focused.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring[0] != "none" and float(ring[1].removesuffix("px")) >= 2, f"no focus ring: {ring}"


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement?.id ?? ''"))
