"""Reconciliation against the strict loopback dam: subjects, samples received, an unreachable dam."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from dam.models import ReconciliationRun
from dam.services.delivery import outbox_deliver
from dam.services.manifests import manifest_create, manifest_sample_add, manifest_submit
from dam.services.pseudonyms import pseudonym_of
from dam.services.reconciliation import DamUnreachable, reconciliation_run
from dam.tasks import dam_reconcile_daily
from portal.roles import Role
from tests.dam.custody_builders import consented, tube, withdraw
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _ship(site, coordinator, samples, *, hours_ago: float = 0):
    manifest = manifest_create(site=site, by=coordinator)
    for sample in samples:
        manifest_sample_add(manifest=manifest, barcode=sample.barcode, by=coordinator)
    return manifest_submit(
        manifest=manifest,
        by=coordinator,
        shipped_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


def _findings(run):
    return sorted(
        (f.kind, f.subject, f.barcode, f.expected, f.reported) for f in run.findings.all()
    )


def test_everything_delivered_and_received_matches(site, coordinator, dam_receiver):
    participant = consented(site)
    sample = tube(participant, coordinator)
    manifest = _ship(site, coordinator, [sample], hours_ago=40)
    assert outbox_deliver().error is None
    dam_receiver.receive(manifest.code, [sample.barcode])
    run = reconciliation_run()
    assert (run.outcome, run.subjects_checked, run.manifests_checked) == ("matched", 1, 1)
    line = manifest.lines.get()
    assert (line.dam_status, line.dam_received_at is not None) == ("received", True)
    # A fully received manifest is not asked about again.
    assert reconciliation_run().manifests_checked == 0


def test_sample_not_received_36_hours_after_shipping_is_listed(site, coordinator, dam_receiver):
    participant = consented(site)
    arrived, lost, recent = (tube(participant, coordinator) for _ in range(3))
    old = _ship(site, coordinator, [arrived, lost], hours_ago=37)
    _ship(site, coordinator, [recent], hours_ago=35)
    outbox_deliver()
    dam_receiver.receive(old.code, [arrived.barcode])
    run = reconciliation_run()
    assert run.outcome == "differences"
    assert _findings(run) == [("sample_not_received", "", lost.barcode, "received", "missing")]
    assert {line.sample.barcode: line.dam_status for line in old.lines.all()} == {
        arrived.barcode: "received",
        lost.barcode: "missing",
    }


def test_manifest_the_dam_never_got_is_listed_after_36_hours(site, coordinator, dam_receiver):
    sample = tube(consented(site), coordinator)
    manifest = _ship(site, coordinator, [sample], hours_ago=48)
    # Delivered subjects only; the manifest message is refused for good by the dam.
    message = manifest.outbox_message
    dam_receiver.reject(str(message.pk), error="invalid", detail="told to")
    outbox_deliver()
    run = reconciliation_run()
    assert ("sample_not_received", "", sample.barcode, "received", "unknown manifest") in _findings(
        run
    )


def test_subjects_whose_sequence_or_status_differ_are_listed(site, coordinator, dam_receiver):
    steady, behind, withdrawn, unknown = (consented(site) for _ in range(4))
    withdraw(withdrawn)
    outbox_deliver()
    codes = {p: pseudonym_of(participant=p) for p in (steady, behind, withdrawn, unknown)}
    # The dam "loses" things: a message of one subject, a withdrawal, a whole subject.
    dam_receiver.subjects[codes[behind]].sequence = 1
    dam_receiver.subjects[codes[withdrawn]].status = "active"
    del dam_receiver.subjects[codes[unknown]]
    run = reconciliation_run()
    assert run.subjects_checked == 4
    assert _findings(run) == sorted(
        [
            ("sequence", codes[behind], "", "2", "1"),
            ("status", codes[withdrawn], "", "withdrawn", "active"),
            ("subject_unknown", codes[unknown], "", "2", "404"),
        ]
    )


def test_unreachable_dam_is_recorded_and_the_command_exits_non_zero(
    site, coordinator, dam_receiver
):
    consented(site)
    outbox_deliver()
    dam_receiver.stop()
    with pytest.raises(CommandError) as failed:
        call_command("dam_reconcile", stdout=io.StringIO())
    assert failed.value.returncode == 1
    assert "could not be reached" in str(failed.value)
    run = ReconciliationRun.objects.get()
    assert run.outcome == "unreachable" and run.error


def test_directory_transport_cannot_reconcile_and_says_so(site, settings):
    settings.DAM_TRANSPORT = "directory"
    consented(site)
    outbox_deliver()
    with pytest.raises(DamUnreachable) as failed:
        reconciliation_run()
    assert failed.value.run.outcome == "unreachable"


def test_command_prints_differences_and_exits_zero(site, coordinator, dam_receiver):
    participant = consented(site)
    outbox_deliver()
    del dam_receiver.subjects[pseudonym_of(participant=participant)]
    out = io.StringIO()
    call_command("dam_reconcile", stdout=out)
    assert "checked 1 subject(s) and 0 manifest(s): 1 difference(s)" in out.getvalue()
    assert "subject_unknown" in out.getvalue()


def test_daily_task_records_a_run(site, dam_receiver):
    consented(site)
    outbox_deliver()
    dam_reconcile_daily.delay()
    assert ReconciliationRun.objects.get().outcome == "matched"


def test_steward_page_lists_the_latest_findings(client, site, coordinator, dam_receiver):
    participant = consented(site)
    sample = tube(participant, coordinator)
    _ship(site, coordinator, [sample], hours_ago=40)
    outbox_deliver()
    reconciliation_run()
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    page = client.get(reverse("dam:reconciliation")).content.decode()
    assert "Sample not received in time" in page
    assert sample.barcode in page
    assert participant.code not in page


def test_subjects_are_reconciled_a_page_at_a_time(site, dam_receiver, monkeypatch, settings):
    from dam.services import reconciliation

    monkeypatch.setattr(reconciliation, "SUBJECT_PAGE", 2)
    settings.DAM_READ_CONNECTIONS = 3
    subjects = [consented(site) for _ in range(5)]
    outbox_deliver()
    lost = pseudonym_of(participant=subjects[3])
    del dam_receiver.subjects[lost]
    run = reconciliation_run()
    assert run.subjects_checked == 5
    assert _findings(run) == [("subject_unknown", lost, "", "2", "404")]
    asked = [path for method, path, _s, _t in dam_receiver.requests if method == "GET"]
    assert sorted(asked) == sorted(
        f"/ingest/v1/subjects/{pseudonym_of(participant=p)}" for p in subjects
    )


def test_concurrent_reads_answer_in_order_over_several_connections(site, dam_receiver):
    from dam.transports import HttpTransport

    subjects = [consented(site) for _ in range(6)]
    outbox_deliver()
    codes = [pseudonym_of(participant=p) for p in subjects]
    del dam_receiver.subjects[codes[2]]
    transport = HttpTransport(
        url=dam_receiver.url,
        key_id=dam_receiver.key_id,
        secret=dam_receiver.secret,
        read_connections=3,
    )
    try:
        answers = transport.subjects_read(codes)
        assert [a and a["subject"] for a in answers] == [
            None if i == 2 else code for i, code in enumerate(codes)
        ]
        # The pool is kept: a second page reuses the same (kept-alive) connections.
        transport.subjects_read(codes)
        assert 1 < len(transport._reader_transports) <= 3
    finally:
        transport.close()
    assert transport._reader_transports == []


def test_concurrent_reads_raise_when_the_dam_is_unreachable(site, dam_receiver):
    from dam.transports import HttpTransport, TransportError

    transport = HttpTransport(
        url=dam_receiver.url, key_id="portal-test", secret="wrong", read_connections=4
    )
    try:
        with pytest.raises(TransportError) as failed:
            transport.subjects_read(["A", "B", "C"])
        assert failed.value.code == "http_401"
    finally:
        transport.close()


# --- the steward's "check this manifest now" --------------------------------------------------


def test_steward_checks_one_manifest_now_and_the_check_is_audited(
    client, site, coordinator, dam_receiver
):
    from portal.models import AuditEvent

    participant = consented(site)
    arrived, lost = tube(participant, coordinator), tube(participant, coordinator)
    manifest = _ship(site, coordinator, [arrived, lost], hours_ago=2)
    outbox_deliver()
    dam_receiver.receive(manifest.code, [arrived.barcode])
    steward = sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    response = client.post(reverse("dam:steward_manifest_check", args=[manifest.code]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The dam reports 1 tube(s) received, 1 missing and 0 not listed." in page
    assert {line.sample.barcode: line.dam_status for line in manifest.lines.all()} == {
        arrived.barcode: "received",
        lost.barcode: "missing",
    }
    manifest.refresh_from_db()
    assert manifest.dam_checked_at is not None
    event = AuditEvent.objects.get(action="manifest.checked")
    assert (event.actor, event.object_id, event.outcome) == (steward, str(manifest.pk), "ok")
    assert event.details == {"known": True, "received": 1, "missing": 1, "not_listed": 0}
    # A manifest check is not a reconciliation run: the daily run's findings stay the latest.
    assert not ReconciliationRun.objects.exists()


def test_manifest_check_says_so_when_the_dam_does_not_know_the_manifest(
    client, site, coordinator, dam_receiver
):
    manifest = _ship(site, coordinator, [tube(consented(site), coordinator)])
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    response = client.post(reverse("dam:steward_manifest_check", args=[manifest.code]), follow=True)
    assert "The dam does not know this manifest yet." in response.content.decode()


def test_manifest_check_with_the_dam_unreachable_is_a_message_not_an_error(
    client, site, coordinator, dam_receiver
):
    from portal.models import AuditEvent

    manifest = _ship(site, coordinator, [tube(consented(site), coordinator)])
    dam_receiver.stop()
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    response = client.post(reverse("dam:steward_manifest_check", args=[manifest.code]), follow=True)
    assert response.status_code == 200
    assert "The dam could not be asked just now." in response.content.decode()
    event = AuditEvent.objects.get(action="manifest.checked")
    assert (event.outcome, event.details) == ("failed", {"error": "unreachable"})
    manifest.refresh_from_db()
    assert manifest.dam_checked_at is None


def test_manifest_check_is_a_post_for_stewards_only(client, site, coordinator, dam_receiver):
    from portal.models import AuditEvent

    manifest = _ship(site, coordinator, [tube(consented(site), coordinator)])
    url = reverse("dam:steward_manifest_check", args=[manifest.code])
    other = sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    assert client.post(url).status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", actor=other).exists()
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    assert client.get(url).status_code == 405
    assert not dam_receiver.requests


def test_manifest_check_is_refused_for_a_draft(client, site, coordinator, dam_receiver):
    from dam.services.manifests import manifest_create

    draft = manifest_create(site=site, by=coordinator)
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    page = client.get(reverse("dam:steward_manifest", args=[draft.code])).content.decode()
    assert reverse("dam:steward_manifest_check", args=[draft.code]) not in page
    response = client.post(reverse("dam:steward_manifest_check", args=[draft.code]), follow=True)
    assert "Only a submitted manifest can be checked with the dam." in response.content.decode()
    assert not dam_receiver.requests
