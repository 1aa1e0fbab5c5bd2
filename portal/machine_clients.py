"""Machine clients: other systems (the dam, the analysis platform) calling the API without a person.

A machine client is an OAuth2 application of the client-credentials grant. It trades its client id
and secret for a short-lived token at ``/o/token/`` and sends that token as ``Authorization:
Bearer``. The token carries scopes; a view admits machine clients only for the scope it names
(``HasRole.of(..., client_scope=CONSENT_CHECK)``), and every other API answers them 403. Every
audit row written during a machine client's request names the client. Creating and revoking clients
are services (``portal.services``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from . import request_context

if TYPE_CHECKING:
    from oauth2_provider.models import AccessToken

# The one scope there is: "may these participants' data be used for this purpose?".
CONSENT_CHECK = "consent:check"


@dataclass(frozen=True)
class MachineClient:
    """The caller of a request made with a machine client's token (``request.user`` in DRF)."""

    name: str
    client_id: str
    scopes: frozenset[str]
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class MachineClientAuthentication(OAuth2Authentication):  # type: ignore[misc]  # untyped library
    """A bearer token of a client-credentials application, or nothing (other authenticators try).

    A bearer token that is unknown, expired or revoked is refused outright: the caller meant to
    be a machine client, and silently treating it as anonymous would hide why it fails.
    """

    def authenticate(self, request: Request) -> tuple[MachineClient, AccessToken] | None:
        from oauth2_provider.models import Application

        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        token = result[1] if result is not None else None
        application = token.application if token is not None else None
        if (
            token is None
            or application is None
            or token.user_id is not None
            or application.authorization_grant_type != Application.GRANT_CLIENT_CREDENTIALS
        ):
            raise AuthenticationFailed(_("The access token is invalid, expired or revoked."))
        client = MachineClient(
            name=application.name,
            client_id=application.client_id,
            scopes=frozenset(token.scope.split()),
        )
        # Every audit row of this request names the client (portal.audit reads the context).
        request_context.bind(
            dataclasses.replace(
                request_context.current(), client_id=client.client_id, client_name=client.name
            )
        )
        return client, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class MachineClientScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """How machine clients authenticate, in the API's description."""

    target_class = "portal.machine_clients.MachineClientAuthentication"
    name = "machineClient"

    # None (no requirement on this operation) is what drf-spectacular expects; its stubs disagree.
    def get_security_requirement(  # type: ignore[override]
        self, auto_schema: Any
    ) -> dict[str, list[str]] | None:
        # Only the views that name a client scope (HasRole.of(..., client_scope=...)) admit them.
        permissions = auto_schema.view.get_permissions()
        scopes = sorted({s for p in permissions if (s := getattr(p, "client_scope", ""))})
        return {self.name: scopes} if scopes else None

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from oauth2_provider.settings import oauth2_settings

        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/o/token/",
                    "scopes": dict(oauth2_settings.SCOPES),
                }
            },
        }
