"""Shared files: receipts go, encrypted, to the S3-compatible store every node reads (moto's server
on loopback), are made and mailed once when a worker and a download race, and are re-issued when never made."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core import mail
from django.db import connection
from moto.server import ThreadedMotoServer

from consent.models import ConsentReceipt
from consent.services import receipts
from consent.services.sealed_files import receipt_read
from tests.consent import signing_builders as ca
from tests.pgbouncer import _free_port

KEYS = {"aws_access_key_id": "portal-test", "aws_secret_access_key": "portal-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(settings: Any, s3_endpoint: str) -> Any:
    name = f"portal-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": KEYS["aws_access_key_id"],
                "secret_key": KEYS["aws_secret_access_key"],
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    return client, name


def objects(s3_bucket: Any) -> list[str]:
    client, name = s3_bucket
    return [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]


@pytest.mark.django_db
def test_a_receipt_is_stored_in_the_object_store_and_read_back(s3_bucket):
    participant = ca.eligible_participant()
    event = ca.sign_all_yes(participant, ca.active_version())
    receipt = receipts.receipt_issue(event_id=event.pk)
    assert receipt is not None
    assert objects(s3_bucket) == [receipt.file.name]
    stored = ConsentReceipt.objects.get(pk=receipt.pk)
    with stored.file.open("rb") as handle:
        assert not handle.read().startswith(b"%PDF-")  # encrypted at rest
    assert receipt_read(receipt=stored).startswith(b"%PDF-")
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_worker_and_a_download_racing_make_and_mail_the_receipt_once(s3_bucket):
    participant = ca.eligible_participant()
    event = ca.sign_all_yes(participant, ca.active_version())
    made = ConsentReceipt.objects.get(event=event)  # the task ran at the commit; undo it
    made.file.delete(save=False)
    made.delete()
    assert objects(s3_bucket) == []
    mail.outbox.clear()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def issue() -> None:
        try:
            start.wait(timeout=10)
            receipts.receipt_issue(event_id=event.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    receipt = ConsentReceipt.objects.get(event=event)
    assert objects(s3_bucket) == [receipt.file.name]  # rendered and stored once: no orphan
    assert len(mail.outbox) == 1
    assert receipt.emailed_at is not None


@pytest.mark.django_db
def test_the_sweep_reissues_receipts_never_made_or_never_mailed(settings, s3_bucket):
    import datetime as dt

    from django.utils import timezone

    version = ca.active_version()
    never_made = ca.sign_all_yes(ca.eligible_participant(), version)
    never_mailed = ca.sign_all_yes(ca.eligible_participant(email="b@example.org"), version)
    done = ca.sign_all_yes(ca.eligible_participant(email="c@example.org"), version)
    for event in (never_made, never_mailed, done):
        receipts.receipt_issue(event_id=event.pk)
    ConsentReceipt.objects.filter(event=never_made).delete()
    ConsentReceipt.objects.filter(event=never_mailed).update(emailed_at=None, mail_claimed_at=None)
    mail.outbox.clear()
    later = timezone.now() + dt.timedelta(minutes=11)
    assert receipts.receipts_reissue_missing(now=later) == sorted([never_made.pk, never_mailed.pk])
    # Eager Celery ran the tasks: both made and mailed now, nothing left for the next sweep.
    assert ConsentReceipt.objects.filter(event=never_made).exclude(file="").exists()
    assert len(mail.outbox) == 2
    assert receipts.receipts_reissue_missing(now=later) == []
