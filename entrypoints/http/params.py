"""Query parameters the routes read themselves, so that a wrong one is refused naming it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from litestar.params import Parameter

from domain.errors import InvalidInputError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LATEST = datetime.max.replace(tzinfo=UTC)

MOMENT_HELP = (
    "a date (2026-12-05, UTC) or an ISO 8601 timestamp (2026-12-05T14:30:00Z; without an "
    "offset, UTC)"
)
# A date or a timestamp, as the schema says it: read by `moment` below. (Declared `str`
# with a default of "" rather than `str | None`: the schema then says only this.)
_MOMENT_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
Since = Annotated[
    str,
    Parameter(
        description=f"Start of the period, inclusive: {MOMENT_HELP}.", schema_extra=_MOMENT_SCHEMA
    ),
]
Until = Annotated[
    str,
    Parameter(
        description=f"End of the period, exclusive: {MOMENT_HELP}; a date includes that whole day.",
        schema_extra=_MOMENT_SCHEMA,
    ),
]


def moment(value: str | None, parameter: str, *, end: bool = False) -> datetime | None:
    """The moment a query parameter names. A date is the start of that day in UTC, or for
    the end of a period (`end`) the start of the next, so that `until=2026-12-05` takes in
    the whole of the 5th."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            day = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            return _later(day, timedelta(days=1)) if end else day
        # RFC 3339 allows lower-case separators, and a leap second, which Python has not.
        found = datetime.fromisoformat(text.replace("z", "Z").replace(":60", ":59", 1))
    except ValueError:
        raise InvalidInputError(
            f"query parameter {parameter!r} must be {MOMENT_HELP}, not {value!r}",
            details={"parameter": parameter},
        ) from None
    if found.tzinfo is None:
        return found.replace(tzinfo=UTC)
    try:
        return found.astimezone(UTC)
    except OverflowError:  # an offset beyond the first or last day there is
        return datetime.min.replace(tzinfo=UTC) if found.year == 1 else _LATEST


def _later(moment: datetime, by: timedelta) -> datetime:
    """`moment + by`, or the last moment there is when that is past it."""
    try:
        return moment + by
    except OverflowError:
        return _LATEST
