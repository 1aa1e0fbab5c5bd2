"""Forms of the custody pages: notes, shipments, fates and re-identification."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.forms.fields import LabelledChoiceField
from enrollment.models import Site

from .forms import DateTimeLocalInput
from .models import SampleFate, SampleNote


class NoteForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of note"), choices=SampleNote.Kind.choices)
    text = forms.CharField(
        label=_("Note"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Processing or storage only; never a name or other personal data."),
    )


class ManifestCreateForm(forms.Form):
    site = LabelledChoiceField(label=_("Site"), queryset=Site.objects.none(), empty_label=None)

    def __init__(self, *args: object, sites: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["site"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sites  # type: ignore[assignment]


class ManifestAddForm(forms.Form):
    barcode = forms.CharField(label=_("Tube barcode"), max_length=32)


class FateForm(forms.Form):
    fate = forms.ChoiceField(label=_("What was done"), choices=SampleFate.Fate.choices)
    done_at = forms.DateTimeField(label=_("When"), widget=DateTimeLocalInput())
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["done_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class ReidentificationForm(forms.Form):
    pseudonym = forms.CharField(label=_("Pseudonym"), max_length=32)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Why this person must be identified; a second data steward reads it."),
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=255, required=False)
