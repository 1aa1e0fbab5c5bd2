from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    """Duplicate component names or colliding enums would make client code generation guess."""
    out = tmp_path / "schema.yml"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=StringIO()
    )
    text = out.read_text()
    assert "ParticipantStatusEnum" in text
    for path in (
        "/api/enrollment/dashboard/",
        "/api/enrollment/participants/",
        "/api/consent/checks/",
    ):
        assert f"  {path}:" in text


@pytest.fixture
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


@pytest.mark.django_db
def test_a_consent_events_voids_is_documented_as_nullable(schema):
    voids = schema["components"]["schemas"]["Event"]["properties"]["voids"]
    assert voids.get("nullable") is True


@pytest.mark.django_db
def test_a_first_steps_empty_from_status_is_in_the_documented_enum(schema):
    from_status = schema["components"]["schemas"]["Transition"]["properties"]["from_status"]
    allowed = set()
    for option in from_status.get("oneOf", [from_status]):
        allowed |= set(_resolve(schema, option).get("enum", []))
    assert "" in allowed and "registered" in allowed


@pytest.mark.django_db
def test_an_empty_participant_code_is_documented_as_refused(schema):
    check = schema["components"]["schemas"]["CheckInput"]["properties"]["participants"]
    assert check["items"].get("minLength") == 1


@pytest.mark.django_db
def test_an_empty_status_filter_is_refused(client):
    from portal.roles import Role
    from tests.factories import staff_user

    client.force_login(staff_user(Role.ADMIN, mfa=True))
    assert client.get("/api/consent/participants/?status=").status_code == 400
    assert client.get("/api/consent/participants/").status_code == 200


@pytest.mark.django_db
def test_fhir_answers_are_documented_as_fhir_json(schema):
    for path in ("/api/consent/me/fhir/", "/api/consent/participants/{code}/fhir/"):
        answers = schema["paths"][path]["get"]["responses"]
        assert list(answers["200"]["content"]) == ["application/fhir+json"]


@pytest.mark.django_db
def test_every_operation_documents_its_error_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            assert {"403", "429"} <= set(answers), (method, path)
            assert "Retry-After" in answers["429"]["headers"]
            if "{" in path:
                assert "404" in answers, (method, path)
            if "requestBody" in operation or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            ):
                assert "400" in answers, (method, path)


@pytest.mark.django_db
def test_only_the_consent_check_admits_machine_clients_in_the_description(schema):
    admitting = [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if any("machineClient" in requirement for requirement in operation.get("security", []))
    ]
    assert admitting == [("post", "/api/consent/checks/")]
    flows = schema["components"]["securitySchemes"]["machineClient"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/o/token/"
    assert list(flows["clientCredentials"]["scopes"]) == ["consent:check"]


@pytest.mark.django_db
def test_a_fhir_client_may_ask_for_fhir_json(client):
    from tests.consent.ledger_builders import ITEMS_V1, make_version, record
    from tests.factories import ParticipantFactory, UserFactory

    user = UserFactory()
    record(ParticipantFactory(user=user), make_version("v1"), {c: True for c, _ in ITEMS_V1})
    client.force_login(user)
    response = client.get("/api/consent/me/fhir/", HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["resourceType"] == "Consent"


@pytest.mark.django_db
def test_the_consent_check_takes_json_only(client):
    from portal.roles import Role
    from tests.factories import staff_user

    client.force_login(staff_user(Role.ADMIN, mfa=True))
    response = client.post(
        "/api/consent/checks/", {"purpose": "general_research", "participants": ["X"] * 1001}
    )
    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_without_credentials_every_operation_is_refused(client, schema):
    for path, operations in schema["paths"].items():
        url = path.replace("{code}", "P0000001").replace("{receipt_id}", "1")
        for method in operations:
            response = getattr(client, method)(url)
            assert response.status_code == 403, (method, path)
            assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "/api/enrollment/participants/?status=",
        "/api/enrollment/visits/?site=",
        "/api/enrollment/transitions/?to_status=",
        "/api/enrollment/dashboard/?site=",
        "/api/consent/participants/?site=",
    ],
)
def test_an_empty_filter_is_refused(client, query):
    from portal.roles import Role
    from tests.factories import staff_user

    client.force_login(staff_user(Role.ADMIN, mfa=True))
    response = client.get(query)
    assert response.status_code == 400
    assert list(response.json()) == [query.rsplit("?", 1)[1].rstrip("=")]
