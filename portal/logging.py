"""Log helpers: every record carries the request id of the request it belongs to."""

import logging
import re

from . import request_context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_context.current().request_id or "-"
        # Django attaches the request object to some records; it can carry personal data.
        if hasattr(record, "request"):
            record.request = None
        return True


_DATA_URL = re.compile(r"data:[^\s'\"<>)]{0,}", re.IGNORECASE)


def redact_data_urls(text: str) -> str:
    """``text`` with every ``data:`` URL replaced by ``data:<redacted>``."""
    return _DATA_URL.sub("data:<redacted>", text) if "data:" in text.lower() else text


class DataUrlRedactingFilter(logging.Filter):
    """Replace ``data:`` URLs in a record's message by ``data:<redacted>``.

    WeasyPrint logs the URL of an image it cannot load; for a drawn signature that URL is the
    signature itself. Attached to the ``weasyprint`` logger and to the console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "data:" in message.lower():
            record.msg = redact_data_urls(message)
            record.args = ()
        return True
