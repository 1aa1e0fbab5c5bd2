"""Getting a web worker ready before its first request (called from ``portal.wsgi``).

Two costs would otherwise land on the people using the portal:

* Modules imported on first use: the URL patterns, the FHIR models that check each Consent sent
  to the dam, the broker's transport. Together about 0.3 s, paid by the first request of each kind
  in each worker.
* Python's full garbage collections. A worker holds some 150,000 objects made at start-up (models,
  URL patterns, translations, FHIR schemas) that live as long as it does; each full collection
  walks all of them, which took about 0.1 s, and whichever request was running waited. After
  ``gc.freeze()`` collections skip what exists at that point, so they only walk what requests
  made since.

Nothing here connects to anything: with gunicorn's ``--preload`` this runs before the fork, and
connections must not be shared between workers.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def modules_load() -> None:
    """Import what requests would otherwise import on first use."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (builds the resolver's patterns and their imports)
    get_resolver()._populate()

    # FHIR Consent validation (dam.payloads), done inside the signing transaction.
    from fhir.resources.R4B.consent import Consent  # noqa: F401

    # The broker's transport (kombu imports it when the first task is queued); no connection.
    from kombu import Connection

    from portal.celery import app

    Connection(app.conf.broker_url).transport  # noqa: B018


def server_warm() -> None:
    """Load lazily imported modules, then keep the collector off what start-up made."""
    try:
        modules_load()
    except Exception:  # a worker that cannot warm up still serves, only slower at first
        log.warning("warm-up of the web worker failed", exc_info=True)
    gc.collect()
    gc.freeze()
