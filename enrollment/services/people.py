"""Creating participants: volunteers who register online, patients enrolled by their site."""

from __future__ import annotations

import secrets
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.audit import audit_record
from portal.korean import particle_format
from portal.models import User
from portal.programme import programme_name
from portal.roles import Role, grant_role, is_staff_member, site_ids_for

from .. import messaging, vault
from ..audit import Action
from ..models import Cohort, Participant, ParticipantKind, Sex, Site
from ..vault import Profile
from . import funnel

# Unambiguous when read aloud or printed: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_RANDOM_LENGTH = 8


class DuplicateRegistration(ValidationError):
    """Someone is already registered with this phone or e-mail. Nothing was stored."""

    def __init__(self, matches: list[tuple[int, str]]) -> None:
        self.matches = matches
        super().__init__(
            _(
                "Someone is already registered with this mobile phone number or e-mail address. "
                "If that is you, please sign in with your existing account, or ask your hospital "
                "for an invitation code. If you are a different person, confirm below and a "
                "coordinator will check the registration."
            ),
            code="duplicate",
        )


def _check_character(body: str) -> str:
    """A Luhn mod N check character, so that a mistyped code is caught before any lookup."""
    n = len(CODE_ALPHABET)
    factor, total = 2, 0
    for char in reversed(body):
        addend = factor * CODE_ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return CODE_ALPHABET[(n - total % n) % n]


