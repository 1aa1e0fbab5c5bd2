import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.services import consent_update
from dam.models import Sample
from dam.services import sample_record
from enrollment.models import Site
from enrollment.services.funnel import participant_transition
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.dam.custody_builders import consented, storage_version, withdraw
from tests.enrollment.funnel_helpers import (
    current_direct,
    current_from_aggregates,
    registered,
    sign_in,
    walk,
)
from tests.factories import SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def signed_in(client, site):
    sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    return client


def _record(participant, by, barcode="BDD-000001", **kwargs):
    values = {
        "participant": participant,
        "barcode": barcode,
        "sample_type": "WB_EDTA",
        "collected_at": timezone.now() - dt.timedelta(minutes=10),
        "volume_ml": Decimal("4.5"),
        "by": by,
    }
    values.update(kwargs)
    return sample_record(**values)


def test_first_sample_moves_a_consented_participant_to_sample_collected(site, coordinator):
    participant = consented(site)
    sample = _record(participant, coordinator)
    participant.refresh_from_db()
    assert participant.status == "sample_collected"
    assert sample.site_id == site.pk and sample.recorded_by == coordinator
    last = participant.transitions.last()
    assert (last.from_status, last.to_status, last.actor_id) == (
        "consented",
        "sample_collected",
        coordinator.pk,
    )
    assert current_from_aggregates() == current_direct()


def test_second_sample_is_recorded_without_another_transition(site, coordinator):
    participant = consented(site)
    _record(participant, coordinator, barcode="BDD-000011")
    _record(participant, coordinator, barcode="BDD-000012", sample_type="URINE")
    assert participant.samples.count() == 2
    assert participant.transitions.filter(to_status="sample_collected").count() == 1


def test_participant_who_has_not_consented_is_refused_clearly(site, coordinator):
    participant = walk(registered(site=site), 1)
    with pytest.raises(ValidationError, match="has not consented"):
        _record(participant, coordinator)
    assert not Sample.objects.exists()
    participant.refresh_from_db()
    assert participant.status == "eligible"


def test_withdrawn_participant_is_refused(site, coordinator):
    participant = consented(site)
    participant_transition(participant=participant, to_status="withdrawn", actor=None)
    with pytest.raises(ValidationError, match="withdrawn"):
        _record(participant, coordinator)


@pytest.mark.parametrize("level", ["no_further_contact", "no_further_collection", "no_further_use"])
def test_participant_who_withdrew_at_any_level_is_refused(site, coordinator, level):
    participant = consented(site)
    _record(participant, coordinator, barcode="BDD-000031")
    withdraw(participant, level=level)
    with pytest.raises(ValidationError, match="withdrawn"):
        _record(participant, coordinator, barcode="BDD-000032")
    assert list(Sample.objects.values_list("barcode", flat=True)) == ["BDD-000031"]


def test_participant_who_declined_storage_is_refused_plainly(site, coordinator):
    participant = consented(site, storage=False)
    assert participant.status == "consented"
    with pytest.raises(ValidationError) as refused:
        _record(participant, coordinator)
    assert refused.value.messages == [
        "No sample can be recorded for this participant: "
        "The participant did not agree to sample storage."
    ]
    assert not Sample.objects.exists()
    participant.refresh_from_db()
    assert participant.status == "consented"


def test_consented_status_without_consent_on_record_is_refused(site, coordinator):
    """The enrollment status alone is not enough: consent itself is asked."""
    storage_version()
    participant = walk(registered(site=site), 2)
    assert participant.status == "consented"
    with pytest.raises(ValidationError, match="no consent on record"):
        _record(participant, coordinator)


def test_storage_declined_in_a_later_change_is_refused(site, coordinator):
    participant = consented(site)
    _record(participant, coordinator, barcode="BDD-000041")
    consent_update(
        participant=participant,
        choices={"sample_storage": False},
        by=None,
        confirmed=True,
    )
    with pytest.raises(ValidationError, match="did not agree to sample storage"):
        _record(participant, coordinator, barcode="BDD-000042")


