"""Demo consent forms: the programme's main consent in Korean and English (idempotent).

The texts follow the structure the Bioethics and Safety Act asks of a consent for human-derived
material (purpose, what is collected, retention period, provision to third parties, what happens on
withdrawal, privacy, contact) and are written through the same services as real versions: a draft,
approved with an IRB number (which hashes and freezes it), then activated.
"""

from __future__ import annotations

import datetime as dt

from portal.models import User
from portal.programme import programme_name

from ..models import ConsentForm, ConsentFormKind, ConsentVersion
from ..services import ItemSpec, QuestionSpec, version_approve, version_create

FORM_CODE = "bdd-main"
LABEL = "1.0"
IRB_NUMBER = "BDD-IRB-2026-0001"
IRB_DATE = dt.date(2026, 1, 15)

KO_BODY = """\
# {title}

## 1. 연구의 목적
이 사업은 한국인 100만 명의 유전체 정보, 임상 정보, 생활습관 정보와 인체유래물(혈액, 소변)을
모아 **바이오 데이터 댐**을 만들고, 이를 희귀질환 진단, 새로운 치료법 개발 등 공익적 연구에
활용하기 위한 것입니다.

## 2. 참여하시면 하게 되는 일
- 설문지(건강 상태, 생활습관, 가족력)에 답합니다 (약 30분).
- 참여 기관을 방문하여 혈액 약 30 mL와 소변 약 20 mL를 채취합니다.
- 동의하시는 경우, 진료 기록과 국가 건강 자료가 연구 자료와 연계됩니다.

## 3. 인체유래물과 정보의 보존 기간
인체유래물과 정보는 **사업 종료 후 최대 30년**까지 보존되며, 보존 기간이 끝나면 「생명윤리 및
안전에 관한 법률」에 따라 폐기합니다.

## 4. 제3자 제공
연구자는 기관생명윤리위원회(IRB)의 승인과 데이터 심의위원회의 심의를 거친 경우에만 자료를
이용할 수 있습니다. 제공되는 자료에는 이름, 연락처 등 **개인을 알아볼 수 있는 정보가 포함되지
않습니다**(가명처리).

## 5. 동의의 철회
참여자는 **언제든지 이유를 밝히지 않고** 동의를 철회할 수 있으며, 철회로 인한 불이익은 없습니다.
철회하시면 선택하신 수준에 따라 연락, 추가 수집 또는 이용이 중단되며, 인체유래물은 폐기하거나
익명화하여 보존합니다. 다만 철회 전에 이미 분석이 끝났거나 연구자에게 제공된 자료는 회수할 수
없습니다.

## 6. 예상되는 위험과 이익
채혈 부위에 멍이나 통증이 생길 수 있습니다. 참여자에게 직접적인 금전적 이익은 없으나, 동의하시면
의학적으로 중요한 유전 정보를 돌려받을 수 있습니다.

## 7. 개인정보 보호
개인정보는 암호화되어 별도로 보관되며, 연구 자료와 분리되어 관리됩니다.

## 8. 문의
궁금한 점은 참여 기관의 연구 담당자 또는 사업단 콜센터(1588-0000)로 문의하십시오.
"""

