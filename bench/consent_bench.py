"""Consent benchmarks; the figures go to the "Consent" section of bench/results.md.

Run on a database already seeded with ``manage.py seed_synthetic`` (which writes the consent
ledgers too), for example::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench PORTAL_ENV=test \\
    REDIS_URL=redis://127.0.0.1:6379/5 CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/consent_bench.py [submission] [check] [verify] [pdf] [report]

Measures:

* submission: consent signing (``POST /consent/sign/``) over HTTP, gunicorn on loopback, 20
  concurrent clients, each request a different participant (a real session, typing their
  registered name and their password, which the form checks with the hasher chosen by
  ``BENCH_PASSWORD_HASHER``: production's by default, ``test`` or ``pbkdf2`` to compare);
  against a trivial view served the same way with the same sessions.
  Celery uses the Redis broker, so the receipt PDF is queued after the commit, not made in the
  request (use a Redis database no worker listens to, and empty its "celery" list afterwards). Targets: >= 50% of the trivial view's req/s, p99 <= 250 ms.
* check: ``consent_allows_bulk`` for every participant (1M), in calls of 10,000 as the API makes
  them, against the plain SQL join of the same codes to their consent state. Targets: <= 5 s and
  <= 2x the join.
* verify: ``ledger_verify`` over the whole ledger (target: 3M events in <= 60 s).
* pdf: receipts through ``portal.pdf`` (``receipt_render``) against raw WeasyPrint on the same
  HTML. Target: >= 80% of raw WeasyPrint's throughput.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

RESULTS = ROOT / "bench" / "results.md"
SECTION = "## Consent"
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "20"))
SIGN_REQUESTS = int(os.environ.get("BENCH_SIGN_REQUESTS", "1000"))
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "4"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
# Signatures sent (and not measured) before the measured ones, after the trivial view's warm-up.
SIGN_WARMUP = int(os.environ.get("BENCH_SIGN_WARMUP", "40"))
PDF_RUNS = int(os.environ.get("BENCH_PDF_RUNS", "30"))
CHECK_CALL = 10_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def setup_django() -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)


# --- HTTP load ------------------------------------------------------------------------------------


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def load(
    requests: Sequence[tuple[str, str, dict[str, str], bytes | None]], concurrency: int
) -> dict[str, Any]:
    """Send ``requests`` (method, path, headers, body) from ``concurrency`` keep-alive clients."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    cursor = iter(range(len(requests)))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            method, path, headers, body = requests[index]
            began = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "requests": len(requests),
        "seconds": elapsed,
        "rps": len(requests) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "statuses": statuses,
    }


