"""The request id travels from a request into the Celery tasks it starts, and into their logs.

``before_task_publish`` puts the current request id in a message header (an id, nothing personal);
the worker binds it for the task's run, so every log line of the task, and of the tasks it starts in
turn, carries the id of the request that began it. Tasks started by beat have none (``-``); their
log lines still carry the task's own name and id.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

from celery import signals

from . import request_context

HEADER = "portal_request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_tokens: dict[str, contextvars.Token[request_context.RequestContext]] = {}


@signals.before_task_publish.connect
def _publish_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = request_context.current().request_id
    if headers is not None and request_id:
        headers[HEADER] = request_id


def _incoming_request_id(task: Any) -> str:
    value = getattr(task.request, HEADER, None)
    if not value:
        value = (getattr(task.request, "headers", None) or {}).get(HEADER)
    return value if isinstance(value, str) and _VALID.match(value) else ""


@signals.task_prerun.connect
def _bind_request_id(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task is None or task_id is None or getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the caller's context already
    _tokens[task_id] = request_context.bind(
        request_context.RequestContext(request_id=_incoming_request_id(task))
    )


@signals.task_postrun.connect
def _unbind_request_id(task_id: str | None = None, **kwargs: Any) -> None:
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        request_context.reset(token)


class TaskFilter(logging.Filter):
    """Adds the running task's name and id to records logged inside a task."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        task = current_task
        if task is not None and getattr(task, "request", None) is not None and task.request.id:
            record.task_name = task.name
            record.task_id = task.request.id
        return True


@signals.setup_logging.connect
def _logging_from_settings(**kwargs: Any) -> None:
    """Workers and beat log with the web's configuration (JSON lines in production).

    Connecting this signal stops Celery from installing its own plain-text handlers.
    """
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    logging.captureWarnings(True)  # warnings become records too, not loose lines on stderr