EN_BODY = """\
# {title}

## 1. Purpose of the research
The programme gathers genomic, clinical and lifestyle information and human-derived material
(blood, urine) from one million people in Korea to build the **Bio Data Dam**, and uses it for
research in the public interest, such as diagnosing rare diseases and developing new treatments.

## 2. What taking part involves
- Answering a questionnaire (health, lifestyle, family history; about 30 minutes).
- Visiting a participating site to give about 30 mL of blood and 20 mL of urine.
- If you agree, linking your medical records and national health data to the research data.

## 3. Retention period of samples and data
Samples and data are kept for **up to 30 years after the end of the programme** and are then
destroyed as the Bioethics and Safety Act requires.

## 4. Provision to third parties
Researchers may use the data only after approval by an Institutional Review Board (IRB) and review
by the data access committee. The data they receive **do not include anything that identifies you**,
such as your name or contact details (pseudonymised).

## 5. Withdrawing consent
You may withdraw **at any time without giving a reason**, and withdrawing has no disadvantage for you.
Depending on the level you choose, contact, further collection or any further use stops; samples are
destroyed or kept only in anonymized form. Data already analysed or handed to researchers before
your withdrawal cannot be recalled.

## 6. Risks and benefits
Blood sampling may cause a bruise or some pain. There is no direct financial benefit; if you agree,
you may be told of genetic findings that matter for your health.

## 7. Protection of personal data
Your personal data are encrypted and kept apart from the research data.

## 8. Questions
Ask the research staff at your site or call the programme's help line (1588-0000).
"""

KO_ITEMS = [
    ItemSpec(
        "data_sharing",
        "연구 목적의 자료 이용과 공유",
        "설문, 임상 정보와 분석 결과를 가명처리하여 승인된 연구에 이용·공유하는 데 동의합니다.",
        True,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "sample_storage",
        "인체유래물 보관",
        "혈액과 소변을 바이오뱅크에 보관하여 향후 연구에 이용하는 데 동의합니다.",
        True,
    ),
    ItemSpec(
        "retention_period",
        "보존 기간",
        "인체유래물과 정보를 사업 종료 후 최대 30년까지 보존하는 데 동의합니다.",
        True,
    ),
    ItemSpec(
        "third_party_provision",
        "제3자 제공",
        "IRB 승인을 받은 연구자에게 개인 식별 정보 없이 자료를 제공하는 데 동의합니다.",
        True,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "withdrawal_handling",
        "철회 시 처리",
        "철회하면 선택한 수준에 따라 인체유래물을 폐기하거나 익명화하여 보존하고, 이미 제공된 "
        "자료는 회수할 수 없음을 이해합니다.",
        True,
    ),
    ItemSpec(
        "genomic_analysis",
        "유전체 분석",
        "전장 유전체 분석을 포함한 유전체 연구에 동의합니다.",
        False,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "ehr_linkage",
        "진료 기록 연계",
        "진료 기록과 국가 건강 자료를 연구 자료와 연계하는 데 동의합니다.",
        False,
    ),
    ItemSpec(
        "recontact",
        "추가 연락",
        "추가 연구 참여 안내나 추가 검체 요청을 위해 다시 연락받는 데 동의합니다.",
        False,
    ),
    ItemSpec(
        "return_of_results",
        "개인 결과 회신",
        "의학적으로 중요한 유전 정보가 발견되면 알려 받는 데 동의합니다.",
        False,
    ),
    ItemSpec(
        "commercial_use",
        "영리 목적 연구",
        "제약회사 등 영리 기관의 연구에도 자료가 이용되는 데 동의합니다.",
        False,
    ),
    ItemSpec(
        "overseas_transfer",
        "국외 이전",
        "국제 공동연구를 위해 가명처리된 자료가 국외 연구자에게 제공되는 데 동의합니다.",
        False,
    ),
]

