"""Demo and synthetic consent data.

- ``demo``: the consent forms and versions of ``make run``'s demo (``seed_consent_forms``).
- ``purposes``: the purposes of use the programme starts with (migration ``0002`` and the demo).
- ``ledgers``: synthetic consent ledgers that follow ``manage.py seed_synthetic``'s participants,
  written with COPY; ``synthetic``: the stories they tell.
"""

# Importing the package connects the synthetic ledgers to ``synthetic_participants_seeded``.
from .ledgers import ConsentSeedResult, consent_ledgers_seed

__all__ = ["ConsentSeedResult", "consent_ledgers_seed"]
