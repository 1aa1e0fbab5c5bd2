"""Forms of the consent pages: HTTP input only; the rules live in ``consent.services``."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models import SiteMembership
from portal.models import User
from portal.web import ErrorSummaryMixin

from .models import (
    ConsentVersion,
    RepresentativeRelation,
    SamplesFate,
    WithdrawalLevel,
    WithdrawalReason,
)
from .selectors.records import version_items, version_questions
from .services.artifacts import NOTE_MAX_LENGTH, PAPER_MAX_BYTES, SIGNATURE_MAX_BYTES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

YES_NO = [("yes", _("Yes, I agree")), ("no", _("No, I do not agree"))]
_DATA_URL_PREFIX = "data:image/png;base64,"


def decode_drawn_signature(value: str) -> bytes | None:
    """The PNG bytes of a canvas data URL, or None when nothing was drawn."""
    value = (value or "").strip()
    if not value:
        return None
    if not value.startswith(_DATA_URL_PREFIX):
        raise forms.ValidationError(_("The drawn signature could not be read; draw it again."))
    encoded = value[len(_DATA_URL_PREFIX) :]
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise forms.ValidationError(_("The drawn signature is too large; draw it again."))
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise forms.ValidationError(
            _("The drawn signature could not be read; draw it again.")
        ) from exc


def relation_field(label: StrOrPromise) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=[("", _("— choose —")), *RepresentativeRelation.choices],
        required=False,
    )


def note_field(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(label=label, max_length=NOTE_MAX_LENGTH, required=False)


class ChoicesMixin:
    """Adds one yes/no field per item (``item_<code>``) and one per question (``q_<id>``)."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def add_item_fields(self, version: ConsentVersion, *, only_optional: bool = False) -> None:
        self.item_rows = []
        for item in version_items(version):
            if only_optional and item.required:
                continue
            name = f"item_{item.code}"
            self.fields[name] = forms.ChoiceField(
                label=item.title,
                help_text=item.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer this item.")},
            )
            self.item_rows.append((item, name))

    def add_question_fields(self, version: ConsentVersion) -> None:
        self.question_rows = []
        for question in version_questions(version):
            name = f"q_{question.pk}"
            self.fields[name] = forms.TypedChoiceField(
                label=question.text,
                choices=[(str(i), text) for i, text in enumerate(question.choices)],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer this question.")},
            )
            self.question_rows.append((question, name))

    def item_fields(self) -> list[tuple[Any, Any]]:
        form = cast(forms.BaseForm, self)  # the mixin is only ever mixed into a form
        return [(item, form[name]) for item, name in self.item_rows]

    def question_fields(self) -> list[tuple[Any, Any]]:
        form = cast(forms.BaseForm, self)
        return [(q, form[name]) for q, name in self.question_rows]

    def choices(self) -> dict[str, bool]:
        return {item.code: self.cleaned_data[name] == "yes" for item, name in self.item_rows}

    def answers(self) -> dict[int, int]:
        return {question.pk: self.cleaned_data[name] for question, name in self.question_rows}


