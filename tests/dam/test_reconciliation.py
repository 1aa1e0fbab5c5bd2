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
