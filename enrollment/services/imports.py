"""Bulk import of referrals (a CSV exported from a hospital system) into one site.

* All or nothing. The whole file is checked first (size, not CSV, encoding, required columns); a
  file-level problem raises ``ImportRefused`` with a plain message. Then every row is validated
  before anything is written; problems come back per line number and column, and one invalid row
  means no row is imported (fix the file and upload it again). The rows are then written in one
  transaction: a failure half-way leaves nothing behind either.
* Recorded and audited either way: a ``ReferralImport`` row (outcome ``imported`` or ``refused``
  with the reason's code) and a ``referrals.imported`` audit row with the same outcome.
* Idempotent: a row whose reference from this site is already enrolled is counted, not added
  again, so uploading the same file twice creates nothing the second time. Duplicates are (source
  site, reference) whatever the participant's current site: a patient who moved site is not
  enrolled again when their first site re-imports the referral. A new row sharing a phone, an
  e-mail, or a name and birth date with someone enrolled is flagged for the coordinator.
* Fast: rows are inserted in batches (participants, funnel steps and aggregates, vault rows each
  with one COPY per batch). Batches are checked, sealed and written under a lock on the site row,
  so two imports into the same site cannot both add the same reference. Sealing runs in this
  thread: a sealing thread beside the writer cost more (the two fight over the interpreter lock
  at every database round trip) than the overlap saved.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.audit import audit_record
from portal.models import User

from .. import vault
from ..audit import Action
from ..models import (
    Cohort,
    DuplicateFlag,
    DuplicateMatch,
    Participant,
    ParticipantKind,
    ParticipantStatus,
    PersonalData,
    ReferralImport,
    Sex,
    Site,
)
from ..vault import Profile
from . import _bulk as bulk
from . import funnel
from .people import participant_code_new

BATCH_SIZE = 1000
MAX_ERRORS_KEPT = 1000

# Accepted column names (lower-case) -> field. English names first; Korean ones as exported by
# hospital systems.
COLUMNS: dict[str, str] = {
    "external_ref": "external_ref",
    "site_reference": "external_ref",
    "참조번호": "external_ref",
    "cohort": "cohort",
    "코호트": "cohort",
    "name": "name",
    "이름": "name",
    "성명": "name",
    "latin_name": "latin_name",
    "영문이름": "latin_name",
    "birth_date": "birth_date",
    "생년월일": "birth_date",
    "sex": "sex",
    "성별": "sex",
    "phone": "phone",
    "mobile": "phone",
    "휴대전화": "phone",
    "email": "email",
    "e-mail": "email",
    "이메일": "email",
    "address": "address",
    "주소": "address",
    "referring_clinician": "referring_clinician",
    "의뢰의": "referring_clinician",
    "guardian_name": "guardian_name",
    "보호자이름": "guardian_name",
    "guardian_phone": "guardian_phone",
    "보호자휴대전화": "guardian_phone",
    "guardian_relationship": "guardian_relationship",
    "보호자관계": "guardian_relationship",
    "legal_representative": "legal_representative",
    "법정대리인": "legal_representative",
}
REQUIRED = ("external_ref", "cohort", "name", "birth_date")
SEX_VALUES = {
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "여": Sex.FEMALE,
    "여자": Sex.FEMALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "남": Sex.MALE,
    "남자": Sex.MALE,
    "other": Sex.OTHER,
    "기타": Sex.OTHER,
    "": Sex.UNKNOWN,
    "unknown": Sex.UNKNOWN,
}
YES = {"y", "yes", "true", "1", "예", "o"}
NO = {"", "n", "no", "false", "0", "아니오", "x"}
YES_OR_NO = YES | NO
# Every field empty: each record starts as a copy of this.
EMPTY_RECORD = dict.fromkeys(COLUMNS.values(), "")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y.%m.%d", "%Y/%m/%d")


class ImportRefused(ValidationError):
    """The file as a whole cannot be imported; nothing was stored."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return gettext("Line %(line)d, column “%(column)s”: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportResult:
    rows_total: int = 0
    created: int = 0
    existing: int = 0
    possible_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    invalid_rows: int = 0
    record: ReferralImport | None = None


@dataclass
class _Row:
    line: int
    external_ref: str
    cohort: Cohort
    profile: Profile
    sex: str
    referring_clinician: str
    is_minor: bool
    represented: bool


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRefused(
            _(
                "This is a spreadsheet workbook, not a CSV file. Save it as “CSV UTF-8” and upload that."
            ),
            code="not_csv",
        )
    if b"\x00" in data[:4096]:
        raise ImportRefused(_("This is not a CSV text file."), code="not_csv")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(
        _(
            "The file's characters could not be read. Save it as CSV in UTF-8 (or in the Korean "
            "Windows encoding CP949/EUC-KR) and upload it again."
        ),
        code="encoding",
    )