def participant_code_new() -> str:
    """A random participant code such as ``P7K3M9QXA`` (prefix, 8 random, 1 check character).

    Random rather than derived from anything personal; the unique constraint catches the
    (1 in 850 billion) collision.
    """
    # One draw from the system's random source, written in base 31 (imports draw thousands).
    number = secrets.randbelow(len(CODE_ALPHABET) ** CODE_RANDOM_LENGTH)
    digits = []
    for _position in range(CODE_RANDOM_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    body = "".join(digits)
    return f"P{body}{_check_character(body)}"


def participant_code_is_well_formed(code: str) -> bool:
    code = code.strip().upper()
    if len(code) != CODE_RANDOM_LENGTH + 2 or not code.startswith("P"):
        return False
    body, check = code[1:-1], code[-1]
    return all(c in CODE_ALPHABET for c in body) and _check_character(body) == check


def _age_today(profile: Profile) -> int:
    return profile.age_on(timezone.localdate())


def _check_profile(profile: Profile) -> Profile:
    if profile.hidden_characters():
        raise ValidationError(
            _(
                "Some details contain invisible or control characters (for example a text "
                "direction mark or a zero-width space). Please type them again."
            ),
            code="hidden_characters",
        )
    try:
        normalised = profile.normalised()
    except ValueError as exc:
        raise ValidationError(
            _("Enter a valid Korean mobile phone number, for example 010-1234-5678."),
            code="phone",
        ) from exc
    if not normalised.name:
        raise ValidationError(_("Enter the name."), code="name")
    if normalised.birth_date > timezone.localdate():
        raise ValidationError(_("The birth date cannot be in the future."), code="birth_date")
    return normalised


def _save_participant(participant: Participant) -> Participant:
    """Insert with a fresh random code, retrying on the rare code collision."""
    for _attempt in range(5):
        participant.code = participant_code_new()
        try:
            with transaction.atomic():
                participant.save(force_insert=True)
            return participant
        except IntegrityError as exc:
            if "code" not in str(exc):
                raise
    raise RuntimeError("could not draw a free participant code")


@transaction.atomic
def participant_register_volunteer(
    *,
    user: User,
    profile: Profile,
    sex: str,
    cohort: Cohort,
    site: Site,
) -> Participant:
    """Register a signed-in volunteer: participant (registered) plus their vault row.

    The answer never tells whether the phone or e-mail is already known: that would let anyone
    with an account find out who takes part (in rare-disease cohorts, who is ill). A registration
    matching earlier ones is stored and flagged for a coordinator, and after the commit each
    earlier participant is told through their own contact details (a task, by id). Records are
    never merged. Staff accounts cannot become participants.
    """
    if is_staff_member(user):
        raise ValidationError(_("Staff accounts cannot register as participants."), code="staff")
    if Participant.objects.filter(user=user).exists():
        raise ValidationError(_("You are already registered."), code="already_registered")
    if not cohort.open_for_volunteers:
        raise ValidationError(_("This cohort is not open for online registration."), code="cohort")
    if not site.is_active:
        raise ValidationError(_("This site does not take visits at the moment."), code="site")
    if sex not in Sex.values:
        raise ValidationError(_("Choose a sex."), code="sex")
    profile = _check_profile(profile)
    duplicates = vault.duplicates_of(profile)
    participant = _save_participant(
        Participant(
            kind=ParticipantKind.VOLUNTEER,
            user=user,
            site=site,
            cohort=cohort,
            birth_year=profile.birth_date.year,
            sex=sex,
            registered_at=timezone.now(),
            status_changed_at=timezone.now(),
        )
    )
    funnel.participant_record_created(participant=participant, actor=user)
    vault.personal_data_write(participant=participant, profile=profile)
    vault.duplicate_flags_record(participant=participant, matches=duplicates)
    grant_role(user, Role.PARTICIPANT)
    earlier = sorted({other_id for other_id, _kind in duplicates if other_id != participant.pk})
    if earlier:
        from ..tasks import registration_attempt_notice_send

        for other_id in earlier:
            transaction.on_commit(partial(registration_attempt_notice_send.delay, other_id))
    return participant


def registration_attempt_notice_deliver(*, participant_id: int) -> bool:
    """Tell a participant, through their own e-mail and phone, that their details were used to
    register again. True if a message went out."""
    participant = Participant.objects.filter(pk=participant_id).first()
    if participant is None:
        return False
    profile = vault.profile_for_participant(participant)
    if profile is None:
        return False
    sent = False
    with translation.override("ko"):
        context = {"name": profile.guardian_name or profile.name, "site_url": settings.SITE_URL}
        if profile.email:
            body = render_to_string("enrollment/messages/registration_attempt.txt", context)
            send_mail(
                particle_format(
                    _("Your details were used to register for the %(programme)s"),
                    {"programme": programme_name()},
                ),
                body.strip(),
                None,
                [profile.email],
            )
            sent = True
        if profile.contact_phone:
            text = render_to_string("enrollment/messages/registration_attempt_text.txt", context)
            messaging.text_send(to_phone=profile.contact_phone, body=text.strip())
            sent = True
    return sent


@transaction.atomic
def participant_profile_update(*, participant: Participant, profile: Profile) -> Participant:
    """A participant corrects their own profile. Birth year and flags follow the vault."""
    profile = _check_profile(profile)
    vault.personal_data_write(participant=participant, profile=profile)
    vault.duplicate_flags_record(
        participant=participant,
        matches=vault.duplicates_of(profile, exclude_participant_id=participant.pk),
    )
    if participant.birth_year != profile.birth_date.year:
        # Birth year feeds the age-band aggregates; a correction is rare and kept simple.
        participant.birth_year = profile.birth_date.year
        participant.save(update_fields=["birth_year"])
    return participant


def _check_representation(*, profile: Profile, is_minor: bool, represented: bool) -> None:
    if (is_minor or represented) and not (
        profile.guardian_name and profile.guardian_phone and profile.guardian_relationship
    ):
        raise ValidationError(
            _(
                "A minor, or a patient who cannot consent, needs a guardian or legal "
                "representative: enter their name, mobile phone and relationship."
            ),
            code="guardian",
        )
    if not (profile.phone or profile.guardian_phone or profile.email):
        raise ValidationError(
            _("Enter at least a mobile phone number or an e-mail address to reach the patient."),
            code="contact",
        )


@transaction.atomic
def participant_enroll_patient(
    *,
    by: User,
    site: Site,
    cohort: Cohort,
    profile: Profile,
    sex: str,
    external_ref: str = "",
    referring_clinician: str = "",
    has_legal_representative: bool = False,
    confirm_not_duplicate: bool = False,
) -> Participant:
    """A coordinator enrolls a patient at one of their sites.

    Under the legal age the patient is enrolled as a minor, through a guardian (required), and
    will be asked to consent for themselves when they come of age.
    """
    visible = site_ids_for(by)
    if visible is not None and site.pk not in visible:
        raise ValidationError(_("You can only enroll patients at your own sites."), code="site")
    sex = sex if sex in Sex.values else Sex.UNKNOWN
    profile = _check_profile(profile)
    is_minor = _age_today(profile) < settings.LEGAL_AGE
    _check_representation(profile=profile, is_minor=is_minor, represented=has_legal_representative)
    external_ref = external_ref.strip()
    if (
        external_ref
        and Participant.objects.filter(source_site=site, external_ref=external_ref).exists()
    ):
        raise ValidationError(
            _("A participant with this site reference is already enrolled at this site."),
            code="external_ref",
        )
    duplicates = vault.duplicates_of(profile)
    if duplicates and not confirm_not_duplicate:
        raise DuplicateRegistration(duplicates)
    participant = _save_participant(
        Participant(
            kind=ParticipantKind.PATIENT,
            site=site,
            source_site=site if external_ref else None,
            cohort=cohort,
            birth_year=profile.birth_date.year,
            sex=sex,
            external_ref=external_ref,
            referring_clinician=referring_clinician.strip(),
            is_minor=is_minor,
            has_legal_representative=has_legal_representative,
            registered_at=timezone.now(),
            status_changed_at=timezone.now(),
        )
    )
    funnel.participant_record_created(participant=participant, actor=by)
    vault.personal_data_write(participant=participant, profile=profile)
    vault.duplicate_flags_record(participant=participant, matches=duplicates)
    audit_record(action=Action.PARTICIPANT_ENROLLED, actor=by, obj=participant)
    return participant
