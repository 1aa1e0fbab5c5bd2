"""Biobank figures and the consent report's sample fates, from the dam's custody records
(manifests sent, fates recorded after withdrawal), checked against direct counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from consent.models import ConsentForm
from dam.models import ManifestLine, Sample, SampleFate
from dam.services import sample_fate_record
from dam.services.manifests import manifest_create, manifest_sample_add, manifest_submit
from reports.consent_report import ReportScope, consent_report, consent_report_rows
from reports.programme import biobank_figures, biobank_rows
from reports.samples import current_fates
from tests.dam.custody_builders import consented, tube, withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def custody(site: Any, coordinator: Any) -> dict[str, Any]:
    """Five participants with tubes; three tubes shipped (one more held back: its participant
    withdrew before the manifest was sent); two withdrawals with no further use, whose tubes get
    fates (one corrected), and one tube still awaiting its fate."""
    now = timezone.now()
    stays, leaves, keeps, stops = (consented(site) for _ in range(4))
    serum = [tube(p, coordinator, sample_type="SERUM") for p in (stays, leaves, keeps)]
    urine = tube(stays, coordinator, sample_type="URINE")
    held = tube(stops, coordinator, sample_type="URINE")
    extra = tube(leaves, coordinator, sample_type="URINE")
    manifest = manifest_create(site=site, by=coordinator)
    for sample in [*serum, urine, held]:
        manifest_sample_add(manifest=manifest, barcode=sample.barcode, by=coordinator)
    withdraw(stops, level="no_further_collection")  # its tube is held back, not sent
    manifest_submit(manifest=manifest, by=coordinator, shipped_at=now - dt.timedelta(hours=2))
    withdraw(leaves, level="no_further_use", samples_fate="destroy")
    withdraw(keeps, level="no_further_use", samples_fate="retain_anonymized")
    hour_ago = now - dt.timedelta(hours=1)
    sample_fate_record(sample=serum[1], fate="destroyed", done_at=hour_ago, by=coordinator)
    # Corrected: the tube had already been distributed; the later record counts.
    sample_fate_record(
        sample=serum[1],
        fate="not_recallable",
        done_at=hour_ago,
        by=coordinator,
        note="sent to a study in March",
    )
    sample_fate_record(sample=serum[2], fate="kept_anonymized", done_at=hour_ago, by=coordinator)
    return {"site": site, "year": timezone.localdate().year, "extra": extra, "held": held}


def test_biobank_shipped_and_fates_match_direct_counts(custody):
    figures = biobank_figures(year=custody["year"])
    sent = ManifestLine.objects.filter(state=ManifestLine.State.SENT)
    assert sent.count() == 4
    assert sum(n for _m, _k, n in figures.shipped) == sent.count()
    assert {k: n for _m, k, n in figures.shipped} == {"Serum": 3, "Urine": 1}
    assert not sent.filter(sample=custody["held"]).exists()
    # Fates: the latest record of each tube only (three records, two tubes).
    assert SampleFate.objects.count() == 3
    assert sorted((k, f, n) for _m, k, f, n in figures.fates) == [
        ("Serum", "Already distributed; cannot be recalled", 1),
        ("Serum", "Kept anonymized, as the participant chose", 1),
    ]
    assert sum(n for *_r, n in figures.fates) == current_fates().count() == 2
    # The withdrawing participant's other tube has no fate yet.
    assert figures.awaiting_fate == 1
    assert not SampleFate.objects.filter(sample=custody["extra"]).exists()
    rows = list(biobank_rows(figures))
    assert ("samples shipped", figures.shipped[0][0], "Serum", "", 3) in rows
    assert ("samples awaiting a recorded fate", "", "", "", 1) in rows
    assert biobank_figures(year=custody["year"] - 1).shipped == []
    assert biobank_figures(year=custody["year"] - 1).fates == []


def test_consent_report_counts_what_happened_to_the_samples_of_withdrawals(custody):
    today = timezone.localdate()
    form = ConsentForm.objects.get()
    scope = ReportScope(
        form_id=form.pk,
        first_day=today - dt.timedelta(days=1),
        last_day=today,
        site_ids=frozenset({custody["site"].pk}),
    )
    report = consent_report(scope=scope)
    # Direct count: every tube of a participant who withdrew in the period.
    withdrawn = Sample.objects.filter(participant__consent_events__kind="withdraw").distinct()
    assert sum(n for *_r, n in report.sample_fates) == withdrawn.count() == 4
    assert sorted(report.sample_fates) == [
        ("No further collection", "no fate recorded yet", 1),
        ("No further use", "Already distributed; cannot be recalled", 1),
        ("No further use", "Kept anonymized, as the participant chose", 1),
        ("No further use", "no fate recorded yet", 1),
    ]
    rows = list(consent_report_rows(report))
    assert any(r[0] == "samples of withdrawn participants" for r in rows)
    elsewhere = consent_report(scope=ReportScope(**{**scope.__dict__, "site_ids": frozenset({0})}))
    assert elsewhere.sample_fates == []