def _delimiter(first_line: str) -> str:
    return max(",;\t", key=first_line.count)


def _records(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number where the record starts, {field: value}) for each data row."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused(_("The file is empty."), code="empty") from None
    except csv.Error as exc:
        raise ImportRefused(_("The first line is not a CSV header."), code="not_csv") from exc
    fields = [COLUMNS.get(name.strip().lower(), "") for name in header]
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        raise ImportRefused(
            _(
                "The first line must name the columns. Missing: %(missing)s. "
                "Required columns: %(required)s."
            )
            % {"missing": ", ".join(missing), "required": ", ".join(REQUIRED)},
            code="columns",
        )
    line = reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused(
                _("Line %(line)d is not valid CSV (%(problem)s).")
                % {"line": start, "problem": exc},
                code="not_csv",
            ) from exc
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        row = EMPTY_RECORD.copy()
        for name, value in zip(fields, values, strict=False):
            if name:
                row[name] = value.strip()
        yield start, row


def _parse_date(value: str) -> dt.date | None:
    if len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value)  # the common form, without strptime's cost
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    return None


def _validate(
    line: int, raw: dict[str, str], cohorts: dict[str, Cohort], today: dt.date
) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []

    def error(column: str, message: object) -> None:
        errors.append(RowError(line, column, str(message)))

    for column, value in raw.items():
        if value and vault.has_hidden_characters(value):
            error(column, _("contains invisible or control characters; type it again."))
    for column in REQUIRED:
        if not raw[column]:
            error(column, _("this column is empty; it is required."))
    if len(raw["external_ref"]) > 64:
        error("external_ref", _("at most 64 characters."))
    cohort = cohorts.get(raw["cohort"].lower()) if raw["cohort"] else None
    if raw["cohort"] and cohort is None:
        error(
            "cohort",
            _("unknown cohort “%(value)s”; use one of: %(codes)s.")
            % {"value": raw["cohort"], "codes": ", ".join(sorted(cohorts))},
        )
    birth_date = _parse_date(raw["birth_date"]) if raw["birth_date"] else None
    if raw["birth_date"] and birth_date is None:
        error("birth_date", _("not a date; write it as 1985-03-14."))
    elif birth_date is not None and not (dt.date(1900, 1, 1) <= birth_date <= today):
        error("birth_date", _("the date is in the future or before 1900."))
    sex = SEX_VALUES.get(raw["sex"].lower())
    if sex is None:
        error("sex", _("write F or M (or 여 / 남), or leave it empty."))
    phones: dict[str, str] = {}
    for column in ("phone", "guardian_phone"):
        if raw[column]:
            try:
                phones[column] = vault.normalise_phone(raw[column])
            except ValueError:
                error(column, _("not a valid Korean mobile phone number (e.g. 010-1234-5678)."))
    email = vault.normalise_email(raw["email"])
    if email and ("@" not in email or "." not in email.rsplit("@", 1)[-1] or " " in email):
        error("email", _("not a valid e-mail address."))
    represented_raw = raw["legal_representative"].lower()
    if represented_raw not in YES_OR_NO:
        error("legal_representative", _("write yes or no."))
    represented = represented_raw in YES
    is_minor = False
    if birth_date is not None:
        age = (
            today.year
            - birth_date.year
            - ((today.month, today.day) < (birth_date.month, birth_date.day))
        )
        is_minor = age < settings.LEGAL_AGE
    if (is_minor or represented) and not (
        raw["guardian_name"] and raw["guardian_phone"] and raw["guardian_relationship"]
    ):
        error(
            "guardian_name",
            _(
                "a minor or represented patient needs guardian_name, guardian_phone and guardian_relationship."
            ),
        )
    if not (raw["phone"] or raw["email"] or raw["guardian_phone"]):
        error("phone", _("give a mobile phone number or an e-mail address to reach the patient."))
    if errors or cohort is None or birth_date is None or sex is None:
        return None, errors
    profile = Profile(
        name=raw["name"],
        latin_name=raw["latin_name"],
        birth_date=birth_date,
        phone=phones.get("phone", ""),
        email=email,
        address=raw["address"],
        guardian_name=raw["guardian_name"],
        guardian_phone=phones.get("guardian_phone", ""),
        guardian_relationship=raw["guardian_relationship"],
    )
    return (
        _Row(
            line=line,
            external_ref=raw["external_ref"],
            cohort=cohort,
            profile=profile,
            sex=sex,
            referring_clinician=raw["referring_clinician"][:200],
            is_minor=is_minor,
            represented=represented,
        ),
        [],
    )


