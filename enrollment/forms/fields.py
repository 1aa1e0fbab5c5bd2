"""Choices of sites, cohorts, phases and programmes, shown by their names in the active language.

A plain ``ModelChoiceField`` shows ``str(obj)``, which is the Korean name; these show
``obj.choice_label`` (the English name on English pages, where there is one).
"""

from __future__ import annotations

from typing import Any

from django import forms

__all__ = ["LabelledChoiceField", "LabelledMultipleChoiceField"]


class LabelledChoiceField(forms.ModelChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.choice_label)


class LabelledMultipleChoiceField(forms.ModelMultipleChoiceField[Any]):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.choice_label)
