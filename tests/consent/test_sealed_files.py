"""Files of consent events are encrypted at rest with the vault's keys, served only through the
scoped views, re-sealed by rotate_pii_key and checked by verify_consent_ledger."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from consent.models import ConsentArtifact, ConsentEvent, ConsentReceipt
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import reauthenticate, sign_data, tiny_png

pytestmark = pytest.mark.django_db

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()


def _raw(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        content: bytes = handle.read()
    return content


def _key_id() -> str:
    return str(settings.PII_KEYS).split(",")[0].split(":")[0].strip()


def _signed_on_the_web(client, version, django_capture_on_commit_callbacks) -> ConsentEvent:
    reauthenticate(client)
    drawn = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("consent:sign"), sign_data(version, drawn_signature=drawn))
    assert response.status_code == 302
    return ConsentEvent.objects.get()


@pytest.fixture
def paper_version():
    return ca.active_version(effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def _paper_consent_for(client, coordinator, participant, version, pdf: bytes) -> ConsentEvent:
    client.force_login(coordinator)
    data = {f"item_{code}": "yes" for code in ca.all_yes(version)}
    data.update({"confirm": "on", "signed_on": "2026-01-20T10:30"})
    data["paper_form"] = SimpleUploadedFile("form.pdf", pdf)
    url = reverse("consent:site_record", args=[participant.code, "paper"])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ConsentEvent.objects.get(participant=participant)


def _paper_consent(client, site_team, version, pdf: bytes, **who) -> ConsentEvent:
    participant = ca.eligible_participant(site=site_team[0], **who)
    return _paper_consent_for(client, site_team[1], participant, version, pdf)


def test_signature_and_receipt_are_stored_sealed_and_served_plain(
    client, version, signed_in_participant, django_capture_on_commit_callbacks
):
    event = _signed_on_the_web(client, version, django_capture_on_commit_callbacks)
    artifact = ConsentArtifact.objects.get(event=event)
    receipt = ConsentReceipt.objects.get(event=event)
    signature_raw, receipt_raw = _raw(artifact.file.name), _raw(receipt.file.name)
    # On disk: the key id, then ciphertext; neither the PNG nor the PDF.
    for raw in (signature_raw, receipt_raw):
        assert raw.startswith(_key_id().encode() + b":")
        assert b"PNG" not in raw[:64] and b"%PDF" not in raw
    assert tiny_png() not in signature_raw
    assert hashlib.sha256(signature_raw).hexdigest() != event.signature_sha256
    # The participant's download and the mail carry the plain PDF, whose hash the row keeps.
    response = client.get(reverse("consent:receipt", args=[event.pk]))
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == receipt.sha256
    attachment = mail.outbox[0].attachments[0]
    assert attachment[1] == pdf
    # The storage is under no public URL.
    for name in (artifact.file.name, receipt.file.name):
        assert client.get(f"{settings.MEDIA_URL}{name}").status_code == 404


def test_a_scanned_form_is_sealed_and_the_coordinator_view_opens_it(
    client, site_team, paper_version
):
    pdf = b"%PDF-1.4\n% scanned form of a participant\n"
    event = _paper_consent(client, site_team, paper_version, pdf)
    artifact = ConsentArtifact.objects.get(event=event)
    raw = _raw(artifact.file.name)
    assert raw.startswith(_key_id().encode() + b":") and b"scanned form" not in raw
    response = client.get(reverse("consent:site_artifact", args=[artifact.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf


def test_a_sealed_file_copied_onto_another_event_does_not_open(client, site_team, paper_version):
    event = _paper_consent(client, site_team, paper_version, b"%PDF-1.4\n% first\n")
    artifact = ConsentArtifact.objects.get(event=event)
    other = _paper_consent(
        client,
        site_team,
        paper_version,
        b"%PDF-1.4\n% second\n",
        phone="010-2222-3333",
        email="other@example.org",
    )
    other_artifact = ConsentArtifact.objects.get(event=other)
    # Someone with access to the storage swaps the first file for the second one.
    Path(default_storage.path(artifact.file.name)).write_bytes(_raw(other_artifact.file.name))
    with pytest.raises(SystemExit):
        call_command("verify_consent_ledger", stdout=_Out())
    assert f"event {event.pk} " in _Out.text and "does not open" in _Out.text
    assert f"event {other.pk} " not in _Out.text


class _Out:
    """Collects what a command writes (class-level, so a test can read it after a SystemExit)."""

    text = ""

    def __init__(self) -> None:
        _Out.text = ""

    def write(self, message: str) -> None:
        _Out.text += message + "\n"

    def flush(self) -> None:
        pass


def test_verify_names_the_event_whose_file_differs_or_is_missing(
    client, site_team, paper_version, django_capture_on_commit_callbacks
):
    from consent.services.sealed_files import receipt_label
    from enrollment.vault import bytes_seal

    with django_capture_on_commit_callbacks(execute=True):
        signed = _paper_consent(client, site_team, paper_version, b"%PDF-1.4\n% kept\n")
    call_command("verify_consent_ledger", stdout=_Out())
    assert "every stored file matches" in _Out.text
    # A receipt replaced by another document sealed properly: it opens, but its hash differs.
    receipt = ConsentReceipt.objects.get(event=signed)
    forged = bytes_seal(data=b"%PDF-1.4\n% forged\n", label=receipt_label(event_id=signed.pk))
    Path(default_storage.path(receipt.file.name)).write_bytes(forged)
    paper = _paper_consent(
        client, site_team, paper_version, b"%PDF-1.4\n% lost\n", email="p@example.org"
    )
    default_storage.delete(ConsentArtifact.objects.get(event=paper).file.name)
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_consent_ledger", stdout=_Out())
    assert exit_.value.code == 1
    lines = _Out.text.splitlines()
    assert any(f"event {signed.pk} " in line and "receipt does not match" in line for line in lines)
    assert any(
        f"event {paper.pk} " in line and "paper_form file is missing" in line for line in lines
    )
    assert not any(f"event {signed.pk} " in line and "paper_form" in line for line in lines)


def test_rotate_pii_key_reseals_every_file_and_seals_files_stored_plain(
    client, site_team, paper_version, settings
):
    # The team's two-factor secrets were sealed under the test key: it stays listed until rotated.
    team_keys = settings.PII_KEYS
    settings.PII_KEYS = f"old:{OLD_KEY},{team_keys}"
    pdf = b"%PDF-1.4\n% sealed under the old key\n"
    event = _paper_consent(client, site_team, paper_version, pdf)
    artifact = ConsentArtifact.objects.get(event=event)
    assert _raw(artifact.file.name).startswith(b"old:")
    # A file stored before files were encrypted: plain on disk.
    legacy_pdf = b"%PDF-1.4\n% legacy\n"
    legacy = _paper_consent(
        client, site_team, paper_version, legacy_pdf, phone="010-4444-5555", email="l@example.org"
    )
    legacy_artifact = ConsentArtifact.objects.get(event=legacy)
    Path(default_storage.path(legacy_artifact.file.name)).write_bytes(legacy_pdf)
    files_before = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())

    settings.PII_KEYS = f"new:{NEW_KEY},old:{OLD_KEY},{team_keys}"
    call_command("rotate_pii_key", batch_size=1, stdout=_Out())
    assert "2 files re-encrypted" in _Out.text

    settings.PII_KEYS = f"new:{NEW_KEY}"  # the old key dropped: everything opens with the new one
    for stored, content in ((artifact, pdf), (legacy_artifact, legacy_pdf)):
        assert _raw(stored.file.name).startswith(b"new:")
        response = client.get(reverse("consent:site_artifact", args=[stored.pk]))
        assert b"".join(response.streaming_content) == content
    # Same names, no copies left behind.
    files_after = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    assert files_after == files_before
    call_command("verify_consent_ledger", stdout=_Out())
    assert "every stored file matches" in _Out.text


def test_every_consent_file_is_written_through_sealed_files() -> None:
    """Every consent file write goes through sealed_files (the one module the storage merge
    touches): no other module of the app saves a ContentFile."""
    root = Path(__file__).resolve().parents[2] / "consent"
    writers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "ContentFile(" in path.read_text() and path.name != "sealed_files.py"
    ]
    assert writers == []


def test_a_recorded_verification_run_names_the_event_whose_file_is_missing(
    client, site_team, paper_version
):
    from consent.models import LedgerVerification
    from consent.services.verification import ledger_verification_run

    def verified() -> LedgerVerification:
        created = LedgerVerification.objects.create()
        return ledger_verification_run(verification_id=created.pk)

    event = _paper_consent(client, site_team, paper_version, b"%PDF-1.4\n% checked\n")
    assert verified().ok
    default_storage.delete(ConsentArtifact.objects.get(event=event).file.name)
    run = verified()
    assert not run.ok and run.broken_chains == 0
    assert [(f["event"], f["problem"]) for f in run.findings] == [
        (event.pk, "stored paper_form file is missing")
    ]