def referrals_import(
    *, site: Site, by: User | None, data: bytes, max_bytes: int | None = None
) -> ImportResult:
    """Import a referrals CSV into ``site``. See the module docstring for the rules."""
    result = ImportResult()
    try:
        with transaction.atomic():
            _import(site=site, by=by, data=data, max_bytes=max_bytes, result=result)
    except ImportRefused as exc:
        # Nothing written stays; the attempt is still recorded and audited.
        result.created = result.existing = result.possible_duplicates = 0
        _record(site=site, by=by, data=data, result=result, refusal=exc.code or "refused")
        raise
    _record(
        site=site,
        by=by,
        data=data,
        result=result,
        refusal="invalid_rows" if result.invalid_rows else "",
    )
    return result


def _record(
    *, site: Site, by: User | None, data: bytes, result: ImportResult, refusal: str
) -> None:
    outcome = ReferralImport.Outcome.REFUSED if refusal else ReferralImport.Outcome.IMPORTED
    result.record = ReferralImport.objects.create(
        site=site,
        uploaded_by=by,
        file_sha256=hashlib.sha256(data).hexdigest(),
        rows_total=result.rows_total,
        rows_created=result.created,
        rows_existing=result.existing,
        rows_invalid=result.invalid_rows,
        outcome=outcome,
        refusal=refusal,
    )
    audit_record(
        action=Action.REFERRALS_IMPORTED,
        actor=by,
        obj=result.record,
        outcome="ok" if not refusal else "refused",
        details={
            "created": result.created,
            "existing": result.existing,
            "invalid": result.invalid_rows,
            "refusal": refusal,
        },
    )


