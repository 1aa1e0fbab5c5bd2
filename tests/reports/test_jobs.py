"""Reports generated in the background: progress page, encrypted file, e-mail, expiry, the
monthly board reports, and who may download."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentForm
from portal.roles import Role
from reports.consent_report import ReportScope
from reports.jobs import report_job_request, report_jobs_expire, report_jobs_monthly
from reports.models import ReportJob
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed():
    site = SiteFactory(code="snuh")
    version = ca.active_version()
    participant = ca.eligible_participant(site=site)
    ca.sign_all_yes(participant, version)
    return site, version


def _scope(version, site_ids=None):
    today = timezone.localdate()
    return ReportScope(
        form_id=version.form_id, first_day=today.replace(day=1), last_day=today, site_ids=site_ids
    )


def test_a_pdf_job_is_stored_encrypted_and_the_requester_told(
    client, signed, django_capture_on_commit_callbacks
):
    _site, version = signed
    reviewer = staff_user(Role.ETHICS_REVIEWER, all_sites=True, mfa=True)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_job_request(by=reviewer, kind="consent_pdf", scope=_scope(version), reason="r")
    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 100)
    with default_storage.open(job.stored_as, "rb") as handle:
        stored = handle.read()
    assert b"%PDF" not in stored  # encrypted at rest
    (message,) = mail.outbox
    assert message.to == [reviewer.email] and job.token in message.body
    client.force_login(reviewer)
    response = client.get(reverse("reports:job_download", args=[job.token]))
    assert response.content.startswith(b"%PDF")


def test_the_progress_page_refreshes_itself_until_the_file_is_ready(client, signed):
    _site, version = signed
    reviewer = staff_user(Role.ETHICS_REVIEWER, all_sites=True, mfa=True)
    job = report_job_request(by=reviewer, kind="consent_pdf", scope=_scope(version), reason="r")
    client.force_login(reviewer)
    page = client.get(reverse("reports:job", args=[job.token])).content.decode()
    assert 'http-equiv="refresh"' in page and "<progress" in page and "<script" not in page


def test_another_reviewer_cannot_follow_or_download_a_job(client, signed):
    _site, version = signed
    owner = staff_user(Role.ETHICS_REVIEWER, all_sites=True)
    job = report_job_request(by=owner, kind="consent_csv", scope=_scope(version), reason="r")
    client.force_login(staff_user(Role.ETHICS_REVIEWER, all_sites=True, mfa=True))
    assert client.get(reverse("reports:job", args=[job.token])).status_code == 404
    assert client.get(reverse("reports:job_download", args=[job.token])).status_code == 404


def test_expired_files_are_removed(client, signed, django_capture_on_commit_callbacks):
    _site, version = signed
    reviewer = staff_user(Role.ETHICS_REVIEWER, all_sites=True, mfa=True)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_job_request(by=reviewer, kind="consent_csv", scope=_scope(version), reason="r")
    job.refresh_from_db()
    stored = job.stored_as
    ReportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert report_jobs_expire() == 1
    assert not default_storage.exists(stored)
    job.refresh_from_db()
    assert job.status == "expired"
    client.force_login(reviewer)
    response = client.get(reverse("reports:job_download", args=[job.token]))
    assert response.status_code == 302


def test_monthly_reports_go_to_each_board_for_its_sites(signed, django_capture_on_commit_callbacks):
    site, _version = signed
    other: Any = SiteFactory(code="amc")
    central = staff_user(Role.ETHICS_REVIEWER, all_sites=True)
    local = [staff_user(Role.ETHICS_REVIEWER, sites=[site]) for _ in range(2)]
    staff_user(Role.ETHICS_REVIEWER, sites=[other])
    today = timezone.localdate().replace(day=1) + dt.timedelta(days=40)
    with django_capture_on_commit_callbacks(execute=True):
        jobs = report_jobs_monthly(today=today.replace(day=1))
    forms = ConsentForm.objects.count()
    assert len(jobs) == 3 * forms
    by_sites = {
        tuple(j.parameters["site_ids"] or ()): sorted(j.recipients) for j in ReportJob.objects.all()
    }
    assert by_sites[()] == [central.pk]
    assert by_sites[(site.pk,)] == sorted(u.pk for u in local)
    assert all(j.status == "done" for j in ReportJob.objects.all())
    assert {m.to[0] for m in mail.outbox} >= {central.email, *(u.email for u in local)}