class SignForm(ErrorSummaryMixin, ChoicesMixin, forms.Form):
    typed_name = forms.CharField(
        label=_("Your full name, as registered"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I have read the consent form, I could ask questions, and I sign of my own free will."
        ),
        error_messages={"required": _("Please tick this box to sign.")},
    )
    drawn_signature = forms.CharField(required=False, widget=forms.HiddenInput)
    # The account's password, asked on the form itself: entering it is what confirms the
    # signature (checked by the view once everything else is in order; never shown again).
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("Entering the password you sign in with confirms your signature."),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "aria-describedby": "password-help"}
        ),
        error_messages={"required": _("Enter your password to confirm your signature.")},
    )

    def __init__(
        self, *args: Any, version: ConsentVersion, with_questions: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.add_item_fields(version)
        self.question_rows = []
        if with_questions:
            self.add_question_fields(version)
        # The order of the page, so the error summary lists problems as the person meets them.
        self.order_fields(
            [name for _item, name in self.item_rows]
            + [name for _question, name in self.question_rows]
            + ["typed_name", "drawn_signature", "confirm", "password"]
        )

    def clean_drawn_signature(self) -> bytes | None:
        return decode_drawn_signature(self.cleaned_data.get("drawn_signature", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for item, name in self.item_rows:
            if item.required and data.get(name) == "no":
                self.add_error(
                    name,
                    _(
                        "This item is needed to take part. If you do not agree, you do not "
                        "have to take part."
                    ),
                )
        for question, name in self.question_rows:
            if name in data and data[name] != question.correct_choice:
                message = question.explanation or _("That is not right; read the form again.")
                self.add_error(name, message)
        return data


class ChangeForm(ChoicesMixin, forms.Form):
    confirm = forms.BooleanField(
        label=_("I want these choices to apply from now on."),
        error_messages={"required": _("Please tick this box to confirm the change.")},
    )

    def __init__(
        self, *args: Any, version: ConsentVersion, current: dict[str, bool], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.add_item_fields(version, only_optional=True)
        for item, name in self.item_rows:
            self.fields[name].initial = "yes" if current.get(item.code) else "no"


class WithdrawForm(forms.Form):
    level = forms.ChoiceField(
        label=_("How far do you want to withdraw?"),
        choices=WithdrawalLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how far you want to withdraw.")},
    )
    samples_fate = forms.ChoiceField(
        label=_("If you choose “no further use”: what should happen to samples and data?"),
        choices=SamplesFate.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    confirm = forms.BooleanField(
        label=_("I have read what happens and I want to withdraw."),
        error_messages={"required": _("Please tick this box to confirm the withdrawal.")},
    )

    def __init__(self, *args: Any, levels: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if levels is not None:  # a withdrawal can only be widened: the stricter levels left
            field = self.fields["level"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(v, label) for v, label in WithdrawalLevel.choices if v in levels]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("level") == WithdrawalLevel.NO_FURTHER_USE and not data.get("samples_fate"):
            self.add_error(
                "samples_fate",
                _("Choose what should happen to the samples and data already collected."),
            )
        return data


class StaffWithdrawForm(WithdrawForm):
    signer_kind = forms.ChoiceField(
        label=_("Who asked to withdraw"),
        choices=[
            ("self", _("The participant")),
            ("legal_representative", _("A legal representative")),
        ],
        initial="self",
    )
    representative_relation = relation_field(_("Relationship of the legal representative"))
    representative_note = note_field(_("If “other”: the relationship, in their words"))
    reason = forms.ChoiceField(
        label=_("How the request was made"),
        choices=[("", _("— choose —")), *WithdrawalReason.choices],
        error_messages={"required": _("Choose how the withdrawal was asked for.")},
    )
    reason_note = note_field(_("If “other”: how the request was made"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("signer_kind") == "legal_representative" and not data.get(
            "representative_relation"
        ):
            self.add_error(
                "representative_relation", _("Choose how the representative is related.")
            )
        if data.get("reason") == WithdrawalReason.OTHER and not data.get("reason_note"):
            self.add_error("reason_note", _("Say how the withdrawal was asked for (“other”)."))
        return data


class InPersonMode:
    TABLET = "tablet"
    REPRESENTATIVE = "representative"
    PAPER = "paper"
    ALL = (TABLET, REPRESENTATIVE, PAPER)


class InPersonForm(ChoicesMixin, forms.Form):
    """Consent recorded by a coordinator: on a tablet, by a legal representative, or on paper."""

    typed_name = forms.CharField(
        label=_("Full name typed by the signer"), max_length=100, required=False
    )
    representative_relation = relation_field(
        _("Relationship of the legal representative to the participant")
    )
    representative_note = note_field(_("If “other”: the relationship, in the signer's words"))
    confirm = forms.BooleanField(
        label=_(
            "The signer read the form (or had it explained), could ask questions, and signs "
            "of their own free will."
        ),
        error_messages={"required": _("Please tick this box to record the signature.")},
    )
    drawn_signature = forms.CharField(required=False, widget=forms.HiddenInput)
    countersigned_by = forms.ModelChoiceField(
        label=_("Investigator who countersigns"), queryset=User.objects.none(), required=False
    )
    countersign_confirm = forms.BooleanField(
        label=_("As the investigator, I explained the study and countersign this consent."),
        required=False,
    )
    countersignature = forms.CharField(required=False, widget=forms.HiddenInput)
    witness_present = forms.BooleanField(
        label=_("An impartial witness is present (the signer cannot read the form)"),
        required=False,
    )
    witness_name = forms.CharField(
        label=_("Full name of the impartial witness"), max_length=100, required=False
    )
    witness_signature = forms.CharField(required=False, widget=forms.HiddenInput)
    witness_confirm = forms.BooleanField(
        label=_(
            "As the impartial witness, I saw the form read out and explained to the signer, who "
            "agreed of their own free will."
        ),
        required=False,
    )
    paper_form = forms.FileField(label=_("Scanned consent form (PDF, JPEG or PNG)"), required=False)
    signed_on = forms.DateTimeField(
        label=_("Date and time the paper form was signed"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(
        self, *args: Any, version: ConsentVersion, mode: str, site_id: int | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.version = version
        self.add_item_fields(version)
        self.question_rows = []
        if mode != InPersonMode.PAPER:
            self.add_question_fields(version)
        staff_ids = SiteMembership.objects.filter(site_id=site_id or 0).values_list(
            "user_id", flat=True
        )
        field = self.fields["countersigned_by"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=staff_ids, is_active=True).order_by("pk")

    def clean_drawn_signature(self) -> bytes | None:
        return decode_drawn_signature(self.cleaned_data.get("drawn_signature", ""))

    def clean_countersignature(self) -> bytes | None:
        return decode_drawn_signature(self.cleaned_data.get("countersignature", ""))

    def clean_witness_signature(self) -> bytes | None:
        return decode_drawn_signature(self.cleaned_data.get("witness_signature", ""))

    def _clean_witness(self, data: dict[str, Any]) -> None:
        if not data.get("witness_present"):
            return
        if not (data.get("witness_name") or "").strip():
            self.add_error("witness_name", _("Enter the impartial witness's full name."))
        if not data.get("witness_signature") and "witness_signature" not in self.errors:
            self.add_error(
                "witness_signature",
                _("The impartial witness must sign in the witness's signature area."),
            )
        if not data.get("witness_confirm"):
            self.add_error(
                "witness_confirm", _("The impartial witness must confirm what they saw.")
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.mode == InPersonMode.PAPER:
            paper = data.get("paper_form")
            if not paper:
                self.add_error("paper_form", _("Attach the scanned consent form."))
            elif paper.size > PAPER_MAX_BYTES:
                # Refused before the file is read into memory.
                self.add_error("paper_form", _("The scanned form is too large (at most 10 MB)."))
            signed_on = data.get("signed_on")
            if not signed_on:
                self.add_error("signed_on", _("Enter when the paper form was signed."))
            elif signed_on > timezone.now():
                self.add_error("signed_on", _("The date of signing cannot be in the future."))
        else:
            if not data.get("typed_name"):
                self.add_error("typed_name", _("The signer types their full name to sign."))
            if not data.get("countersigned_by"):
                self.add_error("countersigned_by", _("Choose the investigator who countersigns."))
            if not data.get("countersign_confirm"):
                self.add_error(
                    "countersign_confirm", _("The investigator must confirm the countersignature.")
                )
            self._clean_witness(data)
        if self.mode == InPersonMode.REPRESENTATIVE and not data.get("representative_relation"):
            self.add_error(
                "representative_relation", _("Choose how the representative is related.")
            )
        if data.get("representative_relation") == RepresentativeRelation.OTHER and not data.get(
            "representative_note"
        ):
            self.add_error(
                "representative_note",
                _("Say how the legal representative is related (“other”)."),
            )
        return data


class QualityCheckForm(forms.Form):
    signature_present = forms.BooleanField(label=_("A signature is present"), required=False)
    date_present = forms.BooleanField(
        label=_("The date of signing is present and plausible"), required=False
    )
    printed_name_present = forms.BooleanField(
        label=_("The printed name is present and matches the participant"), required=False
    )
    right_version = forms.BooleanField(
        label=_("It is the right version for the participant's language and age"), required=False
    )
    note = forms.CharField(
        label=_("Note (required when a point fails)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
