"""Domain signals. A lower layer sends; an upper layer subscribes; handlers run in the sender's transaction.

Each signal is sent after the cause has been flushed, with the cause as sender and
keyword arguments describing it. Receivers must only flush, never commit: the
request that caused the change commits once, so a cascade lands whole or not at all.
"""

from blinker import Namespace

signals = Namespace()

#: A licence event was recorded. kwargs: event (LicenceEvent), actor (Account | None).
licence_event_recorded = signals.signal("licence-event-recorded")
