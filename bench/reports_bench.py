"""Benchmarks of the reports, on a seeded database; figures in the "Reports" section of
bench/results.md.

    PORTAL_ENV=test DATABASE_URL=postgres://…/portal_bench_reports \\
        .venv/bin/python manage.py seed_synthetic --participants 1400000    # once (~3M events)
    PORTAL_ENV=test DATABASE_URL=postgres://…/portal_bench_reports .venv/bin/python bench/reports_bench.py

Each measure runs in a fresh child process, so that its peak memory (the process's maximum
resident set, Django and the database driver included) belongs to that measure alone:

* the consent ledger as CSV: every consent event through ``reports.ledger_export.ledger_csv``
  (the generator the streamed response sends: PostgreSQL COPY, a page of ids at a time), bytes
  and lines counted and thrown away; rows per second and peak memory; rows checked against
  ``count(*)``;
* the consent report as PDF for every site and the main consent form over the whole history,
  through ``reports.exports.consent_report_pdf`` (ledger certificate, figures, WeasyPrint), as a
  report job does it.

``BENCH_RUNS`` (default 2) runs of each; the best and the worst are written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
RESULTS = ROOT / "bench" / "results.md"
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
SECTION = "## Reports"


def _setup() -> Any:
    import django

    django.setup()
    from portal.models import User
    from portal.roles import Role, grant_role

    user, created = User.objects.get_or_create(
        email="bench-reviewer@portal.invalid",
        defaults={"display_name": "bench reviewer", "all_sites": True},
    )
    if created:
        grant_role(user, Role.ETHICS_REVIEWER)
    return user


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_csv() -> dict[str, Any]:
    user = _setup()
    from django.db import connection

    from reports.ledger_export import ledger_csv

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM consent_consentevent")
        expected = cursor.fetchone()[0]
    before = _peak_mb()
    began = time.perf_counter()
    size = 0
    lines = 0
    for chunk in ledger_csv(by=user, site_ids=None, reason="benchmark"):
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    # Every row is one line: no text in this export holds a line break (codes, labels, hashes).
    counted = lines - 1
    return {
        "rows": counted,
        "expected": expected,
        "seconds": seconds,
        "bytes": size,
        "peak_mb": _peak_mb(),
        "peak_before_mb": before,
    }


def child_pdf() -> dict[str, Any]:
    user = _setup()
    from django.db import connection

    from consent.models import ConsentForm
    from reports import certificates, consent_report
    from reports.consent_report import ReportScope
    from reports.exports import consent_report_pdf

    form = ConsentForm.objects.order_by("pk").first()
    assert form is not None, "the database has no consent form: seed it first"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM enrollment_participant")
        participants = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM consent_consentevent")
        events = cursor.fetchone()[0]
    scope = ReportScope(
        form_id=form.pk,
        first_day=dt.date(2015, 1, 1),
        last_day=dt.datetime.now(tz=dt.UTC).date(),
        site_ids=None,
    )
    # Time the parts too, by wrapping the two services the export calls.
    parts: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = time.perf_counter() - began

        return wrapper

    import reports.exports as exports

    # Patched by name, so the report measured is the one the portal builds.
    setattr(exports, "certificate_issue", timed("certificate", certificates.certificate_issue))  # noqa: B010
    setattr(exports, "consent_report", timed("figures", consent_report.consent_report))  # noqa: B010
    began = time.perf_counter()
    pdf = consent_report_pdf(by=user, scope=scope, reason="benchmark")
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "bytes": len(pdf),
        "participants": participants,
        "events": events,
        "parts": parts,
        "peak_mb": _peak_mb(),
    }


def _run_child(kind: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, kind], capture_output=True, text=True, check=True, env=os.environ
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url:
        sys.exit("DATABASE_URL must name a benchmark database (its name must contain 'bench').")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, env=os.environ
    )
    csv_runs, pdf_runs = [], []
    for _ in range(RUNS):
        load = _load()
        result = _run_child("csv")
        result["load"] = load
        csv_runs.append(result)
        print("csv", result, flush=True)
        load = _load()
        result = _run_child("pdf")
        result["load"] = load
        pdf_runs.append(result)
        print("pdf", result, flush=True)
    _write(csv_runs, pdf_runs)


def _write(csv_runs: list[dict[str, Any]], pdf_runs: list[dict[str, Any]]) -> None:
    import psycopg

    rates = [r["rows"] / r["seconds"] for r in csv_runs]
    csv_seconds = ", ".join(f"{r['seconds']:.1f}" for r in csv_runs)
    peaks = [r["peak_mb"] for r in csv_runs]
    pdf_seconds = [r["seconds"] for r in pdf_runs]
    first = csv_runs[0]
    p0 = pdf_runs[0]
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    best_rate, worst_rate = max(rates), min(rates)
    met_rate = (
        "met"
        if worst_rate >= 100_000
        else ("**missed**" if best_rate < 100_000 else "met in the best run")
    )
    met_mem = "met" if max(peaks) <= 200 else "**missed**"
    met_pdf = (
        "met"
        if max(pdf_seconds) <= 30
        else ("**missed**" if min(pdf_seconds) > 30 else "met in the best run")
    )
    parts = ", ".join(
        f"{name} {min(r['parts'].get(name, 0) for r in pdf_runs):.1f} s"
        for name in ("certificate", "figures")
    )
    lines = [
        SECTION,
        "",
        f"Written by `bench/reports_bench.py` on {dt.datetime.now(tz=dt.UTC).date().isoformat()}: "
        f"{p0['participants']:,} participants, {p0['events']:,} consent events "
        f"(seeded by `seed_synthetic`), {len(csv_runs)} run(s) of each measure, "
        f"{os.cpu_count()} CPU cores shared with other work, PostgreSQL {pg_version}, "
        f"Python {platform.python_version()}. Load averages (1/5/15 min) when each run began: "
        f"CSV {', '.join(r['load'] for r in csv_runs)}; PDF {', '.join(r['load'] for r in pdf_runs)}.",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        f"| Consent ledger CSV export, {first['rows']:,} events (all of them: checked against count(*)) "
        f"| {worst_rate:,.0f} to {best_rate:,.0f} rows/s ({csv_seconds} s; "
        f"{first['bytes'] / 1e6:,.0f} MB) | >= 100,000 rows/s | {met_rate} |",
        f"| Peak memory of the exporting process (maximum resident set, Django included; "
        f"{first['peak_before_mb']:.0f} MB before the export began) "
        f"| {max(peaks):.0f} MB | <= 200 MB | {met_mem} |",
        f"| Consent report PDF, every site, main form, whole history "
        f"| {min(pdf_seconds):.1f} to {max(pdf_seconds):.1f} s ({parts} in the best run; "
        f"{p0['bytes'] / 1e3:,.0f} kB) | <= 30 s | {met_pdf} |",
        "",
    ]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if SECTION in text:
        head, _sep, rest = text.partition(SECTION)
        following = rest.find("\n## ")
        tail = rest[following + 1 :] if following != -1 else ""
        text = head + "\n".join(lines) + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("csv", "pdf"):
        result = child_csv() if sys.argv[1] == "csv" else child_pdf()
        print(json.dumps(result), flush=True)
    else:
        main()
