"""The consent REST API under ``/api/consent/``: DRF views, their serializers and URLs."""
