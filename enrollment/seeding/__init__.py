"""Demo data and synthetic data of the enrollment app.

* ``demo``: the programme, its sites and cohorts, screening questions and the demo people of
  ``manage.py seed_demo`` (registered through ``EnrollmentConfig.demo_seed``).
* ``synthetic``: participants at scale (``manage.py seed_synthetic``) written with COPY; other
  apps add their own synthetic records by connecting to ``synthetic_participants_seeded``.
* ``_people`` (private): one synthetic participant at a time.
"""

from ._people import participant_code_for, reference_data_ensure, synthetic_email, synthetic_phone
from .demo import DEMO_VOLUNTEER_EMAIL, seed_people, seed_programme, seed_screening_questions
from .information import seed_information_pages
from .synthetic import SeedResult, synthetic_participants_seeded, synthetic_seed

__all__ = [
    "DEMO_VOLUNTEER_EMAIL",
    "SeedResult",
    "participant_code_for",
    "reference_data_ensure",
    "seed_information_pages",
    "seed_people",
    "seed_programme",
    "seed_screening_questions",
    "synthetic_email",
    "synthetic_participants_seeded",
    "synthetic_phone",
    "synthetic_seed",
]
