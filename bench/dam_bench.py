"""Dam delivery benchmark; the figures go to the "Dam delivery" section of bench/results.md.

N subjects, each with the two messages a first consent writes (``subject.registered`` and a
``consent.updated`` carrying a real FHIR R4 Consent), are delivered to the strict loopback dam
(``tests/dam/receiver.py``, in a process of its own, keeping only ids and sequences):

* portal: ``outbox_deliver`` (claims with ``FOR UPDATE SKIP LOCKED``, per-subject ordering,
  signing, HTTP, recording every answer), in ``BENCH_DAM_WORKERS`` processes at once (default 1);
* bare loop: the same messages, prepared beforehand as signed batches of 1,000, posted one after
  the other to a fresh receiver over one kept-alive connection, nothing recorded.

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
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

RESULTS = ROOT / "bench" / "results.md"
SUBJECTS = int(os.environ.get("BENCH_PARTICIPANTS", "1000000"))
WORKERS = int(os.environ.get("BENCH_DAM_WORKERS", "1"))
KEY_ID = "bench-portal"
SECRET = "bench-secret-" + uuid.uuid4().hex
CHUNK = 5_000


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
    """``n`` participants, their pseudonyms and two outbox rows each, in chunks (one transaction
    per chunk, as consents arrive over time). Returns the seconds taken."""
    from django.db import transaction
    from django.utils import timezone

    from consent.selectors.fhir import consent_resource
    from dam.models import MessageType, OutboxMessage, Pseudonym, PseudonymDomain
    from dam.payloads import iso, registered_payload, validate_fhir_consent
    from dam.pseudonyms import pseudonym_generate
    from enrollment.models import Cohort, Participant, Site

    started = time.monotonic()
    site = Site.objects.create(code="bench-site", name="Bench site", region="Seoul")
    cohort = Cohort.objects.create(code="bench-general", name="General", group="general")
    template = _consent_template(consent_resource)
    at = timezone.now()
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        with transaction.atomic():
            participants = Participant.objects.bulk_create(
                [
                    Participant(
                        code=f"B{start + i:09d}",
                        kind="volunteer",
                        site=site,
                        cohort=cohort,
                        birth_year=1950 + (start + i) % 50,
                        sex=("female", "male")[(start + i) % 2],
                        status="consented",
                    )
                    for i in range(size)
                ]
            )
            codes = {p.pk: pseudonym_generate() for p in participants}
            Pseudonym.objects.bulk_create(
                [
                    Pseudonym(participant_id=pk, domain=PseudonymDomain.SUBJECT, code=code)
                    for pk, code in codes.items()
                ]
            )
            rows = []
            for p in participants:
                subject = codes[p.pk]
                fhir = json.loads(template.replace("SUBJECT-PSEUDONYM", subject))
                rows.append(
                    OutboxMessage(
                        type=MessageType.SUBJECT_REGISTERED,
                        participant=p,
                        subject=subject,
                        sequence=1,
                        occurred_at=at,
                        payload=registered_payload(p, enrolled_at=at),
                    )
                )
                rows.append(
                    OutboxMessage(
                        type=MessageType.CONSENT_UPDATED,
                        participant=p,
                        subject=subject,
                        sequence=2,
                        occurred_at=at,
                        payload={
                            "consent_version": "main 1.0",
                            "status": "active",
                            "signed_at": iso(at),
                            "permissions": [
                                {"item": "data_sharing", "granted": True, "duo": ["DUO:0000042"]},
                                {"item": "sample_storage", "granted": True, "duo": []},
                                {"item": "genomic_analysis", "granted": False, "duo": []},
                            ],
                            "fhir": fhir,
                        },
                    )
                )
            OutboxMessage.objects.bulk_create(rows, batch_size=2_000)
        if (start // CHUNK) % 20 == 0:
            log(f"seeded {start + size:,} subjects")
    validate_fhir_consent(json.loads(template.replace("SUBJECT-PSEUDONYM", "X")))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE dam_outboxmessage")
    return time.monotonic() - started


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


def prepared_batches() -> list[bytes]:
    """The messages as the bare loop sends them: envelopes in subject order, batches of 1,000."""
    from dam.models import OutboxMessage
    from dam.payloads import iso
    from dam.transports import batch_body

    bodies: list[bytes] = []
    envelopes: list[dict[str, Any]] = []
    rows = (
        OutboxMessage.objects.order_by("participant_id", "sequence")
        .values_list("id", "type", "subject", "sequence", "occurred_at", "payload")
        .iterator(chunk_size=10_000)
    )
    for message_id, kind, subject, sequence, occurred_at, payload in rows:
        envelopes.append(
            {
                "id": str(message_id),
                "type": kind,
                "subject": subject,
                "sequence": sequence,
                "occurred_at": iso(occurred_at),
                "payload": payload,
            }
        )
        if len(envelopes) == 1000:
            bodies.append(_batch(envelopes, batch_body))
            envelopes = []
    if envelopes:
        bodies.append(_batch(envelopes, batch_body))
    return bodies


def _batch(envelopes: list[dict[str, Any]], batch_body: Any) -> bytes:
    from django.utils import timezone

    from dam.payloads import iso

    return batch_body(
        {"batch_id": str(uuid.uuid4()), "sent_at": iso(timezone.now()), "messages": envelopes}
    )


def bare_loop(url: str, bodies: list[bytes]) -> tuple[float, int]:
    from dam.transports import sign

    port = int(url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    accepted = 0
    started = time.monotonic()
    for body in bodies:
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


def main() -> None:
    setup_django()
    from django.db import connection

    from dam.models import OutboxMessage, OutboxState

    log(f"database reset; seeding {SUBJECTS:,} subjects ({2 * SUBJECTS:,} messages)")
    database_reset()
    seed_seconds = seed(SUBJECTS)
    total = OutboxMessage.objects.count()
    log(f"seeded in {seed_seconds:.0f} s; preparing the bare loop's batches")
    bodies = prepared_batches()
    batch_bytes = sum(len(b) for b in bodies) / len(bodies)

    receiver = Receiver()
    try:
        load_bare = os.getloadavg()[0]
        bare_seconds, bare_accepted = bare_loop(receiver.url, bodies)
    finally:
        receiver.stop()
    assert bare_accepted == total, (bare_accepted, total)
    del bodies
    log(f"bare loop: {total / bare_seconds:,.0f} messages/s")

    receiver = Receiver()
    try:
        load_portal = os.getloadavg()[0]
        portal_seconds = portal_delivery(receiver.url)
    finally:
        receiver.stop()
    delivered = OutboxMessage.objects.filter(
        state=OutboxState.DELIVERED, dam_status="accepted"
    ).count()
    assert delivered == total, (delivered, total)
    log(f"portal: {total / portal_seconds:,.0f} messages/s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg_version = cursor.fetchone()[0].split(" on ")[0]
    write_results(
        total=total,
        portal_rate=total / portal_seconds,
        bare_rate=total / bare_seconds,
        portal_seconds=portal_seconds,
        bare_seconds=bare_seconds,
        batch_bytes=batch_bytes,
        load=(load_bare, load_portal),
        pg_version=pg_version,
    )


def write_results(**figures: Any) -> None:
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
        f"KiB), {WORKERS} delivering process(es), the strict loopback dam in its own process; "
        f"{os.cpu_count()} CPU cores shared with other work (load average "
        f"{figures['load'][0]:.1f} before the bare loop, {figures['load'][1]:.1f} before the "
        f"portal's run); {figures['pg_version']}, Python {platform.python_version()}.",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        f"| Portal delivery (`outbox_deliver`) | {portal_rate:,.0f} messages/s "
        f"({figures['portal_seconds']:.1f} s) | >= 2,000 messages/s | {verdict(portal_rate >= 2000)} |",
        f"| Bare loop posting the same prepared batches | {bare_rate:,.0f} messages/s "
        f"({figures['bare_seconds']:.1f} s) |  |  |",
        f"| Portal / bare loop | {ratio:.0%} | >= 50% | {verdict(ratio >= 0.5)} |",
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
