"""The first text of the public information pages, in Korean and English.

Programme managers rewrite these pages in the portal; this is where a new installation starts.
Contact details are not written here: every page shows them from settings.
"""

from __future__ import annotations

from portal.programme import programme_name

from ..models import InformationRevision, InformationTopic
from ..services.pages import information_page_revise

TAKING_PART_KO = """\
참여는 세 단계로 이루어지며, 모두 합쳐 **약 1시간**이 걸립니다. 참여 비용은 없습니다.

## 1. 온라인 등록과 동의 (약 20분)
회원으로 가입한 뒤 참여 동의서를 읽고, 허락하는 항목을 직접 고릅니다. 동의서의 내용을 이해했는지
확인하는 간단한 질문이 있습니다. 온라인이 어려우면 방문한 기관에서 종이 또는 태블릿으로 서명할 수
있습니다.

## 2. 건강 설문 (약 20분)
생활 습관, 병력, 가족력에 관한 설문에 답합니다. 답하기 어려운 질문은 건너뛸 수 있습니다.

## 3. 참여 기관 한 번 방문 (약 30분)
원하는 날짜를 예약하고 참여 기관을 **한 번** 방문합니다.

- **혈액** 약 30mL(큰 숟가락 두 개 정도)를 팔의 정맥에서 채취합니다.
- **소변** 약 20mL를 받습니다.
- 키, 몸무게, 혈압을 잽니다.

채혈 전날 밤부터 금식할 필요는 없습니다. 평소 드시는 약은 그대로 드셔도 됩니다.

## 그다음
검체와 정보는 가명 처리되어 보관되고, 승인된 연구에만 쓰입니다. 언제든지 참여를 철회할 수 있으며,
철회한다고 해서 진료 등에서 불이익을 받지 않습니다.
"""

TAKING_PART_EN = """\
Taking part has three steps and takes **about one hour** in all. It costs you nothing.

## 1. Register and consent online (about 20 minutes)
Create an account, read the consent form and choose yourself what you allow. A few short
questions check that the form is clear. If online is hard for you, you can sign on paper or on a
tablet at the site you visit.

## 2. Health questionnaire (about 20 minutes)
Questions about your lifestyle, medical history and family history. You may skip any question.

## 3. One visit to a participating site (about 30 minutes)
Book a day that suits you and visit a participating site **once**.

- About 30 mL of **blood** (two tablespoons) is taken from a vein in your arm.
- About 20 mL of **urine** is collected.
- Your height, weight and blood pressure are measured.

You do not need to fast before the visit, and you can take your usual medicines.

## Afterwards
Your samples and data are kept under a pseudonym and used only for approved research. You can
withdraw at any time, and withdrawing never affects your medical care.
"""

WHO_KO = """\
## 일반 참여자
- 만 19세 이상으로, 대한민국에 거주하는 분
- 스스로 동의서를 읽고 결정할 수 있는 분

다음에 해당하면 이번에는 참여가 어려울 수 있습니다. 등록할 때 간단한 질문으로 확인합니다.

- 최근 6개월 이내에 수혈을 받은 분
- 현재 항암 치료(항암화학요법 또는 방사선 치료)를 받고 있는 분

## 희귀질환·중증질환 환자
환자 참여자는 진료하는 병원의 의료진이 안내합니다. 담당 의료진에게 참여를 문의해 주세요.

## 만 19세 미만
미성년자는 법정대리인의 동의로 참여 기관에서 등록하며, 만 19세가 되면 본인에게 다시 동의를
받습니다.
"""

WHO_EN = """\
## General participants
- Aged 19 or over, living in Korea
- Able to read the consent form and decide for yourself

You may not be able to take part this time if one of these applies (a few questions at
registration check them):

- You had a blood transfusion in the last 6 months
- You are receiving cancer treatment (chemotherapy or radiotherapy)

## Patients with a rare or severe disease
Patients are invited by the clinicians who treat them. Ask your care team about taking part.

## Under 19
Minors are enrolled at a participating site with the consent of their legal representative, and
are asked to consent for themselves when they turn 19.
"""

SITES_KO = """\
아래 기관 중 가까운 곳을 골라 방문 날짜를 예약할 수 있습니다. 공휴일과 기관 휴무일에는 방문할 수
없습니다. 방문할 때 신분증을 지참해 주세요.
"""

SITES_EN = """\
Choose the site nearest to you and book a day for your visit. Sites are closed on public
holidays and on their own closing days. Please bring an identity document.
"""

