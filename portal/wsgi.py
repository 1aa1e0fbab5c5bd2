import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# Imports done now rather than by the first requests, and start-up's objects out of the
# collector's way (portal.warmup explains both).
from portal.warmup import server_warm  # noqa: E402

server_warm()
