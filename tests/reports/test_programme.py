"""Programme reports: recruitment per phase (the dashboard's figures) and biobank figures, checked
against direct counts, as CSV and PDF, audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from consent.models import ConsentEvent
from consent.services import consent_withdraw
from dam.models import Sample, SampleType
from enrollment.models import Phase, PhaseTarget, Programme
from portal.models import AuditEvent
from portal.roles import Role
from reports.models import ReportJob
from reports.programme import biobank_figures
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def biobank() -> dict[str, Any]:
    site: Any = SiteFactory(code="snuh")
    version = ca.active_version()
    people = [ca.eligible_participant(site=site) for _ in range(3)]
    for p in people:
        ca.sign_all_yes(p, version)
    consent_withdraw(
        participant=people[0],
        level="no_further_use",
        samples_fate="destroy",
        by=None,
        confirmed=True,
    )
    now = timezone.now()
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    for i, (p, kind) in enumerate(
        [(people[1], "SERUM"), (people[1], "URINE"), (people[2], "SERUM")]
    ):
        Sample.objects.create(
            barcode=f"B{i}",
            participant=p,
            sample_type=kind,
            collected_at=now,
            volume_ml=Decimal("5.0"),
            site=site,
            recorded_by=coordinator,
        )
    return {"site": site, "year": timezone.localdate().year}


def test_biobank_figures_match_direct_counts(biobank):
    figures = biobank_figures(year=biobank["year"])
    assert sum(n for _m, _k, n in figures.samples) == Sample.objects.count() == 3
    assert {k: n for _m, k, n in figures.samples} == {
        str(SampleType.SERUM.label): 2,
        str(SampleType.URINE.label): 1,
    }
    assert (
        sum(n for _m, n in figures.consents)
        == ConsentEvent.objects.filter(kind__in=["grant", "reconsent"]).count()
    )
    assert sum(n for *_r, n in figures.withdrawals) == 1
    assert biobank_figures(year=biobank["year"] - 1).samples == []


def _generated(client: Any, capture: Any, url: str, post: dict[str, Any]) -> bytes:
    """Ask for a report on the page, let the worker run it (after the commit), follow the job's
    page and download the file."""
    with capture(execute=True):
        response = client.post(url, post)
    assert response.status_code == 302
    job = ReportJob.objects.get(token=response.url.rstrip("/").rsplit("/", 1)[-1])
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.is_programme
    page = client.get(response.url).content.decode()
    download = reverse("reports:job_download", args=[job.token])
    assert download in page
    return client.get(download).content


def test_a_manager_exports_biobank_csv_and_pdf(
    client, biobank, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    url = reverse("reports:programme")
    assert client.get(url).status_code == 200
    post = {"report": "biobank", "b-year": biobank["year"], "b-reason": "연례 보고", "b-fmt": "csv"}
    body = _generated(client, django_capture_on_commit_callbacks, url, post)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    with translation.override("ko"):
        label = gettext("samples collected")
    assert sum(int(r[4]) for r in rows[1:] if r[0] == label) == 3
    path = tmp_path / "b.pdf"
    path.write_bytes(
        _generated(client, django_capture_on_commit_callbacks, url, {**post, "b-fmt": "pdf"})
    )
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "NanumGothic" in fonts.stdout
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "연례 보고" in text and "혈청" in text
    assert AuditEvent.objects.filter(object_type="report.biobank", reason="연례 보고").count() == 2
    assert (
        ReportJob.objects.filter(
            kind__in=["biobank_csv", "biobank_pdf"], parameters__year=biobank["year"]
        ).count()
        == 2
    )


def test_a_manager_exports_the_recruitment_report(
    client, tmp_path, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    programme = Programme.objects.create(code="bdd", name="Bio Data Dam", total_target=1000)
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="1단계",
        starts_on=today - dt.timedelta(days=100),
        ends_on=today + dt.timedelta(days=100),
    )
    PhaseTarget.objects.create(phase=phase, target=100)
    SiteFactory(code="snuh", name="서울대학교병원")
    client.force_login(staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    url = reverse("reports:programme")
    post = {"report": "recruitment", "r-phase": phase.pk, "r-reason": "분기 보고", "r-fmt": "pdf"}
    path = tmp_path / "r.pdf"
    path.write_bytes(_generated(client, django_capture_on_commit_callbacks, url, post))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "1단계" in text and "분기 보고" in text and "snuh" in text
    csv_post = {**post, "r-fmt": "csv"}
    body = _generated(client, django_capture_on_commit_callbacks, url, csv_post).decode("utf-8-sig")
    assert "snuh" in body
    assert client.post(url, {**post, "r-reason": ""}).status_code == 200
    assert ReportJob.objects.filter(kind__startswith="recruitment_").count() == 2
    assert (
        AuditEvent.objects.filter(object_type="report.recruitment", reason="분기 보고").count() == 2
    )


def test_an_ethics_reviewer_cannot_open_programme_reports(client):
    client.force_login(staff_user(Role.ETHICS_REVIEWER, all_sites=True, mfa=True))
    assert client.get(reverse("reports:programme")).status_code == 404
