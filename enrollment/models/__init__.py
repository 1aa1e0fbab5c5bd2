"""Enrollment models, one module per topic; import from ``enrollment.models``."""

from .core import *  # noqa: F403
from .funnel import *  # noqa: F403
from .pages import *  # noqa: F403
from .vault import *  # noqa: F403
from .visits import *  # noqa: F403
