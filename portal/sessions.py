"""Sessions in the database, as Django keeps them, saved in one statement when they change.

Django's database store wraps every save in a transaction (BEGIN, UPDATE, COMMIT: three round
trips) so that creating a session can roll back a clashing key. Updating an existing session is
one ``UPDATE`` and atomic by itself; pages that change the session (signing in, signing a form,
changing language) save it once per request, so this store sends that one statement alone.
Creating a session goes through Django's code unchanged.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        # What Django's own save encodes (the stubs do not list this method).
        data = self._get_session()  # type: ignore[attr-defined]
        saved = self.model.objects.filter(session_key=self.session_key).update(
            session_data=self.encode(data), expire_date=self.get_expiry_date()
        )
        if not saved:
            # Gone meanwhile (signed out in another tab, or expired and cleared): as Django does.
            raise UpdateError
