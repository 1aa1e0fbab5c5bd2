"""Dam delivery benchmark; the figures go to the "Dam delivery" section of bench/results.md.

N subjects, each with the two messages a first consent writes (``subject.registered`` and a
``consent.updated`` carrying a real FHIR R4 Consent), are delivered to the strict loopback dam
(``tests/dam/receiver.py``, in a process of its own, keeping only ids and sequences):

* portal: ``outbox_deliver`` (claims with ``FOR UPDATE SKIP LOCKED``, per-subject ordering,
  signing, HTTP, recording every answer), in ``BENCH_DAM_WORKERS`` processes at once (default 1),
  each with ``DAM_DELIVERY_SENDERS`` sender threads (2 unless set);
* bare loop: the same messages, prepared beforehand as batches of 1,000 (spooled to a temporary
  file), signed and posted one after the other to a fresh receiver over one kept-alive
  connection, nothing recorded;
* reconciliation: ``reconciliation_run`` against the dam that now holds everything, subjects
  read a page at a time over ``BENCH_DAM_READ_CONNECTIONS`` connections (default 8).

The data set is written with COPY (``portal.db.copy_rows``), 20,000 subjects per transaction.

Targets: >= 2,000 messages/s, and >= 50% of the bare loop's rate. Run::

    make bench-dam                      # BENCH_PARTICIPANTS subjects (default 1,000,000)
    BENCH_PARTICIPANTS=50000 make bench-dam

It (re)creates the database ``portal_bench_dam`` (or ``DATABASE_URL``'s) on every run.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

RESULTS = ROOT / "bench" / "results.md"
SUBJECTS = int(os.environ.get("BENCH_PARTICIPANTS", "1000000"))
WORKERS = int(os.environ.get("BENCH_DAM_WORKERS", "1"))
READ_CONNECTIONS = int(os.environ.get("BENCH_DAM_READ_CONNECTIONS", "8"))
KEY_ID = "bench-portal"
SECRET = "bench-secret-" + uuid.uuid4().hex
CHUNK = 20_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dam.receiver", str(self.port), KEY_ID, SECRET],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def setup_django() -> None:
    os.environ["DAM_TRANSPORT"] = "http"
    os.environ.setdefault("DAM_URL", "http://127.0.0.1:9")
    os.environ["DAM_KEY_ID"] = KEY_ID
    os.environ["DAM_SECRET"] = SECRET
    os.environ["DAM_TIMEOUT_SECONDS"] = "30"
    os.environ.setdefault("DAM_DELIVERY_SENDERS", "2")
    import django

    django.setup()


def database_reset() -> None:
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n: int) -> float:
    """``n`` participants, their pseudonyms and two outbox rows each, written with COPY in chunks
    (one transaction per chunk, as consents arrive over time). Returns the seconds taken."""
    from django.db import connection, transaction
    from django.utils import timezone

    from consent.selectors.fhir import consent_resource
    from dam.models import MessageType, OutboxMessage, Pseudonym, PseudonymDomain
    from dam.payloads import SEOUL, iso, validate_fhir_consent
    from dam.pseudonyms import pseudonym_generate
    from enrollment.models import Cohort, Participant, Site
    from portal.db import copy_rows

    started = time.monotonic()
    site = Site.objects.create(code="bench-site", name="Bench site", region="Seoul")
    cohort = Cohort.objects.create(code="bench-general", name="General", group="general")
    template = _consent_template(consent_resource)
    validate_fhir_consent(json.loads(template.replace("SUBJECT-PSEUDONYM", "X")))
    at = timezone.now()
    signed_at = iso(at)
    enrolled_on = at.astimezone(SEOUL).strftime("%Y-%m")
    permissions = json.dumps(
        [
            {"item": "data_sharing", "granted": True, "duo": ["DUO:0000042"]},
            {"item": "sample_storage", "granted": True, "duo": []},
            {"item": "genomic_analysis", "granted": False, "duo": []},
        ]
    )
    consent_head = (
        f'{{"consent_version": "main 1.0", "status": "active", "signed_at": "{signed_at}", '
        f'"permissions": {permissions}, "fhir": '
    )
    participant_columns = [
        "id", "code", "kind", "site_id", "cohort_id", "status", "birth_year", "sex",
        "external_ref", "is_minor", "has_legal_representative", "referring_clinician",
    ]  # fmt: skip
    outbox_columns = [
        "id", "type", "participant_id", "subject", "sequence", "reference", "occurred_at",
        "payload", "state", "attempts", "dam_status", "error_code", "last_error",
    ]  # fmt: skip
    first_id = _reserve_participant_ids(Participant, n)
    codes_seen: set[str] = set()
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        people, pseudonyms, messages = [], [], []
        for i in range(start, start + size):
            pk = first_id + i
            code = pseudonym_generate()
            while code in codes_seen:
                code = pseudonym_generate()
            codes_seen.add(code)
            birth_year, sex = 1950 + i % 50, ("female", "male")[i % 2]
            people.append(
                (pk, f"B{i:09d}", "volunteer", site.pk, cohort.pk, "consented", birth_year, sex,
                 "", False, False, "")
            )  # fmt: skip
            pseudonyms.append((pk, PseudonymDomain.SUBJECT.value, code))
            registered = json.dumps(
                {"cohort": cohort.code, "site": site.code, "enrolled_on": enrolled_on,
                 "birth_year": birth_year, "sex": sex}
            )  # fmt: skip
            fhir = template.replace("SUBJECT-PSEUDONYM", code)
            messages.append(
                (uuid.uuid4(), MessageType.SUBJECT_REGISTERED.value, pk, code, 1, "", at,
                 registered, "pending", 0, "", "", "")
            )  # fmt: skip
            messages.append(
                (uuid.uuid4(), MessageType.CONSENT_UPDATED.value, pk, code, 2, "", at,
                 consent_head + fhir + "}", "pending", 0, "", "", "")
            )  # fmt: skip
        with transaction.atomic():
            copy_rows(Participant._meta.db_table, participant_columns, people)
            copy_rows(Pseudonym._meta.db_table, ["participant_id", "domain", "code"], pseudonyms)
            copy_rows(OutboxMessage._meta.db_table, outbox_columns, messages)
        if (start // CHUNK) % 5 == 0:
            log(f"seeded {start + size:,} subjects")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def _reserve_participant_ids(model: Any, n: int) -> int:
    """Take ``n`` consecutive ids from the table's sequence (COPY writes them itself)."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(max(id), 0) FROM {table}) + %s)",
            [n],
        )
        (last,) = cursor.fetchone()
    return int(last) - n + 1


