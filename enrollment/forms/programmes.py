"""Forms of the programme pages; rules that span rows live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ..models import Cohort, CohortGroup, Phase, Programme, Site
from .fields import LabelledChoiceField


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class ProgrammeForm(forms.ModelForm[Programme]):
    class Meta:
        model = Programme
        fields = ["code", "name", "name_en", "total_target"]
        help_texts = {
            "code": _("Short, lower-case letters, digits and hyphens, e.g. bdd."),
            "total_target": _("Participants the programme aims to enrol in all."),
        }


class PhaseForm(forms.ModelForm[Phase]):
    class Meta:
        model = Phase
        fields = ["number", "name", "name_en", "starts_on", "ends_on"]
        widgets = {"starts_on": DateInput(), "ends_on": DateInput()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends <= starts:
            self.add_error("ends_on", _("The end date must come after the start date."))
        return data


class SiteForm(forms.ModelForm[Site]):
    class Meta:
        model = Site
        fields = [
            "code",
            "name",
            "name_en",
            "region",
            "region_en",
            "address",
            "address_en",
            "opens_at",
            "closes_at",
            "daily_capacity",
            "is_active",
        ]
        widgets = {
            "opens_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "closes_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "daily_capacity": _("Visits that can be booked per day."),
            "is_active": _("Inactive sites take no new bookings and enrolments."),
        }

    def clean_daily_capacity(self) -> int:
        value: int = self.cleaned_data["daily_capacity"]
        if value < 1 or value > 10_000:
            raise forms.ValidationError(_("Enter a daily capacity between 1 and 10,000."))
        return value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left empty, the hours stay as they are (the model's default hours for a new site).
        for name in ("opens_at", "closes_at"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("opens_at", "closes_at"):
            if not data.get(name) and name not in self.errors:
                current = getattr(self.instance, name, None)
                data[name] = current or getattr(Site(), name)  # the model's default
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The closing time must come after the opening time."))
        return data


class CohortForm(forms.ModelForm[Cohort]):
    class Meta:
        model = Cohort
        fields = ["code", "name", "name_en", "group", "min_age", "open_for_volunteers"]

    def clean_min_age(self) -> int:
        value: int = self.cleaned_data["min_age"]
        if value > 120:
            raise forms.ValidationError(_("Enter a minimum age of 120 or less."))
        return value


class TargetsForm(forms.Form):
    """One number per target of a phase: overall, per cohort group, per site. Blank = no target."""

    def __init__(self, *args: Any, sites: list[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = sites
        self.fields["overall"] = self._field(_("Overall"))
        for group in CohortGroup:
            self.fields[f"group_{group.value}"] = self._field(group.label)
        for site in sites:
            self.fields[f"site_{site.pk}"] = self._field(site.choice_label)

    @staticmethod
    def _field(label: Any) -> forms.IntegerField:
        return forms.IntegerField(
            label=label,
            required=False,
            min_value=0,
            max_value=100_000_000,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )

    def group_fields(self) -> list[forms.BoundField]:
        return [self[f"group_{g.value}"] for g in CohortGroup]

    def site_fields(self) -> list[forms.BoundField]:
        return [self[f"site_{s.pk}"] for s in self.sites]

    def targets(self) -> dict[tuple[str, int | None], int | None]:
        data = self.cleaned_data
        result: dict[tuple[str, int | None], int | None] = {("", None): data.get("overall")}
        for group in CohortGroup:
            result[(group.value, None)] = data.get(f"group_{group.value}")
        for site in self.sites:
            result[("", site.pk)] = data.get(f"site_{site.pk}")
        return result


class SiteClosureForm(forms.Form):
    site = LabelledChoiceField(queryset=Site.objects.none(), label=_("Site"))
    first_day = forms.DateField(label=_("First closed day"), widget=DateInput(format="%Y-%m-%d"))
    last_day = forms.DateField(label=_("Last closed day"), widget=DateInput(format="%Y-%m-%d"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Shown to volunteers, e.g. “building work” or “staff training”."),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sites.order_by("code")
