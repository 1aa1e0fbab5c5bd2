"""The history says what each entry changed: which items went from yes to no and back, in the
order the ledger is folded, with the items' titles in the page's language."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from consent.selectors.history import history_with_changes
from consent.services import ItemSpec, consent_update
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import sign_data

pytestmark = pytest.mark.django_db


def _change(participant, **choices):
    return consent_update(
        participant=participant, choices=choices, by=participant.user, confirmed=True
    )


def test_each_entry_lists_the_items_it_changed(client, version, signed_in_participant):
    client.post(reverse("consent:sign"), sign_data(version))
    _change(signed_in_participant, genomic_analysis=False, recontact=False)
    _change(signed_in_participant, genomic_analysis=True)

    history = history_with_changes(signed_in_participant)
    back, away, grant = history  # newest first
    assert grant.kind == "grant" and grant.changes == []
    assert {(c.code, c.before, c.after) for c in away.changes} == {
        ("genomic_analysis", True, False),
        ("recontact", True, False),
    }
    assert [(c.code, c.before, c.after) for c in back.changes] == [
        ("genomic_analysis", False, True)
    ]
    page = client.get(reverse("consent:mine")).content.decode()
    assert "유전체 분석: 예 → 아니요" in page
    assert "유전체 분석: 아니요 → 예" in page
    assert "재연락: 예 → 아니요" in page


def test_item_titles_follow_the_page_language(client, version, signed_in_participant):
    ca.active_version(
        language="en",
        items=[
            ItemSpec(code, title, f"{title}.", required)
            for code, title, required in [
                ("data_sharing", "Data sharing", True),
                ("sample_storage", "Sample storage", True),
                ("genomic_analysis", "Genomic analysis", False),
                ("recontact", "Recontact", False),
            ]
        ],
    )
    client.post(reverse("consent:sign"), sign_data(version))
    _change(signed_in_participant, genomic_analysis=False)
    with translation.override("en"):
        changed = history_with_changes(signed_in_participant)[0].changes
    assert [c.title for c in changed] == ["Genomic analysis"]
    with translation.override("ko"):
        changed = history_with_changes(signed_in_participant)[0].changes
    assert [c.title for c in changed] == ["유전체 분석"]
