"""Log helpers: every record carries the request id of the request it belongs to."""

import logging

from . import request_context


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_context.current().request_id or "-"
        # Django attaches the request object to some records; it can carry personal data.
        if hasattr(record, "request"):
            record.request = None
        return True
