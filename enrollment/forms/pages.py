"""The information-page editor: Korean and English Markdown; the rules live in the service."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class InformationPageForm(forms.Form):
    title_ko = forms.CharField(label=_("Title (Korean)"), max_length=200)
    body_markdown_ko = forms.CharField(
        label=_("Text (Korean, Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=40_000,
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    body_markdown_en = forms.CharField(
        label=_("Text (English, Markdown)"),
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=40_000,
        required=False,
    )
    note = forms.CharField(
        label=_("What changed"),
        max_length=300,
        required=False,
        help_text=_("A line for the page's history, e.g. “Opening hours of Busan updated”."),
    )