DATA_KO = """\
## 가명 처리
이름, 연락처처럼 나를 알아볼 수 있는 정보는 암호화되어 이 포털에만 보관됩니다. 연구용 데이터와
검체에는 무작위로 만든 **가명 번호**만 붙습니다.

## 데이터 댐과 바이오뱅크
설문 답변과 검사 결과는 가명 번호와 함께 국가 데이터 저장소(데이터 댐)에, 혈액과 소변은
바이오뱅크에 보관됩니다. 동의서에서 허락한 항목만 전달됩니다.

## 누가 쓰나요
심의위원회(IRB)의 승인과 사업단의 심사를 거친 연구자만, 승인된 연구 목적으로, 보안 환경에서
이용합니다. 연구자는 가명 번호만 보며, 내가 누구인지 알 수 없습니다.

## 언제까지 보관하나요
사업 기간 동안, 그리고 동의서에 적힌 기간까지 보관합니다.

## 철회하면
언제든지 철회할 수 있습니다. 철회 수준에 따라 더 이상 연락하지 않거나, 더 이상 채취하지 않거나,
보관 중인 검체와 데이터를 폐기합니다. 이미 연구에 쓰인 결과는 되돌릴 수 없습니다. 처리 결과는
확인서로 내려받을 수 있습니다.
"""

DATA_EN = """\
## Pseudonyms
What identifies you, such as your name and contact details, is encrypted and kept only in this
portal. Research data and samples carry a random **pseudonym** instead.

## The data dam and the biobank
Your answers and test results go to the national data repository (the data dam) under that
pseudonym; your blood and urine go to the biobank. Only what your consent allows is passed on.

## Who uses them
Researchers approved by an ethics board (IRB) and by the programme, for the approved purpose only,
in a secure environment. They see pseudonyms, never who you are.

## How long they are kept
For the duration of the programme and up to the period stated in the consent form.

## If you withdraw
You can withdraw at any time. Depending on the level you choose, we stop contacting you, stop
collecting, or destroy the samples and data we hold. Results already used in research cannot be
undone. You can download a certificate of what was done.
"""

PRIVACY_KO = """\
{programme}(이하 "사업단")은 「개인정보 보호법」 제30조에 따라 정보주체의 개인정보를 보호하고
관련 고충을 신속하게 처리하기 위하여 다음과 같이 개인정보 처리방침을 공개합니다.

## 1. 처리 목적
참여자 등록과 본인 확인, 동의 기록과 관리, 방문 예약과 안내, 검체 채취 기록, 연구용 데이터의
가명 처리.

## 2. 처리하는 항목
- 필수: 이름, 생년월일, 성별, 휴대전화 번호, 전자우편 주소
- 선택: 주소, 법정대리인의 이름과 관계(미성년자)
- 민감정보(건강 정보와 유전 정보)는 별도 동의를 받은 경우에만 처리합니다.
- 주민등록번호는 수집하지 않습니다.

## 3. 보유 기간
사업 종료 시까지, 또는 동의서에 정한 기간까지 보유합니다. 동의를 철회하면 법령에 따라 보존해야
하는 동의 기록을 제외하고 지체 없이 파기합니다.

## 4. 제3자 제공
개인을 알아볼 수 있는 정보는 제3자에게 제공하지 않습니다. 연구자에게는 동의한 범위에서 가명정보만
제공합니다.

## 5. 정보주체의 권리
언제든지 개인정보의 열람, 정정, 삭제, 처리 정지를 요구하고 동의를 철회할 수 있습니다. 포털의
"내 참여" 화면에서 직접 하거나 아래 연락처로 요청해 주세요.

## 6. 안전성 확보 조치
개인정보의 암호화 저장, 접근 권한 관리와 접근 기록 보관, 직원 이중 인증, 정기 점검.

## 7. 개인정보 보호책임자
아래 "문의하기"의 연락처로 개인정보 보호책임자에게 연락할 수 있습니다. 개인정보 침해에 대한
상담은 개인정보침해신고센터(국번 없이 118)에도 할 수 있습니다.

## 8. 처리방침의 변경
이 처리방침이 바뀌면 이 페이지에 알리며, 이전 처리방침은 요청하면 보여 드립니다.
"""

