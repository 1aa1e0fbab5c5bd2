"""Enrollment web pages (thin: form -> service or selector -> template), one module per audience.

``me``: the volunteer's own pages; ``sites``: coordinators' worklist, enrollment, screening,
imports and duplicates; ``dashboards``: national and site dashboards and their CSV downloads
(``charts`` and ``tables`` shape the selectors' figures for the templates); ``programmes``:
programmes, phases, targets, sites and cohorts for programme managers. Routes in
``enrollment.urls``.
"""
