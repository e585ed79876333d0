"""Domain signals. A lower layer sends; an upper layer subscribes; handlers run in the sender's transaction.

Each signal is sent after the cause has been flushed, with the cause as sender and
keyword arguments describing it. Receivers must only flush, never commit: the
request that caused the change commits once, so a cascade lands whole or not at all.
"""

from blinker import Namespace

signals = Namespace()

#: A licence event was recorded. kwargs: event (LicenceEvent), actor (Account | None).
licence_event_recorded = signals.signal("licence-event-recorded")

#: A course completion was withdrawn (its certificate must be revoked). kwargs: completion, actor (Account | None).
completion_withdrawn = signals.signal("completion-withdrawn")

#: A recognition changed status (granted, suspended, reinstated, revoked, ...).
#: kwargs: recognition (Recognition), event (RecognitionEvent), actor (Account | None).
recognition_event_recorded = signals.signal("recognition-event-recorded")