@pytest.mark.parametrize(
    "barcode", ["BC-77", "BDD000123", "BDD-12345", "B-123456", "BDD-0001234567890"]
)
def test_barcode_not_matching_the_pattern_is_refused_with_the_example(site, coordinator, barcode):
    participant = consented(site)
    with pytest.raises(ValidationError) as refused:
        _record(participant, coordinator, barcode=barcode)
    assert refused.value.message_dict["barcode"] == [
        "This is not a barcode of the programme; a tube's barcode looks like BDD-000123."
    ]


def test_barcode_pattern_is_a_setting(site, coordinator, settings):
    settings.SAMPLE_BARCODE_PATTERN = r"^[0-9]{10}$"
    settings.SAMPLE_BARCODE_EXAMPLE = "0123456789"
    participant = consented(site)
    assert _record(participant, coordinator, barcode="0000000042").barcode == "0000000042"
    with pytest.raises(ValidationError, match="looks like 0123456789"):
        _record(participant, coordinator, barcode="BDD-000123")


def test_duplicate_barcode_is_refused(site, coordinator):
    _record(consented(site), coordinator, barcode="bdd-000021")
    with pytest.raises(ValidationError) as refused:
        _record(consented(site), coordinator, barcode=" BDD-000021 ")
    assert "already recorded" in str(refused.value.message_dict["barcode"])
    assert Sample.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("volume_ml", Decimal("0")),
        ("collected_at", timezone.now() + dt.timedelta(days=1)),
        ("sample_type", "SALIVA"),
        ("barcode", "   "),
    ],
)
def test_bad_input_is_refused_per_field(site, coordinator, field, value):
    participant = consented(site)
    with pytest.raises(ValidationError) as refused:
        _record(participant, coordinator, **{field: value})
    assert field in refused.value.message_dict
    assert not Sample.objects.exists()


def test_coordinator_of_another_site_cannot_record(site):
    participant = consented(site)
    other_site: Site = SiteFactory()
    other = staff_user(Role.COORDINATOR, sites=[other_site])
    with pytest.raises(PermissionDenied):
        _record(participant, other)


def test_samples_page_records_and_lists_the_worklist(signed_in, site):
    client = signed_in
    waiting = consented(site)
    elsewhere = consented(SiteFactory())
    page = client.get(reverse("dam:samples"))
    assert page.status_code == 200
    assert waiting.code in page.content.decode()
    assert elsewhere.code not in page.content.decode()

    response = client.post(
        reverse("dam:samples"),
        {
            "participant_code": waiting.code.lower(),
            "barcode": "BDD-000077",
            "sample_type": "SERUM",
            "collected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "volume_ml": "3.0",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Sample.objects.get(barcode="BDD-000077").participant == waiting
    waiting.refresh_from_db()
    assert waiting.status == "sample_collected"


def test_samples_page_says_clearly_when_the_code_is_not_at_your_sites(signed_in):
    client = signed_in
    elsewhere = consented(SiteFactory())
    response = client.post(
        reverse("dam:samples"),
        {
            "participant_code": elsewhere.code,
            "barcode": "BDD-000078",
            "sample_type": "SERUM",
            "collected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "volume_ml": "3.0",
        },
    )
    assert response.status_code == 200
    assert "No participant with this code" in response.content.decode()
    assert not Sample.objects.exists()


def test_samples_page_shows_not_consented_message(signed_in, site):
    client = signed_in
    participant = walk(registered(site=site), 1)
    response = client.post(
        reverse("dam:samples"),
        {
            "participant_code": participant.code,
            "barcode": "BDD-000079",
            "sample_type": "SERUM",
            "collected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "volume_ml": "3.0",
        },
    )
    assert "has not consented" in response.content.decode()


def test_samples_page_is_not_for_managers(client):
    manager = sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    assert client.get(reverse("dam:samples")).status_code == 404
    assert_access_denied(actor=manager, object_type="view", object_id="samples", reason="role")