def _import(
    *, site: Site, by: User | None, data: bytes, max_bytes: int | None, result: ImportResult
) -> None:
    limit = settings.REFERRAL_IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise ImportRefused(
            _(
                "The file is too large (%(size)d MB); the limit is %(limit)d MB. Split it into parts."
            )
            % {"size": -(-len(data) // 1_000_000), "limit": limit // 1_000_000},
            code="too_large",
        )
    text = _decode(data)
    cohorts = {c.code.lower(): c for c in Cohort.objects.all()}
    today = timezone.localdate()
    seen_refs: set[str] = set()
    seen_indexes: dict[str, int] = {}
    rows: list[_Row] = []
    for line, raw in _records(text):
        result.rows_total += 1
        row, errors = _validate(line, raw, cohorts, today)
        if row is not None and row.external_ref in seen_refs:
            errors = [
                RowError(
                    line,
                    "external_ref",
                    str(_("this site reference appears earlier in the file.")),
                )
            ]
            row = None
        if row is None:
            result.invalid_rows += 1
            if len(result.errors) < MAX_ERRORS_KEPT:
                result.errors.extend(errors)
            continue
        seen_refs.add(row.external_ref)
        if not result.invalid_rows:
            rows.append(row)  # once a row is invalid nothing is written: stop keeping rows
    if result.invalid_rows:
        return
    # Inside the caller's transaction: all batches commit together or not at all.
    for start in range(0, len(rows), BATCH_SIZE):
        _import_batch(
            site=site,
            by=by,
            rows=rows[start : start + BATCH_SIZE],
            result=result,
            seen_indexes=seen_indexes,
        )


def _seal(rows: list[_Row], ids: list[int]) -> list[dict[str, str]]:
    return [
        vault.personal_data_columns(participant_id=pid, profile=row.profile)
        for row, pid in zip(rows, ids, strict=True)
    ]


def _import_batch(
    *,
    site: Site,
    by: User | None,
    rows: list[_Row],
    result: ImportResult,
    seen_indexes: dict[str, int],
) -> None:
    for _attempt in range(3):
        indexes = dict(seen_indexes)
        try:
            with transaction.atomic():
                created, existing, flagged = _insert_batch(
                    site=site, by=by, rows=rows, seen_indexes=indexes
                )
        except IntegrityError as exc:
            if "participant_unique_source_reference" in str(exc):
                raise ImportRefused(
                    _(
                        "Another enrollment at this site changed the same records at the same "
                        "time. Upload the file again: rows already imported will be skipped."
                    ),
                    code="conflict",
                ) from exc
            continue  # a random participant code collided: draw new codes and try again
        seen_indexes.update(indexes)
        result.created += created
        result.existing += existing
        result.possible_duplicates += flagged
        return
    raise RuntimeError("could not draw free participant codes for an import batch")


def _insert_batch(
    *, site: Site, by: User | None, rows: list[_Row], seen_indexes: dict[str, int]
) -> tuple[int, int, int]:
    """Insert the rows not yet enrolled; returns (created, already there, flagged duplicates).

    Under the site lock, so that no other import or enrollment at the site adds one of the
    references between the check and the insert. Only the rows to insert are sealed.
    """
    Site.objects.select_for_update().get(pk=site.pk)
    existing = set(
        bulk.values_matching(
            Participant,
            "external_ref",
            [r.external_ref for r in rows],
            not_empty=True,
            source_site_id=site.pk,
        )
    )
    kept = [r for r in rows if r.external_ref not in existing]
    if not kept:
        return 0, len(rows), 0
    # Ids are drawn first where the database allows it, because each sealed value's associated
    # data names its row; elsewhere (SQLite) the rows are sealed once inserted.
    ids = bulk.reserve_ids(Participant, len(kept))
    sealed = _seal(kept, ids) if ids is not None else None
    now = timezone.now()
    participants = [
        _participant(
            id=ids[i] if ids is not None else None,
            code=participant_code_new(),
            kind=ParticipantKind.PATIENT,
            user_id=None,
            site_id=site.pk,
            source_site_id=site.pk,
            cohort_id=row.cohort.pk,
            status=ParticipantStatus.REGISTERED,
            birth_year=row.profile.birth_date.year,
            sex=row.sex,
            external_ref=row.external_ref,
            referring_clinician=row.referring_clinician,
            is_minor=row.is_minor,
            has_legal_representative=row.represented,
            registered_at=now,
            status_changed_at=now,
        )
        for i, row in enumerate(kept)
    ]
    bulk.insert_models(participants)
    funnel.participants_record_created_bulk(participants=participants, actor=by)
    if sealed is None:
        sealed = _seal(kept, [p.pk for p in participants])
    vault_rows: list[dict[str, Any]] = [
        {"participant_id": p.pk, "updated_at": now, **columns}
        for p, columns in zip(participants, sealed, strict=True)
    ]
    bulk.insert_rows(PersonalData, vault_rows)
    flagged = _flag_duplicates(vault_rows, seen_indexes)
    return len(participants), len(rows) - len(kept), flagged


_PARTICIPANT_ATTNAMES = tuple(f.attname for f in Participant._meta.concrete_fields)


def _participant(**values: Any) -> Participant:
    """A new ``Participant`` from every column value, foreign keys by id. Positional arguments in
    column order take Django's quick path; keyword arguments (and model instances for foreign
    keys) cost several times more per row, which a 20,000-row import notices."""
    args = [values.pop(name) for name in _PARTICIPANT_ATTNAMES]
    if values:
        raise TypeError(f"not a participant column: {', '.join(values)}")
    return Participant(*args)


def _flag_duplicates(rows: list[dict[str, Any]], seen_indexes: dict[str, int]) -> int:
    """Flag new rows sharing a phone, an e-mail, or a name and birth date with an earlier record
    (in the database or the file), for the coordinator to look at."""
    pids = {row["participant_id"] for row in rows}
    lookups = {
        DuplicateMatch.EMAIL: ("email_index", {r["email_index"] for r in rows if r["email_index"]}),
        DuplicateMatch.PHONE: ("phone_index", {r["phone_index"] for r in rows if r["phone_index"]}),
        DuplicateMatch.NAME_BIRTH: (
            "name_birth_index",
            {r["name_birth_index"] for r in rows if r["name_birth_index"]},
        ),
    }
    flags: list[DuplicateFlag] = []
    for kind, (column, digests) in lookups.items():
        earlier: dict[str, int] = {}
        for digest, pid in sorted(
            bulk.values_matching(PersonalData, column, list(digests), also="participant_id"),
            key=lambda pair: pair[1],
        ):
            if pid not in pids:
                earlier.setdefault(digest, pid)
        for row in rows:
            digest = row[column]
            if not digest:
                continue
            key = f"{kind}:{digest}"
            first = earlier.get(digest) or seen_indexes.get(key)
            if first is not None and first != row["participant_id"]:
                flags.append(
                    DuplicateFlag(
                        participant_id=row["participant_id"], matches_id=first, matched_on=kind
                    )
                )
            seen_indexes.setdefault(key, row["participant_id"])
    DuplicateFlag.objects.bulk_create(flags, ignore_conflicts=True)
    return len({f.participant_id for f in flags})
