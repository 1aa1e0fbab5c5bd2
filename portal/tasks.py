from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task
def heartbeat() -> str:
    """Mark that beat and a worker are alive; /healthz and tests can read the mark."""
    stamp = timezone.now().isoformat()
    cache.set("portal:heartbeat", stamp, timeout=3600)
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
