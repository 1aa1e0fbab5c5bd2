"""Forms of the volunteer and coordinator pages. Validation of business rules stays in services;
these check the shape of what was typed and say in plain words what to fix."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .. import vault
from ..models import Cohort, ScreeningQuestion, Sex, Site, label_order
from ..services.visits import DayAvailability
from ..vault import Profile
from .fields import LabelledChoiceField

PHONE_HELP = _("A Korean mobile number, for example 010-1234-5678.")
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def korean_mobile(value: str) -> str:
    """E.164 form of a Korean mobile number, or a ValidationError in plain words."""
    try:
        parsed = phonenumbers.parse(value, "KR")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != "KR"
        or phonenumbers.number_type(parsed) not in MOBILE_TYPES
    ):
        raise forms.ValidationError(
            _("Enter a Korean mobile phone number, for example 010-1234-5678."), code="phone"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's model-choice field ``name``, typed as one (``form.fields`` holds plain fields)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _birth_date_field() -> forms.DateField:
    return forms.DateField(
        label=_("Birth date"),
        widget=DateInput(attrs={"autocomplete": "bday"}),
        error_messages={"invalid": _("Enter the birth date as year-month-day, e.g. 1985-03-14.")},
    )


def _check_birth_date(value: dt.date) -> dt.date:
    if value > timezone.localdate():
        raise forms.ValidationError(_("The birth date cannot be in the future."))
    if value.year < 1900:
        raise forms.ValidationError(_("Check the year of the birth date."))
    return value


class PersonFieldsMixin(forms.Form):
    name = forms.CharField(
        label=_("Name (in Korean)"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    latin_name = forms.CharField(
        label=_("Name in Latin letters (optional)"),
        max_length=100,
        required=False,
        help_text=_("As in your passport, if you have one."),
    )
    birth_date = _birth_date_field()
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[(v, label) for v, label in Sex.choices if v != Sex.UNKNOWN],
        widget=forms.RadioSelect,
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )

    def clean_birth_date(self) -> dt.date:
        return _check_birth_date(self.cleaned_data["birth_date"])


class VolunteerForm(PersonFieldsMixin):
    """Profile, cohort and collection site of a volunteer registering online."""

    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        help_text=PHONE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    cohort = LabelledChoiceField(
        label=_("Cohort"), queryset=Cohort.objects.none(), empty_label=None
    )
    site = LabelledChoiceField(
        label=_("Collection site"),
        queryset=Site.objects.none(),
        help_text=_("Where you will give blood and urine samples."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "cohort").queryset = Cohort.objects.filter(open_for_volunteers=True)
        sites = Site.objects.filter(is_active=True)  # by name in the volunteer's language
        _choice(self, "site").queryset = sites.order_by(label_order(), "code")

    def clean_phone(self) -> str:
        return korean_mobile(self.cleaned_data["phone"])

    def profile(self) -> Profile:
        data = self.cleaned_data
        return Profile(
            name=data["name"],
            latin_name=data["latin_name"],
            birth_date=data["birth_date"],
            phone=data["phone"],
            email=data["email"],
            address=data["address"],
        )


class ProfileEditForm(PersonFieldsMixin):
    """A participant corrects their own details (cohort, site and sex stay)."""

    sex = None  # type: ignore[assignment]
    phone = VolunteerForm.base_fields["phone"]
    email = VolunteerForm.base_fields["email"]

    def clean_phone(self) -> str:
        return korean_mobile(self.cleaned_data["phone"])

    def profile(self, previous: Profile) -> Profile:
        data = self.cleaned_data
        return Profile(
            name=data["name"],
            latin_name=data["latin_name"],
            birth_date=data["birth_date"],
            phone=data["phone"],
            email=data["email"],
            address=data["address"],
            guardian_name=previous.guardian_name,
            guardian_phone=previous.guardian_phone,
            guardian_relationship=previous.guardian_relationship,
        )


class PatientForm(PersonFieldsMixin):
    """A coordinator enrolls a patient at one of their sites."""

    site = LabelledChoiceField(label=_("Site"), queryset=Site.objects.none(), empty_label=None)
    cohort = LabelledChoiceField(
        label=_("Cohort"), queryset=Cohort.objects.none(), empty_label=None
    )
    external_ref = forms.CharField(
        label=_("Site reference"),
        max_length=64,
        required=False,
        help_text=_("The patient's reference in the hospital system, if any."),
    )
    referring_clinician = forms.CharField(
        label=_("Referring clinician"), max_length=200, required=False
    )
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=30, required=False, help_text=PHONE_HELP
    )
    email = forms.EmailField(label=_("E-mail address"), required=False)
    has_legal_representative = forms.BooleanField(
        label=_("The patient cannot consent; a legal representative signs"), required=False
    )
    guardian_name = forms.CharField(
        label=_("Guardian or legal representative: name"), max_length=100, required=False
    )
    guardian_phone = forms.CharField(
        label=_("Guardian or legal representative: mobile phone"),
        max_length=30,
        required=False,
        help_text=PHONE_HELP,
    )
    guardian_relationship = forms.CharField(
        label=_("Guardian or legal representative: relationship"),
        max_length=50,
        required=False,
        help_text=_("For example: mother, father, spouse, court-appointed guardian."),
    )
    confirm_not_duplicate = forms.BooleanField(
        label=_("This is a different person from the one already registered with these details."),
        required=False,
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "site").queryset = sites
        _choice(self, "cohort").queryset = Cohort.objects.all()
        self.fields["sex"].required = False

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        return korean_mobile(value) if value else ""

    def clean_guardian_phone(self) -> str:
        value = self.cleaned_data["guardian_phone"]
        return korean_mobile(value) if value else ""

    def profile(self) -> Profile:
        data = self.cleaned_data
        return Profile(
            name=data["name"],
            latin_name=data["latin_name"],
            birth_date=data["birth_date"],
            phone=data["phone"],
            email=data["email"],
            address=data["address"],
            guardian_name=data["guardian_name"],
            guardian_phone=data["guardian_phone"],
            guardian_relationship=data["guardian_relationship"],
        )


class ScreeningForm(forms.Form):
    """One yes/no field per question of the cohort's screen."""

    def __init__(self, *args: Any, questions: list[ScreeningQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.TypedChoiceField(
                label=question.localized_text,
                choices=[("yes", _("Yes")), ("no", _("No"))],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                error_messages={"required": _("Answer this question.")},
            )

    def answers(self) -> dict[int, bool]:
        return {q.pk: self.cleaned_data[f"q{q.pk}"] for q in self.questions}


def visit_day_label(day: dt.date) -> str:
    """A day as a person reads it, with its weekday: "2026년 12월 1일 (화요일)"."""
    return f"{date_format(day, 'DATE_FORMAT')} ({date_format(day, 'l')})"


class BookingForm(forms.Form):
    day = forms.DateField(label=_("Day of the visit"))

    def __init__(self, *args: Any, days: list[DayAvailability], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = []
        for option in days:
            label = _("%(day)s — %(free)d places free") % {
                "day": visit_day_label(option.day),
                "free": option.free,
            }
            if option.is_full:
                label = _("%(day)s — fully booked") % {"day": visit_day_label(option.day)}
            choices.append((option.day.isoformat(), label))
        self.fields["day"].widget = forms.Select(choices=choices)
        self.fields["day"].error_messages["required"] = _("Choose a day.")


class FindForm(forms.Form):
    code = forms.CharField(label=_("Participant code"), max_length=16, required=False)
    phone = forms.CharField(
        label=_("Mobile phone (exact)"), max_length=30, required=False, help_text=PHONE_HELP
    )
    email = forms.EmailField(label=_("E-mail address (exact)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [k for k in ("code", "phone", "email") if data.get(k)]
        if len(filled) != 1:
            raise forms.ValidationError(
                _("Fill in one of: participant code, mobile phone or e-mail address.")
            )
        if data.get("phone"):
            try:
                data["phone"] = vault.normalise_phone(data["phone"])
            except ValueError:
                self.add_error("phone", _("This is not a valid phone number."))
        return data


class ClaimForm(forms.Form):
    code = forms.CharField(
        label=_("Invitation code"),
        max_length=20,
        help_text=_("12 letters and digits, as on your letter, e.g. ABCD-EFGH-JK23."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    birth_date = _birth_date_field()


class ImportForm(forms.Form):
    site = LabelledChoiceField(label=_("Site"), queryset=Site.objects.none(), empty_label=None)
    file = forms.FileField(
        label=_("Referrals file (CSV)"),
        help_text=_("UTF-8 or CP949/EUC-KR; the first line names the columns."),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "site").queryset = sites

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.REFERRAL_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large; the limit is %(limit)d MB. Split it into parts.")
                % {"limit": settings.REFERRAL_IMPORT_MAX_BYTES // 1_000_000}
            )
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".txt")):
            raise forms.ValidationError(
                _("Upload a CSV file (ending in .csv). Save spreadsheets as “CSV UTF-8” first.")
            )
        return upload
