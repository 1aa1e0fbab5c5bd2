"""Every read of consent data for pages, the API and reports (services write; these only read).

- ``records``: versions in force, a version's items and questions, a participant's history and
  state, the coordinators' worklists.
- ``checks``: "may participant P's data be used for purpose X now / as of T?", one or in bulk.
- ``fhir``: a participant's consent as a FHIR R4 ``Consent`` resource.
- ``activation``: which older versions differ from a new one and who would have to re-consent.
- ``impact``: the impact of activating a version, shown before anyone confirms it.
- ``campaigns``: re-consent campaigns and their progress per site.
"""
