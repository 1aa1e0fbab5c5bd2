"""Web pages of the people side of enrollment: the volunteer's own pages (``me``) and the
coordinators' pages (``sites``). Dashboards live in ``enrollment.dashboards``."""
