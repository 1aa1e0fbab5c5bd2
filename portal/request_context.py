"""The current request's id, client address and machine client, readable from services, audit
and logs."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    client_ip: str | None = None
    # The machine client (another system) making the request, when it is one.
    client_id: str = ""
    client_name: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "portal_request_context", default=RequestContext()
)


def current() -> RequestContext:
    return _current.get()


def bind(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