def _consent_template(consent_resource: Any) -> str:
    """A FHIR Consent as the consent app builds it for a three-item version."""
    from types import SimpleNamespace

    from django.utils import timezone

    items = [
        SimpleNamespace(code="data_sharing", duo_codes=["DUO:0000042"]),
        SimpleNamespace(code="sample_storage", duo_codes=[]),
        SimpleNamespace(code="genomic_analysis", duo_codes=[]),
    ]
    version = SimpleNamespace(
        items=SimpleNamespace(all=lambda: items),
        form=SimpleNamespace(code="main"),
        label="1.0",
        language="ko",
        text_sha256="a" * 64,
    )
    state = SimpleNamespace(
        participant=SimpleNamespace(pk=0),
        version=version,
        choices={"data_sharing": True, "sample_storage": True, "genomic_analysis": False},
        status="active",
        withdrawal_level="",
        signed_at=timezone.now(),
        last_event=SimpleNamespace(hash="b" * 64, recorded_at=timezone.now()),
    )
    from dam.payloads import SUBJECT_SYSTEM

    resource = consent_resource(
        state, active_items=[], identifier=lambda _p: (SUBJECT_SYSTEM, "SUBJECT-PSEUDONYM")
    )
    resource["id"] = "consent-SUBJECT-PSEUDONYM"
    return json.dumps(resource)


