"""Enrollment REST API under ``/api/enrollment/``: DRF views and serializers in ``views``, routes
in ``urls`` (included by ``enrollment.urls``, names prefixed ``api_``)."""
