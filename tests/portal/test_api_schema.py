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
