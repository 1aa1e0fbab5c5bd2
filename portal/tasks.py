from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "portal:heartbeat"


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Mark that beat and a worker are alive; readiness (/healthz/ready) reads the mark."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=max(3600, 2 * settings.HEARTBEAT_STALE_AFTER_SECONDS))
    return stamp


@shared_task
def audit_seal_task() -> int:
    """Beat: seal the audit rows that have settled into the audit log's hash chain."""
    from .audit_chain import audit_seal_all

    return audit_seal_all()


@shared_task
def audit_chain_verify_nightly() -> bool:
    """Beat: recompute the audit log's chain (beside the consent ledger's nightly verification)."""
    from .audit_chain import audit_chain_verification_run

    return audit_chain_verification_run().ok


@shared_task(ignore_result=True)
def sessions_clear_expired() -> None:
    """Beat: remove expired sessions (what ``manage.py clearsessions`` does)."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
