"""Enrollment forms: ``people`` (volunteers, patients, coordinators' searches and imports) and
``programmes`` (programmes, phases, targets, sites and cohorts)."""

from .people import (
    BookingForm,
    ClaimForm,
    FindForm,
    ImportForm,
    PatientForm,
    ProfileEditForm,
    ScreeningForm,
    VolunteerForm,
)
from .programmes import SiteClosureForm

__all__ = [
    "BookingForm",
    "ClaimForm",
    "FindForm",
    "ImportForm",
    "PatientForm",
    "ProfileEditForm",
    "ScreeningForm",
    "SiteClosureForm",
    "VolunteerForm",
]
