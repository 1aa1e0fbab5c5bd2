from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentForm
from enrollment.forms.fields import LabelledChoiceField, LabelledMultipleChoiceField
from enrollment.models import Phase, Site


class ConsentReportForm(forms.Form):
    form = forms.ModelChoiceField(
        label=_("Consent form"), queryset=ConsentForm.objects.order_by("code")
    )
    first_day = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    sites = LabelledMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("None chosen: every site you may see."),
    )
    reason = forms.CharField(
        label=_("Reason for this export"), max_length=255, help_text=_("Recorded in the audit log.")
    )
    fmt = forms.ChoiceField(label=_("Format"), choices=[("pdf", "PDF"), ("csv", "CSV")])

    def __init__(self, *args: Any, site_ids: frozenset[int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = Site.objects.order_by("code")
        if site_ids is not None:
            sites = sites.filter(pk__in=site_ids)
        self.fields["sites"].queryset = sites  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if isinstance(first, dt.date) and isinstance(last, dt.date):
            if last < first:
                raise forms.ValidationError(_("The last day comes before the first day."))
            if (last - first).days > 366 * 5:
                raise forms.ValidationError(_("Choose a period of at most five years."))
        return data


class LedgerExportForm(forms.Form):
    sites = LabelledMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("None chosen: every site you may see."),
    )
    reason = forms.CharField(
        label=_("Reason for this export"), max_length=255, help_text=_("Recorded in the audit log.")
    )

    def __init__(self, *args: Any, site_ids: frozenset[int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites = Site.objects.order_by("code")
        if site_ids is not None:
            sites = sites.filter(pk__in=site_ids)
        self.fields["sites"].queryset = sites  # type: ignore[attr-defined]


class AuditTrailForm(forms.Form):
    FIND_BY = [("code", _("Participant code")), ("pseudonym", _("Dam pseudonym"))]

    find_by = forms.ChoiceField(
        label=_("Find by"), choices=FIND_BY, initial="code", widget=forms.RadioSelect
    )
    code = forms.CharField(label=_("Participant code or dam pseudonym"), max_length=32)
    reason = forms.CharField(
        label=_("Reason for looking"), max_length=255, help_text=_("Recorded in the audit log.")
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


FORMATS = [("pdf", "PDF"), ("csv", "CSV")]


class RecruitmentReportForm(forms.Form):
    phase = LabelledChoiceField(
        label=_("Phase"),
        queryset=Phase.objects.select_related("programme").order_by("ends_on", "number"),
    )
    reason = forms.CharField(
        label=_("Reason for this export"), max_length=255, help_text=_("Recorded in the audit log.")
    )
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMATS)


class BiobankReportForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    reason = forms.CharField(
        label=_("Reason for this export"), max_length=255, help_text=_("Recorded in the audit log.")
    )
    fmt = forms.ChoiceField(label=_("Format"), choices=FORMATS)
