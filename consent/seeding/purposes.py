"""The purposes of use the programme starts with. The admin can change them afterwards.

The same list seeds the database (migration ``0002``) and the demo; seeding never overwrites a
purpose the admin already has, so edits survive a re-run. Names are stored in English and marked
for translation here, so pages show the starting purposes in Korean (``gettext(purpose.name)``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

STARTING_PURPOSES: list[dict[str, Any]] = [
    {
        "code": "general_research",
        "name": gettext_noop("General health research with data"),
        "required_items": ["data_sharing"],
        "duo_code": "DUO:0000042",
        "activity": "use",
    },
    {
        "code": "biobank_sample_use",
        "name": gettext_noop("Research use of stored samples"),
        "required_items": ["sample_storage", "data_sharing"],
        "duo_code": "DUO:0000042",
        "activity": "use",
    },
    {
        "code": "genomic_research",
        "name": gettext_noop("Genomic research"),
        "required_items": ["data_sharing", "genomic_analysis"],
        "duo_code": "DUO:0000016",
        "activity": "use",
    },
    {
        "code": "ehr_linked_research",
        "name": gettext_noop("Research linked with medical records"),
        "required_items": ["data_sharing", "ehr_linkage"],
        "duo_code": "DUO:0000042",
        "activity": "use",
    },
    {
        "code": "commercial_research",
        "name": gettext_noop("Research by commercial organisations"),
        "required_items": ["data_sharing", "commercial_use", "third_party_provision"],
        "duo_code": "",
        "activity": "use",
    },
    {
        "code": "overseas_research",
        "name": gettext_noop("Research by partners abroad"),
        "required_items": ["data_sharing", "overseas_transfer", "third_party_provision"],
        "duo_code": "",
        "activity": "use",
    },
    {
        "code": "recontact_new_study",
        "name": gettext_noop("Invitation to a new study"),
        "required_items": ["recontact"],
        "duo_code": "",
        "activity": "contact",
    },
    {
        "code": "return_of_results",
        "name": gettext_noop("Returning individual results"),
        "required_items": ["return_of_results"],
        "duo_code": "",
        "activity": "contact",
    },
    {
        "code": "follow_up_collection",
        "name": gettext_noop("Follow-up sample collection"),
        "required_items": ["sample_storage"],
        "duo_code": "",
        "activity": "collection",
    },
]


def purposes_seed(purpose_model: Any) -> int:
    """Create the starting purposes that do not exist yet; returns how many were created."""
    existing = set(purpose_model.objects.values_list("code", flat=True))
    missing = [purpose_model(**p) for p in STARTING_PURPOSES if p["code"] not in existing]
    purpose_model.objects.bulk_create(missing)
    return len(missing)
