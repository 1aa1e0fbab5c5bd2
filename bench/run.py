"""Build a benchmark database and record the figures in bench/results.md.

    make bench                               # 1,000,000 participants (the programme's size)
    BENCH_PARTICIPANTS=50000 make bench      # a quicker run

Steps, each timed: create the database afresh, migrate, seed N synthetic participants (COPY, two
worker processes), then measure on the result:

* the national dashboard, full Django stack (middleware, queries, SVG, template), median of
  repeated requests, against a raw GROUP BY over the participants table measured in the same run;
* participant lookup by phone and by e-mail through the blind indexes (the audited service);
* a CSV referral import through the import service (validation, encryption, blind indexes,
  funnel steps and aggregates).

    BENCH_ONLY=import make bench             # the import alone, into the existing database

``BENCH_ONLY=import`` skips creating, seeding and the other measures: it imports into the database
as it is (each run with references and phone numbers of its own, so that the rows are new) and
rewrites only the import row of bench/results.md.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

PARTICIPANTS = int(os.environ.get("BENCH_PARTICIPANTS", "1000000"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "20000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DASHBOARD_RUNS = int(os.environ.get("BENCH_DASHBOARD_RUNS", "30"))
LOOKUPS = int(os.environ.get("BENCH_LOOKUPS", "200"))
# 0: seed participants only, without other apps' synthetic records (consent ledgers), which take
# far longer than the participants themselves and which no measure here reads.
OTHER_APPS = os.environ.get("BENCH_OTHER_APPS", "1") != "0"
ONLY = os.environ.get("BENCH_ONLY", "")
RESULTS = ROOT / "bench" / "results.md"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def recreate_database() -> None:
    import dj_database_url
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url:
        sys.exit("DATABASE_URL must name a benchmark database (its name must contain 'bench').")
    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    with psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - began, result


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def bench_dashboard(manager: Any) -> dict[str, float]:
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(manager)
    url = reverse("enrollment:dashboard_national")
    for _ in range(3):  # warm caches, as a live server would be
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(DASHBOARD_RUNS):
        seconds, response = timed(client.get, url)
        assert response.status_code == 200
        samples.append(seconds)

    # The figures alone (the queries on the aggregate tables and their arithmetic), without the
    # HTTP stack, sessions and template: where the time goes.
    from enrollment.selectors.dashboards import dashboard_figures

    figure_samples = [timed(dashboard_figures, site_ids=None)[0] for _ in range(DASHBOARD_RUNS)]

    # The reference: the same figures straight from the participants table.
    raw = """
        SELECT site_id, cohort_id, status, sex,
               extract(year FROM registered_at AT TIME ZONE 'Asia/Seoul')::int - birth_year,
               count(*)
        FROM enrollment_participant GROUP BY 1, 2, 3, 4, 5
    """
    raw_samples = []
    with connection.cursor() as cursor:
        cursor.execute(raw)
        cursor.fetchall()
        for _ in range(max(5, DASHBOARD_RUNS // 6)):
            began = time.perf_counter()
            cursor.execute(raw)
            cursor.fetchall()
            raw_samples.append(time.perf_counter() - began)
    return {
        "load_average": os.getloadavg()[0],
        "figures_median_ms": median_ms(figure_samples),
        "dashboard_median_ms": median_ms(samples),
        "dashboard_p95_ms": p95_ms(samples),
        "raw_group_by_median_ms": median_ms(raw_samples),
    }


def bench_lookups(manager: Any, first_id: int, last_id: int) -> dict[str, float]:
    from enrollment.seeding import synthetic_email, synthetic_phone
    from enrollment.vault import participant_find

    rng = random.Random(42)
    ids = [rng.randint(first_id, last_id) for _ in range(LOOKUPS)]
    phone_samples, email_samples, found = [], [], 0
    for pid in ids:
        seconds, hit = timed(participant_find, by=manager, phone=synthetic_phone(pid))
        phone_samples.append(seconds)
        found += hit is not None
        seconds, hit = timed(participant_find, by=manager, email=synthetic_email(pid))
        email_samples.append(seconds)
        found += hit is not None
    return {
        "phone_median_ms": median_ms(phone_samples),
        "phone_p95_ms": p95_ms(phone_samples),
        "email_median_ms": median_ms(email_samples),
        "email_p95_ms": p95_ms(email_samples),
        "lookups_found_share": found / (2 * len(ids)),
    }


def referral_csv(rows: int, run: int = 0) -> bytes:
    """``rows`` referrals; ``run`` (the how-manieth import into the database) gives the references,
    phones and e-mails a block of their own, so that a repeated run imports new rows."""
    rng = random.Random(7)
    surnames, given = "김이박최정강조윤장임", "민서준지현우예하윤도진수영은재"
    blocks = -(-rows // 10000)
    tag = f"{run}-" if run else ""
    lines = ["external_ref,cohort,name,birth_date,sex,phone,email,address,referring_clinician"]
    for i in range(rows):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        lines.append(
            f"BENCH-{tag}{i:07d},{'rare' if i % 2 else 'severe'},{name},{birth.isoformat()},"
            f"{'F' if i % 2 else 'M'},010-{7000 + run * blocks + i // 10000:04d}-{i % 10000:04d},"
            f"import{tag}{i}@example.net,부산 해운대로 {i % 300},Dr. Kim"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def bench_import(manager: Any) -> dict[str, float]:
    from enrollment.models import ReferralImport, Site
    from enrollment.services.imports import referrals_import

    site = Site.objects.order_by("id").first()
    data = referral_csv(IMPORT_ROWS, run=ReferralImport.objects.filter(site=site).count())
    load_before = os.getloadavg()[0]
    seconds, result = timed(
        referrals_import, site=site, by=manager, data=data, max_bytes=len(data) + 1
    )
    return {
        "import_rows": IMPORT_ROWS,
        "import_created": result.created,
        "import_invalid": result.invalid_rows,
        "import_seconds": seconds,
        "import_rows_per_s": IMPORT_ROWS / seconds,
        "import_load_average": max(load_before, os.getloadavg()[0]),
    }


def import_only() -> None:
    """``BENCH_ONLY=import``: the import measure alone, on the database as it is."""
    import django

    django.setup()
    from enrollment.models import Participant
    from portal.models import User

    manager = User.objects.get(email="bench-manager@example.org")
    participants = Participant.objects.count()
    log(f"importing {IMPORT_ROWS:,} rows into the database of {participants:,} participants")
    figures = bench_import(manager)
    if figures["import_created"] != IMPORT_ROWS:
        sys.exit(f"the import created {figures['import_created']:,} rows, not {IMPORT_ROWS:,}")
    log(
        f"import {figures['import_rows_per_s']:.0f} rows/s "
        f"(load average {figures['import_load_average']:.1f})"
    )
    row = import_row(figures, participants=participants)
    lines = RESULTS.read_text(encoding="utf-8").split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith("| CSV referral import")]
    if len(at) != 1:
        sys.exit("bench/results.md has no import row to replace; run the whole benchmark")
    lines[at[0]] = "| " + " | ".join(row) + " |"
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    log(f"rewrote the import row of {RESULTS.relative_to(ROOT)}")


def main() -> None:
    if ONLY == "import":
        import_only()
        return
    if ONLY:
        sys.exit(f"BENCH_ONLY={ONLY}: only 'import' can be run alone")
    figures: dict[str, Any] = {"participants": PARTICIPANTS}
    log(f"recreating the benchmark database for {PARTICIPANTS:,} participants")
    recreate_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from enrollment.seeding import synthetic_seed
    from portal.roles import Role, grant_role
    from tests.factories import UserFactory, add_totp

    seconds, _ = timed(call_command, "migrate", verbosity=0, skip_checks=True)
    log(f"migrated in {seconds:.1f} s")

    def progress(done: int, total: int) -> None:
        if done % max(total // 10, 1) < 10_000 or done == total:
            log(f"  seeded {done:,} / {total:,}")

    result = synthetic_seed(
        participants=PARTICIPANTS, workers=WORKERS, seed=1, progress=progress, notify=OTHER_APPS
    )
    figures["other_apps"] = OTHER_APPS
    figures.update(
        seed_seconds=result.seconds,
        hooks_seconds=result.hooks_seconds,
        transitions=result.transitions,
    )
    log(
        f"seeded in {result.seconds:.1f} s ({result.transitions:,} transitions), "
        f"other apps' seeding {result.hooks_seconds:.1f} s"
    )

    # What autovacuum would have done by the time anyone looks: visibility maps for index-only
    # scans, statistics for the planner.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    manager: Any = UserFactory(email="bench-manager@example.org")
    grant_role(manager, Role.PROGRAMME_MANAGER)
    add_totp(manager)

    figures.update(bench_dashboard(manager))
    log(f"dashboard {figures['dashboard_median_ms']:.1f} ms median")
    figures.update(bench_lookups(manager, result.first_id, result.last_id))
    log(f"lookup by phone {figures['phone_median_ms']:.2f} ms median")
    figures.update(bench_import(manager))
    log(f"import {figures['import_rows_per_s']:.0f} rows/s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        figures["postgres"] = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        figures["database_size"] = cursor.fetchone()[0]
    write_results(figures)
    log(f"wrote {RESULTS.relative_to(ROOT)}")


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def import_row(f: dict[str, Any], *, participants: int) -> tuple[str, str, str, str]:
    return (
        "CSV referral import",
        f"{f['import_rows_per_s']:,.0f} rows/s ({f['import_rows']:,} rows in "
        f"{f['import_seconds']:.1f} s into {participants:,} participants; load average "
        f"{f['import_load_average']:.1f})",
        ">= 5,000 rows/s",
        verdict(f["import_rows_per_s"] >= 5000),
    )


def write_results(f: dict[str, Any]) -> None:
    ratio = f["dashboard_median_ms"] / f["raw_group_by_median_ms"]
    seed_scaled = f["seed_seconds"] * 1_000_000 / f["participants"]
    rows = [
        (
            "National dashboard, server time (median)",
            f"{f['dashboard_median_ms']:.1f} ms (p95 {f['dashboard_p95_ms']:.1f} ms)",
            "<= 50 ms",
            verdict(f["dashboard_median_ms"] <= 50),
        ),
        (
            "Dashboard figures alone: aggregate queries, no HTTP or template (median)",
            f"{f['figures_median_ms']:.1f} ms",
            "",
            "",
        ),
        (
            "Raw GROUP BY over participants (median, reference)",
            f"{f['raw_group_by_median_ms']:.1f} ms",
            "",
            "",
        ),
        ("Dashboard / raw GROUP BY", f"{ratio:.3f}x", "<= 0.2x", verdict(ratio <= 0.2)),
        (
            "Lookup by phone (median)",
            f"{f['phone_median_ms']:.2f} ms (p95 {f['phone_p95_ms']:.2f} ms)",
            "<= 10 ms",
            verdict(f["phone_median_ms"] <= 10),
        ),
        (
            "Lookup by e-mail (median)",
            f"{f['email_median_ms']:.2f} ms (p95 {f['email_p95_ms']:.2f} ms)",
            "<= 10 ms",
            verdict(f["email_median_ms"] <= 10),
        ),
        import_row(f, participants=f["participants"]),
        (
            f"Seeding {f['participants']:,} participants",
            f"{f['seed_seconds']:.0f} s ({f['transitions']:,} transitions; "
            + (
                f"consent ledgers and other apps' synthetic data another "
                f"{f['hooks_seconds']:.0f} s)"
                if f["other_apps"]
                else "other apps' synthetic data not seeded in this run)"
            ),
            "<= 300 s for 1M",
            verdict(seed_scaled <= 300),
        ),
    ]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (bench/run.py) on {dt.date.today().isoformat()}, "  # noqa: DTZ011
        f"{f['participants']:,} participants, {os.cpu_count()} CPU cores shared with other work, "
        f"{f['postgres']}, Python {platform.python_version()}, database size "
        f"{f['database_size']}; load average {f['load_average']:.1f} while the dashboard was "
        "measured.",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Lookups found a participant in {f['lookups_found_share']:.0%} of "
        f"{2 * LOOKUPS} attempts (phone and e-mail of random seeded participants; minors have no "
        "phone of their own). Each lookup writes its audit row, as in production.",
        "",
        "## Notes",
        "",
        NOTES_FILE.read_text(encoding="utf-8").strip() if NOTES_FILE.exists() else "",
        "",
    ]
    RESULTS.write_text("\n".join(lines) + _other_sections(), encoding="utf-8")


NOTES_FILE = ROOT / "bench" / "notes.md"


def _other_sections() -> str:
    """Sections other apps' benchmarks wrote into results.md (e.g. "## Consent"), kept as they are."""
    if not RESULTS.exists():
        return ""
    text = RESULTS.read_text(encoding="utf-8")
    parts = text.split("\n## ")[1:]
    kept = [p for p in parts if not p.startswith("Notes")]
    return "".join("\n## " + p.rstrip("\n") + "\n" for p in kept)


if __name__ == "__main__":
    main()