PRIVACY_EN = """\
The {programme} (the "programme") publishes this privacy notice under Article 30 of the Personal
Information Protection Act, to protect your personal information and to handle your concerns
promptly.

## 1. Purposes
Registering participants and confirming who they are; recording and managing consent; booking
and reminding of visits; recording sample collection; pseudonymizing research data.

## 2. What we process
- Required: name, birth date, sex, mobile phone number, e-mail address
- Optional: address; name and relationship of a legal representative (minors)
- Sensitive information (health and genetic information) only with your separate consent.
- We never collect resident registration numbers.

## 3. How long we keep it
Until the programme ends, or for the period stated in the consent form. When you withdraw,
we destroy it without delay, except the consent records the law requires us to keep.

## 4. Provision to third parties
Information that identifies you is never given to third parties. Researchers receive
pseudonymized information only, within what you consented to.

## 5. Your rights
You may at any time ask to see, correct, delete or stop the processing of your personal
information, and withdraw your consent: on the "My participation" page, or through the contact
details below.

## 6. Security measures
Encrypted storage of personal information, access control and access logs, two-factor
authentication for staff, regular audits.

## 7. Privacy officer
Reach the programme's privacy officer through the contact details below. You can also ask the
Personal Information Infringement Report Center (call 118) for advice.

## 8. Changes
Changes to this notice are announced on this page; earlier versions are shown on request.
"""

FAQ_KO = """\
## 참여하면 비용이 드나요?
아니요. 참여 비용은 없습니다.

## 검사 결과를 알려 주나요?
연구를 위한 사업이므로 개인별 검사 결과를 모두 알려 드리지는 않습니다. 유전체 분석에서 건강에
중요한 결과가 나왔을 때 알려 받을지는 동의서에서 따로 선택할 수 있습니다.

## 나중에 마음이 바뀌면 어떻게 하나요?
"내 참여" 화면에서 언제든지 동의 항목을 바꾸거나 철회할 수 있습니다. 철회해도 진료에서 불이익은
없습니다.

## 보험사나 회사가 내 정보를 볼 수 있나요?
아니요. 연구자는 가명 정보만 보며, 개인을 알아볼 수 있는 정보는 누구에게도 제공하지 않습니다.

## 방문 날짜를 바꿀 수 있나요?
네. "내 참여" 화면에서 예약을 바꾸거나 취소할 수 있습니다.
"""

FAQ_EN = """\
## Does taking part cost anything?
No. Taking part is free.

## Will I learn my results?
The programme is for research, so individual results are not all returned. Whether you are told
of genomic findings that matter for your health is a choice of its own in the consent form.

## What if I change my mind?
On the "My participation" page you can change your choices or withdraw at any time. Withdrawing
never affects your medical care.

## Can insurers or employers see my data?
No. Researchers see pseudonymized data only; information that identifies you is given to no one.

## Can I change my visit?
Yes. Change or cancel your booking on the "My participation" page.
"""

CONTACT_KO = """\
참여 방법, 예약, 동의 철회, 개인정보에 관한 문의는 아래 연락처로 해 주세요. 답변은 평일 기준
2일 안에 드립니다. 진료에 관한 질문은 다니는 병원의 의료진에게 해 주세요.
"""

CONTACT_EN = """\
For questions about taking part, bookings, withdrawing or your personal information, use the
contact details below. We answer within two working days. For questions about your medical care,
please ask your own doctors.
"""


def _pages() -> list[tuple[InformationTopic, str, str, str, str]]:
    ko, en = programme_name("ko"), programme_name("en")
    return [
        (InformationTopic.TAKING_PART, "참여 방법", TAKING_PART_KO, "Taking part", TAKING_PART_EN),
        (InformationTopic.WHO_CAN_JOIN, "참여 대상", WHO_KO, "Who can join", WHO_EN),
        (InformationTopic.SITES, "참여 기관", SITES_KO, "Participating sites", SITES_EN),
        (
            InformationTopic.DATA_AND_SAMPLES,
            "내 데이터와 검체는 어떻게 되나요",
            DATA_KO,
            "What happens to your data and samples",
            DATA_EN,
        ),
        (
            InformationTopic.PRIVACY,
            "개인정보 처리방침",
            PRIVACY_KO.format(programme=ko),
            "Privacy notice",
            PRIVACY_EN.format(programme=en),
        ),
        (InformationTopic.FAQ, "자주 묻는 질문", FAQ_KO, "Frequently asked questions", FAQ_EN),
        (InformationTopic.CONTACT, "문의하기", CONTACT_KO, "Contact us", CONTACT_EN),
    ]


def seed_information_pages() -> int:
    """Publish the first version of each page that has none yet; returns how many were written."""
    written = 0
    existing = set(InformationRevision.objects.values_list("topic", flat=True).distinct())
    for topic, title_ko, body_ko, title_en, body_en in _pages():
        if topic.value in existing:
            continue
        information_page_revise(
            topic=topic,
            title_ko=title_ko,
            body_ko=body_ko,
            title_en=title_en,
            body_en=body_en,
            note="first version",
            by=None,
        )
        written += 1
    return written
