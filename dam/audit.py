"""The audit actions of the dam app, in one enum so that reports can rely on them.

Rows are written through ``portal.audit.audit_record``.
"""

from enum import StrEnum


class Action(StrEnum):
    SAMPLE_RECORDED = "sample.recorded"