def prepared_batches(spool: BinaryIO) -> tuple[int, int]:
    """The messages as the bare loop sends them (envelopes in subject order, batches of 1,000,
    payloads spliced in as stored), written to ``spool`` (length-prefixed): at 1M subjects they
    are about 2 GB. Returns the number of batches and their total size."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from dam.models import OutboxMessage
    from dam.payloads import iso

    batches = size = 0
    parts: list[bytes] = []

    def flush() -> None:
        nonlocal batches, size
        from django.utils import timezone

        head = json.dumps(
            {"batch_id": str(uuid.uuid4()), "sent_at": iso(timezone.now())}, separators=(",", ":")
        ).encode()[:-1]
        body = head + b',"messages":[' + b",".join(parts) + b"]}"
        spool.write(len(body).to_bytes(8, "big") + body)
        batches += 1
        size += len(body)
        parts.clear()

    rows = (
        OutboxMessage.objects.order_by("participant_id", "sequence")
        .annotate(payload_text=Cast("payload", output_field=TextField()))
        .values_list("id", "type", "subject", "sequence", "occurred_at", "payload_text")
        .iterator(chunk_size=10_000)
    )
    for message_id, kind, subject, sequence, occurred_at, payload_text in rows:
        envelope = json.dumps(
            {"id": str(message_id), "type": kind, "subject": subject, "sequence": sequence,
             "occurred_at": iso(occurred_at)},
            ensure_ascii=False, separators=(",", ":"),
        ).encode()  # fmt: skip
        parts.append(envelope[:-1] + b',"payload":' + payload_text.encode() + b"}")
        if len(parts) == 1000:
            flush()
    if parts:
        flush()
    spool.flush()
    return batches, size


def _spooled(spool: BinaryIO) -> Iterator[bytes]:
    spool.seek(0)
    while header := spool.read(8):
        yield spool.read(int.from_bytes(header, "big"))


def bare_loop(url: str, spool: BinaryIO) -> tuple[float, int]:
    from dam.transports import sign

    port = int(url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    accepted = 0
    started = time.monotonic()
    for body in _spooled(spool):
        timestamp = str(int(time.time()))
        connection.request(
            "POST",
            "/ingest/v1/batches",
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-Dam-Key": KEY_ID,
                "X-Dam-Timestamp": timestamp,
                "X-Dam-Signature": sign(SECRET, timestamp, body),
            },
        )
        response = connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:200]
        accepted += sum(1 for r in json.loads(data)["results"] if r["status"] == "accepted")
    elapsed = time.monotonic() - started
    connection.close()
    return elapsed, accepted


def _deliver_in_process(url: str) -> None:
    os.environ["DAM_URL"] = url
    setup_django()
    from django.db import connection

    from dam.services.delivery import outbox_deliver

    connection.close()
    report = outbox_deliver()
    if report.error is not None:
        raise SystemExit(f"delivery failed: {report.error}")


def portal_delivery(url: str) -> float:
    from django.conf import settings
    from django.db import connection

    settings.DAM_URL = url
    connection.close()
    started = time.monotonic()
    processes = [
        multiprocessing.get_context("fork").Process(target=_deliver_in_process, args=(url,))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit("a delivering process failed")
    return time.monotonic() - started


def reconcile(url: str) -> tuple[float, int, int]:
    """``reconciliation_run`` against the dam that holds everything delivered: seconds, subjects
    checked, findings (0 expected)."""
    from django.conf import settings

    from dam.services.reconciliation import reconciliation_run

    settings.DAM_URL = url
    settings.DAM_READ_CONNECTIONS = READ_CONNECTIONS
    started = time.monotonic()
    run = reconciliation_run()
    return time.monotonic() - started, run.subjects_checked, run.findings.count()


def main() -> None:
    setup_django()
    from django.db import connection

    from dam.models import OutboxMessage, OutboxState

    log(f"database reset; seeding {SUBJECTS:,} subjects ({2 * SUBJECTS:,} messages)")
    database_reset()
    seed_seconds = seed(SUBJECTS)
    total = OutboxMessage.objects.count()
    log(f"seeded in {seed_seconds:.0f} s; preparing the bare loop's batches")
    with tempfile.TemporaryFile(prefix="dam-bench-") as spool:
        batches, size = prepared_batches(spool)
        receiver = Receiver()
        try:
            load_bare = os.getloadavg()[0]
            bare_seconds, bare_accepted = bare_loop(receiver.url, spool)
        finally:
            receiver.stop()
    assert bare_accepted == total, (bare_accepted, total)
    log(f"bare loop: {total / bare_seconds:,.0f} messages/s")

    receiver = Receiver()
    try:
        load_portal = os.getloadavg()[0]
        portal_seconds = portal_delivery(receiver.url)
        delivered = OutboxMessage.objects.filter(
            state=OutboxState.DELIVERED, dam_status="accepted"
        ).count()
        assert delivered == total, (delivered, total)
        log(f"portal: {total / portal_seconds:,.0f} messages/s; reconciling")
        load_reconcile = os.getloadavg()[0]
        reconcile_seconds, reconciled, findings = reconcile(receiver.url)
    finally:
        receiver.stop()
    assert (reconciled, findings) == (SUBJECTS, 0), (reconciled, findings)
    log(f"reconciliation: {reconciled / reconcile_seconds:,.0f} subjects/s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(" on ")[0]
    write_results(
        total=total,
        portal_rate=total / portal_seconds,
        bare_rate=total / bare_seconds,
        portal_seconds=portal_seconds,
        bare_seconds=bare_seconds,
        batch_bytes=size / batches,
        reconcile_rate=reconciled / reconcile_seconds,
        reconcile_seconds=reconcile_seconds,
        seed_seconds=seed_seconds,
        load=(load_bare, load_portal, load_reconcile),
        pg_version=pg_version,
    )


def write_results(**figures: Any) -> None:
    from django.conf import settings

    portal_rate = figures["portal_rate"]
    bare_rate = figures["bare_rate"]
    ratio = portal_rate / bare_rate

    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    lines = [
        "## Dam delivery",
        "",
        f"Written by `bench/dam_bench.py` on {dt.datetime.now(dt.UTC).date().isoformat()}: "
        f"{SUBJECTS:,} subjects ({figures['total']:,} messages, a registration and a consent "
        f"update with its FHIR Consent each, batches of about {figures['batch_bytes'] / 1024:.0f} "
        f"KiB), {WORKERS} delivering process(es) of {settings.DAM_DELIVERY_SENDERS} sender(s) "
        f"(`DAM_DELIVERY_SENDERS`), the strict loopback dam in its own process; "
        f"{os.cpu_count()} CPU cores shared with other work (load average "
        f"{figures['load'][0]:.1f} before the bare loop, {figures['load'][1]:.1f} before the "
        f"portal's run, {figures['load'][2]:.1f} before reconciliation); seeding (COPY) took "
        f"{figures['seed_seconds']:.0f} s; {figures['pg_version']}, Python "
        f"{platform.python_version()}.",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        f"| Portal delivery (`outbox_deliver`) | {portal_rate:,.0f} messages/s "
        f"({figures['portal_seconds']:.1f} s) | >= 2,000 messages/s | {verdict(portal_rate >= 2000)} |",
        f"| Bare loop posting the same prepared batches | {bare_rate:,.0f} messages/s "
        f"({figures['bare_seconds']:.1f} s) |  |  |",
        f"| Portal / bare loop | {ratio:.0%} | >= 50% | {verdict(ratio >= 0.5)} |",
        f"| Reconciliation (`reconciliation_run`, {READ_CONNECTIONS} connections) | "
        f"{figures['reconcile_rate']:,.0f} subjects/s ({figures['reconcile_seconds']:.1f} s) "
        f"|  |  |",
    ]
    notes = os.environ.get("BENCH_NOTES", "").strip()
    if notes:
        lines += ["", notes]
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Dam delivery\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
    log(f"results written to {RESULTS}")


if __name__ == "__main__":
    main()
