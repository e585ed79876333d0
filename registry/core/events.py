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

#: Two clinician records are about to be merged (nothing has moved yet). kwargs: survivor, merged (Clinician).
#: Each receiver returns a list of (condition, detail) pairs naming what its layer could not carry over (two
#: overlapping secondments, two enrolments in one offering); any pair refuses the merge and nothing is written.
clinician_merge_requested = signals.signal("clinician-merge-requested")

#: The merge of two clinician records is going ahead (after every receiver of clinician_merge_requested agreed;
#: before any row moves). kwargs: survivor, merged. A receiver folds rows that would be duplicates once moved (an
#: enrolment in an offering both records were enrolled in) and returns {what: [ids]} for the audit event.
clinician_merging = signals.signal("clinician-merging")
