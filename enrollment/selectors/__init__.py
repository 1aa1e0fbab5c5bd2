"""Enrollment reads for pages, API and reports, one module per topic.

``people``: the volunteer's and coordinators' pages (scoped, bounded lists); ``dashboards``: the
national and site figures, read only from the pre-aggregated funnel tables.
"""

from .dashboards import Figures, Forecast, Progress, dashboard_figures
from .people import (
    WORKLIST_LIMIT,
    StatusStep,
    duplicate_flags_marked,
    duplicates_cross_site_open,
    duplicates_open,
    invitations_unclaimed,
    participant_headline,
    participant_of_user,
    participant_progress,
    participant_visits,
    screening_latest,
    sites_of,
    visit_current,
    visits_between,
    visits_today,
)

__all__ = [
    "WORKLIST_LIMIT",
    "Figures",
    "Forecast",
    "Progress",
    "StatusStep",
    "dashboard_figures",
    "duplicate_flags_marked",
    "duplicates_cross_site_open",
    "duplicates_open",
    "invitations_unclaimed",
    "participant_headline",
    "participant_of_user",
    "participant_progress",
    "participant_visits",
    "screening_latest",
    "sites_of",
    "visit_current",
    "visits_between",
    "visits_today",
]
