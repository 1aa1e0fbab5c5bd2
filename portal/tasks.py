from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task
def heartbeat() -> str:
    """Mark that beat and a worker are alive; /healthz and tests can read the mark."""
    stamp = timezone.now().isoformat()
    cache.set("portal:heartbeat", stamp, timeout=3600)
    return stamp
