"""Signals the consent app sends, for other apps to react to (the dam's outbox, for one).

``consent_event_recorded(sender=ConsentEvent, event=<ConsentEvent>, state=<ConsentState>)`` is sent
*inside* the transaction that wrote the event, right after the projection was refreshed, so a
receiver that writes an outbox row does so atomically with the event (if the transaction rolls
back, both go). Receivers must not do slow work or talk to other systems here; they record what is
to be done and let a task do it after the commit.
"""

from django.dispatch import Signal

consent_event_recorded = Signal()
