"""The consent report: figures against direct counts on the same data, the PDF (embedded Korean
font, expected text, certificate), the CSV, and the page with its reason and scope."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentEvent, EventKind
from consent.services import consent_withdraw
from portal.audit import Action
from portal.models import AuditEvent
from portal.roles import Role
from reports.consent_report import ANSWERS, ReportScope, consent_report
from reports.exports import consent_report_csv, consent_report_pdf
from reports.models import LedgerCertificate, ReportJob
from tests.consent import ledger_builders as lb
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    a, b = (
        SiteFactory(code="snuh", name="서울대학교병원"),
        SiteFactory(code="amc", name="서울아산병원"),
    )
    version = ca.active_version()
    at_a = [ca.eligible_participant(site=a) for _ in range(3)]
    at_b = [ca.eligible_participant(site=b)]
    for participant in at_a + at_b:
        ca.sign_all_yes(participant, version)
    # One participant at A later says no to an optional item, another withdraws completely.
    optional = version.items.filter(required=False).values_list("code", flat=True).first()
    assert optional is not None
    lb.record(at_a[1], version, {**ca.all_yes(version), optional: False}, kind="update")
    consent_withdraw(
        participant=at_a[2],
        level="no_further_use",
        samples_fate="destroy",
        by=None,
        confirmed=True,
    )
    today = timezone.localdate()
    return {"a": a, "b": b, "version": version, "at_a": at_a, "today": today}


def _scope(data, site_ids):
    return ReportScope(
        form_id=data["version"].form_id,
        first_day=data["today"].replace(day=1),
        last_day=data["today"],
        site_ids=site_ids,
    )


def test_figures_match_direct_counts_for_one_site(data):
    scope = _scope(data, frozenset({data["a"].pk}))
    report = consent_report(scope=scope)
    at_a = ConsentEvent.objects.filter(participant__site=data["a"])
    assert report.by_version == [
        (
            "1.0",
            "ko",
            at_a.filter(kind__in=["grant", "reconsent"]).values("participant").distinct().count(),
        )
    ]
    answers = at_a.filter(kind__in=[str(k) for k in ANSWERS])
    assert report.items, "items are counted"
    for item in report.items:
        assert item.yes == answers.filter(**{f"choices__{item.code}": True}).count()
        assert item.no == answers.filter(**{f"choices__{item.code}": False}).count()
    assert sum(n for _l, _f, n in report.withdrawals) == at_a.filter(kind="withdraw").count() == 1
    assert report.signer["signings"] == 3 and report.signer["web"] == 3
    assert [s.code for s in report.sites] == ["snuh"]
    assert [v.label for v in report.versions] == ["1.0"]


def test_every_site_counts_more_than_one(data):
    report = consent_report(scope=_scope(data, None))
    assert report.by_version[0][2] == 4


def _pdf_text(pdf: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return fonts.stdout, text.stdout


def test_the_pdf_embeds_the_korean_font_and_holds_the_figures_and_certificate(data, tmp_path):
    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[data["a"]])
    pdf = consent_report_pdf(
        by=reviewer, scope=_scope(data, frozenset({data["a"].pk})), reason="정기 심의"
    )
    fonts, text = _pdf_text(pdf, tmp_path)
    nanum = [line for line in fonts.splitlines() if "NanumGothic" in line]
    assert nanum and all(" yes " in line.split("NanumGothic", 1)[1] for line in nanum)
    certificate = LedgerCertificate.objects.get(purpose="report")
    flat = "".join(text.split())
    assert certificate.digest in flat
    assert "서울대학교병원" in text and "서울아산병원" not in text
    assert "정기 심의" in text and "reviewer" in text
    assert "+09:00" in text  # generated-at time with its offset
    assert re.search(r"\b1\s*/\s*2\b", text)  # page numbers
    assert "<svg" not in text and "IRB-2026-001" in text
    audit = AuditEvent.objects.get(action=Action.EXPORTED, object_type="report.consent")
    assert audit.reason == "정기 심의" and audit.actor_id == reviewer.pk


def test_the_csv_has_the_same_figures_and_the_certificate(data):
    reviewer = staff_user(Role.ETHICS_REVIEWER, all_sites=True)
    header, rows = consent_report_csv(by=reviewer, scope=_scope(data, None), reason="audit")
    from portal.csv_stream import csv_chunks

    raw = b"".join(csv_chunks(header, rows)).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(raw)))
    report = consent_report(scope=_scope(data, None))
    first = report.items[0]
    assert [first.code, "yes", str(first.yes)] in [r[1:] for r in table] or any(
        r[1] == first.code and r[3] == str(first.yes) for r in table
    )
    digest = LedgerCertificate.objects.get().digest
    assert any(r[3] == digest for r in table)


def test_a_local_reviewer_asks_on_the_page_only_for_their_sites(
    client, data, django_capture_on_commit_callbacks
):
    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[data["a"]], mfa=True)
    client.force_login(reviewer)
    url = reverse("reports:index")
    assert client.get(url).status_code == 200
    post = {
        "form": data["version"].form_id,
        "first_day": data["today"].replace(day=1).isoformat(),
        "last_day": data["today"].isoformat(),
        "reason": "심의",
        "fmt": "csv",
    }
    response = client.post(url, {**post, "sites": [data["b"].pk]})
    assert response.status_code == 200 and not ReportJob.objects.exists()  # B is not theirs
    assert client.post(url, {**post, "reason": ""}).status_code == 200
    assert client.post(url, {**post, "last_day": "2001-01-01"}).status_code == 200
    assert not ReportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, post)
    job = ReportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(job.token + "/")
    assert job.status == "done" and job.parameters["site_ids"] == [data["a"].pk]
    page = client.get(response["Location"]).content.decode()
    assert reverse("reports:job_download", args=[job.token]) in page
    download = client.get(reverse("reports:job_download", args=[job.token]))
    body = download.content.decode("utf-8-sig")
    assert "snuh" in body and "amc" not in body
    assert AuditEvent.objects.filter(action=Action.EXPORTED, reason="심의").count() == 2


def test_a_coordinator_cannot_open_the_reports(client, data):
    client.force_login(staff_user(Role.COORDINATOR, sites=[data["a"]], mfa=True))
    assert client.get(reverse("reports:index")).status_code == 404


def test_withdrawal_events_are_counted_in_the_period_only(data):
    scope = ReportScope(
        form_id=data["version"].form_id,
        first_day=data["today"].replace(year=data["today"].year - 2),
        last_day=data["today"].replace(year=data["today"].year - 1),
        site_ids=None,
    )
    report = consent_report(scope=scope)
    assert report.withdrawals == [] and report.by_version == []
    assert ConsentEvent.objects.filter(kind=EventKind.WITHDRAW).count() == 1


def test_the_ledger_csv_streams_every_event_of_the_reviewers_sites(client, data):
    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[data["a"]], mfa=True)
    client.force_login(reviewer)
    url = reverse("reports:ledger_csv")
    assert client.post(url, {"ledger-reason": ""}).status_code == 400
    response = client.post(url, {"ledger-reason": "연간 점검"})
    assert response.streaming
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    expected = ConsentEvent.objects.filter(participant__site=data["a"])
    assert sorted(int(r[0]) for r in table[1:]) == sorted(expected.values_list("pk", flat=True))
    codes = {r[1] for r in table[1:]}
    assert codes == {p.code for p in data["at_a"]}
    audit = AuditEvent.objects.get(object_type="report.consent_ledger")
    assert audit.reason == "연간 점검" and audit.details["sites"] == [data["a"].pk]


def test_reports_show_relationship_and_request_codes_by_label_never_typed_text(client, data):
    # One withdrawal recorded by staff with codes, one recorded before the codes with typed text.
    coordinator = staff_user(Role.COORDINATOR, sites=[data["a"]], mfa=True)
    consent_withdraw(
        participant=data["at_a"][0],
        level="no_further_contact",
        by=coordinator,
        staff=coordinator,
        confirmed=True,
        reason="letter",
        signer_kind="legal_representative",
        representative_relation="legal_guardian",
    )
    ca.legacy_event(
        data["at_a"][1],
        kind="withdraw",
        withdrawal_level="no_further_contact",
        staff_id=coordinator.pk,
        signer_kind="legal_representative",
        representative_relationship="큰아버지 김철수",
        reason="김철수 씨가 전화로 요청",
    )
    report = consent_report(scope=_scope(data, [data["a"].pk]))
    requests = dict(report.withdrawal_requests)
    assert requests["우편"] == 1 and requests["코드 없음(목록 도입 전 기록)"] == 1

    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[data["a"]], mfa=True)
    client.force_login(reviewer)
    response = client.post(reverse("reports:ledger_csv"), {"ledger-reason": "연간 점검"})
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(raw)))
    header = table[0]
    rows = {int(r[0]): dict(zip(header, r, strict=True)) for r in table[1:]}
    coded = ConsentEvent.objects.get(participant=data["at_a"][0], kind="withdraw")
    assert rows[coded.pk]["법정대리인과의 관계"] == "후견인"
    assert rows[coded.pk]["철회 요청 방법"] == "우편"
    assert "김철수" not in raw and "큰아버지" not in raw