def start_gunicorn() -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            conn.request("GET", "/bench/trivial")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def stop_gunicorn(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def signing_sessions(n: int, password: str) -> list[tuple[str, str]]:
    """``n`` eligible participants without consent, each with an account whose password is
    ``password``, a fresh signed-in session and their registered name."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from consent.services.signing import ADULT_AGE
    from enrollment.models import Participant
    from enrollment.vault import profile_for_participant
    from portal.models import User
    from portal.password_proof import password_proof_remember

    # Adults whatever their birthday (born at least ADULT_AGE + 1 years ago): a participant still
    # under age signs through a legal representative, and the form here is signed by the person.
    candidates = list(
        Participant.objects.filter(
            status=Participant.Status.ELIGIBLE,
            user__isnull=True,
            consent_state__isnull=True,
            birth_year__lte=dt.datetime.now(dt.UTC).year - ADULT_AGE - 1,
        )
        .exclude(is_minor=True)
        .order_by("id")[:n]
    )
    if len(candidates) < n:
        raise RuntimeError(f"only {len(candidates)} eligible participants to sign; seed more")
    # The signing form asks for the password; hash one with the configured hasher and share it
    # (hashing a thousand passwords would take longer than the benchmark). Checking it in the
    # request costs what the hasher costs: see BENCH_HASHER below.
    from django.utils.module_loading import import_string

    # The server's settings module, by name (bench/ is not a package for the type checker).
    server_hashers = import_string("bench.settings_bench.PASSWORD_HASHERS")
    hasher = import_string(server_hashers[0])()
    hashed = hasher.encode(password, hasher.salt())
    sessions = []
    for participant in candidates:
        user = User.objects.create(
            email=f"bench-{participant.code.lower()}@example.org", password=hashed
        )
        Participant.objects.filter(pk=participant.pk).update(user=user)
        profile = profile_for_participant(participant)
        assert profile is not None
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        # Signed in with the password a moment ago, as allauth records it, with the proof that
        # sign-in leaves (portal.password_proof); the password is typed again on the form.
        session["account_authentication_methods"] = [{"method": "password", "at": time.time()}]
        session["account_authentication_methods_user"] = str(user.pk)
        password_proof_remember(SimpleNamespace(session=session), user, password)  # type: ignore[arg-type]
        session.save()
        assert session.session_key is not None
        sessions.append((session.session_key, profile.name))
    return sessions


def sign_body(version: Any, typed_name: str, password: str, csrf: str) -> bytes:
    fields = {
        "csrfmiddlewaretoken": csrf,
        "typed_name": typed_name,
        "confirm": "on",
        "password": password,
    }
    for item in version.items.all():
        fields[f"item_{item.code}"] = "yes"
    for question in version.questions.all():
        fields[f"q_{question.pk}"] = str(question.correct_choice)
    return urllib.parse.urlencode(fields).encode()


def bench_submission() -> dict[str, Any]:
    from consent.models import ConsentEvent
    from consent.selectors import records as selectors

    version = selectors.active_version_for(language="ko")
    assert version is not None, "no active consent version in Korean"
    log(f"preparing {SIGN_REQUESTS:,} signing sessions (and {SIGN_WARMUP} to warm the workers)")
    password = secrets.token_urlsafe(16)
    sessions = signing_sessions(SIGN_REQUESTS + SIGN_WARMUP, password)
    csrf = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and form field
    sign_requests = []
    trivial_requests = []
    for session_key, name in sessions:
        cookies = f"sessionid={session_key}; csrftoken={csrf}; portal_language=ko"
        sign_requests.append(
            (
                "POST",
                "/consent/sign/",
                {
                    "Cookie": cookies,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Host": "127.0.0.1",
                },
                sign_body(version, name, password, csrf),
            )
        )
        trivial_requests.append(("GET", "/bench/trivial", {"Cookie": cookies}, None))
    server = start_gunicorn()
    try:
        load(trivial_requests[: CONCURRENCY * 5], CONCURRENCY)  # warm the workers
        log("trivial view")
        trivial = load(trivial_requests[SIGN_WARMUP:], CONCURRENCY)
        log(f"  {trivial}")
        # A running portal has signed before: the first signature in each worker loads modules
        # (the FHIR models, the broker's connection) that later ones find loaded.
        load(sign_requests[:SIGN_WARMUP], CONCURRENCY)
        events_before = ConsentEvent.objects.count()
        log("consent submission")
        signing = load(sign_requests[SIGN_WARMUP:], CONCURRENCY)
        log(f"  {signing}")
    finally:
        stop_gunicorn(server)
    signing["events_written"] = ConsentEvent.objects.count() - events_before
    return {"trivial": trivial, "signing": signing}


# --- bulk check -----------------------------------------------------------------------------------


def bench_check() -> dict[str, Any]:
    from django.db import connection

    from consent.models import ConsentState, Purpose
    from consent.selectors.checks import consent_allows_bulk
    from enrollment.models import Participant

    codes = list(Participant.objects.order_by("id").values_list("code", flat=True))
    purpose = Purpose.objects.get(code="genomic_research")
    calls = [codes[i : i + CHECK_CALL] for i in range(0, len(codes), CHECK_CALL)]

    def checks() -> int:
        allowed = 0
        for call in calls:
            allowed += sum(
                d.allowed for d in consent_allows_bulk(codes=call, purpose=purpose).values()
            )
        return allowed

    join_sql = (
        f"SELECT c.code, s.status, s.choices FROM (SELECT unnest(%s::text[]) AS code) c "
        f"LEFT JOIN {Participant._meta.db_table} p ON p.code = c.code "
        f"LEFT JOIN {ConsentState._meta.db_table} s ON s.participant_id = p.id"
    )

    def plain_join() -> int:
        rows = 0
        with connection.cursor() as cursor:
            for call in calls:
                cursor.execute(join_sql, [call])
                rows += len(cursor.fetchall())
        return rows

    def one_statement() -> int:
        # Inside the portal (reports, the dam link) nothing limits a call to 10,000 codes.
        return sum(d.allowed for d in consent_allows_bulk(codes=codes, purpose=purpose).values())

    def plain_join_once() -> int:
        with connection.cursor() as cursor:
            cursor.execute(join_sql, [codes])
            return len(cursor.fetchall())

    checks()  # warm the caches once, as a running portal would be
    plain_join()
    check_times, join_times, single_times, single_join_times = [], [], [], []
    allowed = 0
    for _ in range(3):
        began = time.perf_counter()
        allowed = checks()
        check_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        plain_join()
        join_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        one_statement()
        single_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        plain_join_once()
        single_join_times.append(time.perf_counter() - began)
    return {
        "participants": len(codes),
        "allowed": allowed,
        "check_s": statistics.median(check_times),
        "join_s": statistics.median(join_times),
        "single_s": statistics.median(single_times),
        "single_join_s": statistics.median(single_join_times),
    }


# --- ledger verification ----------------------------------------------------------------------


def bench_verify() -> dict[str, Any]:
    from consent.ledger import ledger_verify

    began = time.perf_counter()
    result = ledger_verify()
    return {
        "events": result.events,
        "chains": result.chains,
        "ok": result.ok,
        "seconds": time.perf_counter() - began,
    }


# --- PDF receipts ---------------------------------------------------------------------------------


def bench_pdf() -> dict[str, Any]:
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import HTML

    from consent.models import ConsentEvent
    from consent.services.receipts import (
        RECEIPT_TEMPLATE,
        receipt_context,
        receipt_language,
        receipt_render,
    )

    events = list(
        ConsentEvent.objects.filter(kind="grant")
        .select_related("participant__user", "version__form")
        .order_by("-id")[:PDF_RUNS]
    )
    static_dir = Path(settings.STATICFILES_DIRS[0])
    raw_html = []
    for event in events:
        with translation.override(receipt_language(event)):
            rendered = str(render_to_string(RECEIPT_TEMPLATE, receipt_context(event)))
        raw_html.append(re.sub(r"(href|src)=\"/static/", rf'\1="file://{static_dir}/', rendered))
    receipt_render(events[0])  # warm fonts and templates for both
    HTML(string=raw_html[0]).write_pdf()

    began = time.perf_counter()
    sizes = [len(receipt_render(event)) for event in events]
    portal_s = (time.perf_counter() - began) / len(events)
    began = time.perf_counter()
    for html in raw_html:
        HTML(string=html).write_pdf()
    raw_s = (time.perf_counter() - began) / len(events)
    return {
        "receipts": len(events),
        "portal_ms": portal_s * 1000,
        "raw_ms": raw_s * 1000,
        "bytes": statistics.median(sizes),
    }


# --- results ----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write_results(figures: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT count(*) FROM consent_consentevent")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM enrollment_participant")
        participants = cursor.fetchone()[0]
    lines = [
        SECTION,
        "",
        f"Written by `bench/consent_bench.py` on {dt.datetime.now(dt.UTC).date().isoformat()}: "
        f"{participants:,} participants, {events:,} consent events (seeded by "
        f"`seed_synthetic`), 2 CPU cores shared with other work, {pg}, "
        f"Python {platform.python_version()}.",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
    ]
    if "submission" in figures:
        s, t = figures["submission"]["signing"], figures["submission"]["trivial"]
        ratio = s["rps"] / t["rps"]
        lines += [
            f"| Trivial view, gunicorn ({GUNICORN_WORKERS} workers), {CONCURRENCY} clients "
            f"| {t['rps']:.0f} req/s, p99 {t['p99_ms']:.0f} ms |  |  |",
            f"| Consent submission (sign), same setup, {s['requests']:,} participants "
            f"| {s['rps']:.0f} req/s, p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms "
            f"(statuses {s['statuses']}, {s['events_written']:,} events written) "
            f"| p99 <= 250 ms | {verdict(s['p99_ms'] <= 250)} |",
            f"| Submission / trivial view throughput | {ratio:.0%} | >= 50% "
            f"| {verdict(ratio >= 0.5)} |",
        ]
    if "check" in figures:
        c = figures["check"]
        ratio = c["check_s"] / c["join_s"]
        lines += [
            f"| Bulk consent check, {c['participants']:,} participants in calls of "
            f"{CHECK_CALL:,} (median of 3) | {c['check_s']:.2f} s ({c['allowed']:,} allowed) "
            f"| <= 5 s | {verdict(c['check_s'] <= 5)} |",
            f"| Plain SQL join of the same codes to their state (reference) "
            f"| {c['join_s']:.2f} s |  |  |",
            f"| Check / plain join | {ratio:.2f}x | <= 2x | {verdict(ratio <= 2)} |",
        ]
        if "single_s" in c:
            single_ratio = c["single_s"] / c["single_join_s"]
            lines += [
                f"| Bulk consent check, all {c['participants']:,} in one statement (median of 3) "
                f"| {c['single_s']:.2f} s | <= 5 s | {verdict(c['single_s'] <= 5)} |",
                f"| Plain SQL join, one statement (reference) | {c['single_join_s']:.2f} s |  |  |",
                f"| Check / plain join, one statement | {single_ratio:.2f}x | <= 2x "
                f"| {verdict(single_ratio <= 2)} |",
            ]
    if "verify" in figures:
        v = figures["verify"]
        per_3m = v["seconds"] * 3_000_000 / max(v["events"], 1)
        lines += [
            f"| Ledger verification, {v['events']:,} events in {v['chains']:,} chains "
            f"({'all hold' if v['ok'] else 'BROKEN'}) | {v['seconds']:.1f} s "
            f"(≈ {per_3m:.0f} s per 3M) | <= 60 s for 3M | {verdict(per_3m <= 60)} |",
        ]
    if "pdf" in figures:
        p = figures["pdf"]
        ratio = p["raw_ms"] / p["portal_ms"]
        lines += [
            f"| Receipt PDF through portal.pdf (median {p['bytes'] / 1024:.0f} KB, "
            f"{p['receipts']} receipts) | {p['portal_ms']:.0f} ms each |  |  |",
            f"| Raw WeasyPrint, same HTML | {p['raw_ms']:.0f} ms each |  |  |",
            f"| Portal / raw WeasyPrint throughput | {ratio:.0%} | >= 80% "
            f"| {verdict(ratio >= 0.8)} |",
        ]
    notes = os.environ.get("BENCH_NOTES", "").strip()
    if notes:
        lines += ["", notes]
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Consent\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
    log(f"results written to {RESULTS}")


def main(argv: list[str]) -> None:
    setup_django()
    wanted = argv or ["submission", "check", "verify", "pdf"]
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "submission": bench_submission,
        "check": bench_check,
        "verify": bench_verify,
        "pdf": bench_pdf,
    }
    # Steps may run separately (they take minutes each); figures of earlier runs are kept here.
    store = ROOT / "var" / "bench-consent.json"
    figures: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    for name in wanted:
        if name == "report":  # rewrite the section from the stored figures only
            continue
        log(f"{name} ...")
        figures[name] = steps[name]()
        log(f"{name}: {figures[name]}")
        store.parent.mkdir(exist_ok=True)
        store.write_text(json.dumps(figures, indent=1, default=str))
    write_results(figures)


if __name__ == "__main__":
    main(sys.argv[1:])
