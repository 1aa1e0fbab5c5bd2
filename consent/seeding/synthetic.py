"""What synthetic consent histories look like (used by ``consent.seeding.ledgers``).

The synthetic form has a v1 from January 2024 and a v2, adding ``overseas_transfer``, from July 2025.
Each consented participant's story: a grant on the version in force; nearly all change an optional
item later, many twice or three times; most who consented on v1 re-consent on v2 within a few
months (the rest stay "re-consent due"); those the funnel withdrew withdraw, at a level.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any, cast

from django.db import transaction

from ..models import ConsentForm, ConsentVersion, EventKind
from ..selectors.activation import older_versions_needing_reconsent
from ..services.activation import version_activate

FORM_CODE = "synthetic-main"
V1_FROM = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
V2_FROM = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)

# How often an optional item is answered "yes" (the rest: "no").
YES_RATE = {
    "genomic_analysis": 0.86,
    "ehr_linkage": 0.8,
    "recontact": 0.74,
    "return_of_results": 0.66,
    "commercial_use": 0.41,
    "overseas_transfer": 0.38,
}
ITEMS_V1 = [
    ("data_sharing", True, ["DUO:0000042"]),
    ("sample_storage", True, ["DUO:0000042"]),
    ("retention_period", True, []),
    ("withdrawal_handling", True, []),
    ("third_party_provision", True, []),
    ("genomic_analysis", False, ["DUO:0000016"]),
    ("ehr_linkage", False, []),
    ("recontact", False, []),
    ("return_of_results", False, []),
    ("commercial_use", False, ["DUO:0000018"]),
]
ITEMS_V2 = [*ITEMS_V1, ("overseas_transfer", False, [])]


@dataclass(frozen=True)
class Version:
    id: int
    sha256: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    old: Version | None
    active: Version
    active_from: dt.datetime
    now: dt.datetime
    seed: int


# --- versions -------------------------------------------------------------------------------------


def version_info(version: ConsentVersion) -> Version:
    items = list(version.items.all())
    return Version(
        id=version.pk,
        sha256=version.text_sha256,
        required=tuple(i.code for i in items if i.required),
        optional=tuple(i.code for i in items if not i.required),
    )


def synthetic_form_create() -> None:
    from ..services.versions import ItemSpec, version_approve, version_create

    form = ConsentForm.objects.create(code=FORM_CODE, title="Synthetic main consent", kind="main")
    for label, items, active_from in (("v1", ITEMS_V1, V1_FROM), ("v2", ITEMS_V2, V2_FROM)):
        version = version_create(
            form=form,
            label=label,
            language="ko",
            title=f"Synthetic main consent {label}",
            body_markdown=f"Synthetic consent text, version {label}.",
            items=[
                ItemSpec(code, code.replace("_", " "), f"Do you agree to {code}?", req, duo)
                for code, req, duo in items
            ],
            irb_approval_number=f"SYN-{label}",
            irb_approved_on=(active_from - dt.timedelta(days=30)).date(),
            by=None,
        )
        version = version_approve(version=version, by=None)
        from portal.models import User

        version_activate(version=version, by=cast(User, None), at=active_from)


def plan_for(now: dt.datetime, seed: int) -> Plan:
    """The synthetic form's versions (created on first use)."""
    if not ConsentForm.objects.filter(code=FORM_CODE).exists():
        with transaction.atomic():
            synthetic_form_create()
    active = (
        ConsentVersion.objects.prefetch_related("items")
        .filter(form__code=FORM_CODE, language="ko", status=ConsentVersion.Status.ACTIVE)
        .get()
    )
    older = older_versions_needing_reconsent(active)
    old = (
        ConsentVersion.objects.prefetch_related("items")
        .filter(pk__in=list(older))
        .order_by("-activated_at")
        .first()
    )
    return Plan(
        old=version_info(old) if old else None,
        active=version_info(active),
        active_from=active.activated_at or V2_FROM,
        now=now,
        seed=seed,
    )


# --- generating one participant's ledger ----------------------------------------------------------


def _choices(rng: random.Random, version: Version, keep: dict[str, bool] | None = None) -> dict:
    choices = {code: True for code in version.required}
    for code in version.optional:
        if keep is not None and code in keep:
            choices[code] = keep[code]
        else:
            choices[code] = rng.random() < YES_RATE.get(code, 0.7)
    return choices


def story_for(
    rng: random.Random,
    plan: Plan,
    consented_at: dt.datetime,
    withdrawn_at: dt.datetime | None,
) -> list[dict[str, Any]]:
    """The events (without hashes) of one participant, in order."""
    end = withdrawn_at or plan.now
    on_old = plan.old is not None and consented_at < plan.active_from
    version = plan.old if on_old and plan.old is not None else plan.active
    choices = _choices(rng, version)
    events = [{"kind": EventKind.GRANT, "version": version, "choices": choices, "at": consented_at}]
    at = consented_at
    for chance in (0.95, 0.75, 0.45):
        if rng.random() >= chance:
            break
        candidate = at + dt.timedelta(days=rng.uniform(2, 120))
        if candidate >= end or (on_old and candidate >= plan.active_from):
            break  # (a change after v2 came into force happens through re-consent instead)
        at = candidate
        choices = dict(choices)
        flip = rng.choice(version.optional)
        choices[flip] = not choices[flip]
        events.append({"kind": EventKind.UPDATE, "version": version, "choices": choices, "at": at})
    if on_old and rng.random() < 0.65:
        candidate = max(at, plan.active_from) + dt.timedelta(days=rng.expovariate(1 / 45) + 0.1)
        if candidate < end:
            at = candidate
            choices = _choices(rng, plan.active, keep=choices)
            events.append(
                {"kind": EventKind.RECONSENT, "version": plan.active, "choices": choices, "at": at}
            )
            version = plan.active
    if withdrawn_at is not None and withdrawn_at > at:
        roll = rng.random()
        level = (
            "no_further_contact"
            if roll < 0.3
            else ("no_further_collection" if roll < 0.6 else "no_further_use")
        )
        fate = "" if level != "no_further_use" else rng.choice(["destroy", "retain_anonymized"])
        events.append(
            {
                "kind": EventKind.WITHDRAW,
                "version": version,
                "choices": choices,
                "at": withdrawn_at,
                "level": level,
                "fate": fate,
            }
        )
    return events


def channel_pick(rng: random.Random) -> tuple[str, str, float]:
    """Channel, method, and how late it is recorded (hours)."""
    roll = rng.random()
    if roll < 0.7:
        return "web", "typed_name", 0.0
    if roll < 0.9:
        return "site_tablet", "drawn", 0.0
    return "scanned_paper", "paper", rng.uniform(4, 24 * 6)
