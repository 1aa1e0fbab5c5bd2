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
