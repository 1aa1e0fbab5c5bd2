"""Settings for the consent HTTP benchmark: the portal's own settings plus one trivial view.

The trivial view (``/bench/trivial``) goes through the same middleware, session and user loading
as every page, so "consent submission / trivial view" compares the work of consenting alone.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"
