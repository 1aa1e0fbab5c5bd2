"""Consent models, one module per topic; import from ``consent.models``."""

from .campaigns import *  # noqa: F403
from .forms import *  # noqa: F403
from .ledger import *  # noqa: F403
from .purposes import *  # noqa: F403
from .records import *  # noqa: F403