EN_ITEMS = [
    ItemSpec(
        "data_sharing",
        "Use and sharing of data for research",
        "I agree that my questionnaire answers, clinical data and results are pseudonymised "
        "and used and shared for approved research.",
        True,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "sample_storage",
        "Storage of samples",
        "I agree that my blood and urine are stored in the biobank for future research.",
        True,
    ),
    ItemSpec(
        "retention_period",
        "Retention period",
        "I agree that samples and data are kept for up to 30 years after the programme ends.",
        True,
    ),
    ItemSpec(
        "third_party_provision",
        "Provision to third parties",
        "I agree that data without identifying information are provided to researchers "
        "approved by an IRB.",
        True,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "withdrawal_handling",
        "On withdrawal",
        "I understand that on withdrawal my samples are destroyed or kept anonymized, "
        "according to the level I choose, and that data already provided cannot be recalled.",
        True,
    ),
    ItemSpec(
        "genomic_analysis",
        "Genomic analysis",
        "I agree to genomic research, including whole-genome sequencing.",
        False,
        ("DUO:0000042",),
    ),
    ItemSpec(
        "ehr_linkage",
        "Linkage with medical records",
        "I agree that my medical records and national health data are linked to the research data.",
        False,
    ),
    ItemSpec(
        "recontact",
        "Being contacted again",
        "I agree to be contacted again about further studies or additional samples.",
        False,
    ),
    ItemSpec(
        "return_of_results",
        "Return of individual results",
        "I want to be told of genetic findings that matter for my health.",
        False,
    ),
    ItemSpec(
        "commercial_use",
        "Commercial research",
        "I agree that my data may also be used in research by companies, such as "
        "pharmaceutical firms.",
        False,
    ),
    ItemSpec(
        "overseas_transfer",
        "Transfer abroad",
        "I agree that pseudonymised data may be provided to researchers abroad for "
        "international studies.",
        False,
    ),
]

KO_QUESTIONS = [
    QuestionSpec(
        "동의한 뒤에도 언제든지 철회할 수 있습니까?",
        ["예, 언제든지 가능합니다", "아니요, 철회할 수 없습니다"],
        0,
        "동의는 언제든지 이유 없이 철회할 수 있습니다(5. 동의의 철회).",
    ),
    QuestionSpec(
        "연구자에게 제공되는 자료에 내 이름이 포함됩니까?",
        ["예", "아니요"],
        1,
        "제공되는 자료는 가명처리되어 이름과 연락처가 포함되지 않습니다(4. 제3자 제공).",
    ),
]
EN_QUESTIONS = [
    QuestionSpec(
        "Can you withdraw after giving consent?",
        ["Yes, at any time", "No, consent cannot be withdrawn"],
        0,
        "You can withdraw at any time without giving a reason (5. Withdrawing consent).",
    ),
    QuestionSpec(
        "Will researchers receive your name?",
        ["Yes", "No"],
        1,
        "Researchers receive pseudonymised data without your name or contact details "
        "(4. Provision to third parties).",
    ),
]


def _title_ko() -> str:
    return f"{programme_name('ko')} 참여 동의서"


def _title_en() -> str:
    return f"Consent to take part in the {programme_name('en')}"


def seed_consent_forms(*, by: User) -> list[ConsentVersion]:
    """The main form in Korean and English, approved and active (does nothing if present)."""
    form, _created = ConsentForm.objects.get_or_create(
        code=FORM_CODE,
        defaults={"title": _title_ko(), "kind": ConsentFormKind.MAIN},
    )
    versions = []
    for language, title, body, items, questions in (
        ("ko", _title_ko(), KO_BODY, KO_ITEMS, KO_QUESTIONS),
        ("en", _title_en(), EN_BODY, EN_ITEMS, EN_QUESTIONS),
    ):
        # The form's title names the programme as settings name it; so does its first heading.
        body = body.replace("{title}", title, 1)
        version = ConsentVersion.objects.filter(form=form, label=LABEL, language=language).first()
        if version is None:
            version = version_create(
                form=form,
                label=LABEL,
                language=language,
                title=title,
                body_markdown=body,
                items=items,
                questions=questions,
                effective_from=dt.datetime(2026, 1, 31, 15, 0, tzinfo=dt.UTC),  # 1 Feb, Seoul
                by=by,
            )
        if version.status == ConsentVersion.Status.DRAFT:
            version = version_approve(
                version=version, by=by, irb_approval_number=IRB_NUMBER, irb_approved_on=IRB_DATE
            )
        if version.status == ConsentVersion.Status.APPROVED:
            from ..services.activation import version_activate

            version_activate(version=version, by=by)
            version.refresh_from_db()
        versions.append(version)
    return versions
