"""Consent pages, thin: form -> service or selector -> template.

- ``me``: the participant's own consent (sign, my consent, change, withdraw, receipts).
- ``site``: coordinators (in-person consent, withdrawal on a participant's behalf, quality check).
- ``staff``: version activation and re-consent campaigns.
- ``oversight``: ledger verification runs, for ethics reviewers, managers and admins.
"""
