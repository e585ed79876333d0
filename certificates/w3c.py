"""W3C Verifiable Credentials 2.0 vocabulary shared by the modules, and its date-time form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"
VC_JWT_TYP = "vc+jwt"  # RFC 8725 explicit typing, as in W3C VC-JOSE-COSE


def format_instant(instant: datetime) -> str:
    """An aware datetime as an XML Schema dateTimeStamp in UTC, whole seconds: 2026-01-15T09:30:00Z."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime given; instants must be timezone-aware")
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: Any, what: str) -> datetime:
    """An ISO 8601 date-time with a timezone, as an aware datetime; raises ValueError naming `what`."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{what} must carry a timezone (e.g. 'Z'): {value!r}")
    return parsed


# The NumericDates a datetime can hold: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
_FIRST_SECOND = -62_135_596_800
_LAST_SECOND = 253_402_300_799


def is_numeric_date(value: Any) -> bool:
    """Whether `value` is a JWT NumericDate we accept: integer seconds within the years 1 to 9999."""
    return type(value) is int and _FIRST_SECOND <= value <= _LAST_SECOND


def instant_from_seconds(value: Any) -> datetime | None:
    """A JWT NumericDate (integer seconds) as an aware UTC datetime; None when not an integer or out of range."""
    if not is_numeric_date(value):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
