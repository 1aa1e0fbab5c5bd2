from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import SampleType


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)  # type: ignore[arg-type]


class SampleForm(forms.Form):
    participant_code = forms.CharField(label=_("Participant code"), max_length=16)
    barcode = forms.CharField(label=_("Tube barcode"), max_length=32)
    sample_type = forms.ChoiceField(label=_("Sample type"), choices=SampleType.choices)
    collected_at = forms.DateTimeField(label=_("Collected at"), widget=DateTimeLocalInput())
    volume_ml = forms.DecimalField(
        label=_("Volume (ml)"), max_digits=6, decimal_places=2, min_value=0.01
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["collected_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        self.fields["barcode"].help_text = _("For example %(example)s") % {
            "example": settings.SAMPLE_BARCODE_EXAMPLE
        }

    def clean_participant_code(self) -> str:
        return self.cleaned_data["participant_code"].strip().upper()
