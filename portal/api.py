"""API plumbing shared by every app: errors as clear JSON, never a 500 for bad input, and
documented in the API's description. Who may call and how often: ``portal.api_access``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

if TYPE_CHECKING:
    pass


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Response({"detail": detail, "code": "invalid"}, status=400)
    return drf_exception_handler(exc, context)


# --- the error answers, in the API's description --------------------------------------------

_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
# A refused input names each wrong field with its messages (or gives one "detail").
_INVALID = {"type": "object", "additionalProperties": {}}


def _answer(description: str, schema: str, media_types: list[str], **extra: Any) -> dict[str, Any]:
    body = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
    return {"description": description, "content": dict.fromkeys(media_types, body), **extra}


def _error_media_types(responses: dict[str, Any]) -> list[str]:
    """JSON, and any other JSON type the operation answers in (a FHIR client asking for
    application/fhir+json gets its errors in that type too)."""
    types = ["application/json"]
    for answer in responses.values():
        for media_type in answer.get("content", {}):
            if media_type.endswith("+json") and media_type not in types:
                types.append(media_type)
    return types


def document_error_answers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular hook: the 400, 403, 404 and 429 answers every operation can give.

    403: not signed in, a role or scope that does not allow it, two-factor authentication not set
    up, or a missing CSRF token. 404: an object outside the caller's scope (the same as one that
    does not exist), a participant page of someone who is not one, or a stale page cursor.
    400: input that does not fit. 415: a body in a type the operation does not take. 429: too
    many requests (``Retry-After`` says when to retry).
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorAnswer", _ERROR)
    schemas.setdefault("InvalidInputAnswer", _INVALID)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            takes_input = "requestBody" in operation or any(
                p.get("in") == "query" for p in parameters
            )
            may_miss = (
                "{" in path or "/me/" in path or any(p.get("name") == "cursor" for p in parameters)
            )
            types = _error_media_types(responses)
            if takes_input:
                responses.setdefault("400", _answer("Invalid input.", "InvalidInputAnswer", types))
            if "requestBody" in operation:
                responses.setdefault("415", _answer("Unsupported body type.", "ErrorAnswer", types))
            responses.setdefault("403", _answer("Not allowed.", "ErrorAnswer", types))
            if may_miss:
                responses.setdefault("404", _answer("Not found.", "ErrorAnswer", types))
            responses.setdefault(
                "429",
                _answer(
                    "Too many requests.",
                    "ErrorAnswer",
                    types,
                    headers={
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds to wait before the next request.",
                        }
                    },
                ),
            )
    return result
